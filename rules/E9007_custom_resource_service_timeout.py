"""E9007: a Lambda-backed custom resource that can hang the stack for an hour.

Lesson: CloudFormation waits for a custom resource's response for `ServiceTimeout` seconds, one hour
when it is not set. A handler that crashes or times out without answering leaves the stack
"IN_PROGRESS" for that hour (then rollback waits again). Set `ServiceTimeout` between 1 and 3600
seconds and no lower than the function's `Timeout`, so CloudFormation waits as long as the function
may run, and no longer.
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-customresource.html
"""
import pathlib
import sys

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# cfn-lint loads rule files by path, not as a package: put the shared helper within reach.
if (_HERE := str(pathlib.Path(__file__).resolve().parent)) not in sys.path:
    sys.path.append(_HERE)
import _cfn_lessons as lessons  # noqa: E402

FUNCTION = "AWS::Lambda::Function"
LAMBDA_DEFAULT_TIMEOUT = 3


class CustomResourceServiceTimeout(CloudFormationLintRule):
    id = "E9007"
    shortdesc = "Lambda-backed custom resource without a fitting ServiceTimeout"
    description = (
        "Without ServiceTimeout a silent handler hangs the stack for an hour; it must be 1-3600 and "
        "at least the function's Timeout."
    )
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-customresource.html"
    tags = ["resources", "cloudformation", "lambda", "project"]

    def match(self, cfn):
        matches = []
        for name, body in cfn.get_resources().items():
            if not lessons.is_custom_resource(body["Type"]):
                continue
            functions = lessons.targets(cfn, name, "Properties", "ServiceToken", types=(FUNCTION,))
            token = lessons.template_text(lessons.properties(cfn, name).get("ServiceToken")) or ""
            if not functions and ":lambda:" not in token:
                continue
            message, path = self._problem(cfn, name, functions)
            if message:
                matches.append(RuleMatch(["Resources", name, *path], message))
        return matches

    @staticmethod
    def _problem(cfn, name, functions):
        props = lessons.properties(cfn, name)
        if "ServiceTimeout" not in props:
            return f"{name} has no ServiceTimeout: a handler that never answers hangs the stack for an hour", []
        timeout = lessons.as_int(props["ServiceTimeout"])
        path = ["Properties", "ServiceTimeout"]
        if timeout is None:
            return None, path
        if not 1 <= timeout <= 3600:
            return f"ServiceTimeout {timeout} of {name} is outside 1-3600 seconds: the deploy fails", path
        for function in functions:
            runs = lessons.as_int(lessons.properties(cfn, function).get("Timeout", LAMBDA_DEFAULT_TIMEOUT))
            if runs is not None and timeout < runs:
                return (f"ServiceTimeout {timeout} of {name} is below {function}'s Timeout {runs}: "
                        f"CloudFormation gives up while the function still runs"), path
        return None, path
