"""stack.yml's user data as bash runs it, with fake `aws`, `cfn-signal`, `curl` and `dnf`.

Each test is one situation an instance meets at boot (first deploy, update, AWS answering badly) and
asserts the signals it sends, in order: the group's CreationPolicy/rolling update and the
ApplicationCapacityReady wait condition act on nothing else.
"""
import re
import subprocess

import botocore.session
import jmespath
import pytest

from tests.support.template import resource

HANDLE = "https://wait.example/handle?X-Amz-Signature=x&y=z"
FAIL = "!fail"  # the fake aws exits 255 with a throttling error for this answer
ATTACHED = "capacity-x\tUPDATE_COMPLETE"
NO_PROVIDER = "None\tNone"

FAKE_AWS = r"""#!/bin/bash
# Builtins only (the hold and the draining wait call it up to 150 times): options, counter, answer files.
echo "aws $*" >> {log}
dir={answers}/$2
options=" $(<"$dir/options") "
for word in "${{@:3}}"; do
  if [[ $word == --* && $options != *" $word "* ]]; then echo "Unknown options: $word" >&2; exit 252; fi
done
n=$(( $(<"$dir/calls") + 1 )); echo "$n" > "$dir/calls"
count=$(<"$dir/count")
answer=$(<"$dir/$(( n < count ? n : count ))")
if [[ $answer == '!fail' ]]; then
  echo "An error occurred (ThrottlingException) when calling the $2 operation: Rate exceeded" >&2
  exit 255
fi
printf '%s\n' "$answer"
"""


def run_user_data(tmp_path, clusters, membership=("capacity-x",), draining=("0",)):
    """Run the user data to the end of its detached job; return the calls it made, in order.

    Each answer list feeds one `aws ecs` command in turn, its last answer repeated."""
    log = tmp_path / "calls"
    answers = {"describe-clusters": clusters, "describe-container-instances": membership,
               "list-container-instances": draining}
    for command, texts in answers.items():
        folder = tmp_path / "answers" / command
        folder.mkdir(parents=True)
        (folder / "options").write_text(" ".join(cli_options(command)))
        (folder / "calls").write_text("0")
        (folder / "count").write_text(str(len(texts)))
        for number, text in enumerate(texts, 1):
            (folder / str(number)).write_text(text)
    fakes = {
        "aws": FAKE_AWS.format(log=log, answers=tmp_path / "answers"),
        "dnf": "#!/bin/bash\nexit 0",
        "cfn-signal": f'#!/bin/bash\necho "cfn-signal $*" >> {log}',
        "curl": '#!/bin/bash\necho \'{"Cluster":"c","ContainerInstanceArn":"arn:aws:ecs:r:1:container-instance/c/i1",'
                '"Version":"Amazon ECS Agent - v1.99.0"}\'',
        "hostname": "#!/bin/bash\necho i-test", "chown": "#!/bin/bash\nexit 0",
    }
    for name, body in fakes.items():
        (tmp_path / name).write_text(body + "\n")
        (tmp_path / name).chmod(0o755)
    values = {"AWS::StackName": "s", "AWS::Region": "r", "ApplicationCluster": "c",
              "ApplicationCapacityReadyHandle": HANDLE}
    script = resource("ApplicationLaunchTemplate")["Properties"]["LaunchTemplateData"]["UserData"]["Fn::Base64"][
        "Fn::Sub"]
    # Fn::Sub: ${Name} is a value, ${!Text} the literal ${Text}.
    script = re.sub(r"\$\{([\w:]+)\}", lambda m: values.get(m.group(1), m.group(0)), script).replace("${!", "${")
    for path in ("/opt/aws/bin/", "/etc/ecs/", "/data/public", "/var/log/"):
        assert path in script
        script = script.replace(path, f"{tmp_path}/" if path.endswith("/") else f"{tmp_path}/public")
    (tmp_path / "ecs.config").touch()
    # sleep as a function: no time passes, and no process is started for it (the detached job inherits it).
    subprocess.run(["bash", "-c", "sleep() { :; }\n" + script + "\nwait\n"], env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
                   timeout=30)
    return log.read_text().splitlines()


ECS = botocore.session.get_session().get_service_model("ecs")
GLOBAL_OPTIONS = ["--region", "--output", "--query"]


def operation(command):
    return ECS.operation_model("".join(word.title() for word in command.split("-")))


def cli_options(command):
    """What `aws ecs <command>` accepts: the operation's members in kebab case, and the global options."""
    members = operation(command).input_shape.members
    return GLOBAL_OPTIONS + ["--" + re.sub(r"(?<!^)([A-Z])", r"-\1", name).lower() for name in members]


def queries():
    script = resource("ApplicationLaunchTemplate")["Properties"]["LaunchTemplateData"]["UserData"]["Fn::Base64"][
        "Fn::Sub"]
    calls = re.findall(r"ecs ([a-z-]+) --[^']*?--query '([^']+)'", script, re.DOTALL)
    assert len(calls) == 3
    return calls


@pytest.mark.parametrize("command, query", queries())
def test_each_query_names_fields_of_the_real_response(command, query):
    """A misspelt field makes --query print None, which the script would read as an answer."""
    def fields(node):
        if node["type"] == "field":
            yield node["value"]
        for child in node.get("children", []):
            yield from fields(child)

    known, shapes = set(), [operation(command).output_shape]
    while shapes:
        shape = shapes.pop()
        if shape.type_name == "structure":
            known |= set(shape.members)
            shapes += shape.members.values()
        elif shape.type_name == "list":
            shapes.append(shape.member)
    assert set(fields(jmespath.compile(query).parsed)) <= known


def test_the_fake_aws_refuses_an_option_the_real_one_refuses(tmp_path):
    assert "--cluster" not in cli_options("describe-clusters") and "--clusters" in cli_options("describe-clusters")
    assert "--container-instances" in cli_options("describe-container-instances")


def signals(calls):
    return [call for call in calls if call.startswith("cfn-signal")]


def to_group(call):
    return "--stack s --resource ApplicationAutoscaling --region r" in call


def to_wait_condition(call):
    return call.endswith(f"-i i-test {HANDLE}")


def count(calls, command, before=None):
    end = calls.index(before) if before else len(calls)
    return sum(call.startswith(f"aws ecs {command} ") for call in calls[:end])


# --- first deploy ------------------------------------------------------------------------------------

def test_first_deploy_signals_the_group_then_reports_membership_to_the_wait_condition(tmp_path):
    calls = run_user_data(tmp_path, [NO_PROVIDER, NO_PROVIDER, ATTACHED])
    bootstrapped, ready = signals(calls)
    assert to_group(bootstrapped) and bootstrapped.startswith("cfn-signal -e 0 -r bootstrapped")
    assert to_wait_condition(ready) and ready.startswith("cfn-signal -e 0 -r ECS agent registered in capacity "
                                                        "provider capacity-x after 1 checks")
    assert count(calls, "describe-clusters", before=ready) == 3
    assert all(re.search(r"--clusters? c ", call) for call in calls if call.startswith("aws"))
    assert count(calls, "list-container-instances") == 0, "no draining wait on a first deploy"


def test_a_listed_provider_whose_attachment_still_updates_is_waited_for(tmp_path):
    updating = "capacity-x\tUPDATE_IN_PROGRESS"
    calls = run_user_data(tmp_path, [NO_PROVIDER, updating, updating, ATTACHED])
    bootstrapped, ready = signals(calls)
    assert ready.startswith("cfn-signal -e 0") and to_wait_condition(ready)
    assert count(calls, "describe-clusters", before=ready) == 4
    assert count(calls, "describe-container-instances", before=ready) == 1
    # Membership is asked only once the attachment completed.
    first_membership = next(c for c in calls if c.startswith("aws ecs describe-container-instances"))
    assert count(calls, "describe-clusters", before=first_membership) == 4


def test_a_failed_attachment_fails_the_wait_condition_with_its_status(tmp_path):
    calls = run_user_data(tmp_path, [NO_PROVIDER, "capacity-x\tUPDATE_FAILED"])
    bootstrapped, failed = signals(calls)
    assert failed.startswith("cfn-signal -e 1 -r capacity provider capacity-x: cluster attachmentsStatus "
                             "UPDATE_FAILED") and to_wait_condition(failed)


def test_the_hold_running_out_fails_the_wait_condition_instead_of_signalling_success(tmp_path):
    calls = run_user_data(tmp_path, [NO_PROVIDER])
    bootstrapped, failed = signals(calls)
    assert failed.startswith("cfn-signal -e 1 -r capacity provider not attached within 15 minutes "
                             "(provider None, attachmentsStatus None)") and to_wait_condition(failed)
    assert count(calls, "describe-clusters") == 90
    assert count(calls, "describe-container-instances") == 0, "the agent's job never started"


def test_registered_outside_the_capacity_provider_fails_with_the_reason(tmp_path):
    calls = run_user_data(tmp_path, [NO_PROVIDER, ATTACHED], membership=["None"])
    bootstrapped, failed = signals(calls)
    assert failed.startswith("cfn-signal -e 1 -r registered but not in capacity provider capacity-x "
                             "(capacityProviderName: None)") and to_wait_condition(failed)
    assert count(calls, "describe-container-instances") == 12
    assert "--container-instances arn:aws:ecs:r:1:container-instance/c/i1" in calls[-2]


def test_membership_that_appears_shortly_after_registration_is_accepted(tmp_path):
    calls = run_user_data(tmp_path, [NO_PROVIDER, ATTACHED], membership=[FAIL, "None", "capacity-x"])
    bootstrapped, ready = signals(calls)
    assert ready.startswith("cfn-signal -e 0") and count(calls, "describe-container-instances") == 3


# --- updates: the provider is there ------------------------------------------------------------------

def test_on_updates_the_group_is_signalled_once_the_instance_is_in_the_provider(tmp_path):
    calls = run_user_data(tmp_path, [ATTACHED])
    [ready] = signals(calls)
    assert to_group(ready) and ready.startswith("cfn-signal -e 0 -r ECS agent registered in capacity provider")
    assert count(calls, "describe-clusters") == 1


def test_a_transient_describe_failure_is_retried_not_read_as_a_first_deploy(tmp_path):
    calls = run_user_data(tmp_path, [FAIL, FAIL, ATTACHED])
    [ready] = signals(calls)
    assert to_group(ready) and ready.startswith("cfn-signal -e 0"), "no 'bootstrapped' signal, no wait condition"
    assert count(calls, "describe-clusters") == 3


def test_a_cluster_that_cannot_be_described_fails_the_group_instead_of_guessing(tmp_path):
    calls = run_user_data(tmp_path, [FAIL])
    [failed] = signals(calls)
    assert to_group(failed) and failed.startswith("cfn-signal -e 1 -r could not describe cluster c")
    assert count(calls, "describe-clusters") == 6


def test_an_update_signals_only_once_no_other_instance_drains(tmp_path):
    calls = run_user_data(tmp_path, [ATTACHED], draining=["1", FAIL, "1", "0"])
    [ready] = signals(calls)
    assert to_group(ready) and ready.startswith("cfn-signal -e 0")
    assert count(calls, "list-container-instances", before=ready) == 4
    assert all("--status DRAINING" in c for c in calls if c.startswith("aws ecs list-container-instances"))


def test_an_update_fails_when_another_instance_keeps_draining(tmp_path):
    calls = run_user_data(tmp_path, [ATTACHED], draining=["1"])
    [failed] = signals(calls)
    assert to_group(failed) and failed.startswith("cfn-signal -e 1 -r another container instance was still DRAINING")
    assert count(calls, "list-container-instances") == 150


def test_an_empty_answer_is_no_provider_not_a_listed_one(tmp_path):
    calls = run_user_data(tmp_path, ["", ATTACHED])
    bootstrapped, ready = signals(calls)
    assert bootstrapped.startswith("cfn-signal -e 0 -r bootstrapped") and to_wait_condition(ready)
