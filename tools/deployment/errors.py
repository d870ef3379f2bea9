"""The one-line reasons a deploy cannot start (exit 2), from what boto3 raises."""
import botocore.exceptions

THROTTLED = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}


class Unusable(Exception):
    """Input the deploy cannot work with; the message is the one line the user sees."""


def code(error: Exception) -> str:
    return error.response.get("Error", {}).get("Code", "") if isinstance(error, botocore.exceptions.ClientError) else ""


def one_line(error: Exception, doing: str) -> str:
    """What went wrong while `doing` (e.g. "creating the change set"), in one line that says what to do."""
    if isinstance(error, botocore.exceptions.NoCredentialsError):
        return f"no AWS credentials for {doing}: configure a profile or AWS_* variables"
    if isinstance(error, botocore.exceptions.NoRegionError):
        return "no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION"
    if isinstance(error, botocore.exceptions.ClientError):
        message = error.response.get("Error", {}).get("Message", "")
        return " ".join(f"{doing}: {code(error)}: {message}".split())
    return " ".join(f"{doing}: {type(error).__name__}: {error}".split())
