"""W9011: inline Python for a newer runtime than the linter's Python, which it cannot compile.

Lesson: E9008 compiles inline `Code.ZipFile` to catch errors before the deploy, but it can only use the
interpreter cfn-lint runs on. Code for a newer runtime (python3.14 while linting on 3.11) may use syntax
that interpreter does not know yet (`type X = ...`), so its failure proves nothing either way: the code is
left unchecked. Lint with a Python at least as new as the function's Runtime to have it checked.
https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
"""
import pathlib
import platform
import sys

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# cfn-lint loads rule files by path, not as a package: put the shared helper within reach.
if (_HERE := str(pathlib.Path(__file__).resolve().parent)) not in sys.path:
    sys.path.append(_HERE)
import _cfn_lessons as lessons  # noqa: E402


class InlinePythonNewerRuntime(CloudFormationLintRule):
    id = "W9011"
    shortdesc = "Inline Python for a newer runtime that the linter's Python cannot compile"
    description = (
        "Inline code that fails to compile on an older Python than its Runtime may still be valid there; "
        "it stays unchecked until linted with a Python as new as the Runtime."
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html"
    tags = ["resources", "lambda", "project"]

    def match(self, cfn):
        matches = []
        for name, props, code in lessons.inline_python(cfn):
            if not lessons.newer_than_linter(props["Runtime"]):
                continue
            _, problem = lessons.compile_inline(code)
            if problem:
                matches.append(RuleMatch(["Resources", name, "Properties", "Code", "ZipFile"], (
                    f"Inline code of {name} was not checked: Python {platform.python_version()} cannot compile "
                    f"it ({problem}) but its Runtime {props['Runtime']} may; lint with that Python to check it")))
        return matches
