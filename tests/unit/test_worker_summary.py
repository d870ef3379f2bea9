"""Summary lines gathered on xdist workers travel to the controller (tests/support/worker_summary.py)."""
from types import SimpleNamespace

from tests.support import worker_summary


def test_a_worker_hands_its_lists_to_the_controller():
    worker = SimpleNamespace(workeroutput={})
    worker_summary.send(worker, timings=["a"], lines=["b", "c"])
    finished = SimpleNamespace(workeroutput=worker.workeroutput)
    assert worker_summary.received(finished, "lines") == ["b", "c"]
    assert worker_summary.received(finished, "timings") == ["a"]


def test_without_xdist_nothing_is_sent_and_a_crashed_worker_sent_nothing():
    in_process = SimpleNamespace()
    worker_summary.send(in_process, timings=["a"])
    assert not hasattr(in_process, "workeroutput")
    assert worker_summary.received(SimpleNamespace(), "timings") == []
    assert worker_summary.received(SimpleNamespace(workeroutput={}), "timings") == []
