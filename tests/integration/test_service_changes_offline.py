"""The active checks' orchestration, driven offline: a fake ECS service that moves the stand-in.

The fake checks each call's parameters against botocore's ECS model, so a misspelt parameter fails
here rather than in the first live run.
"""
import pathlib
import threading
import time

import boto3
import botocore.session
import pytest
from botocore.validate import validate_parameters

from tests.integration.smoke import http as smoke_http
from tests.integration.smoke.active import rolling_deploy, scale_to_zero_and_back
from tests.integration.smoke.probe import Probe
from tests.integration.smoke.readiness import NotReady
from tests.integration.standin import CRASHING, HEALTHY, StandIn

pytestmark = pytest.mark.selftest

ECS_MODEL = botocore.session.get_session().get_service_model("ecs")
FAST = {"deadline": 2.0, "interval": 0.05, "timeout": 2.0}


class FakeEcs:
    """One ECS service whose tasks are the stand-in's target."""

    def __init__(self, standin, desired=2, scales_in=True, blip=0.0, stable_after=0.4):
        self.standin, self.desired = standin, desired
        self.scales_in = scales_in        # False: desiredCount=0 never drains the target group
        self.blip = blip                  # seconds the deployment makes the target crash
        self.stable_after = stable_after  # seconds until the services_stable waiter returns
        self.updates = []

    def _validated(self, operation, params):
        validate_parameters(params, ECS_MODEL.operation_model(operation).input_shape)
        return params

    def describe_services(self, **params):
        self._validated("DescribeServices", params)
        return {"services": [{"desiredCount": self.desired}]}

    def update_service(self, **params):
        self.updates.append(self._validated("UpdateService", params))
        if "desiredCount" in params:
            self.desired = params["desiredCount"]
            if self.desired == 0 and self.scales_in:
                self.standin.deregister()
            elif self.desired:
                self.standin.register(delay=0.2)
        if params.get("forceNewDeployment") and self.blip:
            self.standin.mode = CRASHING
            threading.Timer(self.blip, setattr, (self.standin, "mode", HEALTHY)).start()

    def get_waiter(self, name):
        assert name in boto3.client("ecs", region_name="us-east-1").waiter_names
        return self

    def wait(self, **params):
        params = dict(params)
        assert set(params.pop("WaiterConfig")) == {"Delay", "MaxAttempts"}
        self._validated("DescribeServices", params)
        time.sleep(self.stable_after)


@pytest.fixture
def local():
    """A stand-in of its own: these tests deregister and crash it."""
    with StandIn(register_delay=0) as running:
        yield running


def scale(ecs, standin, **overrides):
    http = smoke_http.session(standin.url)
    return scale_to_zero_and_back(ecs, "cluster", "service", http, standin.url + "/", **(FAST | overrides))


def test_scale_to_zero_sees_503_and_recovers_after_restoring_the_count(local, record_timeline):
    ecs = FakeEcs(local, desired=2)
    down, back = scale(ecs, local)
    record_timeline("scale to zero (fake ECS)", down)
    assert down.samples[-1].label == "503"
    assert [s.label for s in back.timeline.samples][-1] == "200"
    assert [u.get("desiredCount") for u in ecs.updates] == [0, 2]


def test_scale_to_zero_restores_the_count_even_when_503_never_comes(local):
    ecs = FakeEcs(local, desired=3, scales_in=False)
    with pytest.raises(NotReady, match="no 503"):
        scale(ecs, local, deadline=0.3)
    assert ecs.desired == 3 and [u["desiredCount"] for u in ecs.updates] == [0, 3]


def test_scale_to_zero_refuses_a_service_already_at_zero(local):
    with pytest.raises(ValueError, match="already runs 0 tasks"):
        scale(FakeEcs(local, desired=0), local)


def test_a_clean_rolling_deployment_has_no_failed_requests(local, record_timeline):
    probe = Probe(smoke_http.session(local.url), local.url + "/todos", interval=0.02)
    timeline = rolling_deploy(FakeEcs(local), "cluster", "service", probe, waiter_delay=1)
    record_timeline("rolling deployment (fake ECS, clean)", timeline)
    assert len(timeline.samples) >= 5 and not timeline.failures()


def test_a_blip_during_the_rolling_deployment_is_caught_and_plotted(local, record_timeline, pytestconfig):
    probe = Probe(smoke_http.session(local.url), local.url + "/todos", interval=0.02)
    timeline = rolling_deploy(FakeEcs(local, blip=0.3, stable_after=0.6), "cluster", "service", probe)
    # Plotted like the live test's, so a default run shows what the report looks like.
    record_timeline("rolling deployment (fake ECS, 0.3 s of 502)", timeline,
                    plot_as="rolling-deploy-standin.png")
    failures = {sample.label for sample in timeline.failures()}
    assert failures == {"502"}
    assert timeline.samples[-1].ok  # the probe kept going after the blip
    image = pathlib.Path(pytestconfig.getoption("report_dir")) / "rolling-deploy-standin.png"
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
