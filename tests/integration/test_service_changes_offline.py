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
import requests
from botocore.validate import validate_parameters

from tests.integration.smoke import http as smoke_http
from tests.integration.smoke.active import (DeploymentFailed, rolling_deploy, running_count,
                                             scale_to_zero_and_back)
from tests.integration.smoke.probe import Probe
from tests.integration.smoke.progress import ProgressLine
from tests.integration.smoke.readiness import NotReady
from tests.integration.standin import CRASHING, HEALTHY, TRUNCATING, StandIn

pytestmark = pytest.mark.selftest

ECS_MODEL = botocore.session.get_session().get_service_model("ecs")
FAST = {"deadline": 2.0, "interval": 0.05, "timeout": 2.0, "consecutive": 3}


class FakeEcs:
    """One ECS service whose tasks are the stand-in's target."""

    def __init__(self, standin, desired=2, scales_in=True, blip=0.0, blip_mode=CRASHING, stable_after=0.4,
                 rolls_back=False):
        self.standin, self.desired = standin, desired
        self.scales_in = scales_in        # False: desiredCount=0 never drains the target group
        self.blip, self.blip_mode = blip, blip_mode  # seconds the deployment puts the target in that mode
        self.stable_after = stable_after  # seconds until the services_stable waiter returns
        self.rolls_back = rolls_back      # the circuit breaker rolls the new deployment back
        self.deployments = [{"id": "ecs-svc/0", "status": "PRIMARY", "rolloutState": "COMPLETED"}]
        self.updates = []
        self.waits = 0

    def _validated(self, operation, params, response=None):
        """The request against botocore's input shape, the fake's answer against its output shape."""
        model = ECS_MODEL.operation_model(operation)
        validate_parameters(params, model.input_shape)
        if response is not None:
            validate_parameters(response, model.output_shape)
        return response

    def _described(self):
        return {"serviceName": "service", "desiredCount": self.desired, "runningCount": self.desired,
                "deployments": [dict(deployment) for deployment in self.deployments]}

    def describe_services(self, **params):
        return self._validated("DescribeServices", params, {"services": [self._described()]})

    def update_service(self, **params):
        self.updates.append(params)
        if "desiredCount" in params:
            self.desired = params["desiredCount"]
            if self.desired == 0 and self.scales_in:
                self.standin.deregister()
            elif self.desired:
                self.standin.register(delay=0.2)
        if params.get("forceNewDeployment"):
            self._deploy("IN_PROGRESS")
            if self.blip:
                self.standin.mode = self.blip_mode
                threading.Timer(self.blip, setattr, (self.standin, "mode", HEALTHY)).start()
        return self._validated("UpdateService", params, {"service": self._described()})

    def _deploy(self, rollout, reason="ECS deployment in progress."):
        for deployment in self.deployments:
            deployment["status"] = "ACTIVE"
        self.deployments.insert(0, {"id": f"ecs-svc/{len(self.deployments)}", "status": "PRIMARY",
                                    "rolloutState": rollout, "rolloutStateReason": reason})

    def get_waiter(self, name):
        assert name in boto3.client("ecs", region_name="us-east-1").waiter_names
        return self

    def wait(self, **params):
        params = dict(params)
        assert set(params.pop("WaiterConfig")) == {"Delay", "MaxAttempts"}
        self._validated("DescribeServices", params)
        time.sleep(self.stable_after)
        self.waits += 1
        new = self.deployments[0]
        if new["rolloutState"] != "IN_PROGRESS":
            return
        if self.rolls_back:
            new.update(rolloutState="FAILED", rolloutStateReason="ECS deployment circuit breaker: tasks "
                                                                  "failed to start.")
            self._deploy("COMPLETED", "ECS deployment circuit breaker: rolling back to deploymentId "
                                      f"{self.deployments[1]['id']}.")
        else:
            new.update(rolloutState="COMPLETED", rolloutStateReason="ECS deployment completed.")
        self.deployments = [d for d in self.deployments if d["status"] == "PRIMARY"]


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
    lines = []
    down, back = scale(ecs, local, progress=ProgressLine(lines.append, "scaling", every=60))
    assert [line.rsplit(" - ", 1)[1] for line in lines] == ["503 x1", back.timeline.samples[0].label + " x1"]
    record_timeline("scale to zero (fake ECS)", down)
    assert down.samples[-1].label == "503"
    # Restored means the configured number of 200s in a row, and ECS calling the service stable.
    assert [s.label for s in back.timeline.samples][-3:] == ["200"] * 3
    assert ecs.waits == 1
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


def test_a_response_cut_off_during_the_deployment_is_a_failed_sample_not_a_dead_probe(local):
    probe = Probe(smoke_http.session(local.url), local.url + "/todos", interval=0.02)
    timeline = rolling_deploy(FakeEcs(local, blip=0.3, blip_mode=TRUNCATING, stable_after=0.6),
                              "cluster", "service", probe)
    assert {sample.label for sample in timeline.failures()} == {"ChunkedEncodingError"}
    assert timeline.samples[-1].ok and timeline.samples[-1].at >= 0.5  # it kept probing to the end


def deploy(ecs, standin):
    return rolling_deploy(ecs, "cluster", "service", Probe(smoke_http.session(standin.url), standin.url + "/todos",
                                                            interval=0.02))


def test_a_deployment_the_circuit_breaker_rolled_back_fails_with_the_rollout_state(local):
    ecs = FakeEcs(local, rolls_back=True)
    with pytest.raises(DeploymentFailed, match=r"deployment ecs-svc/1 did not stay PRIMARY: ecs-svc/2 is "
                                               r"\(rolloutState COMPLETED: ECS deployment circuit breaker: "
                                               r"rolling back to deploymentId ecs-svc/0\.\)"):
        deploy(ecs, local)


def test_a_deployment_still_in_progress_when_the_waiter_returns_fails(local):
    ecs = FakeEcs(local)
    ecs.wait = lambda **params: None  # the waiter returned, the rollout did not finish
    with pytest.raises(DeploymentFailed, match=r"ecs-svc/1 did not complete \(rolloutState IN_PROGRESS: "
                                               r"ECS deployment in progress\.\)"):
        deploy(ecs, local)


class Broken:
    """An HTTP session that fails in a way poll() does not expect."""

    def get(self, *args, **kwargs):
        raise RuntimeError("boom")


class Stalling:
    """An HTTP session whose first request hangs past its timeout (a DNS lookup requests cannot time out)."""

    def __init__(self, standin):
        self.standin, self.calls = standin, 0

    def get(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 1:
            time.sleep(1.5)
            raise requests.ConnectionError("name resolution stalled")
        return smoke_http.session(self.standin.url).get(*args, **kwargs)


def test_a_probe_whose_thread_died_fails_the_deployment_check(local):
    probe = Probe(Broken(), local.url + "/todos", interval=0.02)
    with pytest.raises(AssertionError, match=r"the probe stopped after 0 samples in .* RuntimeError: boom"):
        rolling_deploy(FakeEcs(local), "cluster", "service", probe)


def test_a_probe_with_a_gap_longer_than_a_request_can_take_fails_the_deployment_check(local):
    probe = Probe(Stalling(local), local.url + "/todos", interval=0.02, timeout=0.2)
    with pytest.raises(AssertionError, match=r"went 1\.\d s without a request"):
        rolling_deploy(FakeEcs(local, stable_after=1.8), "cluster", "service", probe)


def test_running_count_reads_the_services_running_tasks(local):
    assert running_count(FakeEcs(local, desired=3), "cluster", "service") == 3
