"""The stack's events of one operation, printed as they happen.

Every event an operation causes carries the ClientRequestToken passed to it ("StackEvent", AWS CloudFormation
API Reference), so the deploy executes its change set with a token of its own and shows only events that carry
it. Events come newest first, page by page: paging stops at the newest event that existed before the execution
(the horizon), so earlier operations cost nothing, and an event seen once is not shown again. Endpoints that put
no token on events (moto) are followed by the horizon alone: only one operation runs on a stack at a time.
"""
from __future__ import annotations

import datetime
import time

import botocore.exceptions

from tools.deployment.errors import THROTTLED, code

STACK_TYPE = "AWS::CloudFormation::Stack"
POLL = 5.0           # seconds between polls
MAX_POLL = 60.0      # throttled polls back off to at most this


def newest_event_id(cfn, stack_id: str) -> str | None:
    events = cfn.describe_stack_events(StackName=stack_id).get("StackEvents", [])
    return events[0]["EventId"] if events else None


def elapsed(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60:>3}:{seconds % 60:02d}"


class EventStream:
    def __init__(self, cfn, stack_id: str, stack_name: str, token: str, horizon: str | None, say,
                 poll: float = POLL, sleep=time.sleep):
        self.cfn, self.stack_id, self.stack_name, self.token = cfn, stack_id, stack_name, token
        self.horizon, self.say, self.poll, self.sleep = horizon, say, poll, sleep
        self.seen: set[str] = set()
        self.started: datetime.datetime | None = None  # the operation's first event
        self.final: str | None = None                  # the stack's status once the operation ended

    def ours(self, event: dict) -> bool:
        return event.get("ClientRequestToken", self.token) == self.token

    def fresh(self) -> list[dict]:
        """Events of this operation not shown yet, oldest first."""
        found = []
        for page in self.cfn.get_paginator("describe_stack_events").paginate(StackName=self.stack_id):
            for event in page.get("StackEvents", []):
                if event["EventId"] == self.horizon:
                    return sorted(found, key=lambda e: e["Timestamp"])
                if event["EventId"] not in self.seen and self.ours(event):
                    self.seen.add(event["EventId"])
                    found.append(event)
        return sorted(found, key=lambda e: e["Timestamp"])

    def show(self, event: dict):
        self.started = self.started or event["Timestamp"]
        reason = " ".join(event.get("ResourceStatusReason", "").split())
        self.say(f"{elapsed((event['Timestamp'] - self.started).total_seconds())}  "
                 f"{event['LogicalResourceId']:<32} {event['ResourceStatus']:<32} {reason}".rstrip())
        if (event.get("ResourceType") == STACK_TYPE and event["LogicalResourceId"] == self.stack_name
                and not event["ResourceStatus"].endswith("_IN_PROGRESS")):
            self.final = event["ResourceStatus"]

    def follow(self) -> str:
        """Print events until the stack's own event ends the operation; its status."""
        wait = self.poll
        while self.final is None:
            try:
                for event in self.fresh():
                    self.show(event)
            except botocore.exceptions.ClientError as error:
                if code(error) not in THROTTLED:
                    raise
                wait = min(wait * 2, MAX_POLL)
                self.say(f"       (throttled by CloudFormation: reading events every {wait:.0f} s)")
            else:
                wait = self.poll
            if self.final is None:
                self.sleep(wait)
        return self.final
