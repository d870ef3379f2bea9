"""The AWS clients the doctor reads with, and the one-line reasons a stack cannot be read at all."""
import threading

import boto3
import botocore.config
import botocore.exceptions

SERVICES = ("cloudformation", "ecs", "elbv2", "autoscaling", "logs")
# Short timeouts: a diagnosis that hangs is worse than one that says what it could not read. Retries and
# endpoints (AWS_ENDPOINT_URL, AWS_MAX_ATTEMPTS, AWS_RETRY_MODE, profiles) come from the user's configuration.
CONFIG = botocore.config.Config(connect_timeout=5, read_timeout=20, max_pool_connections=16)


class StackUnreadable(Exception):
    """The stack itself cannot be read; the message is the one line the user sees."""


class Clients:
    """One client per service (boto3 clients are thread-safe), and a count of the calls they made."""

    def __init__(self, session: boto3.Session):
        self.region = session.region_name
        self._lock = threading.Lock()
        self.calls = 0
        try:
            for service in SERVICES:
                client = session.client(service, config=CONFIG)
                client.meta.events.register("before-parameter-build", self._counted_call)
                setattr(self, service, client)
        except botocore.exceptions.NoRegionError:
            raise StackUnreadable("no AWS region: pass --region or set AWS_DEFAULT_REGION / AWS_REGION") from None

    def _counted_call(self, **_):
        with self._lock:
            self.calls += 1


def unreadable(error: Exception, stack_name: str, region: str) -> StackUnreadable:
    """Why describe_stacks failed, in one line that says what to do."""
    where = f"stack {stack_name!r} in {region}"
    if isinstance(error, botocore.exceptions.NoCredentialsError):
        return StackUnreadable(f"no AWS credentials to read {where}: configure a profile or AWS_* variables")
    if isinstance(error, botocore.exceptions.EndpointConnectionError):
        return StackUnreadable(f"cannot reach CloudFormation for {where}: {error}")
    if isinstance(error, botocore.exceptions.ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        if code == "ValidationError" and "does not exist" in message:
            return StackUnreadable(f"{where} does not exist (wrong --region or stack name?)")
        if "AccessDenied" in code or code in ("UnauthorizedOperation", "UnrecognizedClientException"):
            return StackUnreadable(f"access denied reading {where}: {message or code} "
                                   "(the doctor needs read-only access: cloudformation:Describe*, ecs:Describe*/List*, "
                                   "elasticloadbalancing:Describe*, autoscaling:Describe*, logs:GetLogEvents)")
        return StackUnreadable(f"cannot read {where}: {code}: {message}")
    return StackUnreadable(f"cannot read {where}: {type(error).__name__}: {error}")
