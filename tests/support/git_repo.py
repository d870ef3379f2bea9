"""Throwaway git repositories for the tests of what reads git history (the offline plan, CI's release steps)."""
import os
import pathlib
import subprocess

# No user configuration is assumed: an identity and no signing, so a commit works on any machine.
IDENTITY = ["-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]


def without_outer_repository(monkeypatch):
    """Run from a git hook, GIT_DIR and friends would point every git command at the project instead."""
    for name in [name for name in os.environ if name.startswith("GIT_")]:
        monkeypatch.delenv(name)


def git(repo: pathlib.Path, *arguments: str) -> str:
    """Runs git in repo; its output, stripped."""
    return subprocess.run(["git", "-C", str(repo), *IDENTITY, *arguments], check=True, capture_output=True,
                          text=True).stdout.strip()


def new_repository(repo: pathlib.Path) -> pathlib.Path:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q")
    return repo


def commit(repo: pathlib.Path, message: str = "version", files: dict | None = None) -> str:
    """Writes files (path -> text; None removes the file), commits everything, even nothing; the commit's id."""
    for name, text in (files or {}).items():
        path = repo / name
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")
