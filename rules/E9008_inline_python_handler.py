"""E9008: inline Python code that does not compile, or lacks the function its Handler names.

Lesson: CloudFormation does not look inside `Code.ZipFile`; it saves the text as `index.py` and a
syntax error or a misspelt handler only shows when the function is first invoked, typically by a
custom resource in the middle of a deploy, which then waits for an answer that never comes. For
inline code the Handler must be `index.<function>` and the module must define that function (at module
level, possibly inside an if/try block). The code is compiled, not only parsed, so `return` outside a
function is caught. Code for a newer Python runtime than the linter's that fails to compile is left to
W9011: it may use syntax this interpreter does not know.
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-function-code.html
"""
import ast
import pathlib
import sys

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# cfn-lint loads rule files by path, not as a package: put the shared helper within reach.
if (_HERE := str(pathlib.Path(__file__).resolve().parent)) not in sys.path:
    sys.path.append(_HERE)
import _cfn_lessons as lessons  # noqa: E402

# Statements whose bodies run when the module is imported, and the fields holding those bodies.
MODULE_LEVEL_BLOCKS = (ast.If, ast.Try, ast.TryStar, ast.With, ast.For, ast.While)
BLOCK_FIELDS = ("body", "orelse", "handlers", "finalbody")


class InlinePythonHandler(CloudFormationLintRule):
    id = "E9008"
    shortdesc = "Inline Python ZipFile that does not compile or lacks its handler"
    description = "Inline Python must compile and define the function that Handler (index.<function>) names."
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-function-code.html"
    tags = ["resources", "lambda", "project"]

    def match(self, cfn):
        matches = []
        for name, props, code in lessons.inline_python(cfn):
            module, problem = lessons.compile_inline(code)
            if problem:
                if not lessons.newer_than_linter(props["Runtime"]):  # else W9011 says it could not be checked
                    matches.append(RuleMatch(["Resources", name, "Properties", "Code", "ZipFile"],
                                             f"Inline code of {name} does not compile: {problem}"))
                continue
            handler = props.get("Handler")
            if isinstance(handler, str):
                problem = _handler_problem(handler, module)
                if problem:
                    matches.append(RuleMatch(["Resources", name, "Properties", "Handler"], f"{name}: {problem}"))
        return matches


def _handler_problem(handler, module):
    file_name, _, function = handler.rpartition(".")
    if file_name != "index":
        return f"Handler {handler} must start with 'index.': inline code is saved as index.py"
    if function not in _top_level_names(module):
        return f"Handler {handler} names {function}(), which the inline code does not define"
    return None


def _top_level_names(module):
    """Names the module binds when imported: also inside top-level if/try/with blocks, never in functions."""
    names = set()
    for node in _module_level_statements(module.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and node.value is not None and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def _module_level_statements(statements):
    for node in statements:
        yield node
        if isinstance(node, MODULE_LEVEL_BLOCKS):
            for field in BLOCK_FIELDS:
                for inner in getattr(node, field, []):
                    yield from _module_level_statements(inner.body if isinstance(inner, ast.ExceptHandler) else [inner])
