"""E9008: inline Python code that does not compile, or lacks the function its Handler names.

Lesson: CloudFormation does not look inside `Code.ZipFile`; it saves the text as `index.py` and a
syntax error or a misspelt handler only shows when the function is first invoked, typically by a
custom resource in the middle of a deploy, which then waits for an answer that never comes. For
inline code the Handler must be `index.<function>` and the module must define that function.
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-function-code.html
"""
import ast

from cfnlint.rules import CloudFormationLintRule, RuleMatch


class InlinePythonHandler(CloudFormationLintRule):
    id = "E9008"
    shortdesc = "Inline Python ZipFile that does not compile or lacks its handler"
    description = "Inline Python must compile and define the function that Handler (index.<function>) names."
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-function-code.html"
    tags = ["resources", "lambda", "project"]

    def match(self, cfn):
        matches = []
        for name, body in cfn.get_resources("AWS::Lambda::Function").items():
            props = body.get("Properties") or {}
            code = (props.get("Code") or {}).get("ZipFile") if isinstance(props.get("Code"), dict) else None
            if not (isinstance(code, str) and str(props.get("Runtime", "")).startswith("python")):
                continue
            try:
                module = ast.parse(code, filename="index.py")
            except SyntaxError as error:
                matches.append(RuleMatch(["Resources", name, "Properties", "Code", "ZipFile"], (
                    f"Inline code of {name} does not compile: {error.msg} (line {error.lineno} of the code)")))
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
    names = set()
    for node in module.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names
