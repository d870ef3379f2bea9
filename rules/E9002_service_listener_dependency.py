"""E9002: an ECS service behind a target group that no listener it depends on forwards to.

Lesson: ECS can only register targets in a target group that is attached to a load balancer, and a
target group is attached by a listener or listener rule that forwards to it. CloudFormation cannot see
that relation, so without `DependsOn` it may create the service first and the deploy fails with
"The target group ... does not have an associated load balancer". A listener that forwards only on
one branch of an `Fn::If` (redirect HTTP to HTTPS when a certificate is given) or only under a
`Condition` attaches the group only then. So each condition scenario is checked on its own (cfn-lint's
condition solver lists them): in each, the service must wait for a listener that forwards there, through
DependsOn or references that hold there; a service that exists only under a condition is checked there.
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecs-service.html#aws-resource-ecs-service--examples
"""
import pathlib
import sys

import networkx
from cfnlint.rules import CloudFormationLintRule, RuleMatch

# cfn-lint loads rule files by path, not as a package: put the shared helper within reach.
if (_HERE := str(pathlib.Path(__file__).resolve().parent)) not in sys.path:
    sys.path.append(_HERE)
import _cfn_lessons as lessons  # noqa: E402

TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"


class ServiceListenerDependency(CloudFormationLintRule):
    id = "E9002"
    shortdesc = "ECS service not DependsOn the listener that forwards to its target group"
    description = (
        "A service registers targets only in a target group a listener forwards to; "
        "without DependsOn CloudFormation may create the service first."
    )
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecs-service.html"
    tags = ["resources", "ecs", "elasticloadbalancingv2", "project"]

    def match(self, cfn):
        matches = []
        for service in cfn.get_resources("AWS::ECS::Service"):
            balancers = lessons.properties(cfn, service).get("LoadBalancers")
            for entry_path, _ in lessons.items(balancers, ("Properties", "LoadBalancers")):
                path = [*entry_path, "TargetGroupArn"]
                for group in lessons.targets(cfn, service, *path, types=(TARGET_GROUP,)):
                    message = _problem(cfn, service, group, ["Resources", service, *path])
                    if message:
                        matches.append(RuleMatch(["Resources", service, *path], message))
        return matches


def _problem(cfn, service, group, entry):
    """Why the service may start before anything attaches the group, in some condition scenario; else None.

    In each scenario (cfn-lint's condition solver) the group is attached by the listeners that exist and
    forward to it there, and the service waits for those it reaches through DependsOn or references that
    hold there (a reference inside an Fn::If branch holds only under that branch's condition)."""
    forwarders = lessons.listeners_forwarding_to(cfn, group)
    if not forwarders:
        return f"No listener or listener rule forwards to {group}: {service} cannot register targets"
    edges = _edges(cfn, service, forwarders, group)
    names = set(lessons.conditions_on(cfn, entry)) | {name for *_, conditions in edges for name in conditions}
    scenarios = lessons.condition_scenarios(cfn, names)
    if scenarios is None:
        return None  # a condition it cannot evaluate: stay silent
    failing, applicable = [], 0
    for scenario in scenarios:
        if not lessons.holds(lessons.conditions_on(cfn, entry), scenario):
            continue  # the service, or this load balancer entry, does not exist here
        applicable += 1
        forwarding = sorted({source for source, target, conditions in edges
                             if target == group and source in forwarders and lessons.holds(conditions, scenario)})
        if not set(forwarding) & _reached(service, edges, scenario):
            failing.append((scenario, forwarding))
    if not failing:
        return None
    scenario, forwarding = failing[0]
    if len(failing) == applicable and forwarding and all(found == forwarding for _, found in failing):
        return f"{service} must DependsOn {' or '.join(forwarding)}, which attaches {group} to a load balancer"
    when = " and ".join(f"condition {name!r} is {value}" for name, value in sorted(scenario.items()))
    if not forwarding:
        return f"When {when}, no listener forwards to {group}: {service} cannot register targets"
    return (f"When {when}, only {' and '.join(forwarding)} forward{'s' if len(forwarding) == 1 else ''} to {group} "
            f"and {service} waits for none of them: make it DependsOn one, or on a resource that references it "
            f"under the same condition")


def _edges(cfn, service, forwarders, group):
    """(source, target, conditions) for the graph edges that can lead from the service to a forwarder, and
    for the forwarders' own references to the group."""
    graph = cfn.graph.graph
    between = {service, *forwarders}
    if service in graph:
        ahead = networkx.descendants(graph, service)
        between |= {node for forwarder in forwarders if forwarder in graph
                    for node in networkx.ancestors(graph, forwarder) & ahead}
    found = []
    for source, target, data in graph.edges(data=True):
        if source in between and (target in between or (target == group and source in forwarders)) \
                and lessons.resource_type(cfn, source):
            found.append((source, target, lessons.conditions_on(cfn, ["Resources", source, *data["source_paths"]])))
    return found


def _reached(service, edges, scenario):
    """The resources the service waits for in this scenario."""
    reached, todo = set(), [service]
    while todo:
        node = todo.pop()
        for source, target, conditions in edges:
            if source == node and target not in reached and lessons.holds(conditions, scenario):
                reached.add(target)
                todo.append(target)
    return reached
