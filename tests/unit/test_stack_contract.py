"""Contracts stack.yml must keep: each test names the deploy-time failure it prevents."""
import copy
import json
import pathlib
import re
import subprocess

import cfnlint.data.schemas.extensions.aws_rds_dbinstance as rds_instance_extension
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
import pytest
import yaml

from tests.support.template import (
    DEV_CFG,
    DRAINER,
    HANDLER,
    STACK,
    container,
    depends_on,
    load,
    references,
    resource,
    resources_of_type,
)

SECRET_NAME = re.compile(r"PASSWORD|SECRET|KEY|TOKEN", re.IGNORECASE)


def props(name):
    return resource(name)["Properties"]


# --- ordering: DependsOn for relations CloudFormation cannot see through references ----------------

@pytest.mark.parametrize(
    "name, needed",
    [
        # No capacity (or a strategy naming a provider the cluster lacks), no log group, no listener
        # (targets can't register) or an unmigrated DB.
        ("ApplicationService", {"ApplicationAutoscaling", "ApplicationClusterCapacityProviders",
                                "ApplicationLogGroup", "ApplicationLoadBalancerHttpListener", "MigrateTask"}),
        # run_task needs a registered container instance (through the cluster's default strategy);
        # migrate needs the DB; logs need a group.
        ("MigrateTask", {"ApplicationAutoscaling", "ApplicationCapacityReady",
                         "ApplicationDatabase", "ApplicationLogGroup"}),
    ],
)
def test_depends_on(name, needed):
    missing = needed - depends_on(name)
    assert not missing, f"{name} must DependsOn {sorted(missing)}"


def test_http_listener_forwards_to_the_service_target_group():
    actions = props("ApplicationLoadBalancerHttpListener")["DefaultActions"]
    assert {"Type": "forward", "TargetGroupArn": {"Ref": "ApplicationServiceTargetGroup"}} in actions
    [service_lb] = props("ApplicationService")["LoadBalancers"]
    assert service_lb["TargetGroupArn"] == {"Ref": "ApplicationServiceTargetGroup"}
    assert (service_lb["ContainerName"], service_lb["ContainerPort"]) == ("todobackend", 8000)


# --- network: paired rules, port ranges, nothing open that should not be ----------------------------

def _rules(resource_type, group_key, peer_key):
    return {
        (r["Properties"][group_key]["Ref"], r["Properties"][peer_key]["Ref"],
         r["Properties"]["IpProtocol"], r["Properties"]["FromPort"], r["Properties"]["ToPort"])
        for r in resources_of_type(resource_type).values()
        if peer_key in r["Properties"]
    }


def test_every_group_to_group_ingress_has_its_egress_twin():
    ingress = _rules("AWS::EC2::SecurityGroupIngress", "GroupId", "SourceSecurityGroupId")
    egress = _rules("AWS::EC2::SecurityGroupEgress", "GroupId", "DestinationSecurityGroupId")
    mirrored = {(source, group, proto, low, high) for group, source, proto, low, high in ingress}
    assert mirrored == egress


@pytest.mark.parametrize(
    "target, source, low, high",
    [
        ("ApplicationAutoscalingSecurityGroup", "ApplicationLoadBalancerSecurityGroup", 32768, 60999),
        ("ApplicationDatabaseSecurityGroup", "ApplicationAutoscalingSecurityGroup", 3306, 3306),
    ],
)
def test_group_to_group_ingress(target, source, low, high):
    ingress = _rules("AWS::EC2::SecurityGroupIngress", "GroupId", "SourceSecurityGroupId")
    assert (target, source, "tcp", low, high) in ingress


@pytest.mark.parametrize("group", ["ApplicationDatabaseSecurityGroup", "ApplicationLoadBalancerSecurityGroup"])
def test_default_allow_all_egress_is_replaced(group):
    # Without an explicit egress list AWS adds allow-all; TEST-NET ICMP means "nothing".
    [rule] = props(group)["SecurityGroupEgress"]
    rule = {key: value for key, value in rule.items() if key != "Description"}
    assert rule == {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "CidrIp": "192.0.2.0/32"}


def test_every_security_group_rule_says_what_it_is_for():
    # checkov's CKV_AWS_23 does not look inside Fn::If (its waiver on the ALB group rests on this test).
    rules = [(name, rule) for name, body in resources_of_type("AWS::EC2::SecurityGroup").items()
             for key in ("SecurityGroupIngress", "SecurityGroupEgress")
             for rule in _flatten_if(body["Properties"].get(key, []))]
    for rule_type in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
        rules += [(name, body["Properties"]) for name, body in resources_of_type(rule_type).items()]
    bare = [(name, rule.get("FromPort")) for name, rule in rules if not str(rule.get("Description", "")).strip()]
    assert len(rules) >= 8 and not bare, f"rules without a Description: {bare}"


def test_nothing_but_the_load_balancer_is_open_to_the_internet():
    opened = []
    for name, body in resources_of_type("AWS::EC2::SecurityGroup").items():
        for rule in _flatten_if(body["Properties"].get("SecurityGroupIngress", [])):
            if rule.get("CidrIp") == "0.0.0.0/0" or rule.get("CidrIpv6") == "::/0":
                opened.append((name, rule["FromPort"]))
    for name, body in resources_of_type("AWS::EC2::SecurityGroupIngress").items():
        if body["Properties"].get("CidrIp") == "0.0.0.0/0":
            opened.append((name, body["Properties"]["FromPort"]))
    assert sorted(opened) == [("ApplicationLoadBalancerSecurityGroup", 80),
                              ("ApplicationLoadBalancerSecurityGroup", 443)]


# AWS adds this only to a group that gets no egress rule at all, inline or standalone
# (AWS::EC2::SecurityGroup; aws-cdk issues #987 and #3355).
DEFAULT_EGRESS = {"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}


def _effective_egress(group, template=None):
    """The egress rules a group ends up with once CloudFormation created it and every rule on it."""
    body = resource(group, template)["Properties"]
    rules = list(_flatten_if(body.get("SecurityGroupEgress", [])))
    for standalone in resources_of_type("AWS::EC2::SecurityGroupEgress", template).values():
        if references(standalone["Properties"]["GroupId"]) == {group}:
            rules.append(standalone["Properties"])
    return rules or [DEFAULT_EGRESS]


def _allows_to_anywhere(rule, port):
    if rule.get("CidrIp") != "0.0.0.0/0":
        return False
    protocol = str(rule["IpProtocol"])
    return protocol == "-1" or (protocol in {"tcp", "6"} and int(rule["FromPort"]) <= port <= int(rule["ToPort"]))


def test_instances_reach_https_after_every_egress_rule_is_applied():
    # dnf, cfn-signal, the ECS agent (ECS, ECR, S3 layers, Secrets Manager, Logs) and SSM are all HTTPS.
    rules = _effective_egress("ApplicationAutoscalingSecurityGroup")
    assert any(_allows_to_anywhere(rule, 443) for rule in rules), (
        f"the instances cannot reach HTTPS; their egress ends up as {rules}")


def test_a_standalone_egress_rule_replaces_the_default_allow_all():
    # The shape the stack had: no inline egress, one standalone rule to the database. The model above
    # must see that the instances lose HTTPS, or the test before this one proves nothing.
    template = copy.deepcopy(load())
    del template["Resources"]["ApplicationAutoscalingSecurityGroup"]["Properties"]["SecurityGroupEgress"]
    rules = _effective_egress("ApplicationAutoscalingSecurityGroup", template)
    assert not any(_allows_to_anywhere(rule, 443) for rule in rules)
    del template["Resources"]["ApplicationToApplicationDatabaseEgress"]
    assert _effective_egress("ApplicationAutoscalingSecurityGroup", template) == [DEFAULT_EGRESS]


def _flatten_if(rules):
    """Both branches of an Fn::If rule entry, without AWS::NoValue."""
    for rule in rules:
        if "Fn::If" in rule:
            yield from (branch for branch in rule["Fn::If"][1:] if branch != {"Ref": "AWS::NoValue"})
        else:
            yield rule


# --- database -----------------------------------------------------------------------------------

def test_database_is_private_encrypted_and_kept():
    db = resource("ApplicationDatabase")
    p = db["Properties"]
    assert (db["DeletionPolicy"], db["UpdateReplacePolicy"]) == ("Snapshot", "Snapshot")
    assert p["StorageEncrypted"] is True
    assert p["PubliclyAccessible"] is False
    assert p["StorageType"] == "gp3"
    assert p["BackupRetentionPeriod"] > 0
    assert p["MultiAZ"] == {"Ref": "DatabaseMultiAZ"}
    assert p["DBSubnetGroupName"] == {"Ref": "ApplicationDatabaseSubnetGroup"}
    assert props("ApplicationDatabaseSubnetGroup")["SubnetIds"] == {"Ref": "ApplicationSubnets"}


def test_database_version_and_class_are_current():
    p = props("ApplicationDatabase")
    major, minor, *_ = str(p["EngineVersion"]).split(".") + [""]
    assert (p["Engine"], major) == ("mysql", "8") and minor in {"0", "4"}, "MySQL 5.7 is retired"
    assert len(str(p["EngineVersion"]).split(".")) >= 3, "cfn-lint rejects major-only versions"
    default_class = load()["Parameters"][p["DBInstanceClass"]["Ref"]]["Default"]
    assert not default_class.startswith(("db.t2.", "db.m3.", "db.m4.")), "previous-generation class"


def _cfn_lint_mysql_versions(data_file):
    """The mysql engine versions a schema extension of the pinned cfn-lint lists (creatable or deprecated)."""
    schema = json.loads((pathlib.Path(rds_instance_extension.__file__).parent / data_file).read_text())
    # engine_version.json lists what may be created under "then", the deprecated list under "if".
    return {version for rule in schema["allOf"] if rule["if"]["properties"].get("Engine", {}).get("const") == "mysql"
            for branch in (rule["if"], rule.get("then") or {})
            for version in branch.get("properties", {}).get("EngineVersion", {}).get("enum", [])}


def test_engine_version_is_pinned_creatable_and_never_moved_by_rds():
    # Automatic minor upgrades would move the DB past the pin; a later bump below it then fails.
    p = props("ApplicationDatabase")
    assert p["AutoMinorVersionUpgrade"] is False
    version = str(p["EngineVersion"])
    assert version in _cfn_lint_mysql_versions("engine_version.json"), "not a version RDS offers (E3691)"
    assert version not in _cfn_lint_mysql_versions("engine_version_deprecated.json"), "deprecated: bump it"


def test_master_password_comes_from_a_generated_secret():
    p = props("ApplicationDatabase")
    assert "ManageMasterUserPassword" not in p, "an RDS-managed secret rotates under running tasks"
    assert p["MasterUserPassword"] == {
        "Fn::Sub": "{{resolve:secretsmanager:${DatabaseSecret}:SecretString:password}}"
    }
    secret = props("DatabaseSecret")["GenerateSecretString"]
    assert secret["GenerateStringKey"] == "password"
    assert not resources_of_type("AWS::SecretsManager::RotationSchedule")


# --- load balancer ------------------------------------------------------------------------------

def test_load_balancer_attributes():
    p = props("ApplicationLoadBalancer")
    attributes = {a["Key"]: a["Value"] for a in _flatten_if(p["LoadBalancerAttributes"])}
    assert p["Scheme"] == "internet-facing"
    assert attributes["idle_timeout.timeout_seconds"] == "30"
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"


def test_access_logs_are_written_only_to_a_bucket_the_user_names():
    # Off by default: the bucket needs a log-delivery policy (checkov's CKV_AWS_91 waiver says so).
    template = load()
    assert template["Parameters"]["AccessLogBucket"]["Default"] == ""
    assert template["Conditions"]["HasAccessLogBucket"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AccessLogBucket"}, ""]}]
    }
    entries = props("ApplicationLoadBalancer")["LoadBalancerAttributes"]
    assert {"Key": "access_logs.s3.enabled", "Value": {"Fn::If": ["HasAccessLogBucket", "true", "false"]}} in entries
    conditional = {e["Fn::If"][1]["Key"]: (e["Fn::If"][0], e["Fn::If"][1]["Value"], e["Fn::If"][2])
                   for e in entries if "Fn::If" in e}
    no_value = {"Ref": "AWS::NoValue"}
    assert conditional == {
        "access_logs.s3.bucket": ("HasAccessLogBucket", {"Ref": "AccessLogBucket"}, no_value),
        "access_logs.s3.prefix": ("HasAccessLogBucket", {"Ref": "AWS::StackName"}, no_value),
    }


def test_access_log_bucket_parameter_takes_only_bucket_names():
    pattern = re.compile(load()["Parameters"]["AccessLogBucket"]["AllowedPattern"])
    assert all(pattern.fullmatch(name) for name in ["", "my-logs", "logs.example.com", "a1b"])
    assert not any(pattern.fullmatch(name) for name in ["s3://my-logs", "My-Logs", "arn:aws:s3:::my-logs", "ab"])


def test_target_group_brings_new_tasks_into_service_quickly():
    p = props("ApplicationServiceTargetGroup")
    attributes = {a["Key"]: a["Value"] for a in p["TargetGroupAttributes"]}
    assert (p["Protocol"], p["Port"], p["HealthCheckPath"]) == ("HTTP", 8000, "/")
    assert p["HealthCheckPort"] == "traffic-port", "dynamic host ports: check the port traffic uses"
    assert p["HealthCheckTimeoutSeconds"] < p["HealthCheckIntervalSeconds"]
    assert p["HealthyThresholdCount"] * p["HealthCheckIntervalSeconds"] <= 20
    assert attributes["deregistration_delay.timeout_seconds"] == "30"


def test_https_is_optional_and_redirects_http():
    template = load()
    assert template["Conditions"]["HasCertificate"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]
    }
    assert resource("ApplicationLoadBalancerHttpsListener")["Condition"] == "HasCertificate"
    redirect = resource("ApplicationLoadBalancerHttpRedirectRule")
    assert redirect["Condition"] == "HasCertificate"
    assert redirect["Properties"]["Actions"][0]["RedirectConfig"]["Protocol"] == "HTTPS"


# --- capacity -----------------------------------------------------------------------------------

def test_container_insights_follow_the_parameter_enabled_by_default():
    parameter = load()["Parameters"]["ContainerInsights"]
    assert (parameter["Default"], sorted(parameter["AllowedValues"])) == ("enabled", ["disabled", "enabled", "enhanced"])
    assert props("ApplicationCluster")["ClusterSettings"] == [
        {"Name": "containerInsights", "Value": {"Ref": "ContainerInsights"}}
    ]


def test_no_launch_configuration_and_no_hard_coded_cluster_name():
    assert not resources_of_type("AWS::AutoScaling::LaunchConfiguration")
    assert "ClusterName" not in resource("ApplicationCluster").get("Properties", {})
    assert "LaunchTemplate" in props("ApplicationAutoscaling")


def test_ami_comes_from_the_public_ssm_parameter():
    parameter = load()["Parameters"]["ApplicationImageId"]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"
    assert parameter["Default"].startswith("/aws/service/ecs/optimized-ami/")


def test_launch_template_requires_imdsv2_and_user_data_joins_signals_and_prepares_volume():
    data = props("ApplicationLaunchTemplate")["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    script = data["UserData"]["Fn::Base64"]["Fn::Sub"]
    assert "ECS_CLUSTER=${ApplicationCluster}" in script
    assert "/etc/ecs/ecs.config" in script
    assert re.search(r"chown 1000:1000 /data/public", script)
    assert "--resource ApplicationAutoscaling" in script and "cfn-signal" in script


def test_containers_cannot_reach_the_instance_metadata_service():
    # Hop limit 1: an IMDSv2 token cannot cross docker0 into a bridge-mode container, which would
    # otherwise get the instance role's credentials (the tasks have no task role).
    options = props("ApplicationLaunchTemplate")["LaunchTemplateData"]["MetadataOptions"]
    assert options["HttpTokens"] == "required"
    assert options["HttpPutResponseHopLimit"] == 1


def test_auto_scaling_group_waits_for_signals():
    group = resource("ApplicationAutoscaling")
    assert group["CreationPolicy"]["ResourceSignal"]["Count"] == {"Ref": "ApplicationInstanceCount"}
    assert group["UpdatePolicy"]["AutoScalingRollingUpdate"]["WaitOnResourceSignals"] is True


def test_instances_get_a_public_address_in_any_public_subnet():
    # Without it an instance gets a public IP only where the subnet assigns one by default, and
    # then cannot reach ECR or ECS (no NAT in docs/deploying.md's setup).
    data = props("ApplicationLaunchTemplate")["LaunchTemplateData"]
    [interface] = data["NetworkInterfaces"]
    assert interface["DeviceIndex"] == 0 and interface["AssociatePublicIpAddress"] is True
    assert interface["Groups"] == [{"Ref": "ApplicationAutoscalingSecurityGroup"}]
    assert "SecurityGroupIds" not in data, "EC2 refuses groups both on the template and its interface"


def _dnf_retry_loop():
    script = props("ApplicationLaunchTemplate")["LaunchTemplateData"]["UserData"]["Fn::Base64"]["Fn::Sub"]
    loops = re.findall(r"\n( *for attempt in [^\n]*\n(?:.*\n)*? *done)\n", script)
    [loop] = [loop for loop in loops if "dnf install -y aws-cfn-bootstrap" in loop]
    return loop


@pytest.mark.parametrize("failures, installed", [(0, True), (2, True), (4, True), (5, False)])
def test_user_data_retries_the_dnf_install(tmp_path, failures, installed):
    """The loop itself, run by bash with a dnf that fails `failures` times (sleep stubbed)."""
    fake = tmp_path / "dnf"
    fake.write_text(f"""#!/bin/bash
echo x >> {tmp_path}/calls
[ "$(wc -l < {tmp_path}/calls)" -gt {failures} ]
""")
    fake.chmod(0o755)
    script = f"sleep() {{ :; }}\n{_dnf_retry_loop()}\necho installed\n"
    result = subprocess.run(["bash", "-c", script], env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=10)
    calls = len((tmp_path / "calls").read_text().splitlines())
    assert (result.returncode == 0 and "installed" in result.stdout) is installed
    assert calls == min(failures + 1, 5)


def test_migration_waits_for_an_instance_registered_with_the_capacity_provider():
    wait = resource("ApplicationCapacityReady")
    assert wait["Type"] == "AWS::CloudFormation::WaitCondition"
    assert depends_on("ApplicationCapacityReady") == {"ApplicationClusterCapacityProviders"}
    assert wait["Properties"]["Handle"] == {"Ref": "ApplicationCapacityReadyHandle"}
    assert "ApplicationCapacityReady" in depends_on("MigrateTask")


def test_the_capacity_wait_condition_is_pinned_because_it_cannot_be_updated():
    """Count, Handle and Timeout do not support updates ("AWS::CloudFormation::WaitCondition"); a changed
    handle replaces every instance, and instances of an update never signal it: the update rolls back.
    Failing here is the point: add a new condition with a new handle instead (stack.yml says so)."""
    assert resource("ApplicationCapacityReadyHandle") == {"Type": "AWS::CloudFormation::WaitConditionHandle"}
    assert resource("ApplicationCapacityReady") == {
        "Type": "AWS::CloudFormation::WaitCondition",
        "DependsOn": "ApplicationClusterCapacityProviders",
        "Properties": {"Handle": {"Ref": "ApplicationCapacityReadyHandle"}, "Count": 1, "Timeout": "900"},
    }


def test_instances_may_read_exactly_what_their_user_data_asks_of_this_cluster():
    script = props("ApplicationLaunchTemplate")["LaunchTemplateData"]["UserData"]["Fn::Base64"]["Fn::Sub"]
    called = {"ecs:" + "".join(word.title() for word in command.split("-"))
              for command in re.findall(r"\becs ([a-z]+-[a-z-]+) --cluster", script)}
    statements = props("ApplicationAutoscalingInstanceRole")["Policies"][0]["PolicyDocument"]["Statement"]
    granted = {action for s in statements for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert called == granted == {"ecs:DescribeClusters", "ecs:DescribeContainerInstances",
                                 "ecs:ListContainerInstances"}
    for statement in statements:
        assert {r for r in references(statement["Resource"]) if not r.startswith("AWS::")} == {"ApplicationCluster"}


# --- capacity provider: drain before an instance is replaced ------------------------------------

def test_capacity_provider_drains_the_auto_scaling_group():
    provider = props("ApplicationCapacityProvider")
    group = provider["AutoScalingGroupProvider"]
    assert group["AutoScalingGroupArn"] == {"Ref": "ApplicationAutoscaling"}
    assert group["ManagedDraining"] == "ENABLED"
    if group.get("ManagedTerminationProtection") == "ENABLED":
        # ECS: termination protection works only with managed scaling and scale-in protection.
        assert group["ManagedScaling"]["Status"] == "ENABLED"
        assert props("ApplicationAutoscaling")["NewInstancesProtectedFromScaleIn"] is True
    else:
        assert group["ManagedScaling"]["Status"] == "DISABLED", "managed scaling would fight DesiredCapacity"


def test_instances_carry_the_capacity_provider_tag_from_launch():
    # ECS adds it to the group only on association, after the first instances launched
    # (terraform-provider-aws#12582): declared here, every instance has it from its first boot.
    tags = {t["Key"]: t for t in props("ApplicationAutoscaling")["Tags"]}
    assert tags["AmazonECSManaged"]["PropagateAtLaunch"] is True


def test_capacity_provider_name_is_valid_for_any_stack_name_and_follows_its_group():
    # A generated name starts with the stack name, and ECS refuses names starting with aws, ecs or
    # fargate; a fixed name cannot be created again while the replaced provider still holds it.
    name = props("ApplicationCapacityProvider")["Name"]["Fn::Sub"]
    assert not re.match(r"(aws|ecs|fargate|\$)", name, re.IGNORECASE)
    assert "${ApplicationAutoscaling}" in name


def test_cluster_service_and_migration_use_the_capacity_provider():
    association = props("ApplicationClusterCapacityProviders")
    provider = {"Ref": "ApplicationCapacityProvider"}
    assert association["Cluster"] == {"Ref": "ApplicationCluster"}
    assert association["CapacityProviders"] == [provider]
    assert [s["CapacityProvider"] for s in association["DefaultCapacityProviderStrategy"]] == [provider]
    service = props("ApplicationService")
    assert "LaunchType" not in service, "a launch type bypasses the capacity provider (no draining)"
    assert [s["CapacityProvider"] for s in service["CapacityProviderStrategy"]] == [provider]
    # run_task without a launch type or strategy uses the cluster's default strategy.
    assert not {"LaunchType", "CapacityProviderStrategy"} & set(props("MigrateTask"))


def _needs(name, template=None):
    """Every resource `name` is created after (and deleted before): DependsOn and references."""
    resources = (template or load())["Resources"]
    found, todo = set(), [name]
    while todo:
        body = resources[todo.pop()]
        direct = (depends_on_of(body) | references(body.get("Properties", {}))) & set(resources)
        todo += direct - found
        found |= direct
    return found


def depends_on_of(body):
    value = body.get("DependsOn", [])
    return {value} if isinstance(value, str) else set(value)


@pytest.mark.parametrize("first, then", [
    # Deleted first, then: the service stops its tasks before the association goes ("in use").
    ("ApplicationService", "ApplicationClusterCapacityProviders"),
    # The association goes before the provider ("associated with a cluster").
    ("ApplicationClusterCapacityProviders", "ApplicationCapacityProvider"),
    # The provider before the group it manages (its draining hook can stay: docs/deploying.md, Deleting the stack).
    ("ApplicationCapacityProvider", "ApplicationAutoscaling"),
    # The group's instances leave the cluster before it is deleted ("Container Instances are active").
    ("ApplicationAutoscaling", "ApplicationCluster"),
])
def test_deletion_order_of_cluster_capacity(first, then):
    assert then in _needs(first), f"{first} must be created after and deleted before {then}"
    assert first not in _needs(then)


def test_rolling_update_has_room_and_runs_alone():
    group = resource("ApplicationAutoscaling")
    update = group["UpdatePolicy"]["AutoScalingRollingUpdate"]
    count = load()["Parameters"]["ApplicationInstanceCount"]
    assert update["MinInstancesInService"] == {"Ref": "ApplicationInstanceCount"}
    assert int(group["Properties"]["MaxSize"]) >= count["MaxValue"] + update["MaxBatchSize"]
    # Processes that would launch or terminate instances behind the update's back.
    assert {"HealthCheck", "ReplaceUnhealthy", "AZRebalance", "AlarmNotification",
            "ScheduledActions"} <= set(update["SuspendProcesses"])


# --- application ----------------------------------------------------------------------------------

def test_task_definition_families_are_fixed():
    assert props("ApplicationTaskDefinition")["Family"] == "todobackend"
    assert props("MigrateTaskDefinition")["Family"] == "todobackend-migrate"


def test_essential_flags():
    assert container("ApplicationTaskDefinition", "todobackend")["Essential"] is True
    assert container("ApplicationTaskDefinition", "collectstatic")["Essential"] is False
    assert container("MigrateTaskDefinition", "migrate")["Essential"] is True


def test_app_container_serves_uwsgi_on_a_dynamic_host_port():
    app = container("ApplicationTaskDefinition", "todobackend")
    assert app["PortMappings"] == [{"ContainerPort": 8000, "HostPort": 0, "Protocol": "tcp"}]
    assert app["Command"][:2] == ["uwsgi", "--http=0.0.0.0:8000"]
    assert app["DependsOn"] == [{"ContainerName": "collectstatic", "Condition": "SUCCESS"}]
    volumes = props("ApplicationTaskDefinition")["Volumes"]
    assert volumes == [{"Name": "public", "Host": {"SourcePath": "/data/public"}}]


def test_migrate_and_collectstatic_commands():
    assert container("MigrateTaskDefinition", "migrate")["Command"] == [
        "python3", "manage.py", "migrate", "--no-input"]
    assert container("ApplicationTaskDefinition", "collectstatic")["Command"] == [
        "python3", "manage.py", "collectstatic", "--no-input"]


def _all_containers():
    for name, body in resources_of_type("AWS::ECS::TaskDefinition").items():
        for c in body["Properties"]["ContainerDefinitions"]:
            yield name, c


# Docker 20.10+: "Minimum memory reservation allowed is 6MB" (CannotCreateContainerError).
DOCKER_MINIMUM_MIB = 6


def _reserved_mib(c):
    """What ECS reserves for a container: MemoryReservation (soft), else Memory (hard)."""
    return c.get("MemoryReservation", c.get("Memory"))


@pytest.mark.parametrize("task, name", [(task, c["Name"]) for task, c in _all_containers()])
def test_every_container_reserves_what_docker_accepts(task, name):
    c = container(task, name)
    values = {key: c[key] for key in ("MemoryReservation", "Memory") if key in c}
    assert values, f"{task}/{name} reserves no memory"
    for key, mib in values.items():
        assert int(mib) >= DOCKER_MINIMUM_MIB, f"{task}/{name} {key} {mib} MiB: Docker refuses < 6 MiB"


@pytest.mark.parametrize("task, name", [("ApplicationTaskDefinition", "collectstatic"),
                                        ("MigrateTaskDefinition", "migrate")])
def test_manage_py_containers_reserve_what_django_needs(task, name):
    # Python with Django and the MySQL connector loaded is 40-60 MiB resident.
    assert _reserved_mib(container(task, name)) >= 48


def _log_group_names():
    names = {}
    for name, body in resources_of_type("AWS::Logs::LogGroup").items():
        names[name] = body["Properties"]["LogGroupName"]
    return names


def test_every_awslogs_group_is_a_log_group_of_this_stack():
    groups = _log_group_names()
    for task, c in _all_containers():
        options = c["LogConfiguration"]["Options"]
        assert c["LogConfiguration"]["LogDriver"] == "awslogs"
        group = options["awslogs-group"]
        assert group in [{"Ref": name} for name in groups] or group in groups.values(), (
            f"{task}/{c['Name']} logs to {group}, which this stack does not create")
        assert options["awslogs-stream-prefix"]


def test_lambda_log_group_is_the_one_lambda_writes_to():
    # A Ref: the group exists (with retention) before the function, which writes there, not to a group
    # of its own making that the stack could not own.
    assert props("EcsTaskRunner")["LoggingConfig"]["LogGroup"] == {"Ref": "EcsTaskRunnerLogGroup"}


def test_service_rolls_forward_safely():
    p = props("ApplicationService")
    config = p["DeploymentConfiguration"]
    assert (config["MaximumPercent"], config["MinimumHealthyPercent"]) == (200, 100)
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert p["HealthCheckGracePeriodSeconds"] > 0
    assert "Role" not in p, "ECS uses its service-linked role"


# What ECS can place on the default instance type: a t3.small's 2 GiB register as ~1,900 MiB
# ("Reserving Amazon ECS Linux container instance memory": the kernel keeps some); count 1,800.
DEFAULT_TYPE_CAPACITY = {"t3.small": {"MemoryReservation": 1800, "Cpu": 2048}}


def _reserved(task_definition, key):
    containers = props(task_definition)["ContainerDefinitions"]
    return sum(_reserved_mib(c) if key == "MemoryReservation" else int(c.get(key, 0)) for c in containers)


def _tasks_that_fit(instances):
    """Tasks a group of default instances holds while one of them also runs a migration."""
    capacity = DEFAULT_TYPE_CAPACITY[load()["Parameters"]["ApplicationInstanceType"]["Default"]]
    return min((limit - _reserved("MigrateTaskDefinition", key)) // _reserved("ApplicationTaskDefinition", key)
               for key, limit in capacity.items()) * instances


def _shipped_parameter_sets():
    parameters = load()["Parameters"]
    sets = {bound: {name: parameters[name][bound] for name in ("ApplicationInstanceCount", "ApplicationDesiredCount")}
            for bound in ("Default", "MaxValue")}
    sets["dev.cfg"] = dict(line.split("=", 1) for line in DEV_CFG.read_text().split())
    taskcat = yaml.safe_load((STACK.parent / ".taskcat.yml").read_text())
    sets.update({f"taskcat {name}": test.get("parameters", {}) for name, test in taskcat["tests"].items()})
    return sets


@pytest.mark.parametrize("source, values", sorted(_shipped_parameter_sets().items()))
def test_a_rolling_deploy_and_a_migration_fit_the_instances(source, values):
    defaults = load()["Parameters"]
    instances, desired = (int(values.get(name, defaults[name]["Default"]))
                          for name in ("ApplicationInstanceCount", "ApplicationDesiredCount"))
    during_deploy = desired * props("ApplicationService")["DeploymentConfiguration"]["MaximumPercent"] // 100
    assert during_deploy <= _tasks_that_fit(instances), (
        f"{source}: {during_deploy} tasks during a deploy do not fit {instances} default instance(s)")


def test_desired_count_promises_no_more_than_the_largest_group_holds():
    parameters = load()["Parameters"]
    largest = _tasks_that_fit(parameters["ApplicationInstanceCount"]["MaxValue"])
    percent = props("ApplicationService")["DeploymentConfiguration"]["MaximumPercent"]
    assert parameters["ApplicationDesiredCount"]["MaxValue"] == largest * 100 // percent


# Name properties CloudFormation passes on as they are, with their services' limits.
NAME_LIMITS = {
    ("AWS::Lambda::Function", "FunctionName"): 64,
    ("AWS::Lambda::Function", "Description"): 256,
    ("AWS::ECS::CapacityProvider", "Name"): 255,
    ("AWS::ECS::Cluster", "ClusterName"): 255,
    ("AWS::Logs::LogGroup", "LogGroupName"): 512,
    ("AWS::EC2::SecurityGroup", "GroupDescription"): 255,
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", "Name"): 32,
    ("AWS::ElasticLoadBalancingV2::TargetGroup", "Name"): 32,
    ("AWS::IAM::Role", "RoleName"): 64,
    ("AWS::RDS::DBInstance", "DBInstanceIdentifier"): 63,
}
LONGEST_STACK_NAME = "s" * 128


def _longest_value(variable):
    """The stack name, or a resource's generated name (stack name, logical id, 13-character suffix)."""
    name = variable[1]
    if name == "AWS::StackName":
        return LONGEST_STACK_NAME
    assert name in load()["Resources"], f"${{{name}}}: check this shape by hand"
    return f"{LONGEST_STACK_NAME}-{name}-{'r' * 13}"


@pytest.mark.parametrize("resource_type, key", sorted(NAME_LIMITS))
def test_names_fit_the_longest_stack_name(resource_type, key):
    """Unset names are generated to fit; set ones must fit with a 128-character stack name."""
    for name, body in resources_of_type(resource_type).items():
        value = body["Properties"].get(key)
        if value is None:
            continue
        text = value["Fn::Sub"] if isinstance(value, dict) else value
        assert isinstance(text, str), f"{name}.{key}: check this shape by hand"
        resolved = re.sub(r"\$\{([^}]+)\}", _longest_value, text)
        assert len(resolved) <= NAME_LIMITS[resource_type, key], (
            f"{name}.{key} is {len(resolved)} characters for a 128-character stack name")


# --- secrets ----------------------------------------------------------------------------------------

def test_no_secret_in_container_environment():
    for task, c in _all_containers():
        for variable in c.get("Environment", []):
            assert not SECRET_NAME.search(variable["Name"]), (
                f"{task}/{c['Name']} sets {variable['Name']} in plaintext; use Secrets")


def test_containers_that_talk_to_the_database_read_secrets_through_the_execution_role():
    for task, name in [("ApplicationTaskDefinition", "todobackend"), ("MigrateTaskDefinition", "migrate")]:
        secrets = {s["Name"]: s["ValueFrom"] for s in container(task, name)["Secrets"]}
        assert references(secrets["MYSQL_PASSWORD"]) == {"DatabaseSecret"}
        assert references(secrets["SECRET_KEY"]) == {"ApplicationSecretKey"}
        assert props(task)["ExecutionRoleArn"] == {"Fn::GetAtt": ["ApplicationTaskExecutionRole", "Arn"]}


def test_execution_role_reads_only_this_stacks_secrets():
    [policy] = props("ApplicationTaskExecutionRole")["Policies"]
    statements = [s for s in policy["PolicyDocument"]["Statement"]
                  if "secretsmanager:GetSecretValue" in str(s["Action"])]
    assert [references(s["Resource"]) for s in statements] == [{"DatabaseSecret", "ApplicationSecretKey"}]


def test_no_secret_in_parameters_or_outputs():
    template = load()
    for name, parameter in template["Parameters"].items():
        assert not SECRET_NAME.search(name), f"parameter {name} looks like a secret; generate it"
        assert not (parameter.get("NoEcho") and "Default" in parameter)
    secrets = set(resources_of_type("AWS::SecretsManager::Secret"))
    for name, output in template["Outputs"].items():
        assert not references(output["Value"]) & secrets, f"output {name} exposes a secret"


# --- deployment task ----------------------------------------------------------------------------

def test_task_runner_runtime_and_timeouts():
    function = props("EcsTaskRunner")
    version = tuple(int(x) for x in function["Runtime"].removeprefix("python").split("."))
    assert version >= (3, 12), "python3.6-3.11 can no longer be created (or soon)"
    custom = props("MigrateTask")
    assert 1 <= custom["ServiceTimeout"] <= 3600
    assert custom["ServiceTimeout"] >= function["Timeout"], "CloudFormation must outwait the Lambda"


def test_migrate_task_runs_the_migrate_definition_on_this_cluster():
    custom = props("MigrateTask")
    assert custom["ServiceToken"] == {"Fn::GetAtt": ["EcsTaskRunner", "Arn"]}
    assert custom["Cluster"] == {"Ref": "ApplicationCluster"}
    assert custom["TaskDefinition"] == {"Ref": "MigrateTaskDefinition"}


def test_task_runner_role_is_scoped_to_this_cluster_and_its_roles():
    [policy] = props("EcsTaskRunnerRole")["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    for sid in ("RunMigrateTask", "FollowTasks"):
        assert statements[sid]["Condition"]["ArnEquals"]["ecs:cluster"] == {
            "Fn::GetAtt": ["ApplicationCluster", "Arn"]}
    assert "todobackend-migrate" in statements["RunMigrateTask"]["Resource"]["Fn::Sub"]
    assert references(statements["PassTaskRoles"]["Resource"]) == {"ApplicationTaskExecutionRole"}
    assert references(statements["WriteOwnLogs"]["Resource"]) == {"EcsTaskRunnerLogGroup"}


def test_template_size_fits_the_documented_deploy_commands():
    # A template body goes inline up to 51,200 bytes, through S3 up to 1 MB ("AWS CloudFormation quotas");
    # `aws cloudformation deploy` refuses a larger file without --s3-bucket.
    size = len(STACK.read_bytes())
    deploys = {page: re.findall(r"aws cloudformation deploy .*(?:\\\n.*)*", (STACK.parent / page).read_text())
               for page in ("README.md", DEPLOYING)}
    assert deploys[DEPLOYING], f"{DEPLOYING} shows no aws cloudformation deploy command"
    for page, commands in deploys.items():
        for deploy in commands:
            if size > 51_200:
                assert "--s3-bucket" in deploy, f"stack.yml is {size} bytes: the deploy in {page} needs --s3-bucket"
    assert size <= 1_048_576


@pytest.mark.parametrize("function, handler", [("EcsTaskRunner", HANDLER), ("EcsCapacityDrainer", DRAINER)])
def test_inline_zipfile_is_identical_to_the_handler_file(function, handler):
    inline = props(function)["Code"]["ZipFile"]
    assert inline == handler.read_text(), "run: python tools/sync_zipfile.py"


# --- docs/deploying.md: what a deployer must know before the first deploy ---------------------------

DEPLOYING = "docs/deploying.md"


def _deploying_page():
    return (STACK.parent / DEPLOYING).read_text()


def test_docs_name_the_mysql_client_the_database_needs():
    version = tuple(int(x) for x in str(props("ApplicationDatabase")["EngineVersion"]).split(".")[:2])
    if version >= (8, 4):  # caching_sha2_password only, announced in every handshake
        section = " ".join(_deploying_page().split())
        assert "caching_sha2_password" in section
        assert re.search(r"Minimum client: \*\*mysql-connector-python \d+\.\d+\.\d+\*\*", section)


@pytest.mark.parametrize("applies, phrase", [
    # A new account without the role cannot create the capacity provider.
    (lambda: resources_of_type("AWS::ECS::CapacityProvider"),
     "aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com"),
    # Instances reach the AWS APIs through a public address and the internet gateway.
    (lambda: props("ApplicationLaunchTemplate")["LaunchTemplateData"]["NetworkInterfaces"][0][
        "AssociatePublicIpAddress"], "public subnets"),
    # A rollback runs the old migrate again; it does not reverse migrations.
    (lambda: resources_of_type("AWS::CloudFormation::CustomResource"), "That reverses nothing"),
    # What users see while an AMI update replaces instances.
    (lambda: props("ApplicationCapacityProvider")["AutoScalingGroupProvider"]["ManagedDraining"] == "ENABLED",
     "What happens to traffic when the AMI changes"),
    # ECS refuses a launch type -> strategy switch without a forced deployment (aws-cdk#34631).
    (lambda: "CapacityProviderStrategy" in props("ApplicationService")
     and "ForceNewDeployment" not in props("ApplicationService"), "must force a new deployment"),
    # The draining hook can outlive the provider: the drain step empties the group first, this is the fallback.
    (lambda: props("ApplicationCapacityProvider")["AutoScalingGroupProvider"]["ManagedDraining"] == "ENABLED",
     "aws autoscaling complete-lifecycle-action --lifecycle-hook-name ecs-managed-draining-termination-hook"),
    (lambda: "ApplicationCapacityDrain" in load()["Resources"], "a delete or rollback takes minutes"),
    # CloudFormation needs it to create the capacity provider (the resource schema's create permissions).
    (lambda: "autoscaling:CreateOrUpdateTags" in PROVIDER_SCHEMA_MANAGER.get_resource_schema(
        "us-east-1", "AWS::ECS::CapacityProvider").schema["handlers"]["create"]["permissions"],
     "autoscaling:CreateOrUpdateTags"),
    # A count change completes at once; the two-step change is the user's to make.
    (lambda: "ApplicationInstanceCount" in str(props("ApplicationAutoscaling")["DesiredCapacity"]),
     "Change the count in one deploy"),
    # CloudFormation does not wait for draining; docs/deploying.md must say what is and is not waited for.
    (lambda: "DRAINING" in props("ApplicationLaunchTemplate")["LaunchTemplateData"]["UserData"]["Fn::Base64"]["Fn::Sub"],
     "Not waited for: the last old instance's draining"),
    # Without managed scaling, run_task fails at once rather than leaving the task in PROVISIONING
    # ("Deep Dive on Amazon ECS Cluster Auto Scaling", quoted in PRX/Infrastructure#402).
    (lambda: props("ApplicationCapacityProvider")["AutoScalingGroupProvider"]["ManagedScaling"]["Status"]
     == "DISABLED", "fails at once instead of waiting in `PROVISIONING`"),
])
def test_deploying_page_says(applies, phrase):
    if applies():
        assert phrase in " ".join(_deploying_page().split())


# --- outputs (dev.cfg is checked by tools/check_dev_cfg.py, tests/unit/test_dev_cfg.py) --------

def test_outputs_for_users_and_smoke_tests():
    outputs = load()["Outputs"]
    assert outputs["PublicURL"]["Value"] == {"Fn::Sub": "http://${ApplicationLoadBalancer.DNSName}"}
    assert references(outputs["ClusterName"]["Value"]) == {"ApplicationCluster"}
    assert references(outputs["ServiceName"]["Value"]) == {"ApplicationService"}
    assert references(outputs["TargetGroupArn"]["Value"]) == {"ApplicationServiceTargetGroup"}

