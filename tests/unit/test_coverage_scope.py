"""Which unit tests coverage traces (tests/unit/conftest.py), and that --no-cov partial runs still work."""
from types import SimpleNamespace

from tests.unit import conftest


class Item:
    def __init__(self, *fixturenames):
        self.fixturenames, self.markers = list(fixturenames), []

    def add_marker(self, marker):
        self.markers.append(marker.name)


def options(no_cov):
    return SimpleNamespace(getoption=lambda name, default=None: {"no_cov": no_cov}.get(name, default))


def test_only_tests_that_load_the_handler_are_traced():
    handler, fast_handler, other = Item("task_runner", "aws"), Item("fast_response_task_runner"), Item("tmp_path")
    conftest.pytest_collection_modifyitems(options(no_cov=False), [handler, fast_handler, other])
    assert (handler.markers, fast_handler.markers, other.markers) == ([], [], ["no_cover"])


def test_with_no_cov_nothing_is_marked_because_pytest_cov_has_nothing_to_pause():
    other = Item("tmp_path")
    conftest.pytest_collection_modifyitems(options(no_cov=True), [other])
    assert other.markers == []
