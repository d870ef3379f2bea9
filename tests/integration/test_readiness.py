"""Passive readiness: 503 (or no connection) until a healthy target registers, then steady 200s.

The wait runs once per session (the `readiness` fixture, whose timeline is in the smoke report);
this test turns its verdict into a pass or a failure with the diagnosis.
"""
import pytest


def test_target_becomes_ready(readiness, pytestconfig):
    result, error = readiness
    if error is not None:
        pytest.fail(str(error), pytrace=False)
    consecutive = pytestconfig.getoption("consecutive")
    assert [s.status for s in result.timeline.samples[-consecutive:]] == [200] * consecutive
