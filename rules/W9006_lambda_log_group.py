"""W9006: a Lambda function whose explicit log group stays empty.

Lesson: Lambda writes to `/aws/lambda/<FunctionName>` (unless `LoggingConfig.LogGroup` says otherwise).
A stack that creates that group to set retention must name it exactly so, create it before the function
(`DependsOn`: otherwise the first invocation creates the group and the stack's own group fails with
"already exists"), and give the function's role `logs:CreateLogStream` and `logs:PutLogEvents` on it.
Miss any of the three and the function runs without logs: the chapter's "where are my logs?".
A group named after the function's generated name (`!Sub /aws/lambda/${Function}`) is created after
the function and cannot be depended on: name the function and build the group's name from that value.
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
"""
import fnmatch
import pathlib
import re
import sys

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# cfn-lint loads rule files by path, not as a package: put the shared helper within reach.
if (_HERE := str(pathlib.Path(__file__).resolve().parent)) not in sys.path:
    sys.path.append(_HERE)
import _cfn_lessons as lessons  # noqa: E402

LOG_GROUP = "AWS::Logs::LogGroup"
ROLE = "AWS::IAM::Role"
POLICIES = ("AWS::IAM::Policy", "AWS::IAM::RolePolicy", "AWS::IAM::ManagedPolicy")
WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
MANAGED_LOG_WRITERS = ("AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole")


class LambdaLogGroup(CloudFormationLintRule):
    id = "W9006"
    shortdesc = "Lambda log group misnamed, created after the function, or not writable by its role"
    description = (
        "A function's explicit log group must be /aws/lambda/<FunctionName>, exist before the function "
        "and be writable by the function's role, or the function runs without logs."
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html"
    tags = ["resources", "lambda", "logs", "project"]

    def match(self, cfn):
        matches = []
        for function, body in cfn.get_resources("AWS::Lambda::Function").items():
            props = body.get("Properties") or {}
            expected = "/aws/lambda/" + (lessons.template_text(props.get("FunctionName")) or "${" + function + "}")
            configured = lessons.targets(cfn, function, "Properties", "LoggingConfig", "LogGroup", types=(LOG_GROUP,))
            roles = lessons.targets(cfn, function, "Properties", "Role", types=(ROLE,))
            for group in _log_groups_of(cfn, function, expected, configured):
                name = lessons.template_text(lessons.properties(cfn, group).get("LogGroupName"))
                if group not in configured and name != expected:
                    matches.append(RuleMatch(["Resources", group, "Properties", "LogGroupName"], (
                        f"{function} writes to {expected}, not to {name}: {group} stays empty")))
                    continue
                if lessons.ordered_after(cfn, group, function):
                    matches.append(RuleMatch(["Resources", group, "Properties", "LogGroupName"], (
                        f"{group} takes its name from {function}, which therefore cannot DependsOn it (a circular "
                        f"dependency): set {function}'s FunctionName and build the LogGroupName from the same value")))
                elif not lessons.ordered_after(cfn, function, group):
                    matches.append(RuleMatch(["Resources", function], (
                        f"{function} must DependsOn {group}, or its first invocation creates the group "
                        f"and the stack's own {group} fails")))
                for role in roles:
                    missing = [a for a in WRITE_ACTIONS if not _role_allows(cfn, role, a, name or "")]
                    if missing:
                        matches.append(RuleMatch(["Resources", function, "Properties", "Role"], (
                            f"Role {role} of {function} lacks {' and '.join(missing)} on {group}: no logs")))
        return matches


def _log_groups_of(cfn, function, expected, configured):
    """Groups meant for this function: configured, depended on, or named for it.

    A group its role may write to is not one of them: roles are shared between functions."""
    found = list(configured)
    found += [g for g in lessons.depends_on(cfn, function) if lessons.resource_type(cfn, g) == LOG_GROUP]
    found += [g for g in cfn.get_resources(LOG_GROUP)
              if lessons.template_text(lessons.properties(cfn, g).get("LogGroupName")) == expected]
    return list(dict.fromkeys(found))


def _role_allows(cfn, role, action, group_name):
    managed = lessons.properties(cfn, role).get("ManagedPolicyArns") or []
    if any(writer in str(arn) for arn in managed for writer in MANAGED_LOG_WRITERS):
        return True
    sample_arn = f"arn:aws:logs:us-east-1:123456789012:log-group:{_sample(group_name)}:log-stream:s"
    for owner, path, statement in _statements(cfn, role):
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        if not any(fnmatch.fnmatch(action.lower(), str(a).lower()) for a in _as_list(actions)):
            continue
        resources = _as_list(statement.get("Resource", []))
        if any(_arn_pattern(r).fullmatch(sample_arn) for r in map(lessons.template_text, resources) if r):
            return True
        if any(lessons.resource_type(cfn, t) == LOG_GROUP for t in lessons.targets(cfn, owner, *path, "Resource")):
            return True
    return False


def _statements(cfn, role):
    """(owner, path, statement) for the role's inline policies and policy resources attached to it."""
    documents = [(role, ["Properties", "Policies", i, "PolicyDocument"], p.get("PolicyDocument"))
                 for i, p in enumerate(lessons.properties(cfn, role).get("Policies") or []) if isinstance(p, dict)]
    for policy in cfn.get_resources(list(POLICIES)):
        if role in lessons.targets(cfn, policy, "Properties", "Roles") + lessons.targets(
                cfn, policy, "Properties", "RoleName"):
            documents.append((policy, ["Properties", "PolicyDocument"], lessons.properties(cfn, policy).get("PolicyDocument")))
    for owner, path, document in documents:
        statements = (document or {}).get("Statement", []) if isinstance(document, dict) else []
        for index, statement in enumerate(_as_list(statements)):
            if isinstance(statement, dict):
                yield owner, [*path, "Statement", index], statement


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _sample(text):
    """A concrete name for a template text: every ${...} becomes one sample value."""
    return re.sub(r"\$\{[^}]*\}", "v", text)


def _arn_pattern(text):
    """An IAM resource pattern as a regex: * and ? are wildcards, ${...} may be any value."""
    parts = re.split(r"(\$\{[^}]*\}|\*|\?)", text)
    return re.compile("".join(
        ".*" if part == "*" or part.startswith("${") else "." if part == "?" else re.escape(part)
        for part in parts))
