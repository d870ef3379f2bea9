"""Passive readiness: 503 (or no connection) until a healthy target registers, then steady 200s.

The wait runs once per session (the `readiness` fixture). When the target is not ready, its diagnosis and
status timeline are shown once, first in the smoke report; this test fails with a pointer to it, so the run
fails however many other tests skip.
"""
import pytest

from tests.integration.smoke.readiness import IN_THE_REPORT


def test_target_becomes_ready(readiness, target, pytestconfig):
    result, error = readiness
    if error is not None:
        pytest.fail(f"target not ready: {IN_THE_REPORT}", pytrace=False)
    consecutive = pytestconfig.getoption("consecutive")
    assert [s.status for s in result.timeline.samples[-consecutive:]] == [200] * consecutive
