"""tools/deployment/zero_downtime.py against the local stand-in: a command run while the site is probed."""
import sys
import time

import pytest

from tests.integration.standin import StandIn
from tools.deployment import zero_downtime

pytestmark = pytest.mark.selftest


@pytest.fixture
def site():
    with StandIn(register_delay=0.0) as standin:
        yield standin


def test_a_change_the_site_rides_out_passes(site, capsys):
    assert zero_downtime.probed(site.url, lambda: time.sleep(0.6) or 0, interval=0.05) == 0
    assert "0 not 2xx: 200 x" in capsys.readouterr().out


def test_any_non_2xx_during_the_change_fails_it(site, capsys):
    def outage():
        time.sleep(0.2)
        site.deregister()  # no healthy target: the load balancer answers 503
        time.sleep(0.3)
        site.register()
        time.sleep(0.2)
        return 0

    assert zero_downtime.probed(site.url, outage, interval=0.05) == 1
    assert "-> 503 x" in capsys.readouterr().out


def test_the_commands_own_failure_is_its_exit_code(site):
    assert zero_downtime.probed(site.url, lambda: 3, interval=0.05) == 3  # e.g. the deploy's guard refused


def test_a_site_that_is_down_before_the_change_is_not_probed(capsys):
    with StandIn(register_delay=None) as standin:  # never registers: 503 throughout
        ran = []
        assert zero_downtime.probed(standin.url, lambda: ran.append(1) or 0, interval=0.05, ready_timeout=0.3) == 1
    assert ran == [] and "the site was not up before the change" in capsys.readouterr().err


def test_the_command_line_runs_the_command_and_plots_the_probe(site, tmp_path, capsys):
    code = zero_downtime.main(["--public-url", site.url, "--interval", "0.05", "--report-dir", str(tmp_path), "--",
                               sys.executable, "-c", "import time; time.sleep(0.5)"])
    assert code == 0
    assert (tmp_path / zero_downtime.PLOT).stat().st_size > 0
