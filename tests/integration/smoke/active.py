"""Active checks: change the ECS service and watch the load balancer's answers follow.

Both take the ECS client as an argument, so tests can drive them with a fake service in front of
the stand-in; live, it is boto3's ECS client for the stack's region.
"""
from .probe import Probe
from .readiness import Readiness, wait_for_status, wait_until_ready
from .timeline import Timeline


def desired_count(ecs, cluster: str, service: str) -> int:
    [described] = ecs.describe_services(cluster=cluster, services=[service])["services"]
    return described["desiredCount"]


def scale_to_zero_and_back(ecs, cluster, service, http, url, *, deadline, interval,
                           timeout) -> tuple[Timeline, Readiness]:
    """Scale to 0 and wait for the ALB's 503; always restore the desired count; wait for 200 again."""
    original = desired_count(ecs, cluster, service)
    if original == 0:
        raise ValueError(f"service {service} already runs 0 tasks: nothing to scale down and restore")
    try:
        ecs.update_service(cluster=cluster, service=service, desiredCount=0)
        down = wait_for_status(http, url, 503, deadline=deadline, interval=interval, timeout=timeout)
    finally:
        ecs.update_service(cluster=cluster, service=service, desiredCount=original)
    back = wait_until_ready(http, url, deadline=deadline, interval=interval, consecutive=1,
                            timeout=timeout)
    return down, back


def rolling_deploy(ecs, cluster, service, probe: Probe, *, waiter_delay=15, waiter_attempts=40) -> Timeline:
    """Force a new deployment while `probe` runs, until the service is stable again.

    The caller owns the probe, so its timeline survives a waiter that gives up. A forced deployment
    changes neither the task definition nor the count: there is nothing to undo, but the probe must
    always stop, which the `with` guarantees.
    """
    with probe:
        ecs.update_service(cluster=cluster, service=service, forceNewDeployment=True)
        ecs.get_waiter("services_stable").wait(
            cluster=cluster, services=[service],
            WaiterConfig={"Delay": waiter_delay, "MaxAttempts": waiter_attempts})
    return probe.timeline
