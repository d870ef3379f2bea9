"""E9002: an ECS service behind a target group that no listener it depends on forwards to.

Lesson: ECS can only register targets in a target group that is attached to a load balancer, and a
target group is attached by a listener or listener rule that forwards to it. CloudFormation cannot see
that relation, so without `DependsOn` it may create the service first and the deploy fails with
"The target group ... does not have an associated load balancer". A listener that forwards only on
one branch of an `Fn::If` (redirect HTTP to HTTPS when a certificate is given) or only under a
`Condition` attaches the group only then: the service must wait for every such listener.
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecs-service.html#aws-resource-ecs-service--examples
"""
import pathlib
import sys

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
                    message = self._problem(cfn, service, group)
                    if message:
                        matches.append(RuleMatch(["Resources", service, *path], message))
        return matches

    @staticmethod
    def _problem(cfn, service, group):
        forwarders = lessons.listeners_forwarding_to(cfn, group)
        if not forwarders:
            return f"No listener or listener rule forwards to {group}: {service} cannot register targets"
        awaited = [forwarder for forwarder in forwarders if lessons.ordered_after(cfn, service, forwarder)]
        if not awaited:
            return f"{service} must DependsOn {' or '.join(forwarders)}, which attaches {group} to a load balancer"
        if any(lessons.forwards_always(cfn, forwarder, group) for forwarder in awaited):
            return None
        # Only conditional forwarders (a Condition, or forward on one Fn::If branch): wait for all of them.
        conditional = [f for f in forwarders if not lessons.forwards_always(cfn, f, group)]
        missing = [f for f in conditional if f not in awaited]
        if not missing:
            return None
        return (f"{' and '.join(awaited)} forward to {group} only under some conditions: {service} must also "
                f"wait for {' and '.join(missing)} (DependsOn, or through a resource that references it under "
                f"the same condition)")
