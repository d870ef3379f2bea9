"""The offline checks a deploy passes before any AWS call: the parameter file against the template
(tools/check_dev_cfg.py), then cfn-lint with the rules of the template's project (its .cfnlintrc)."""
from __future__ import annotations

import pathlib
import subprocess
import sys

from cfnlint.decode import decode

from tools import check_dev_cfg
from tools.deployment.errors import Unusable

# cfn-lint's own command line, in this interpreter: the pinned cfn-lint, whatever is on PATH.
CFN_LINT = [sys.executable, "-c", "from cfnlint.runner import main; main()"]


def load(template: pathlib.Path, config: pathlib.Path) -> tuple[dict, str]:
    """The template (parsed) and the parameter file's text; Unusable when either cannot be read."""
    try:
        text = config.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise Unusable(f"cannot read {config}: {getattr(error, 'strerror', None) or error}") from None
    if not template.is_file():
        raise Unusable(f"cannot read {template}: no such file")
    parsed, errors = decode(str(template))
    if errors or not isinstance(parsed, dict):
        raise Unusable(f"{template} does not parse as a template: {errors[0].message if errors else 'not a mapping'}")
    return parsed, text


def problems(template_path: pathlib.Path, template: dict, config_path: pathlib.Path, text: str) -> list[str]:
    """Every finding, as printable lines; empty when the deploy may go on. cfn-lint runs only on a good config."""
    found = check_dev_cfg.check(text, str(config_path), template)
    blocking = [str(problem) for problem in found if problem.blocking]
    if blocking:
        return blocking
    # From the template's directory, so cfn-lint reads that project's .cfnlintrc and appended rules.
    lint = subprocess.run([*CFN_LINT, "--", str(template_path.resolve())], cwd=template_path.resolve().parent,
                          capture_output=True, text=True, check=False)
    if lint.returncode:
        return [line for line in (lint.stdout + lint.stderr).splitlines() if line.strip()]
    return []


def parameters(text: str, template: dict, updating: bool) -> list[dict]:
    """CreateChangeSet's Parameters: the file's values; other parameters take the template's Default, except
    one without a Default (a NoEcho value passed once), which keeps its previous value on an update."""
    values, _ = check_dev_cfg.parse(text, "")
    given = [{"ParameterKey": key, "ParameterValue": value} for key, (_, value) in values.items()]
    kept = [{"ParameterKey": name, "UsePreviousValue": True}
            for name, body in (template.get("Parameters") or {}).items()
            if updating and name not in values and "Default" not in body]
    return given + kept
