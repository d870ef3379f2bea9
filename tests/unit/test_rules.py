"""The project's cfn-lint rules: each fires exactly where its bad fixture says, and nowhere else.

A fixture marks each line a rule must report with `# expect: <rule id>`; good fixtures have no
marks. Lint runs from an empty directory so the repository's .cfnlintrc cannot change the result.
"""
import functools
import pathlib
import re

import pytest
from cfnlint.api import lint
from cfnlint.config import ConfigMixIn, ManualArgs
from cfnlint.decode.decode import decode_str
from cfnlint.helpers import load_plugins
from cfnlint.rules import Rules
from cfnlint.rules.errors import RuleError
from cfnlint.runner import run_template_by_data

from tests.support.template import ROOT, STACK

RULES_DIR = ROOT / "rules"
FIXTURES = pathlib.Path(__file__).parent / "rule_fixtures"
PROJECT_ID = re.compile(r"^[EW]9\d{3}$")
EXPECT = re.compile(r"#\s*expect:\s*(.+)$")

PROJECT_RULES = sorted(load_plugins(str(RULES_DIR)), key=lambda rule: rule.id)
FIXTURE_FILES = sorted(FIXTURES.glob("*.yml"))


@functools.lru_cache(maxsize=None)
def project_rules():
    """The project rules alone, loaded once, and E0002, which reports a rule that raised.

    cfn-lint's api.lint() would load its ~300 built-in rules and their schemas on every call (about
    a second) and run them all; only the project rules' matches are asked for here.
    """
    rules = Rules.create_from_directory(str(RULES_DIR))
    rules.register(RuleError())
    return rules


def project_lint(text):
    """The project rules' matches on a template, failing if any rule raised an exception (E0002)."""
    template, errors = decode_str(text)
    config = ConfigMixIn(**ManualArgs(regions=["us-east-1"]))  # reads .cfnlintrc from here, as lint() does
    matches = errors or ([] if template is None else list(run_template_by_data(template, config, project_rules())))
    crashes = [m.message for m in matches if m.rule.id == "E0002"]
    assert not crashes
    return [m for m in matches if PROJECT_ID.match(m.rule.id)]


def project_matches(text):
    return {(m.rule.id, m.linenumber) for m in project_lint(text)}


def expected_matches(text):
    return {
        (rule_id.strip(), number)
        for number, line in enumerate(text.splitlines(), start=1)
        for found in EXPECT.findall(line)
        for rule_id in found.split(",")
    }


@pytest.fixture
def outside_the_repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("fixture", FIXTURE_FILES, ids=lambda path: path.stem)
def test_rules_report_exactly_the_marked_lines(fixture, outside_the_repo):
    text = fixture.read_text()
    assert project_matches(text) == expected_matches(text)


@pytest.mark.parametrize("rule", PROJECT_RULES, ids=lambda rule: rule.id)
def test_each_rule_has_a_bad_fixture_it_fires_on_and_a_good_one(rule):
    bad, good = FIXTURES / f"{rule.id}_bad.yml", FIXTURES / f"{rule.id}_good.yml"
    assert good.is_file(), f"missing {good.name}"
    assert {rule_id for rule_id, _ in expected_matches(bad.read_text())} >= {rule.id}
    assert not expected_matches(good.read_text())


def module_of(rule):
    """The rule's module globals: cfn-lint loads rule files by path, outside sys.modules."""
    return type(rule).match.__globals__


@pytest.mark.parametrize("rule", PROJECT_RULES, ids=lambda rule: rule.id)
def test_each_rule_states_its_lesson_and_source(rule):
    module = module_of(rule)
    assert PROJECT_ID.match(rule.id)
    assert rule.shortdesc and rule.description
    assert rule.source_url.startswith("https://docs.aws.amazon.com/")
    assert module["__doc__"].startswith(f"{rule.id}: ")
    assert rule.source_url.split("#")[0] in module["__doc__"]
    assert pathlib.Path(module["__file__"]).name.startswith(f"{rule.id}_")


def test_one_rule_per_file():
    rule_files = sorted(p.name for p in RULES_DIR.glob("[A-Za-z1-9]*.py"))
    assert rule_files == sorted(pathlib.Path(module_of(rule)["__file__"]).name for rule in PROJECT_RULES)


def test_stack_is_clean_under_all_rules(monkeypatch):
    # From the repository root, with its .cfnlintrc (regions, informational checks, rules/).
    monkeypatch.chdir(ROOT)
    matches = lint(STACK.read_text(), config=ManualArgs(append_rules=[str(RULES_DIR)]))
    assert [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches] == []


@pytest.mark.parametrize("old, new, rule_id", [
    ("      Family: todobackend\n", "", "W9001"),
    ("      - ApplicationLoadBalancerHttpListener\n", "", "E9002"),
    ("          Essential: false\n", "", "E9003"),
    ("      FromPort: 32768\n      ToPort: 60999\n      GroupId: !Ref ApplicationAutoscalingSecurityGroup",
     "      FromPort: 8000\n      ToPort: 8000\n      GroupId: !Ref ApplicationAutoscalingSecurityGroup", "E9004"),
    # Not a regression: MigrateTask still follows the log group, which its task definition Refs.
    ("      - ApplicationLogGroup\n    Properties:\n      ServiceToken", "    Properties:\n      ServiceToken", None),
    ("                Resource: !GetAtt EcsTaskRunnerLogGroup.Arn",
     "                Resource: arn:aws:logs:*:*:log-group:/elsewhere:*", "W9006"),
    ("      ServiceTimeout: 360\n", "      ServiceTimeout: 120\n", "E9007"),
    ("      Handler: index.handler\n", "      Handler: index.main\n", "E9008"),
    ("            - Name: MYSQL_USER\n              Value: todobackend\n",
     "            - Name: MYSQL_PASSWORD\n              Value: hunter2\n", "E9009"),
    ("      - MigrateTask\n", "", "E9010"),
    # The instances' declared HTTPS egress removed: the standalone rule to the database drops the default.
    ("      SecurityGroupEgress:\n        - Description: AWS APIs, ECR layers in S3, dnf repositories\n"
     "          IpProtocol: tcp\n          FromPort: 443\n          ToPort: 443\n          CidrIp: 0.0.0.0/0\n", "", "E9012"),
    ("          MemoryReservation: 64\n", "          MemoryReservation: 5\n", "E9013"),
    ("          HttpPutResponseHopLimit: 1\n", "          HttpPutResponseHopLimit: 2\n", "E9014"),
])
def test_rules_catch_a_regression_in_the_stack(old, new, rule_id, outside_the_repo):
    """Each lesson broken in stack.yml itself is caught by its rule, and only by it."""
    text = STACK.read_text()
    assert old in text
    reported = {found for found, _ in project_matches(text.replace(old, new, 1))}
    assert reported == ({rule_id} if rule_id else set())


def test_one_off_commands_are_configurable(outside_the_repo):
    """`-x E9003:commands=...` replaces the list: collectstatic is then only caught if awaited."""
    text = (FIXTURES / "E9003_bad.yml").read_text()
    config = ManualArgs(regions=["us-east-1"], append_rules=[str(RULES_DIR)],
                        configure_rules={"E9003": {"commands": ["flyway"]}})
    reported = {(m.rule.id, m.linenumber) for m in lint(text, config=config) if m.rule.id == "E9003"}
    assert reported == {("E9003", 27)}  # seed, which web waits for; collectstatic no longer


@pytest.mark.parametrize("name, secret", [
    ("MYSQL_PASSWORD", True), ("DB_PASSWD", True), ("SECRET_KEY", True), ("SECRET_KEY_BASE", True),
    ("API_TOKEN", True), ("STRIPE_API_KEY", True), ("AWS_SECRET_ACCESS_KEY", True), ("JWT_PRIVATE_KEY", True),
    ("password", True), ("APP_KEY", True), ("APP_KEYS", True), ("JWT_SECRET", True),
    ("database__connection__password", True), ("APP_KEY_ID", False), ("APP_NAME", False),
    ("PASSWORD_MIN_LENGTH", False), ("DB_SECRET_ARN", False), ("DB_PASSWORD_FILE", False),
    ("SECRET_NAME", False), ("CACHE_KEY_PREFIX", False), ("MONKEY_MODE", False), ("TOKENIZER", False),
    ("KEYCLOAK_REALM", False), ("PUBLIC_KEY", False), ("", False),
])
def test_secret_names_are_matched_by_whole_segments(name, secret):
    e9009 = next(rule for rule in PROJECT_RULES if rule.id == "E9009")
    assert module_of(e9009)["is_secret_name"](name) is secret


def test_a_log_group_named_after_the_generated_function_name_gets_a_fix_without_a_cycle(outside_the_repo):
    """DependsOn would close a cycle (the group already Refs the function): advise naming the function."""
    text = (FIXTURES / "W9006_bad.yml").read_text()
    line = next(number for number, text_line in enumerate(text.splitlines(), start=1) if "${Generated}" in text_line)
    [message] = [m.message for m in project_lint(text) if (m.rule.id, m.linenumber) == ("W9006", line)]
    assert "set Generated's FunctionName" in message
    assert "must DependsOn" not in message
