"""E9004: dynamic host ports behind a target group that the load balancer cannot reach.

Lesson: in bridge mode with `HostPort: 0` (or no HostPort) each task gets an ephemeral host port,
32768-60999 on current ECS-optimized AMIs. The load balancer's security group must be allowed into
the instances' security group over that whole range, or every health check times out, targets stay
unhealthy and the deployment never completes. An ingress from a CIDR or prefix list over the range
("the VPC") counts: the load balancer's nodes have addresses in the VPC, which cannot be told offline.
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html
"""
import pathlib
import sys

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# cfn-lint loads rule files by path, not as a package: put the shared helper within reach.
if (_HERE := str(pathlib.Path(__file__).resolve().parent)) not in sys.path:
    sys.path.append(_HERE)
import _cfn_lessons as lessons  # noqa: E402

SECURITY_GROUP = "AWS::EC2::SecurityGroup"
LAUNCH_SETTINGS = ("AWS::EC2::LaunchTemplate", "AWS::AutoScaling::LaunchConfiguration")
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
CIDR_SOURCES = ("CidrIp", "CidrIpv6", "SourcePrefixListId")


class DynamicPortIngress(CloudFormationLintRule):
    id = "E9004"
    shortdesc = "Dynamic host ports without ingress from the load balancer over 32768-60999"
    description = (
        "Tasks on dynamic host ports are reachable only if the load balancer's security group may "
        "enter the instances' group over the ephemeral range."
    )
    source_url = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html"
    tags = ["resources", "ecs", "ec2", "project"]

    def match(self, cfn):
        matches = []
        for service in cfn.get_resources("AWS::ECS::Service"):
            task = lessons.service_task_definition(cfn, service)
            balancers = lessons.properties(cfn, service).get("LoadBalancers")
            if task is None or not _bridge_mode(lessons.properties(cfn, task)):
                continue
            for path, entry in lessons.items(balancers, ("Properties", "LoadBalancers")):
                if not (isinstance(entry, dict) and _dynamic_port(cfn, task, entry)):
                    continue
                for group in lessons.targets(cfn, service, *path, "TargetGroupArn", types=(TARGET_GROUP,)):
                    sources = _load_balancer_groups(cfn, group)
                    if sources and not _ingress_covers(cfn, sources, _instance_groups(cfn, service)):
                        matches.append(RuleMatch(["Resources", service, *path], (
                            f"{entry.get('ContainerName')} uses a dynamic host port behind {group}, but no "
                            f"ingress rule lets {' or '.join(sources)} into the instances over tcp "
                            f"{lessons.EPHEMERAL_PORTS[0]}-{lessons.EPHEMERAL_PORTS[1]}")))
        return matches


def _bridge_mode(task_properties):
    return task_properties.get("NetworkMode", "bridge") == "bridge"


def _dynamic_port(cfn, task, entry):
    for _, container in lessons.containers(cfn, task):
        if container.get("Name") != entry.get("ContainerName"):
            continue
        for _, mapping in lessons.items(container.get("PortMappings")):
            if not isinstance(mapping, dict):
                continue
            if lessons.as_int(mapping.get("ContainerPort")) == lessons.as_int(entry.get("ContainerPort")):
                return lessons.as_int(mapping.get("HostPort", 0)) == 0
    return False


def _load_balancer_groups(cfn, target_group):
    return [
        group
        for balancer in lessons.load_balancers_of(cfn, target_group)
        for group in lessons.targets(cfn, balancer, "Properties", "SecurityGroups", types=(SECURITY_GROUP,))
    ]


def _instance_groups(cfn, service):
    """Security groups of the launch templates/configurations that join the service's cluster."""
    clusters = lessons.targets(cfn, service, "Properties", "Cluster")
    return {
        group
        for launch in cfn.get_resources(list(LAUNCH_SETTINGS))
        if any(lessons.ordered_after(cfn, launch, cluster) for cluster in clusters)
        for group in lessons.targets(cfn, launch, "Properties", types=(SECURITY_GROUP,))
    }


def _ingress_rules(cfn):
    """(group, source, rule) for every ingress rule, inline or standalone.

    A standalone rule on a group from outside the stack (`GroupId: !ImportValue ...` or a parameter)
    yields the group None: it may be the instances' group, so it is not reported as missing.
    A rule from a CIDR or prefix list yields the source None: the load balancer's nodes have addresses
    in the VPC, and whether the range holds them cannot be told offline."""
    for name in cfn.get_resources("AWS::EC2::SecurityGroupIngress"):
        rule = lessons.properties(cfn, name)
        groups = lessons.targets(cfn, name, "Properties", "GroupId", types=(SECURITY_GROUP,)) or [None]
        for group in groups:
            for source in _sources(cfn, name, ["Properties", "SourceSecurityGroupId"], rule):
                yield group, source, rule
    for name in cfn.get_resources(SECURITY_GROUP):
        inline = lessons.properties(cfn, name).get("SecurityGroupIngress", [])
        for index, rule in enumerate(inline if isinstance(inline, list) else []):
            path = ["Properties", "SecurityGroupIngress", index, "SourceSecurityGroupId"]
            for source in _sources(cfn, name, path, rule):
                yield name, source, rule


def _sources(cfn, name, path, rule):
    """The source groups a rule names, or [None] for a rule from a CIDR or prefix list."""
    groups = lessons.targets(cfn, name, *path)
    if groups or not isinstance(rule, dict):
        return groups
    return [None] if any(key in rule for key in CIDR_SOURCES) else []


def _ingress_covers(cfn, sources, instance_groups):
    low, high = lessons.EPHEMERAL_PORTS
    for group, source, rule in _ingress_rules(cfn):
        if source is None and group in sources:
            continue  # the load balancer's own ingress from its clients
        if (source is not None and source not in sources) or (
                instance_groups and group is not None and group not in instance_groups):
            continue
        protocol = str(rule.get("IpProtocol")).lower()
        if protocol == "-1":
            return True
        from_port, to_port = lessons.as_int(rule.get("FromPort")), lessons.as_int(rule.get("ToPort"))
        if protocol in ("tcp", "6") and from_port is not None and to_port is not None:
            if from_port <= low and to_port >= high:
                return True
    return False
