"""Where the template goes: stack.yml is over the 51,200 bytes CreateChangeSet takes inline (TemplateBody),
so it is uploaded to S3 and passed as TemplateURL ("CreateChangeSet", AWS CloudFormation API Reference).

Without --bucket the deploy uses one bucket per account and region that it creates itself, named
BUCKET_NAME: default encryption (SSE-S3), every public access blocked, and a lifecycle rule that expires
uploaded templates after EXPIRE_DAYS days (CloudFormation keeps its own copy once the change set exists).
A bucket the user names is used as it is, never reconfigured.
"""
from __future__ import annotations

import hashlib
import pathlib

import botocore.exceptions

from tools.deployment.errors import Unusable, code

BUCKET_NAME = "todobackend-deploy-{account}-{region}"
PREFIX = "templates/"
EXPIRE_DAYS = 7


def bucket_region(s3, bucket: str, owner: str | None = None) -> str:
    """The bucket's region; GetBucketLocation answers no LocationConstraint for us-east-1 and "EU" for eu-west-1."""
    owned = {"ExpectedBucketOwner": owner} if owner else {}
    location = s3.get_bucket_location(Bucket=bucket, **owned).get("LocationConstraint")
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)


def ensure_own_bucket(s3, account: str, region: str, say) -> str:
    """This account's deploy bucket in `region`, created and locked down on first use."""
    bucket = BUCKET_NAME.format(account=account, region=region)
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
        return bucket
    except botocore.exceptions.ClientError as error:
        if code(error) not in ("404", "NoSuchBucket"):
            # 403: the name is taken by another account (S3 names are global) or we may not read it.
            raise Unusable(f"cannot use the deploy bucket {bucket} ({code(error)}: another account may own the "
                           "name, or access is denied): pass --bucket with a bucket of yours in this region") from None
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    s3.put_public_access_block(Bucket=bucket, ExpectedBucketOwner=account, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=bucket, ExpectedBucketOwner=account, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, ExpectedBucketOwner=account, LifecycleConfiguration={
        "Rules": [{"ID": "expire-uploaded-templates", "Status": "Enabled", "Filter": {"Prefix": PREFIX},
                   "Expiration": {"Days": EXPIRE_DAYS}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]})
    say(f"created the deploy bucket s3://{bucket} (SSE-S3, public access blocked, templates expire after "
        f"{EXPIRE_DAYS} days)")
    return bucket


def upload(s3, template: pathlib.Path, stack_name: str, account: str, region: str, bucket: str | None, say) -> str:
    """The TemplateURL of `template`, uploaded to `bucket` (or this account's deploy bucket)."""
    owner = None  # a bucket the user names may belong to another account
    try:
        if bucket:
            actual = bucket_region(s3, bucket)
        else:
            owner = account
            bucket = ensure_own_bucket(s3, account, region, say)
            actual = bucket_region(s3, bucket, account)
    except botocore.exceptions.ClientError as error:
        raise Unusable(f"cannot use bucket {bucket}: {code(error)}: "
                       f"{error.response.get('Error', {}).get('Message', '')}".rstrip(": ")) from None
    if actual != region:
        # A template in another region's bucket fails the change set with "S3 error: The bucket you are
        # attempting to access must be addressed using the specified endpoint" (aws-cli#4372, aws-cli#4512).
        raise Unusable(f"bucket {bucket} is in {actual}, the stack in {region}: "
                       f"pass --bucket with a bucket in {region}")
    body = template.read_bytes()
    key = f"{PREFIX}{stack_name}/{hashlib.sha256(body).hexdigest()[:16]}-{template.name}"
    s3.put_object(Bucket=bucket, Key=key, Body=body, **({"ExpectedBucketOwner": owner} if owner else {}))
    say(f"uploaded {template.name} ({len(body):,} bytes) to s3://{bucket}/{key}")
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"
