"""The event stream of one operation: pages, repeats, an earlier operation's events, throttling."""
from botocore.stub import Stubber

from tests.support import change_sets as cs
from tools.deployment.events import EventStream, elapsed

OURS, EARLIER = "deploy-ours", "deploy-earlier"
HORIZON = cs.event(0, cs.STACK, "UPDATE_COMPLETE", EARLIER)  # the newest event before the execution


def stream(pages_per_poll, errors=None):
    """Run an EventStream over stubbed DescribeStackEvents answers; (printed lines, sleeps, final status)."""
    cfn = cs.client("cloudformation")
    lines, sleeps = [], []
    with Stubber(cfn) as stub:
        for poll, pages in enumerate(pages_per_poll):
            for error in (errors or {}).get(poll, ()):  # answered before this poll's pages
                stub.add_client_error("describe_stack_events", error, "Rate exceeded", 400,
                                      expected_params={"StackName": cs.STACK_ID})
            for number, page in enumerate(pages):
                expected = {"StackName": cs.STACK_ID} | ({"NextToken": f"t{number}"} if number else {})
                answer = {"StackEvents": page} | ({"NextToken": f"t{number + 1}"} if number < len(pages) - 1 else {})
                stub.add_response("describe_stack_events", answer, expected)
        watched = EventStream(cfn, cs.STACK_ID, cs.STACK, OURS, HORIZON["EventId"], lines.append, poll=5,
                              sleep=sleeps.append)
        final = watched.follow()
        stub.assert_no_pending_responses()
    return lines, sleeps, final


def newest_first(*events):
    return sorted(events, key=lambda e: e["Timestamp"], reverse=True)


def test_only_this_operations_events_once_each_oldest_first_with_elapsed_time():
    start = cs.event(10, cs.STACK, "UPDATE_IN_PROGRESS", OURS, "User Initiated")
    task = cs.event(12, "ApplicationTaskDefinition", "UPDATE_IN_PROGRESS", OURS,
                    resource_type="AWS::ECS::TaskDefinition")
    # An earlier operation's event that shows up among ours (its token differs), and older history.
    stray = cs.event(11, "ApplicationService", "UPDATE_COMPLETE", EARLIER)
    history = [HORIZON, cs.event(-50, "ApplicationService", "UPDATE_IN_PROGRESS", EARLIER)]
    service = cs.event(75, "ApplicationService", "UPDATE_IN_PROGRESS", OURS,
                       "Resource update\nstarted")
    done = cs.event(190, cs.STACK, "UPDATE_COMPLETE", OURS)
    first_poll = [newest_first(task, stray, start), history]  # two pages; the second ends at the horizon
    second_poll = [newest_first(service, task, stray, start), history]  # repeats what was shown
    third_poll = [newest_first(done, service, task, stray, start, *history)]
    lines, sleeps, final = stream([first_poll, second_poll, third_poll])
    assert final == "UPDATE_COMPLETE"
    assert [line.split()[:3] for line in lines] == [
        ["0:00", cs.STACK, "UPDATE_IN_PROGRESS"],
        ["0:02", "ApplicationTaskDefinition", "UPDATE_IN_PROGRESS"],
        ["1:05", "ApplicationService", "UPDATE_IN_PROGRESS"],
        ["3:00", cs.STACK, "UPDATE_COMPLETE"],
    ]
    assert lines[0].endswith("User Initiated")
    assert lines[2].endswith("Resource update started")  # one line per event, whatever the reason holds
    assert sleeps == [5, 5]


def test_a_failed_update_ends_with_the_rollbacks_final_status():
    events = [cs.event(1, cs.STACK, "UPDATE_IN_PROGRESS", OURS),
              cs.event(2, "MigrateTask", "UPDATE_FAILED", OURS, "Failed to receive 1 resource signal(s)"),
              cs.event(3, cs.STACK, "UPDATE_ROLLBACK_IN_PROGRESS", OURS),
              cs.event(9, cs.STACK, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", OURS),
              cs.event(20, cs.STACK, "UPDATE_ROLLBACK_COMPLETE", OURS)]
    lines, _, final = stream([[newest_first(*events[:4])], [newest_first(*events, HORIZON)]])
    assert final == "UPDATE_ROLLBACK_COMPLETE"
    assert len(lines) == 5 and "MigrateTask" in lines[1] and lines[1].endswith("Failed to receive 1 resource signal(s)")


def test_throttling_backs_off_then_returns_to_the_normal_pace():
    start = cs.event(1, cs.STACK, "UPDATE_IN_PROGRESS", OURS)
    done = cs.event(30, cs.STACK, "UPDATE_COMPLETE", OURS)
    polls = [[[start, HORIZON]], [[start, HORIZON]], [[start, HORIZON]], [[done, start, HORIZON]]]
    lines, sleeps, final = stream(polls, errors={1: ["Throttling", "Throttling"]})
    assert final == "UPDATE_COMPLETE"
    # Throttled twice in a row: 10 s, then 20 s; a poll that got through brings it back to 5 s.
    assert sleeps == [5, 10, 20, 5, 5]
    assert [line for line in lines if "throttled" in line] == [
        "       (throttled by CloudFormation: reading events every 10 s)",
        "       (throttled by CloudFormation: reading events every 20 s)"]


def test_events_without_a_token_newer_than_the_horizon_are_followed():
    """moto puts no ClientRequestToken on events: the horizon alone keeps earlier operations out."""
    start = cs.event(1, cs.STACK, "CREATE_IN_PROGRESS", None)
    done = cs.event(2, cs.STACK, "CREATE_COMPLETE", None)
    lines, _, final = stream([[[done, start, HORIZON, cs.event(-9, cs.STACK, "CREATE_COMPLETE", None)]]])
    assert final == "CREATE_COMPLETE" and len(lines) == 2


def test_elapsed_time_reads_as_minutes_and_seconds():
    assert [elapsed(s) for s in (0, 59.9, 61, 3600)] == ["  0:00", "  0:59", "  1:01", " 60:00"]
