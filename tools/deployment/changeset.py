"""The change set: which kind (CREATE or UPDATE) the stack's state allows, created, waited for, read page by page."""
from __future__ import annotations

import time

import botocore.exceptions

from tools.deployment.errors import Unusable

CAPABILITIES = ["CAPABILITY_IAM"]  # stack.yml creates IAM roles without naming them
# What CloudFormation answers when a change set would change nothing: the change set FAILS with one of these
# as its StatusReason, "The submitted information didn't contain changes. Submit different information to create
# a change set." (awscfncli#20, stackup#49; "No updates are to be performed." before, pipeline-aws-plugin#136).
# The waiter only says "Waiter encountered a terminal failure state": the reason is in its last response.
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
WAIT_DELAY = 5       # seconds between DescribeChangeSet polls (the waiter's default is 30)
WAIT_ATTEMPTS = 120  # ten minutes


def kind(cfn, stack_name: str, update_only: bool) -> tuple[str, bool]:
    """(CREATE or UPDATE, whether the stack exists already); Unusable when its state allows neither."""
    try:
        [stack] = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except botocore.exceptions.ClientError as error:
        if "does not exist" not in error.response.get("Error", {}).get("Message", ""):
            raise
        if update_only:
            raise Unusable(f"stack {stack_name} does not exist: --update needs a deployed stack "
                           "(wrong --region or stack name?)") from None
        return "CREATE", False
    status = stack["StackStatus"]
    if status == "REVIEW_IN_PROGRESS":  # created by a change set that was never executed: still a CREATE
        return "CREATE", True
    if status.endswith("_IN_PROGRESS"):
        raise Unusable(f"stack {stack_name} is {status}: wait until that operation ends, then deploy again")
    if status == "UPDATE_ROLLBACK_FAILED":
        raise Unusable(f"stack {stack_name} is UPDATE_ROLLBACK_FAILED: `tox -e doctor -- --stack-name {stack_name}` "
                       "names the resource that blocks the rollback; fix it, then aws cloudformation "
                       f"continue-update-rollback --stack-name {stack_name}, and deploy again")
    if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED"):
        raise Unusable(f"stack {stack_name} is {status} and cannot be updated: find out why with "
                       f"`tox -e doctor -- --stack-name {stack_name}`, then delete it "
                       f"(aws cloudformation delete-stack --stack-name {stack_name}) and deploy again")
    return "UPDATE", True


class ChangeSet:
    def __init__(self, cfn, stack_name: str, change_set_type: str, stack_existed: bool):
        self.cfn, self.stack_name, self.type = cfn, stack_name, change_set_type
        self.owns_stack = not stack_existed  # a CREATE change set makes an empty stack: ours to delete
        self.arn = self.stack_id = None
        self.executed = False

    def create(self, template_url: str, parameters: list[dict], tags: list[dict]):
        name = time.strftime("deploy-%Y%m%d-%H%M%S", time.gmtime())
        created = self.cfn.create_change_set(
            StackName=self.stack_name, ChangeSetName=name, ChangeSetType=self.type, TemplateURL=template_url,
            Parameters=parameters, Capabilities=CAPABILITIES, **({"Tags": tags} if tags else {}))
        self.arn, self.stack_id = created["Id"], created["StackId"]

    def wait(self, delay: float = WAIT_DELAY) -> bool:
        """True when the change set is ready, False when it holds no changes; Unusable (the change set deleted)
        when it failed otherwise."""
        try:
            self.cfn.get_waiter("change_set_create_complete").wait(
                ChangeSetName=self.arn, WaiterConfig={"Delay": delay, "MaxAttempts": WAIT_ATTEMPTS})
            return True
        except botocore.exceptions.WaiterError as error:
            reason = (error.last_response or {}).get("StatusReason") or str(error)
        if any(phrase in reason for phrase in NO_CHANGES):
            return False
        self.discard()
        raise Unusable(f"CloudFormation could not create the change set: {' '.join(reason.split())}")

    def changes(self) -> list[dict]:
        """DescribeChangeSet's Changes, every page."""
        pages = self.cfn.get_paginator("describe_change_set").paginate(ChangeSetName=self.arn)
        return [change for page in pages for change in page.get("Changes", [])]

    def discard(self):
        """Delete the change set, and the empty stack (REVIEW_IN_PROGRESS, no resources) if ours made it."""
        self.cfn.delete_change_set(ChangeSetName=self.arn)
        if self.owns_stack:
            self.cfn.delete_stack(StackName=self.stack_id)

    def execute(self, token: str):
        self.cfn.execute_change_set(ChangeSetName=self.arn, ClientRequestToken=token)
        self.executed = True
