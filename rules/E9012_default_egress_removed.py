"""E9012: a security group that relies on the default allow-all egress while the template adds egress rules to it.

Lesson: EC2 gives a new VPC security group an allow-all outbound rule only when the group is created
without egress rules, and an egress rule added to the group afterwards (a standalone
`AWS::EC2::SecurityGroupEgress`, written so to avoid a circular reference) removes that default: only
the added rules are left. Instances of a launch template, launch configuration or instance, awsvpc
tasks and Lambda functions in the VPC then lose outbound access: no image pulls, no AWS API calls,
no cfn-signal, and the deploy times out. Declare the outbound access they need on the group itself
(at least tcp 443 to anywhere, or to VPC endpoints).
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-securitygroup.html
The removal on a later-added rule: https://github.com/aws/aws-cdk/issues/987
"""
import pathlib
import sys

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# cfn-lint loads rule files by path, not as a package: put the shared helper within reach.
if (_HERE := str(pathlib.Path(__file__).resolve().parent)) not in sys.path:
    sys.path.append(_HERE)
import _cfn_lessons as lessons  # noqa: E402

SECURITY_GROUP = "AWS::EC2::SecurityGroup"
# Resources whose members send traffic out through the group, and where they name it.
MEMBERS = {
    "AWS::EC2::LaunchTemplate": ("Properties", "LaunchTemplateData"),
    "AWS::AutoScaling::LaunchConfiguration": ("Properties", "SecurityGroups"),
    "AWS::EC2::Instance": ("Properties",),
    "AWS::ECS::Service": ("Properties", "NetworkConfiguration", "AwsvpcConfiguration"),
    "AWS::Lambda::Function": ("Properties", "VpcConfig"),
}
ANYWHERE = ("0.0.0.0/0", "::/0")


class DefaultEgressRemoved(CloudFormationLintRule):
    id = "E9012"
    shortdesc = "Security group loses its default allow-all egress to a standalone egress rule"
    description = (
        "An egress rule added to a group created without any removes EC2's default allow-all rule: "
        "instances, awsvpc tasks and VPC Lambdas in it lose outbound access."
    )
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-securitygroup.html"
    tags = ["resources", "ec2", "ecs", "lambda", "project"]

    def match(self, cfn):
        matches = []
        egress = _standalone_egress(cfn)
        for group in cfn.get_resources(SECURITY_GROUP):
            rules = egress.get(group, [])
            if not rules or "SecurityGroupEgress" in lessons.properties(cfn, group):
                continue
            if any(_may_reach_the_internet(lessons.properties(cfn, rule)) for rule in rules):
                continue
            members = _members(cfn, group)
            if members:
                matches.append(RuleMatch(["Resources", group], (
                    f"{group} declares no egress and relies on EC2's default allow-all rule, which "
                    f"{' and '.join(rules)} removes: {', '.join(members)} lose outbound access (images, AWS "
                    f"APIs). Declare the egress they need on {group}, e.g. tcp 443 to 0.0.0.0/0")))
        return matches


def _standalone_egress(cfn):
    """Security group of the stack -> the AWS::EC2::SecurityGroupEgress resources that add rules to it."""
    found = {}
    for name in cfn.get_resources("AWS::EC2::SecurityGroupEgress"):
        for group in lessons.targets(cfn, name, "Properties", "GroupId", types=(SECURITY_GROUP,)):
            found.setdefault(group, []).append(name)
    return found


def _may_reach_the_internet(rule):
    """True if the rule may allow HTTPS to anywhere; also when an intrinsic value leaves it undecided."""
    destinations = [rule.get("CidrIp"), rule.get("CidrIpv6")]
    if all(value is None or (isinstance(value, str) and value not in ANYWHERE) for value in destinations):
        return False
    protocol = rule.get("IpProtocol")
    if not isinstance(protocol, (str, int)) or str(protocol).lower() in ("-1", "all"):
        return True
    if str(protocol).lower() not in ("tcp", "6"):
        return False
    low, high = lessons.as_int(rule.get("FromPort")), lessons.as_int(rule.get("ToPort"))
    return low is None or high is None or low <= 443 <= high


def _members(cfn, group):
    """Resources that put instances, tasks or functions in the group."""
    return [
        name
        for resource_type, path in MEMBERS.items()
        for name in cfn.get_resources(resource_type)
        if group in lessons.targets(cfn, name, *path, types=(SECURITY_GROUP,))
    ]
