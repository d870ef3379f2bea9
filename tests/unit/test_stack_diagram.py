"""The stack diagram in docs/stack.md: current with stack.yml, drawn from what the template says (a resource added
to any section shows up without editing the tool), and valid Mermaid, as Mermaid itself parses it."""
import re

import mermaidx
import pytest
from cfnlint.decode import decode

from tests.support import markdown
from tests.support.template import STACK
from tools import stack_diagram

MERMAID_ERROR = r"Parse error|Lexical error"


def parts(block: str) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """The diagram's sections (title -> the resource names drawn or listed in it) and its arrows."""
    sections, title = {}, None
    for line in block.splitlines():
        if opening := re.match(r'\s*subgraph \w+\["(.*)"\]$', line):
            title = opening.group(1)
            sections[title] = []
        elif node := re.match(r'\s+\w+\["(.*)"\]$', line):
            sections[title] += [re.sub(r" <i>.*", "", name) for name in node.group(1).split("<br/>")
                                if not name.startswith("<i>")]
    return sections, re.findall(r"^\s*(\w+) --> (\w+)$", block, flags=re.M)


def mermaid(block: str) -> str:
    """The SVG Mermaid draws from a ```mermaid block; Mermaid's own error if it cannot."""
    return mermaidx.render(block.removeprefix("```mermaid\n").removesuffix("```")).svg()


def test_the_diagram_in_the_docs_is_current():
    page = stack_diagram.PAGE.read_text()
    assert stack_diagram.with_diagram(page, stack_diagram.diagram()) == page, "run: python tools/stack_diagram.py"


def test_check_mode_fails_on_a_stale_diagram(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "stack.md"
    stale.write_text(f"intro\n{stack_diagram.START}\n```mermaid\nflowchart TB\n```\n{stack_diagram.END}\nrest\n")
    monkeypatch.setattr(stack_diagram, "PAGE", stale)
    assert stack_diagram.main(["--check"]) == 1
    assert "stale; run python tools/stack_diagram.py" in capsys.readouterr().err
    assert stack_diagram.main([]) == 0
    assert stack_diagram.main(["--check"]) == 0
    assert stale.read_text().startswith(f"intro\n{stack_diagram.START}\n```mermaid\nflowchart TB\n  subgraph ")
    assert stale.read_text().endswith(f"```\n{stack_diagram.END}\nrest\n")


def test_missing_markers_are_refused():
    with pytest.raises(SystemExit, match="markers"):
        stack_diagram.with_diagram("no markers here\n", "```mermaid\n```")


def test_every_resource_is_in_its_concern_and_the_deploy_order_is_drawn_without_implied_arrows():
    sections, arrows = parts(stack_diagram.diagram())
    assert list(sections) == ["Network access", "Database and secrets", "Load balancer", "Cluster capacity",
                              "Application", "Deployment tasks"]
    resources = list(decode(str(STACK))[0]["Resources"])
    assert sorted(name for names in sections.values() for name in names) == sorted(resources)
    assert "ApplicationDatabase" in sections["Database and secrets"]
    assert "ApplicationLoadBalancerHttpListener" in sections["Load balancer"]
    assert "ApplicationCapacityReady" in sections["Cluster capacity"]
    assert {"ApplicationLogGroup", "ApplicationService"} <= set(sections["Application"])
    assert {"MigrateTask", "EcsTaskRunner"} <= set(sections["Deployment tasks"])
    assert {
        ("ApplicationAutoscaling", "ApplicationClusterCapacityProviders"),
        ("ApplicationClusterCapacityProviders", "ApplicationCapacityReady"),
        ("ApplicationCapacityReady", "MigrateTask"),
        ("ApplicationDatabase", "MigrateTask"),
        ("MigrateTask", "ApplicationService"),
        ("ApplicationLoadBalancerHttpListener", "ApplicationService"),
    } <= set(arrows)
    # The service's own DependsOn on the capacity and the log group follows from MigrateTask's.
    assert not {("ApplicationAutoscaling", "ApplicationService"), ("ApplicationLogGroup", "ApplicationService"),
                ("ApplicationAutoscaling", "MigrateTask")} & set(arrows)


def test_a_resource_added_to_the_template_is_placed_by_its_section_and_its_depends_on(tmp_path):
    """What a branch adding a step like the capacity drain does (a custom resource in the capacity section that
    MigrateTask waits for, its function with the deployment tasks): no edit of the tool."""
    text = STACK.read_text()
    capacity_ready = "  ApplicationCapacityReady:\n    Type: AWS::CloudFormation::WaitCondition\n"
    step = ("  ApplicationCapacityWarmup:\n    Type: AWS::CloudFormation::CustomResource\n"
            "    DependsOn: ApplicationClusterCapacityProviders\n    Properties:\n"
            "      ServiceToken: !GetAtt EcsCapacityWarmer.Arn\n"
            "      AutoScalingGroupName: !Ref ApplicationAutoscaling\n")
    function = ("  EcsCapacityWarmer:\n    Type: AWS::Lambda::Function\n    Properties:\n"
                "      Handler: index.handler\n      Runtime: python3.14\n      Role: !GetAtt EcsTaskRunnerRole.Arn\n"
                "      Code:\n        ZipFile: pass\n\n")
    migrate_task = "  MigrateTask:\n    Type: AWS::CloudFormation::CustomResource\n"
    assert text.count(capacity_ready) == text.count(migrate_task) == 1
    text = text.replace(capacity_ready, step + capacity_ready).replace(migrate_task, function + migrate_task)
    text = re.sub(r"(  MigrateTask:\n(?:    .*\n)*?    DependsOn:\n)", r"\1      - ApplicationCapacityWarmup\n", text)
    copy = tmp_path / "stack.yml"
    copy.write_text(text)

    block = stack_diagram.diagram(copy)
    sections, arrows = parts(block)
    assert "ApplicationCapacityWarmup" in sections["Cluster capacity"]
    assert "EcsCapacityWarmer" in sections["Deployment tasks"]
    assert {("ApplicationClusterCapacityProviders", "ApplicationCapacityWarmup"),
            ("ApplicationCapacityWarmup", "MigrateTask")} <= set(arrows)
    assert 'ApplicationCapacityWarmup["ApplicationCapacityWarmup<br/><i>CustomResource</i>"]' in block


SMALL = """\
Resources:
  # ----------
  # {title}. Why it is here.
  # ----------
  First:
    Type: AWS::CloudFormation::WaitConditionHandle
    DependsOn: Second
  Second:
    Type: AWS::CloudFormation::WaitConditionHandle
    DependsOn: {second_depends_on}
"""


def small_stack(tmp_path, text: str):
    path = tmp_path / "stack.yml"
    path.write_text(text)
    return path


def test_a_resource_outside_every_section_is_refused_with_where_it_is(tmp_path):
    stack = small_stack(tmp_path, "Resources:\n  Lost:\n    Type: AWS::SNS::Topic\n" + SMALL.format(
        title="Later", second_depends_on="[]").removeprefix("Resources:\n"))
    with pytest.raises(SystemExit, match=r"stack.yml:2: Lost is under no section banner"):
        stack_diagram.diagram(stack)


def test_a_dependency_circle_is_refused_and_named(tmp_path):
    stack = small_stack(tmp_path, SMALL.format(title="Loop", second_depends_on="First"))
    with pytest.raises(SystemExit, match=r"depend on each other in a circle \((First -> Second|Second -> First)"):
        stack_diagram.diagram(stack)


def test_the_page_holds_one_diagram_that_mermaid_draws_with_every_resource():
    blocks = markdown.code_blocks(stack_diagram.PAGE.read_text(), "mermaid")
    assert len(blocks) == 1
    svg = mermaid(f"```mermaid\n{blocks[0]}```")
    assert all(name in svg for name in decode(str(STACK))[0]["Resources"])


def test_a_section_title_with_quotes_and_brackets_is_escaped_for_mermaid(tmp_path):
    stack = small_stack(tmp_path, SMALL.format(title='The "odd" <b>one</b> & more', second_depends_on="[]"))
    block = stack_diagram.diagram(stack)
    assert 'subgraph section_1["The #quot;odd#quot; #lt;b#gt;one#lt;/b#gt; #amp; more"]' in block
    assert "<b>" not in mermaid(block)


BREAKAGES = {
    "a subgraph left open": lambda block: block.replace("\n  end\n", "\n", 1),
    "end as a node id": lambda block: re.sub(r"\bMigrateTask\b", "end", block),
    "a quote inside a label": lambda block: re.sub(r'(subgraph \w+\["\w+)', r'\1"', block, count=1),
    "a one-dash arrow": lambda block: block.replace(" --> ", " -> ", 1),
}


@pytest.mark.parametrize("breakage", BREAKAGES.values(), ids=BREAKAGES.keys())
def test_mermaid_refuses_the_diagram_broken(breakage):
    """The validity check can fail: the generated diagram, broken in ways a generator could break it."""
    block = stack_diagram.diagram()
    broken = breakage(block)
    assert broken != block
    with pytest.raises(RuntimeError, match=MERMAID_ERROR):
        mermaid(broken)
