"""tools/deploy.py end to end on moto's CloudFormation, S3 and STS: create a stack, then update a parameter.

What moto 5.2.5 can rehearse is the deploy's own path: the checks, the bucket it creates and locks down, the
upload, the change set (CREATE, then UPDATE), its execution and the stack's own events, the parameter reaching
the resource. stack.yml itself cannot run on it: executing its CREATE change set crashes in moto's first
security group (an `!If [HasCertificate, ..., !Ref AWS::NoValue]` item in SecurityGroupIngress reaches moto's
handler as None: AttributeError, an internal error), and TOOL-FACTS lists what moto drops besides (dotted GetAtt,
AWS::CloudFormation::CustomResource, Lambda without Docker). Neither can moto show what the plan is for: its change
sets carry no Replacement or Details (and name the wrong resource as modified), executions finish at once with
stack-level events only and no ClientRequestToken on them, an empty change set does not fail, and a stack created
through a change set has no Outputs. Those shapes are tested on Stubber-checked answers (test_deploy_cli.py,
test_deploy_plan.py, test_deploy_events.py).
"""
import boto3
import pytest
from moto import mock_aws

from tools import deploy
from tools.deployment import upload

TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ApplicationImageTag:
    Type: String
    AllowedPattern: "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
Resources:
  DeployedImageTag:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /todobackend-e2e/image-tag
      Type: String
      Value: !Ref ApplicationImageTag
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "stack.yml").write_text(TEMPLATE)
    (tmp_path / "dev.cfg").write_text("ApplicationImageTag=1.0.0\n")
    return tmp_path


def test_create_then_update_a_parameter(project, capsys, monkeypatch):
    def deploy_with(*options):
        return deploy.main(["--stack-name", "todobackend-e2e", "--template", str(project / "stack.yml"),
                            "--config", str(project / "dev.cfg"), "--yes", *options])

    with mock_aws():
        assert deploy_with("--tag", "smoke-run-id=e2e") == deploy.DEPLOYED
        created = capsys.readouterr().out
        bucket = upload.BUCKET_NAME.format(account="123456789012", region="us-east-1")
        assert f"created the deploy bucket s3://{bucket}" in created
        assert "1 change(s): 1 Add" in created and "CREATE_COMPLETE" in created
        s3 = boto3.client("s3")
        assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
        [rule] = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        assert rule["Expiration"] == {"Days": upload.EXPIRE_DAYS} and rule["Filter"] == {"Prefix": upload.PREFIX}
        assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0][
            "ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}

        (project / "dev.cfg").write_text("ApplicationImageTag=1.1.0\n")
        monkeypatch.setattr(deploy.checks, "problems", lambda *_: [])  # they ran above; the update repeats AWS only
        assert deploy_with("--update") == deploy.DEPLOYED
        updated = capsys.readouterr().out
        assert "created the deploy bucket" not in updated  # reused
        assert "change set UPDATE" in updated and "UPDATE_COMPLETE" in updated
        assert boto3.client("ssm").get_parameter(Name="/todobackend-e2e/image-tag")["Parameter"]["Value"] == "1.1.0"
        [stack] = boto3.client("cloudformation").describe_stacks(StackName="todobackend-e2e")["Stacks"]
        assert stack["Parameters"] == [{"ParameterKey": "ApplicationImageTag", "ParameterValue": "1.1.0"}]
        assert stack["Tags"] == [{"Key": "smoke-run-id", "Value": "e2e"}]  # kept by the update that named none
