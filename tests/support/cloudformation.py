"""CloudFormation's side of a custom resource: the stack it belongs to and the URL it waits on."""
import json

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/todobackend/6c7e0a90-0000-11f0-9b1c-0a1b2c3d4e5f"
RESPONSE_PATH = "/cloudformation-response"
SIGNATURE = "abc123"  # what makes the pre-signed URL a credential


class CloudFormationEndpoint:
    """The pre-signed S3 URL CloudFormation hands out, served on 127.0.0.1; answers 200 unless told."""

    def __init__(self, server):
        self.server = server
        self.url = server.url_for(RESPONSE_PATH) + f"?X-Amz-Signature={SIGNATURE}"
        server.expect_request(RESPONSE_PATH, method="PUT").respond_with_data("")

    def fail_next(self, *statuses):
        for status in statuses:
            self.server.expect_oneshot_request(RESPONSE_PATH, method="PUT").respond_with_data("", status=status)

    def fail_always(self, status):
        self.server.clear()
        self.server.expect_request(RESPONSE_PATH, method="PUT").respond_with_data("", status=status)

    @property
    def requests(self):
        return [request for request, _ in self.server.log]

    def bodies(self):
        return [json.loads(request.get_data()) for request in self.requests]
