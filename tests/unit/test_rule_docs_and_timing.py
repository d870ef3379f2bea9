"""docs/lint-rules.md's rules table is generated from rules/, and the lint timing report runs.

The report's numbers on stack.yml come from tools/benchmark.py; here it runs once on a small template.
"""
import re

import pytest

from tests.support.template import ROOT
from tools import lint_timing, rules_table

SMALL_TEMPLATE = ROOT / "tests" / "unit" / "rule_fixtures" / "E9003_bad.yml"


def test_the_rules_table_in_the_docs_is_current():
    page = rules_table.PAGE.read_text()
    assert rules_table.with_table(page, rules_table.table()) == page, "run: python tools/rules_table.py"


def test_table_lists_every_rule_with_its_link_and_keeps_angle_brackets_visible():
    rows = rules_table.table().splitlines()[2:]
    assert [row.split("]")[0].lstrip("| [") for row in rows] == [
        "E9002", "E9003", "E9004", "E9005", "E9007", "E9008", "E9009", "E9010", "E9012", "E9013", "E9014", "W9001",
        "W9006", "W9011", "W9015"]
    assert all(re.match(r"\| \[[EW]9\d{3}\]\(https://docs\.aws\.amazon\.com/", row) for row in rows)
    assert "<" not in "".join(rows) and "/aws/lambda/&lt;FunctionName>" in "".join(rows)


def test_check_mode_fails_on_a_stale_table(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "lint-rules.md"
    stale.write_text(f"intro\n{rules_table.START}\n| old |\n{rules_table.END}\nrest\n")
    monkeypatch.setattr(rules_table, "PAGE", stale)
    assert rules_table.main(["--check"]) == 1
    assert "stale" in capsys.readouterr().err
    assert rules_table.main([]) == 0
    assert rules_table.main(["--check"]) == 0
    assert stale.read_text().startswith(f"intro\n{rules_table.START}\n| id | catches | why |")
    assert stale.read_text().endswith(f"{rules_table.END}\nrest\n")


def test_missing_markers_are_refused():
    with pytest.raises(SystemExit, match="markers"):
        rules_table.with_table("no markers here\n", "| table |")


def test_lint_timing_prints_both_configurations_and_the_rules_cost(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the script changes directory; monkeypatch restores it
    assert lint_timing.main(["--runs", "1", "--template", str(SMALL_TEMPLATE)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"cfn-lint alone: \d+\.\d{3} s", out)
    assert re.search(r"with project rules: \d+\.\d{3} s", out)
    assert re.search(r"project rules checks: [\d.]+ ms \(E9002 [\d.]+, .*[EW]9\d{3} [\d.]+ ms\)", out)
