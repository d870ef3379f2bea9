"""checkov's waivers (tools/checkov_waivers.py): on stack.yml, and on small templates that break each promise.

Runs in the checkov env (requirements/checkov.txt): checkov's pins conflict with the unit env's."""
import pytest

from tools import checkov_waivers

REASON = "A fact about this cluster that makes the finding acceptable, and the condition it holds under"


def cluster(tmp_path, *, insights=False, waiver=None, comment_skip=False):
    """One ECS cluster: without Container Insights it fails CKV_AWS_65 and nothing else."""
    lines = ["Resources:", "  Cluster:", "    Type: AWS::ECS::Cluster"]
    if waiver is not None:
        lines += ["    Metadata:", "      checkov:", "        skip:", "          - id: CKV_AWS_65"]
        if waiver:
            lines.append(f"            comment: {waiver}")
    lines += ["    Properties:"]
    if comment_skip:
        lines.append("      # checkov:skip=CKV_AWS_65: a reason written where the Metadata waivers are not")
    lines += ["      ClusterSettings:", "        - Name: containerInsights",
              f"          Value: {'enabled' if insights else 'disabled'}"]
    path = tmp_path / "template.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_every_waiver_in_stack_yml_has_a_reason_and_waives_a_check_that_fails_without_it():
    wrong, found = checkov_waivers.problems()
    assert not wrong, "\n".join(wrong)
    assert all(waiver.reason for waiver in found) and len(found) >= 1


def test_a_waived_finding_with_its_reason_passes(tmp_path):
    wrong, [waiver] = checkov_waivers.problems(cluster(tmp_path, waiver=REASON))
    assert (wrong, waiver.key, waiver.reason) == ([], ("CKV_AWS_65", "Cluster"), REASON)


@pytest.mark.parametrize("comment, expected", [
    (None, "has no reason"),
    ("''", "has no reason"),
    ("No comment provided", "has no reason"),  # what checkov reports for a waiver without comment
    ("accepted risk, not needed here", "too short to state the fact"),
    ("|\n              " + REASON + "\n              and a second line", "over several lines"),
])
def test_a_waiver_without_a_one_line_reason_is_refused(tmp_path, comment, expected):
    path = cluster(tmp_path, waiver=comment if comment is not None else "")
    wrong, _ = checkov_waivers.problems(path)
    assert len(wrong) == 1 and wrong[0].startswith("Cluster: the waiver of CKV_AWS_65 ") and expected in wrong[0]


def test_a_waiver_of_a_check_that_passes_is_stale(tmp_path):
    wrong, _ = checkov_waivers.problems(cluster(tmp_path, insights=True, waiver=REASON))
    assert wrong == ["Cluster: stale waiver of CKV_AWS_65: the check passes without it, remove the waiver"]


def test_a_finding_that_is_neither_fixed_nor_waived_is_reported(tmp_path):
    wrong, found = checkov_waivers.problems(cluster(tmp_path))
    assert found == [] and wrong == [
        "Cluster: CKV_AWS_65 fails: fix it, or waive it in the resource's Metadata with the reason"]


def test_a_comment_skip_is_not_a_waiver(tmp_path):
    wrong, _ = checkov_waivers.problems(cluster(tmp_path, comment_skip=True))
    assert len(wrong) == 1 and "CKV_AWS_65 is skipped, but not by a Metadata waiver" in wrong[0]


def test_the_command_names_each_problem_and_fails(tmp_path, capsys):
    assert checkov_waivers.main([str(cluster(tmp_path, insights=True, waiver=REASON))]) == 1
    assert "stale waiver of CKV_AWS_65" in capsys.readouterr().out
    assert checkov_waivers.main([str(cluster(tmp_path, waiver=REASON))]) == 0
    assert "checkov waivers: 1," in capsys.readouterr().out
