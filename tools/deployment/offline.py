"""The plan and the guard for a pull request, without AWS: stack.yml and dev.cfg at a git ref against the working tree.

    python tools/deploy.py --plan-offline --base origin/main [--config dev.cfg] [--template stack.yml]
                           [--allow-replacement ID[:PROPERTY] ...]

Prints the predicted plan in the live plan's format, then one explanation per stateful resource the guard refuses.
Exit 0: nothing refused; 3: refused by the guard; 2: unusable input (one line on stderr): not a git checkout, an
unknown ref, an unreadable or invalid dev.cfg, a config or template outside the checkout, a template that does not
parse.
"""
from __future__ import annotations

import pathlib
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version

from cfnlint.decode import decode_str

from tools import check_dev_cfg
from tools.deployment import plan
from tools.deployment.errors import Unusable
from tools.deployment.evaluate import Evaluated
from tools.deployment.predict import predict

TEMPLATE = "stack.yml"  # the default: at the top of the config's checkout
OK, UNUSABLE, REFUSED = 0, 2, 3


@dataclass(frozen=True)
class Version:
    label: str
    template: dict
    values: dict[str, str]


def run(base_ref: str, config: pathlib.Path, allowed: frozenset[str], out=None,
        template: pathlib.Path | None = None) -> int:
    out = out or sys.stdout  # looked up now: a default bound at import outlives a redirected stdout
    try:
        before, after = _versions(base_ref, pathlib.Path(config), template and pathlib.Path(template))
    except Unusable as error:
        print(f"plan-offline: {error}", file=sys.stderr)
        return UNUSABLE
    prediction = predict(Evaluated(before.template, before.values), Evaluated(after.template, after.values))
    print(f"Offline plan: {before.label} -> {after.label}, predicted from the resource schemas of cfn-lint "
          f"{version('cfn-lint')} (the live change set has the last word)", file=out)
    print(plan.render(prediction.changes), file=out)
    for note in prediction.notes:
        print(f"note: {note}", file=out)
    refusals = plan.guard(prediction.changes, allowed)
    for refusal in refusals:
        print(f"REFUSED: {refusal.explain()}", file=out)
    return REFUSED if refusals else OK


def _versions(base_ref: str, config: pathlib.Path, template: pathlib.Path | None) -> tuple[Version, Version]:
    text_now = _read(config)
    top = pathlib.Path(_git(config.resolve().parent, "rev-parse", "--show-toplevel",
                            failure=f"the config {config} is outside any git checkout, so it has no version at "
                                    f"{base_ref}: plan with a config committed in the repository"))
    template = template or top / TEMPLATE
    config_path, template_path = (_in_checkout(top, path, base_ref, kind) for path, kind in
                                  ((config, "config"), (template, "template")))
    if base_ref.startswith("-"):
        raise Unusable(f"{base_ref!r} is not a git ref")
    commit = _git(top, "rev-parse", "--verify", "--quiet", f"{base_ref}^{{commit}}",
                  failure=f"{base_ref} is not a commit in {top} (in CI, check out with fetch-depth: 0)")
    template_now = _read(template)
    # A file the base does not have yet: everything in it is new.
    template_then = _show(top, commit, template_path) or "Resources: {}"
    text_then = _show(top, commit, config_path) or ""
    before = _version(f"{base_ref} ({commit[:12]})", template_then, text_then, config_path, template_path)
    after = _version("the working tree", template_now, text_now, config_path, template_path)
    return before, after


def _read(path: pathlib.Path) -> str:
    try:
        return path.read_text()
    except OSError as error:
        raise Unusable(f"cannot read {path}: {error.strerror}") from None


def _in_checkout(top: pathlib.Path, path: pathlib.Path, base_ref: str, kind: str) -> str:
    """The path inside the checkout, as git names it at a commit."""
    try:
        return path.resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        raise Unusable(f"the {kind} {path} is outside the git checkout {top}, so it has no version at "
                       f"{base_ref}") from None


def _version(label: str, template_text: str, config_text: str, config_path: str, template_path: str) -> Version:
    template, errors = decode_str(template_text)
    if errors or not isinstance(template, dict):
        detail = f": {errors[0].message} (line {errors[0].linenumber})" if errors else ""
        raise Unusable(f"{template_path} in {label} does not parse as a template{detail}")
    problems = [p for p in check_dev_cfg.check(config_text, f"{config_path} in {label}", template) if p.blocking]
    if problems:
        raise Unusable(str(problems[0]) + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    values, _ = check_dev_cfg.parse(config_text, config_path)
    return Version(label, template, {key: value for key, (_, value) in values.items()})


def _show(top: pathlib.Path, commit: str, path: str) -> str | None:
    """The file at that commit; None when the commit does not have it."""
    if subprocess.run(["git", "-C", str(top), "cat-file", "-e", f"{commit}:{path}"],
                      capture_output=True).returncode != 0:
        return None
    return _git(top, "show", f"{commit}:{path}", failure=f"cannot read {path} at {commit[:12]}", strip=False)


def _git(where: pathlib.Path, *arguments: str, failure: str, strip: bool = True) -> str:
    try:
        result = subprocess.run(["git", "-C", str(where), *arguments], capture_output=True, text=True)
    except FileNotFoundError:
        raise Unusable("git is not installed (the offline plan reads the base version with git)") from None
    if result.returncode != 0:
        raise Unusable(failure)
    return result.stdout.strip() if strip else result.stdout
