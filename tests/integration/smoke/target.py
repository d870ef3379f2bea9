"""Which deployment the suite talks to: a URL, or a CloudFormation stack's Outputs."""
import dataclasses
from urllib.parse import urlsplit

import boto3
import botocore.exceptions


class TargetError(Exception):
    """The target is misconfigured or cannot be looked up; the message says what to fix."""


NO_TARGET = ("no target to test: give --stack-name NAME [--region R], --public-url URL, or set PUBLIC_URL "
             "(--standin runs the suite against the local stand-in on 127.0.0.1, as tox -e integration does)")


@dataclasses.dataclass(frozen=True)
class Target:
    base_url: str
    source: str                 # how it was chosen, for messages and the report
    cluster: str | None = None  # set only for --stack-name: the active tests need them
    service: str | None = None
    region: str | None = None

    @property
    def can_change_service(self) -> bool:
        return bool(self.cluster and self.service)


def from_url(url: str, source: str) -> Target:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError(f"{source}: {url!r} is not an http(s) URL, e.g. "
                          "http://todobackend-123.us-east-1.elb.amazonaws.com")
    if parts.path.strip("/") or parts.query:
        raise TargetError(f"{source}: {url!r} has a path or query; give the load balancer's root URL "
                          "(the stack's PublicURL output)")
    return Target(f"{parts.scheme}://{parts.netloc}", source)


def from_stack(name: str, region: str | None, cloudformation=None) -> Target:
    """PublicURL, ClusterName and ServiceName from the stack's Outputs."""
    try:
        cloudformation = cloudformation or boto3.client("cloudformation", region_name=region)
        region = cloudformation.meta.region_name
        [stack] = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except botocore.exceptions.NoRegionError:
        raise TargetError("no AWS region: pass --region or set AWS_DEFAULT_REGION") from None
    except botocore.exceptions.NoCredentialsError:
        raise TargetError(f"no AWS credentials to read stack {name!r}: configure a profile or "
                          "AWS_* variables, or give --public-url instead") from None
    except botocore.exceptions.ClientError as error:
        code, message = error.response["Error"]["Code"], error.response["Error"]["Message"]
        if "does not exist" in message:
            raise TargetError(f"stack {name!r} does not exist in {region} (wrong --region?)") from None
        raise TargetError(f"cannot read stack {name!r} in {region}: {code}: {message}") from None
    except botocore.exceptions.BotoCoreError as error:
        raise TargetError(f"cannot reach CloudFormation in {region}: {error}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    missing = [key for key in ("PublicURL", "ClusterName", "ServiceName") if key not in outputs]
    if missing:
        raise TargetError(f"stack {name!r} ({stack['StackStatus']}) has no output(s) {', '.join(missing)}: "
                          "is it deployed from this repository's stack.yml, and finished?")
    url_target = from_url(outputs["PublicURL"], f"stack {name!r} output PublicURL")
    return dataclasses.replace(url_target, source=f"stack {name} ({region})", cluster=outputs["ClusterName"],
                               service=outputs["ServiceName"], region=region)


def choose(public_url: str | None, env_url: str | None, stack_name: str | None, region: str | None,
           cloudformation=None, standin: bool = False) -> Target | None:
    """The target the options name; None means none was named (the local stand-in only with --standin).

    --standin is explicit and beats PUBLIC_URL from the environment, but not an option naming a target.
    """
    if public_url and stack_name:
        raise TargetError("give --public-url or --stack-name, not both")
    if standin and (public_url or stack_name):
        raise TargetError("--standin tests the local stand-in: give it without --public-url and --stack-name")
    if region and not stack_name:
        raise TargetError("--region only applies with --stack-name")
    if standin:
        return None
    if stack_name:
        return from_stack(stack_name, region, cloudformation)
    if public_url:
        return from_url(public_url, "--public-url")
    if env_url:
        return from_url(env_url, "PUBLIC_URL")
    return None
