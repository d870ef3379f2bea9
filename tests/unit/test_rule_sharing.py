"""Other projects run the rules through pre-commit: the example in docs/lint-rules.md works as documented.

pre-commit pip-installs the hook repository and runs the hook's `entry` (plus the user's `args`) with
the staged files that match `files`. Offline, the install is stood in for by what it produces: the
`todobackend_cfn_rules` package that pyproject.toml maps to rules/, put on sys.path. The entry's
command is the installed console script, called in process.
"""
import importlib.metadata
import re
import shlex
import sys
import tomllib

import pytest
import yaml

from tests.support.template import ROOT

FIXTURES = ROOT / "tests" / "unit" / "rule_fixtures"
PACKAGE = "todobackend_cfn_rules"


def hooks():
    return {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}


def documented_example():
    """docs/lint-rules.md's .pre-commit-config.yaml example: (hook settings it uses, its repository entry)."""
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "lint-rules.md").read_text(), re.S)
    [config] = [yaml.safe_load(block) for block in blocks if "repos:" in block]
    [repo] = config["repos"]
    [hook] = repo["hooks"]
    return hook, repo


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """What `pip install` of this repository provides: the rules package importable by its name."""
    site = tmp_path / "site-packages"
    site.mkdir()
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    (site / PACKAGE).symlink_to(ROOT / mapping[PACKAGE], target_is_directory=True)
    monkeypatch.syspath_prepend(str(site))
    project = tmp_path / "project"  # the user's repository: no .cfnlintrc of ours
    project.mkdir()
    monkeypatch.chdir(project)
    yield
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def run_hook(hook_id, user_args, files, monkeypatch, capsys):
    """Run a hook as pre-commit does: entry, then args, then the files; (exit code, output)."""
    hook = hooks()[hook_id]
    command, *options = shlex.split(hook["entry"])
    [script] = importlib.metadata.entry_points(group="console_scripts", name=command)
    monkeypatch.setattr(sys, "argv", [command, *options, *hook.get("args", []), *user_args, *map(str, files)])
    with pytest.raises(SystemExit) as exited:
        script.load()()
    return exited.value.code, capsys.readouterr().out


def test_documented_example_uses_the_published_hook_and_selects_templates_only():
    hook, repo = documented_example()
    published = hooks()[hook["id"]]
    assert published["language"] == "python"
    assert {"repo", "rev"} <= set(repo)
    for path, linted in [("templates/app.yml", True), ("stack.yaml", True), (".github/workflows/ci.yml", False),
                         ("README.md", False)]:
        selected = re.search(published["files"], path) and re.search(hook.get("files", ""), path)
        assert bool(selected) is linted, path


def test_documented_example_hook_reports_a_project_rule(installed, monkeypatch, capsys):
    hook, _ = documented_example()
    code, out = run_hook(hook["id"], hook.get("args", []), [FIXTURES / "E9013_bad.yml"], monkeypatch, capsys)
    assert code != 0
    assert re.search(r"^E9013 .*6 MiB", out, re.M), out


def test_documented_example_hook_passes_a_clean_template(installed, monkeypatch, capsys):
    hook, _ = documented_example()
    code, out = run_hook(hook["id"], hook.get("args", []), [FIXTURES / "E9013_good.yml"], monkeypatch, capsys)
    assert (code, out) == (0, "")


def test_the_installed_package_carries_every_rule(installed):
    package = __import__(PACKAGE)
    found = {rule.id for rule in vars(package).values() if isinstance(rule, type) and getattr(rule, "id", "")}
    expected = {path.name.split("_")[0] for path in (ROOT / "rules").glob("[A-Za-z1-9]*.py")}
    assert found == expected
