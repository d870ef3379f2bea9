"""The red lines at the top of the smoke report, cause first.

A reader takes the report's first line for the reason the run failed, so findings are printed by kind: the
CAUSE of a failure (not ready, missing migrations, split databases), then SECURITY (a debug page a stranger can
get), then DATA (items the run may have left behind: a consequence, never the headline). When only consequences
were found, the failed tests' own messages head the report.
"""
CAUSE, SECURITY, DATA = "cause", "security", "data"
ORDER = (CAUSE, SECURITY, DATA)


def finding(kind: str, headline: str, *details: str) -> list:
    """One finding: its kind, its headline and indented detail lines (lists: they travel from xdist workers)."""
    assert kind in ORDER, kind
    return [kind, [headline, *details]]


def in_order(findings: list, failures: list[tuple[str, str]]) -> list[str]:
    """The report's red lines: findings by kind, in the order found within a kind.

    `failures`: (test id, first line of its failure). When every finding is DATA, each failure heads the report
    as `FAILED: ...`, so the first line is never a consequence.
    """
    if findings and all(kind == DATA for kind, _ in findings):
        findings = [finding(CAUSE, f"FAILED: {nodeid}: {message}") for nodeid, message in failures] + findings
    ordered = sorted(findings, key=lambda entry: ORDER.index(entry[0]))
    return [line for _, lines in ordered for line in lines]
