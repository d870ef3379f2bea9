"""Passive readiness: the load balancer answers 503 until a healthy target registers, then 200.

503 and failed connections mean "not yet" (also between the first 200 and the last of N in a row:
the load balancer's nodes learn of a healthy target one by one). A 502 (or a body cut off mid-way) is a
crash only when it repeats. The ALB's own 502 has causes that hit single requests of healthy targets as
well as crashing ones ("Troubleshoot your Application Load Balancers", HTTP 502: Bad gateway; AWS Knowledge
Center, "How do I troubleshoot Application Load Balancer HTTP 502 errors?"): a target that closes a kept-alive
connection just as the load balancer sends a request on it ("Edit attributes for your Application Load
Balancer", Connection idle timeout), and a deregistering target that closes connections before its
deregistration delay ends, as old tasks do in every rolling deploy ("Edit target group attributes",
Deregistration delay: the client receives a 500-level error). A crashing target answers 502 to every request
that reaches it, so CRASH_REPEATS of them among the last CRASH_WINDOW answers is the verdict; fewer are waited
out. Anything else is a diagnosis, not noise: 504 or no answer means the targets do not answer in time.
"""
import dataclasses
import time

from .http import poll
from .timeline import Sample, Timeline

# "Not yet": 503 (no healthy target yet) and failed connections (DNS not yet settled).
WAITING_ERRORS = {"ConnectionError", "ConnectTimeout"}
# A target that crashed, or one request's bad luck (see above): a verdict only when it repeats.
CRASH_SIGNS = {"502", "ChunkedEncodingError"}
CRASH_REPEATS, CRASH_WINDOW = 3, 10

DIAGNOSES = {
    502: f"targets crashing: the load balancer answered 502 {CRASH_REPEATS} times in {CRASH_WINDOW} polls (a "
         "target reset or closed the connection, or sent a malformed response; a one-off 502 is waited out) - "
         "read the service's task logs and stopped-task reasons",
    504: "targets timing out: the load balancer answered 504 (a target did not answer in time) - "
         "is the application stuck on the database?",
    "ChunkedEncodingError": f"targets crashing: a response was cut off mid-body {CRASH_REPEATS} times in "
                            f"{CRASH_WINDOW} polls (a task stopped while answering) - read the service's task "
                            "logs and stopped-task reasons",
    "ReadTimeout": "targets timing out: no answer within the request timeout - is the application "
                   "stuck on the database?",
    "SSLError": "TLS failed: is the certificate valid for this host name (the load balancer's own "
                "DNS name is not on it), and does the URL's port speak HTTPS?",
    400: "the application answered 400 to GET /: Django answers 400 to a Host header that is not in "
         "ALLOWED_HOSTS (DisallowedHost) - add the load balancer's DNS name, or the domain pointing at it, to "
         "ALLOWED_HOSTS in the settings the tasks run",
    301: "the load balancer redirects HTTP to HTTPS (the stack has a CertificateArn): pass "
         "--public-url https://<the certificate's domain>",
}


# Where the suite shows a NotReady diagnosis: once, so failures and skips point there.
IN_THE_REPORT = "see NOT READY at the top of the smoke report"


class NotReady(AssertionError):
    def __init__(self, diagnosis: str, timeline: Timeline):
        super().__init__(f"{diagnosis}\n  status timeline: {timeline.summary()}")
        self.diagnosis = diagnosis
        self.timeline = timeline


@dataclasses.dataclass
class Readiness:
    timeline: Timeline
    first_ok: float   # clock time the first 200 came back
    interval: float

    @property
    def waited(self) -> float:
        return self.first_ok - self.timeline.started


def timing_problems(*, deadline, interval, consecutive, timeout, progress_every=0.0) -> list[str]:
    """Option values that would make a wait meaningless or endless."""
    problems = [f"{name} must be a positive number of seconds, not {value:g}"
                for name, value in (("--ready-timeout", deadline), ("--poll-interval", interval),
                                    ("--request-timeout", timeout))
                if value is not None and value <= 0]
    if consecutive < 1:
        problems.append(f"--consecutive must be at least 1, not {consecutive}")
    if progress_every < 0:
        problems.append(f"--progress-every must be 0 (a line per poll) or more seconds, not {progress_every:g}")
    return problems


def _waiting(sample: Sample) -> bool:
    return sample.status == 503 or sample.error in WAITING_ERRORS


def _crashing(timeline: Timeline) -> bool:
    recent = timeline.samples[-CRASH_WINDOW:]
    return sum(sample.label in CRASH_SIGNS for sample in recent) >= CRASH_REPEATS


def _diagnose(sample: Sample, url: str) -> str:
    key = sample.status if sample.status is not None else sample.error
    return DIAGNOSES.get(key, f"unexpected {sample.label} from {url} (only 200, 503 or connection "
                              "errors are expected): is this todobackend's load balancer?")


def _deadline_diagnosis(timeline: Timeline, url: str, deadline: float, consecutive: int) -> str:
    if all(sample.status is None for sample in timeline.samples):
        return (f"never reached {url} in {deadline:g} s, only connection errors: wrong URL, DNS not "
                "yet propagated, or the load balancer's security group?")
    if any(sample.status == 200 for sample in timeline.samples):
        return (f"no {consecutive} 200s in a row from {url} within {deadline:g} s: targets keep "
                "failing their health checks (ECS service events and target health say why)")
    return (f"no 200 from {url} within {deadline:g} s: the target group never got a healthy target "
            "(ECS service events and target health say why)")


def _polls(http, url, interval, timeout, timeline, sleep, progress, deadline):
    """One sample per `interval` s, however long each request took; `progress(timeline, deadline)` after each."""
    while True:
        sent = timeline.now()
        sample = poll(http, url, timeout, timeline)
        if progress is not None:
            progress(timeline, deadline)
        yield sample
        sleep(max(0.0, sent + interval - timeline.now()))


def _elapsed(timeline: Timeline) -> float:
    return timeline.now() - timeline.started


def wait_until_ready(http, url: str, *, deadline: float, interval: float, consecutive: int,
                     timeout: float, timeline: Timeline = None, sleep=time.sleep, progress=None) -> Readiness:
    """Poll `url` every `interval` s until `consecutive` 200s in a row; raise NotReady otherwise.

    `deadline` bounds the whole wait, the `consecutive` 200s included.
    """
    timeline = timeline or Timeline()
    first_ok, streak = None, 0
    for sample in _polls(http, url, interval, timeout, timeline, sleep, progress, deadline):
        if sample.status == 200:
            first_ok = first_ok or timeline.now()
            streak += 1
            if streak >= consecutive:
                return Readiness(timeline, first_ok, interval)
            continue
        streak = 0
        one_off = sample.label in CRASH_SIGNS and not _crashing(timeline)
        if not (_waiting(sample) or one_off):
            raise NotReady(_diagnose(sample, url), timeline)
        if _elapsed(timeline) >= deadline:
            raise NotReady(_deadline_diagnosis(timeline, url, deadline, consecutive), timeline)


def wait_for_status(http, url: str, status: int, *, deadline: float, interval: float, timeout: float,
                    timeline: Timeline = None, sleep=time.sleep, progress=None) -> Timeline:
    """Poll `url` until it answers `status`; raise NotReady with the timeline after `deadline` s."""
    timeline = timeline or Timeline()
    for sample in _polls(http, url, interval, timeout, timeline, sleep, progress, deadline):
        if sample.status == status:
            return timeline
        if _elapsed(timeline) >= deadline:
            raise NotReady(f"no {status} from {url} within {deadline:g} s", timeline)
