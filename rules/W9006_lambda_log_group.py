"""W9006: a Lambda function whose explicit log group stays empty.

Lesson: Lambda writes to `/aws/lambda/<FunctionName>` (unless `LoggingConfig.LogGroup` says otherwise).
A stack that creates that group to set retention must name it exactly so, create it before the function
(`DependsOn`: otherwise the first invocation creates the group and the stack's own group fails with
"already exists"), and give the function's role `logs:CreateLogStream` and `logs:PutLogEvents` on it.
Miss any of the three and the function runs without logs: the chapter's "where are my logs?".
A group named from the function's Ref (`!Sub /aws/lambda/${Function}`, its generated name or its
FunctionName) is created after the function and cannot be depended on: name the function and build
the group's name from that value.
No race exists, and nothing is said about the order, when the function's role may not create log
groups (Lambda then cannot create it first), or when every invoker in the stack (custom resources,
event sources, permissions, rules, subscriptions) waits for the group, directly or through a resource
that references it. A function with no invoker in the stack may be called from outside at any time.
A function with neither `FunctionName` nor `LoggingConfig.LogGroup` logs to `/aws/lambda/<generated name>`,
a group no stack can name in advance: if its role, written to log (`logs:PutLogEvents` somewhere), may not
`logs:CreateLogGroup`, nobody creates it and the function runs without logs (while a `/aws/lambda/...` group
the stack made for it stays empty). A role whose rights cannot be read offline (a managed policy, intrinsics)
is given the benefit of the doubt.
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
# Resources that invoke a function (or let a service invoke it) once they exist.
INVOKERS = ("AWS::Lambda::Permission", "AWS::Lambda::EventSourceMapping", "AWS::Lambda::Url",
            "AWS::Events::Rule", "AWS::Scheduler::Schedule", "AWS::SNS::Subscription", "AWS::SNS::Topic",
            "AWS::Logs::SubscriptionFilter", "AWS::S3::Bucket", "AWS::Pipes::Pipe")


class LambdaLogGroup(CloudFormationLintRule):
    id = "W9006"
    shortdesc = "Lambda log group misnamed, created after the function, not writable by its role, or never created"
    description = (
        "A function's explicit log group must be /aws/lambda/<FunctionName>, exist before the function "
        "and be writable by the function's role; an unnamed function's generated group needs a role that "
        "may create it. Otherwise the function runs without logs."
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html"
    tags = ["resources", "lambda", "logs", "project"]

    def match(self, cfn):
        matches = []
        for function in cfn.get_resources("AWS::Lambda::Function"):
            props = lessons.properties(cfn, function)
            named = lessons.template_text(props.get("FunctionName"))
            # `!Ref Function` is the function's name too, set or generated.
            by_ref = "/aws/lambda/${" + function + "}"
            expected = "/aws/lambda/" + named if named else by_ref
            configured = lessons.targets(cfn, function, "Properties", "LoggingConfig", "LogGroup", types=(LOG_GROUP,))
            roles = lessons.targets(cfn, function, "Properties", "Role", types=(ROLE,))
            groups = _log_groups_of(cfn, function, (expected, by_ref), configured)
            if not groups and _logs_to_generated_group(props) and roles and not any(
                    _may_create_log_group(cfn, role, function) or not _writes_logs(cfn, role) for role in roles):
                matches.append(RuleMatch(["Resources", function, "Properties", "Role"], _silent(cfn, function, roles)))
            for group in groups:
                name = lessons.template_text(lessons.properties(cfn, group).get("LogGroupName"))
                if group not in configured and name not in (expected, by_ref):
                    matches.append(RuleMatch(["Resources", group, "Properties", "LogGroupName"], (
                        f"{function} writes to {expected}, not to {name}: {group} stays empty")))
                    continue
                problem = _order_problem(cfn, function, group, roles, name or "", named is not None)
                if problem:
                    matches.append(RuleMatch(*problem))
                for role in roles:
                    missing = [a for a in WRITE_ACTIONS if not _role_allows(cfn, role, a, name or "")]
                    if missing:
                        matches.append(RuleMatch(["Resources", function, "Properties", "Role"], (
                            f"Role {role} of {function} lacks {' and '.join(missing)} on {group}: no logs")))
        return matches


def _logs_to_generated_group(props):
    """No FunctionName and no LoggingConfig.LogGroup: the group is /aws/lambda/<generated name>."""
    config = props.get("LoggingConfig")
    return "FunctionName" not in props and (config is None or isinstance(config, dict) and not any(
        key == "LogGroup" or str(key).startswith("Fn::") for key in config))


def _silent(cfn, function, roles):
    stack_groups = sorted({g for role in roles for owner, path, _ in _statements(cfn, role)
                           for g in lessons.targets(cfn, owner, *path, "Resource", types=(LOG_GROUP,))})
    empty = f" (and {' and '.join(stack_groups)} stays empty)" if stack_groups else ""
    return (f"{function} has neither FunctionName nor LoggingConfig.LogGroup: Lambda logs to "
            f"/aws/lambda/<generated name>, which the stack does not create and role {' or '.join(roles)} may not "
            f"create (no logs:CreateLogGroup): it runs without logs{empty}. Set LoggingConfig.LogGroup to a group "
            f"of the stack, or allow logs:CreateLogGroup")


def _may_create_log_group(cfn, role, function):
    """True unless the role's policies, all readable, grant logs:CreateLogGroup on no name the function's
    generated group may take; unreadable rights (a managed policy we cannot see, intrinsics) count as may."""
    props = lessons.properties(cfn, role)
    managed = props.get("ManagedPolicyArns", [])
    if managed or not isinstance(props.get("Policies", []), list):
        return True
    # CloudFormation names it <stack name>-<logical id>-<random suffix>; policies write the group's ARN
    # bare, with ":*", or down to its streams: any of them may be the one IAM matches.
    group = f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/stack-{function}-AbC123"
    samples = (group, f"{group}:*", f"{group}:log-stream:s")
    for policy in props.get("Policies", []):
        document = policy.get("PolicyDocument") if isinstance(policy, dict) else None
        if not isinstance(document, dict) or not isinstance(document.get("Statement", []), (list, dict)):
            return True
    for _, _, statement in _statements(cfn, role):
        if any(_statement_may_allow(statement, "logs:CreateLogGroup", sample) for sample in samples):
            return True
    return False


def _writes_logs(cfn, role):
    """The role means its function to log: some statement allows logs:PutLogEvents."""
    return any(statement.get("Effect") == "Allow" and any(
        isinstance(a, str) and fnmatch.fnmatch("logs:putlogevents", a.lower())
        for a in _as_list(statement.get("Action"))) for _, _, statement in _statements(cfn, role))


def _statement_may_allow(statement, action, arn):
    effect = statement.get("Effect")
    if effect == "Deny":
        return False
    if effect != "Allow" or "NotAction" in statement or "NotResource" in statement:
        return True
    actions, resources = _as_list(statement.get("Action", [])), _as_list(statement.get("Resource", []))
    if not all(isinstance(a, str) for a in actions) or not any(fnmatch.fnmatch(action.lower(), a.lower())
                                                                 for a in actions):
        return not all(isinstance(a, str) for a in actions)
    texts = [lessons.template_text(r) for r in resources]
    return None in texts or any(_arn_pattern(text).fullmatch(arn) for text in texts)


def _log_groups_of(cfn, function, names, configured):
    """Groups meant for this function: configured, depended on, or named for it.

    A group its role may write to is not one of them: roles are shared between functions."""
    found = list(configured)
    found += [g for g in lessons.depends_on(cfn, function) if lessons.resource_type(cfn, g) == LOG_GROUP]
    found += [g for g in cfn.get_resources(LOG_GROUP)
              if lessons.template_text(lessons.properties(cfn, g).get("LogGroupName")) in names]
    return list(dict.fromkeys(found))


def _order_problem(cfn, function, group, roles, group_name, named):
    """(path, message) if Lambda may create the group before the stack does: the function's role may
    create log groups and something may invoke the function before the group exists; else None."""
    if lessons.ordered_after(cfn, function, group):
        return None
    if not any(_role_allows(cfn, role, "logs:CreateLogGroup", group_name) for role in roles):
        return None
    invokers = _invokers(cfn, function)
    early = [invoker for invoker in invokers if not lessons.ordered_after(cfn, invoker, group)]
    if invokers and not early:
        return None
    if not lessons.ordered_after(cfn, group, function):
        return ["Resources", function], (
            f"{function} must DependsOn {group}, or its first invocation creates the group "
            f"and the stack's own {group} fails")
    fix = f"make {' and '.join(early)} DependsOn {group}, or " if early else ""
    if named:
        name_it = (f"write the LogGroupName from {function}'s FunctionName, not its Ref, and make "
                   f"{function} DependsOn {group}")
    else:
        name_it = f"set {function}'s FunctionName and build the LogGroupName from the same value"
    return ["Resources", group, "Properties", "LogGroupName"], (
        f"{group} takes its name from {function}, which therefore cannot DependsOn it (a circular "
        f"dependency): {fix}{name_it}")


def _invokers(cfn, function):
    """Resources of the stack that invoke the function: custom resources through their ServiceToken,
    and event sources, permissions, rules and subscriptions that point at it."""
    found = []
    for source, _, data in cfn.graph.graph.in_edges(function, data=True) if cfn.graph is not None else []:
        kind = lessons.resource_type(cfn, source)
        if data.get("label") == "DependsOn" or kind is None:
            continue
        custom = lessons.is_custom_resource(kind) and list(data["source_paths"][:2]) == ["Properties", "ServiceToken"]
        if (custom or kind in INVOKERS) and source not in found:
            found.append(source)
    return found


def _role_allows(cfn, role, action, group_name):
    managed = lessons.properties(cfn, role).get("ManagedPolicyArns")
    if any(writer in str(arn) for arn in _as_list(managed) for writer in MANAGED_LOG_WRITERS):
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
    policies = lessons.properties(cfn, role).get("Policies")
    documents = [(role, ["Properties", "Policies", i, "PolicyDocument"], p.get("PolicyDocument"))
                 for i, p in enumerate(policies if isinstance(policies, list) else []) if isinstance(p, dict)]
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
