"""tools/benchmark.py, with a stand-in `tox` on PATH that prints what pytest would and exits as told."""
import os
import re
import stat

import pytest

from tools import benchmark

FAKE_TOX = """#!/bin/sh
echo "tox $*" >> "{calls}"
if [ "$3" = "integration" ]; then
    echo "FAILED tests/integration/test_api.py::test_root"; exit 1
fi
cat <<'EOF'
============================= slowest 3 durations ==============================
0.50s call     tests/unit/test_a.py::test_fast
2.25s setup    tests/unit/test_b.py::test_slow[param-1]
0.01s teardown tests/unit/test_a.py::test_fast
============================= 2 passed in 3.10s =============================
EOF
"""


@pytest.fixture
def fake_tox(tmp_path, monkeypatch):
    calls = tmp_path / "calls"
    script = tmp_path / "tox"
    script.write_text(FAKE_TOX.format(calls=calls))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    return calls


def test_each_env_is_timed_and_its_slowest_tests_listed(fake_tox, capsys):
    assert benchmark.main(["--envs", "lint,unit", "--slowest", "2", "--lint-timing-runs", "0"]) == 0
    out = capsys.readouterr().out
    assert fake_tox.read_text().splitlines() == ["tox run -e lint", "tox run -e unit -- --durations=2"]
    assert re.search(r"^\| lint \| \d+\.\d \| \d+\.\d \| ok \|$", out, re.M)
    assert re.search(r"^\| unit \| \d+\.\d \| \d+\.\d \| ok \|$", out, re.M)
    assert re.search(r"^\| total \| \d+\.\d \| \d+\.\d \| \|$", out, re.M)
    unit_lines = [line.split() for line in out.splitlines() if line.startswith("  unit")]
    assert unit_lines == [["unit", "2.25", "s", "setup", "tests/unit/test_b.py::test_slow[param-1]"],
                          ["unit", "0.50", "s", "call", "tests/unit/test_a.py::test_fast"]]


def test_a_failing_env_is_reported_with_its_output_and_fails_the_command(fake_tox, capsys):
    assert benchmark.main(["--envs", "integration", "--lint-timing-runs", "0"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^\| integration \| [\d.]+ \| [\d.]+ \| FAILED \|$", out, re.M)
    assert "integration FAILED; its output ends:\nFAILED tests/integration/test_api.py::test_root" in out
