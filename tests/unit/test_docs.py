"""The README and docs/ hold together: every relative link and anchor resolves, the README stays a short way in, and
the set-up commands it gives are the ones CI runs."""
import pathlib
import re
import shlex
import urllib.parse

import pytest
import yaml

from tests.support import markdown
from tests.support.template import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_LIMIT = 10 * 1024  # a five-minute read; the manual lives in docs/


def broken_links(page: pathlib.Path, root=ROOT) -> list[str]:
    """The page's relative links whose file, or whose #anchor on a Markdown page, does not exist."""
    broken = []
    for href in markdown.links(page.read_text()):
        parts = urllib.parse.urlsplit(href)
        if parts.scheme or parts.netloc:
            continue  # a web address: not checked offline
        path = urllib.parse.unquote(parts.path)
        target = (root / path.lstrip("/")) if path.startswith("/") else (page.parent / path) if path else page
        if not target.exists() or not target.resolve().is_relative_to(root.resolve()):
            broken.append(f"{href}: no {path} in the repository")
        elif parts.fragment and target.suffix == ".md" and parts.fragment not in markdown.anchors(target.read_text()):
            broken.append(f"{href}: no heading #{parts.fragment} on {target.relative_to(root)}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page):
    assert broken_links(page) == []


def test_the_link_check_finds_missing_files_and_anchors_and_ignores_code(tmp_path):
    repository = tmp_path / "repository"
    (repository / "docs").mkdir(parents=True)
    (repository / "docs" / "topic.md").write_text("# Topic\n\n## How `MigrateTask` answers\n\n## Again\n\n## Again\n")
    page = repository / "README.md"
    page.write_text("[ok](docs/topic.md#how-migratetask-answers) [ok](docs/topic.md#again-1) [ok](#intro)\n"
                    "[gone](docs/gone.md) [bad anchor](docs/topic.md#again-2) [outside](../elsewhere.md)\n"
                    "[web](https://example.com/x.md) `[code span](nowhere.md)`\n\n"
                    "```sh\n[in a block](nowhere.md)\n```\n\n## Intro\n")
    (tmp_path / "elsewhere.md").write_text("")
    assert broken_links(page, root=repository) == [
        "docs/gone.md: no docs/gone.md in the repository",
        "docs/topic.md#again-2: no heading #again-2 on docs/topic.md",
        "../elsewhere.md: no ../elsewhere.md in the repository",
    ]


def test_the_readme_is_a_five_minute_read():
    size = len((ROOT / "README.md").read_bytes())
    assert size < README_LIMIT, f"README.md is {size} bytes: move the detail into docs/"


# --- the README's set-up commands are CI's ------------------------------------------------------------

def normalized(command: str) -> tuple[str, ...]:
    """A command as what it does: the program without its path, no long options, no version pins, so that
    `.ci/venv/bin/python -m pip install --quiet "tox==4.67.13"` is `python -m pip install tox`."""
    program, *arguments = shlex.split(command, comments=True)
    program = re.sub(r"^python3(\.\d+)?$", "python", pathlib.PurePath(program).name)
    return (program, *(re.split(r"[=<>~!]=", word)[0] for word in arguments if not word.startswith("--")))


def tox_commands(script: str) -> list[tuple[str, ...]]:
    """The script's commands that install or run tox, in order."""
    commands = [normalized(line) for line in script.replace("\\\n", " ").splitlines() if line.split("#")[0].strip()]
    return [command for command in commands if "tox" in command]


def readme_set_up() -> list[tuple[str, ...]]:
    [block, *_] = markdown.code_blocks(markdown.section((ROOT / "README.md").read_text(), "Set up"), "sh")
    return tox_commands(block)


def test_the_readme_sets_up_with_pip_and_tox_run():
    assert readme_set_up() == [("python", "-m", "pip", "install", "tox"), ("tox", "run")]


def test_the_readme_set_up_is_what_ci_runs():
    workflow = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    pull_requests = "\n".join(step["run"] for step in workflow["jobs"]["offline"]["steps"] if "run" in step)
    assert tox_commands(pull_requests) == readme_set_up(), ".github/workflows/ci.yml (offline job)"
    assert tox_commands((ROOT / ".ci" / "run").read_text()) == readme_set_up(), ".ci/run"


@pytest.mark.parametrize("command, expected", [
    ('.ci/venv/bin/python -m pip install --quiet "tox==4.67.13"', ("python", "-m", "pip", "install", "tox")),
    ("python3.11 -m pip install tox>=4", ("python", "-m", "pip", "install", "tox")),
    ("tox run  # the gate", ("tox", "run")),
    ("tox -e lint", ("tox", "-e", "lint")),
])
def test_commands_compare_by_what_they_do(command, expected):
    assert normalized(command) == expected
