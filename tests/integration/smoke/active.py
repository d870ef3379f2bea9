"""Active checks: change the ECS service and watch the load balancer's answers follow.

Both take the ECS client as an argument, so tests can drive them with a fake service in front of
the stand-in; live, it is boto3's ECS client for the stack's region.
"""
from .probe import Probe
from .readiness import Readiness, wait_for_status, wait_until_ready
from .timeline import Timeline


class DeploymentFailed(AssertionError):
    """ECS settled, but not on the deployment the test started (e.g. a circuit-breaker rollback)."""


def _service(ecs, cluster: str, service: str) -> dict:
    [described] = ecs.describe_services(cluster=cluster, services=[service])["services"]
    return described


def running_count(ecs, cluster: str, service: str) -> int:
    """Tasks running now: how many different tasks the load balancer can spread requests over."""
    return _service(ecs, cluster, service)["runningCount"]


def _primary(deployments: list) -> dict:
    [primary] = [deployment for deployment in deployments if deployment["status"] == "PRIMARY"]
    return primary


def _wait_stable(ecs, cluster, service, delay, attempts):
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=[service],
                                           WaiterConfig={"Delay": delay, "MaxAttempts": attempts})


def scale_to_zero_and_back(ecs, cluster, service, http, url, *, deadline, interval, timeout, consecutive,
                           waiter_delay=15, waiter_attempts=40, progress=None) -> tuple[Timeline, Readiness]:
    """Scale to 0 and wait for the ALB's 503; always restore the desired count; wait until ready again.

    Ready again means `consecutive` 200s (every load balancer node routes to a target) and ECS
    reporting the service stable, so the tests that follow meet the service as they found it.
    `progress(timeline, deadline)` follows both waits (a ProgressLine).
    """
    original = _service(ecs, cluster, service)["desiredCount"]
    if original == 0:
        raise ValueError(f"service {service} already runs 0 tasks: nothing to scale down and restore")
    try:
        ecs.update_service(cluster=cluster, service=service, desiredCount=0)
        down = wait_for_status(http, url, 503, deadline=deadline, interval=interval, timeout=timeout,
                               progress=progress)
    finally:
        ecs.update_service(cluster=cluster, service=service, desiredCount=original)
    back = wait_until_ready(http, url, deadline=deadline, interval=interval, consecutive=consecutive,
                            timeout=timeout, progress=progress)
    _wait_stable(ecs, cluster, service, waiter_delay, waiter_attempts)
    return down, back


def _check_rollout(ecs, cluster, service, deployment_id: str) -> None:
    """The PRIMARY deployment must be `deployment_id`, COMPLETED: services_stable also returns after a rollback."""
    primary = _primary(_service(ecs, cluster, service)["deployments"])
    state = f"rolloutState {primary.get('rolloutState')}: {primary.get('rolloutStateReason', 'no reason given')}"
    if primary["id"] != deployment_id:
        raise DeploymentFailed(f"deployment {deployment_id} did not stay PRIMARY: {primary['id']} is "
                               f"({state}) - did the circuit breaker roll it back? ECS service events say why")
    if primary.get("rolloutState") != "COMPLETED":
        raise DeploymentFailed(f"deployment {deployment_id} did not complete ({state})")


def rolling_deploy(ecs, cluster, service, probe: Probe, *, waiter_delay=15, waiter_attempts=40) -> Timeline:
    """Force a new deployment while `probe` runs, until the service is stable again.

    The caller owns the probe, so its timeline survives a waiter that gives up. A forced deployment
    changes neither the task definition nor the count: there is nothing to undo, but the probe must
    always stop, which the `with` guarantees. Raises DeploymentFailed if the deployment did not
    complete, AssertionError if the probe did not watch all of it.
    """
    with probe:
        started = ecs.update_service(cluster=cluster, service=service, forceNewDeployment=True)
        _wait_stable(ecs, cluster, service, waiter_delay, waiter_attempts)
    _check_rollout(ecs, cluster, service, _primary(started["service"]["deployments"])["id"])
    problem = probe.coverage_problem()
    assert problem is None, problem
    return probe.timeline
