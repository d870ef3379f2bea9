"""Active checks on a live stack (need --stack-name and AWS credentials): they change the service."""
from tests.integration.smoke import http as smoke_http
from tests.integration.smoke.active import rolling_deploy, scale_to_zero_and_back
from tests.integration.smoke.probe import Probe


def test_scaled_to_zero_answers_503_then_recovers(ecs_service, ready_target, settings, record_timeline,
                                                  pytestconfig, progress):
    ecs, cluster, service = ecs_service
    http = smoke_http.session(ready_target.base_url)
    down, back = scale_to_zero_and_back(ecs, cluster, service, http, ready_target.base_url + "/",
                                        consecutive=pytestconfig.getoption("consecutive"),
                                        progress=progress(f"{service} scaled to 0, then back"), **settings)
    record_timeline("scale to zero", down)
    record_timeline("restored", back.timeline)
    assert down.samples[-1].status == 503, f"scaled to 0, the load balancer never answered 503: {down.summary()}"
    assert back.timeline.samples[-1].status == 200, f"restored, / did not answer 200: {back.timeline.summary()}"


def test_forced_deployment_has_no_failed_requests(ecs_service, ready_target, settings, record_timeline):
    ecs, cluster, service = ecs_service
    probe = Probe(smoke_http.session(ready_target.base_url), ready_target.base_url + "/todos",
                  interval=0.25, timeout=settings["timeout"])
    try:
        rolling_deploy(ecs, cluster, service, probe)
    finally:
        record_timeline(f"forced deployment of {service}", probe.timeline, plot_as="rolling-deploy.png")
    failures = probe.timeline.failures()
    assert not failures, f"{len(failures)} non-2xx during the deployment: {probe.timeline.summary()}"
