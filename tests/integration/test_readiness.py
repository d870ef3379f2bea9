"""Passive readiness: 503 (or no connection) until a healthy target registers, then steady 200s."""


def test_target_becomes_ready(readiness, record_timeline):
    result, error = readiness
    if error is not None:
        record_timeline("readiness", error.timeline)
        raise error
    record_timeline("readiness", result.timeline)
    before = result.timeline.samples[:-1]
    assert {sample.label for sample in before} <= {"503", "200", "ConnectionError", "ConnectTimeout"}
    assert result.timeline.samples[-1].status == 200
