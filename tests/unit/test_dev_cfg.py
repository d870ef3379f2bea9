"""tools/check_dev_cfg.py: every way a parameter file can be wrong is reported as file:line: message."""
import pytest

from tests.support.template import DEV_CFG, STACK, load
from tools import check_dev_cfg

TEMPLATE = {
    "Parameters": {
        "VpcId": {"Type": "AWS::EC2::VPC::Id"},
        "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>"},
        "Count": {"Type": "Number", "Default": 1, "MinValue": 1, "MaxValue": 3},
        "Tag": {"Type": "String", "Default": "latest", "AllowedPattern": "[a-z0-9]+"},
        "Name": {"Type": "String", "Default": "app", "MinLength": 2, "MaxLength": 5},
        "MultiAZ": {"Type": "String", "Default": "false", "AllowedValues": [True, False]},
        "Ports": {"Type": "List<Number>", "Default": "80", "AllowedValues": [80, 443]},
        "ImageId": {"Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>", "Default": "/aws/x"},
        "Password": {"Type": "String", "NoEcho": True},
        "Zone": {"Type": "AWS::EC2::AvailabilityZone::Name", "Default": "us-east-1a"},
        "Code": {"Type": "String", "Default": "a1", "AllowedPattern": "\\p{Alnum}+"},  # Java-only syntax
    },
    "Resources": {
        "DatabaseSubnets": {"Type": "AWS::RDS::DBSubnetGroup",
                            "Properties": {"SubnetIds": {"Ref": "Subnets"}}},
    },
}
REQUIRED = "VpcId=vpc-0123abcd\nSubnets=subnet-0123abcd,subnet-0123abcdef0123456\n"


def problems(extra, template=TEMPLATE):
    """Problems of a file with the required parameters set, then `extra`, as printed."""
    return [str(p) for p in check_dev_cfg.check(REQUIRED + extra, "dev.cfg", template)]


def test_the_real_dev_cfg_fits_the_stack(capsys):
    assert check_dev_cfg.main([str(DEV_CFG), "--template", str(STACK)]) == 0
    assert "parameters fit" in capsys.readouterr().out


def test_a_complete_file_has_no_problems():
    assert problems("Count=3\nTag=abc1\nName=ab\nMultiAZ=true\nPorts=80,443\nImageId=/aws/service/x\n\n") == []


@pytest.mark.parametrize("line, message", [
    ("Count", "expected Key=Value"),
    ("=3", "empty key before '='"),
    ("Vpc-Id=x", "'Vpc-Id' is not a parameter name (letters and digits only)"),
    ("# Count=2", "comments are not allowed: $(cat dev.cfg) would pass them to CloudFormation as words"),
    ("Tag=a b", "' ' in line: $(cat dev.cfg) would split or expand it; no spaces, quotes or *?["),
    ("Tag=ab\t", "'\\t' in line: $(cat dev.cfg) would split or expand it; no spaces, quotes or *?["),
    (" Tag=ab", "' ' in line: $(cat dev.cfg) would split or expand it; no spaces, quotes or *?["),
    ('Tag="ab"', "'\"' in line: $(cat dev.cfg) would split or expand it; no spaces, quotes or *?["),
    ("Tag='ab'", "\"'\" in line: $(cat dev.cfg) would split or expand it; no spaces, quotes or *?["),
    ("Tag=a*", "'*' in line: $(cat dev.cfg) would split or expand it; no spaces, quotes or *?["),
    ("Tag=a?", "'?' in line: $(cat dev.cfg) would split or expand it; no spaces, quotes or *?["),
    ("Tag=[ab]", "'[' in line: $(cat dev.cfg) would split or expand it; no spaces, quotes or *?["),
    ("Unknown=1", "Unknown is not a parameter of the template"),
    ("Password=hunter2", "Password: NoEcho parameter: keep its value out of this file "
                         "(pass it at deploy time or generate it)"),
    ("Count=many", "Count: 'many' is not a valid Number"),
    ("Count=0", "Count: 0 is below MinValue 1"),
    ("Count=4", "Count: 4 is above MaxValue 3"),
    ("Tag=ABC", "Tag: 'ABC' does not match AllowedPattern [a-z0-9]+"),
    ("Name=a", "Name: is 1 characters long, MinLength is 2"),
    ("Name=abcdef", "Name: is 6 characters long, MaxLength is 5"),
    ("MultiAZ=yes", "MultiAZ: 'yes' is not one of true, false"),
    ("Ports=80,8080", "Ports: '8080' is not one of 80, 443"),
    ("ImageId=ami-0123abcd!", "ImageId: 'ami-0123abcd!' is not a valid AWS::SSM::Parameter::Name"),
])
def test_each_bad_line_is_reported_with_its_line_number(line, message):
    assert problems(line + "\n") == [f"dev.cfg:3: {message}"]


def test_duplicate_key_names_the_first_line():
    assert problems("Count=2\nCount=3\n") == ["dev.cfg:4: Count is already set on line 3"]


@pytest.mark.parametrize("text, message", [
    ("VpcId=vpc-123\nSubnets=subnet-0123abcd,subnet-4567abcd\n",
     "dev.cfg:1: VpcId: 'vpc-123' is not a valid AWS::EC2::VPC::Id"),
    ("VpcId=vpc-0123abcd\nSubnets=subnet-0123abcd,sg-4567abcd\n",
     "dev.cfg:2: Subnets: 'sg-4567abcd' is not a valid AWS::EC2::Subnet::Id"),
    ("VpcId=vpc-0123abcd\nSubnets=subnet-0123abcd\n",
     "dev.cfg:2: Subnets: needs at least two subnets in different Availability Zones (DB subnet group, load balancer)"),
])
def test_aws_ids_and_subnet_count(text, message):
    assert [str(p) for p in check_dev_cfg.check(text, "dev.cfg", TEMPLATE)] == [message]


def test_parameters_without_default_must_be_set_except_no_echo_ones():
    assert [str(p) for p in check_dev_cfg.check("Count=2\n", "dev.cfg", TEMPLATE)] == [
        "dev.cfg: Subnets has no Default and must be set",
        "dev.cfg: VpcId has no Default and must be set",
    ]


def test_the_stack_needs_two_application_subnets():
    assert check_dev_cfg.needs_two_subnets(load(), "ApplicationSubnets")
    assert not check_dev_cfg.needs_two_subnets(load(), "VpcId")


def test_cli_lists_every_problem_and_fails(tmp_path, capsys):
    bad = tmp_path / "bad.cfg"
    bad.write_text("VpcId=vpc-0123abcd\nApplicationSubnets=subnet-0123abcd\nApplicationInstanceCount=9\nOops\n")
    assert check_dev_cfg.main([str(bad), "--template", str(STACK)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{bad}:2: ApplicationSubnets: needs at least two subnets in different Availability Zones "
        "(DB subnet group, load balancer)",
        f"{bad}:3: ApplicationInstanceCount: 9 is above MaxValue 3",
        f"{bad}:4: expected Key=Value",
    ]


def test_cli_reports_a_missing_file(tmp_path, capsys):
    missing = tmp_path / "nope.cfg"
    assert check_dev_cfg.main([str(missing), "--template", str(STACK)]) == 1
    assert capsys.readouterr().err.strip() == f"{missing}: cannot read: No such file or directory"


def test_cli_refuses_a_template_that_does_not_parse(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("Resources: [\n")
    with pytest.raises(SystemExit, match="does not parse as a template"):
        check_dev_cfg.main([str(DEV_CFG), "--template", str(broken)])


@pytest.mark.parametrize("zone", ["us-east-1a", "us-gov-west-1b", "us-west-2-lax-1a", "us-east-1-wl1-bos-wlz-1"])
def test_availability_zones_local_and_wavelength_zones_are_accepted(zone):
    assert problems(f"Zone={zone}\n") == []


@pytest.mark.parametrize("zone", ["us-east-1", "use1-az1", "us-west-2-lax", "us-west-2-lax-1"])
def test_malformed_availability_zones_are_refused(zone):
    assert problems(f"Zone={zone}\n") == [f"dev.cfg:3: Zone: {zone!r} is not a valid AWS::EC2::AvailabilityZone::Name"]


def test_a_java_only_allowed_pattern_is_reported_as_unchecked_not_failed():
    [problem] = check_dev_cfg.check(REQUIRED + "Code=abc\n", "dev.cfg", TEMPLATE)
    assert str(problem) == (
        "dev.cfg:3: Code: AllowedPattern \\p{Alnum}+ cannot be checked offline, it is not a Python regular "
        "expression (bad escape \\p at position 0); CloudFormation checks it at deploy time")
    assert not problem.blocking


def test_cli_passes_with_an_unchecked_pattern_and_says_so(tmp_path, capsys):
    template = tmp_path / "stack.yml"
    template.write_text(
        "Parameters:\n  Code:\n    Type: String\n    AllowedPattern: '\\p{Alnum}+'\n"
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    cfg = tmp_path / "dev.cfg"
    cfg.write_text("Code=abc\n")
    assert check_dev_cfg.main([str(cfg), "--template", str(template)]) == 0
    out, err = capsys.readouterr()
    assert err.startswith(f"{cfg}:1: Code: AllowedPattern \\p{{Alnum}}+ cannot be checked offline")
    assert "parameters fit" in out
