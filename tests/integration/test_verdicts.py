"""The suite's own verdicts, each proved against a local stand-in that behaves that way."""
import socket
import time
from types import SimpleNamespace

import pytest

from tests.integration.smoke import http as smoke_http
from tests.integration.smoke.progress import ProgressLine
from tests.integration.smoke.readiness import NotReady, timing_problems, wait_for_status, wait_until_ready
from tests.integration.smoke.timeline import Timeline
from tests.integration.standin import CRASHING, HEALTHY, REDIRECTING, SLOW, TRUNCATING, StandIn

pytestmark = pytest.mark.selftest

FAST = {"deadline": 3.0, "interval": 0.1, "timeout": 2.0}


def ready(url, **overrides):
    options = FAST | {"consecutive": 3} | overrides
    return wait_until_ready(smoke_http.session(url), url, **options)


def not_ready(url, **overrides) -> NotReady:
    with pytest.raises(NotReady) as raised:
        ready(url, **overrides)
    return raised.value


def labels(timeline):
    return [sample.label for sample in timeline.samples]


def test_healthy_target_is_ready_after_its_503s(report):
    interval = 0.3
    with StandIn(register_delay=0.5) as standin:
        result = ready(standin.url + "/", interval=interval)
    seen = labels(result.timeline)
    assert seen[0] == "503" and seen[-3:] == ["200"] * 3
    assert set(seen) == {"503", "200"}
    report(f"healthy stand-in: readiness noticed {result.first_ok - standin.registered_at:.2f} s after "
           f"its target registered (poll interval {interval:g} s); timeline {result.timeline.summary()}")


def test_crashing_targets_are_diagnosed_from_502s_that_repeat():
    with StandIn(register_delay=0.3, mode=CRASHING) as standin:
        error = not_ready(standin.url + "/")
    assert error.diagnosis.startswith("targets crashing: the load balancer answered 502 3 times in 10 polls")
    assert labels(error.timeline)[0] == "503" and labels(error.timeline)[-3:] == ["502"] * 3
    assert "status timeline: 503 x" in str(error)


@pytest.mark.parametrize("blips", [1, 2])
def test_a_502_that_does_not_repeat_is_waited_out(blips):
    """A draining target or a keep-alive race: one or two 502s among 503s and 200s, then the target is ready."""
    with StandIn(register_delay=0) as standin:
        modes = iter([CRASHING, HEALTHY, CRASHING][:2 * blips - 1] + [HEALTHY] * 20)
        result = ready_with(standin, lambda poll: setattr(standin, "mode", next(modes)), consecutive=3)
    assert labels(result.timeline).count("502") == blips and labels(result.timeline)[-3:] == ["200"] * 3


def test_one_crashing_target_among_healthy_ones_is_diagnosed_from_its_502s():
    """Round robin over a crashing and a healthy task: 502 and 200 alternate, and the 502s repeat."""
    with StandIn(register_delay=0) as standin:
        with pytest.raises(NotReady) as raised:
            ready_with(standin, lambda poll: setattr(standin, "mode", CRASHING if poll % 2 else HEALTHY))
    assert labels(raised.value.timeline) == ["200", "502", "200", "502", "200", "502"]
    assert raised.value.diagnosis.startswith("targets crashing")


def test_slow_targets_are_diagnosed_from_the_504():
    with StandIn(register_delay=0.3, mode=SLOW, gateway_timeout=0.2) as standin:
        error = not_ready(standin.url + "/")
    assert error.diagnosis.startswith("targets timing out")
    assert labels(error.timeline)[-1] == "504"


def test_a_target_slower_than_the_request_timeout_is_diagnosed_as_timing_out():
    with StandIn(register_delay=0, mode=SLOW, gateway_timeout=2.0) as standin:
        error = not_ready(standin.url + "/", timeout=0.3)
    assert error.diagnosis.startswith("targets timing out")
    assert labels(error.timeline) == ["ReadTimeout"]


def test_a_response_cut_off_mid_body_is_a_diagnosis_not_a_traceback():
    with StandIn(register_delay=0, mode=TRUNCATING) as standin:
        error = not_ready(standin.url + "/")
    assert error.diagnosis.startswith("targets crashing: a response was cut off mid-body")
    assert labels(error.timeline) == ["ChunkedEncodingError"] * 3


def test_every_poll_opens_a_fresh_connection_so_each_can_reach_another_load_balancer_node():
    with StandIn(register_delay=0) as standin:
        result = ready(standin.url + "/", consecutive=4, interval=0.01)
    assert len(result.timeline.samples) == 4 and len(standin.connections) == 4


def test_a_target_that_never_registers_misses_the_deadline_with_its_timeline():
    with StandIn(register_delay=None) as standin:
        error = not_ready(standin.url + "/", deadline=0.5)
    assert "no 200" in error.diagnosis and "within 0.5 s" in error.diagnosis
    assert set(labels(error.timeline)) == {"503"} and len(error.timeline.samples) >= 3
    assert "503 x" in str(error)


def test_an_unreachable_url_is_diagnosed_as_connection_errors_only():
    with socket.socket() as sock:  # a port nobody listens on once the socket closes
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = not_ready(f"http://127.0.0.1:{port}/", deadline=0.3)
    assert error.diagnosis.startswith("never reached") and "only connection errors" in error.diagnosis
    assert set(labels(error.timeline)) == {"ConnectionError"}


def ready_with(standin, between_polls, **overrides):
    """wait_until_ready on the stand-in, calling `between_polls(poll_number)` instead of sleeping."""
    polls = iter(range(1, 10_000))
    options = FAST | {"consecutive": 3} | overrides
    return wait_until_ready(smoke_http.session(standin.url), standin.url + "/",
                            sleep=lambda seconds: between_polls(next(polls)), **options)


def test_a_crash_after_the_first_200_is_still_diagnosed():
    with StandIn(register_delay=0) as standin:
        with pytest.raises(NotReady) as raised:
            ready_with(standin, lambda poll: setattr(standin, "mode", CRASHING))
    assert raised.value.diagnosis.startswith("targets crashing")
    assert labels(raised.value.timeline) == ["200", "502", "502", "502"]


def test_a_503_between_200s_starts_the_count_again():
    with StandIn(register_delay=0) as standin:
        result = ready_with(standin, lambda poll: standin.deregister() if poll == 1 else standin.register())
    assert labels(result.timeline) == ["200", "503", "200", "200", "200"]


def test_a_target_flapping_between_200_and_503_misses_the_deadline():
    with StandIn(register_delay=0) as standin:
        def flap(poll):
            time.sleep(0.02)
            if poll % 2:
                standin.deregister()
            else:
                standin.register()

        with pytest.raises(NotReady) as raised:
            ready_with(standin, flap, deadline=0.3)
    assert raised.value.diagnosis.startswith("no 3 200s in a row")
    assert set(labels(raised.value.timeline)) == {"200", "503"}


def test_an_https_redirect_says_which_url_to_give():
    with StandIn(register_delay=0, mode=REDIRECTING) as standin:
        error = not_ready(standin.url + "/")
    assert "redirects HTTP to HTTPS" in error.diagnosis and "--public-url https://" in error.diagnosis
    assert labels(error.timeline) == ["301"]


def test_a_tls_failure_is_diagnosed_not_waited_out():
    with StandIn(register_delay=0) as standin:  # plain HTTP behind an https:// URL
        error = not_ready(standin.url.replace("http://", "https://") + "/")
    assert error.diagnosis.startswith("TLS failed")
    assert labels(error.timeline) == ["SSLError"]


def test_an_unexpected_status_is_not_mistaken_for_waiting():
    with StandIn(register_delay=0) as standin:
        error = not_ready(standin.url + "/no-such-page")
    assert error.diagnosis.startswith("unexpected 404")
    assert labels(error.timeline) == ["404"]


def test_wait_for_status_returns_once_the_status_appears_and_times_out_otherwise():
    with StandIn(register_delay=0) as standin:
        http = smoke_http.session(standin.url)
        standin.deregister()
        assert labels(wait_for_status(http, standin.url + "/", 503, **FAST)) == ["503"]
        standin.register()
        with pytest.raises(NotReady, match="no 503 from .* within 0.3 s"):
            wait_for_status(http, standin.url + "/", 503, **(FAST | {"deadline": 0.3}))


def test_timing_options_that_would_make_the_wait_meaningless_are_refused():
    assert timing_problems(deadline=300, interval=None, consecutive=3, timeout=10) == []
    assert timing_problems(deadline=0, interval=-1, consecutive=0, timeout=10, progress_every=-5) == [
        "--ready-timeout must be a positive number of seconds, not 0",
        "--poll-interval must be a positive number of seconds, not -1",
        "--consecutive must be at least 1, not 0",
        "--progress-every must be 0 (a line per poll) or more seconds, not -5"]


def test_progress_lines_come_at_the_first_answer_then_every_few_seconds_of_the_wait():
    """A minute of 503s polled every second, on a fake clock: seven lines, not sixty-one."""
    clock = [0.0]
    always_503 = SimpleNamespace(get=lambda url, **kwargs: SimpleNamespace(status_code=503, close=lambda: None))
    lines = []
    with pytest.raises(NotReady):
        wait_until_ready(always_503, "http://alb.example/", deadline=60, interval=1, consecutive=3, timeout=1,
                         timeline=Timeline(clock=lambda: clock[0]),
                         sleep=lambda seconds: clock.__setitem__(0, clock[0] + seconds),
                         progress=ProgressLine(lines.append, "waiting", every=10))
    assert lines == [f"waiting: {n * 10} s of 60 s - 503 x{n * 10 + 1}" for n in range(7)]


def test_progress_lines_keep_their_cadence_when_the_first_answer_is_slow():
    """Polls every 2 s; the first answer takes 0.6 s (a new connection, DNS), later ones 0.2 s. Lines are due at
    0, 10, 20 s into the wait, not 10 s after the previous line was written (which drifts to 0, 12, 22 s)."""
    clock = [0.0]
    durations = iter([0.6] + [0.2] * 100)

    def slow_503(url, **kwargs):
        clock[0] += next(durations)
        return SimpleNamespace(status_code=503, close=lambda: None)

    written = []
    with pytest.raises(NotReady):
        wait_until_ready(SimpleNamespace(get=slow_503), "http://alb.example/", deadline=30, interval=2, consecutive=3,
                         timeout=1, timeline=Timeline(clock=lambda: clock[0]),
                         sleep=lambda seconds: clock.__setitem__(0, clock[0] + seconds),
                         progress=ProgressLine(lambda line: written.append((round(clock[0], 1), line)), "waiting",
                                               every=10))
    assert [at for at, _ in written] == [0.6, 10.2, 20.2, 30.2]
    assert [line.split(": ")[1].split(" of")[0] for _, line in written] == ["1 s", "10 s", "20 s", "30 s"]


def test_a_timeline_shows_how_long_slow_requests_took():
    clock = [0.0]
    timeline = Timeline(clock=lambda: clock[0])
    timeline.record(503, sent=0.0)
    clock[0] = 10.0
    timeline.record(None, "ReadTimeout", sent=0.0)
    clock[0] = 12.0
    timeline.record(None, "ReadTimeout", sent=10.5)
    assert timeline.summary() == "503 x1 (0.0-0.0 s) -> ReadTimeout x2 (0.0-12.0 s; slowest 10.0 s)"
