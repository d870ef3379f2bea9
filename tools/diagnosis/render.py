"""The report: a verdict line first, then the problems (most likely first), then the evidence they rest on.

Both formats go through masking.masked() as their last step, so nothing reaches the terminal unmasked.
"""
import json

from tools.diagnosis.causes import current_events, reservation
from tools.diagnosis.masking import mask, masked


def verdict(evidence, findings) -> str:
    stack = evidence["stack"]
    where = f"stack {stack['name']} ({stack['region']}): {stack['status']}"
    if findings:
        more = f"; {len(findings) - 1} more problem(s) below" if len(findings) > 1 else ""
        return f"PROBLEM: {findings[0]['title']} [{where}{more}]"
    seen = [_service_line(service) for service in evidence["services"]]
    gaps = len(evidence["gaps"])
    if gaps:  # what could not be read is not known to be fine (a service that could not be read is not "no service")
        seen.append(f"{gaps} read{'s' if gaps > 1 else ''} failed, see 'not read' below")
    return f"OK: nothing wrong found [{where}; {'; '.join(seen) or 'no service'}]"


def as_json(evidence, findings, seconds, calls) -> str:
    report = {"verdict": verdict(evidence, findings), "problems": findings, "evidence": evidence,
              "seconds": round(seconds, 2), "api_calls": calls}
    return json.dumps(masked(report), indent=2)


def as_text(evidence, findings, seconds, calls) -> str:
    lines = [verdict(evidence, findings)]
    failure = evidence.get("first_failure")
    if failure:
        lines += [f"first failure: {failure['resource']} ({failure['type']}) {failure['status']} at {failure['at']}",
                  f"  {failure['reason']}"]
    for number, finding in enumerate(findings, 1):
        lines += ["", f"{number}. {finding['title']}"]
        lines += [f"   seen: {seen}" for seen in finding["seen"]]
        lines += [f"   why:  {finding['why']}", f"   do:   {finding['todo']}", f"   doc:  {finding['doc']}"]
        for log in finding["logs"]:
            lines += _log_lines(log, "   ")
    lines += ["", "Evidence"] + [f"  {line}" for line in _evidence_lines(evidence)]
    lines.append(f"read in {seconds:.2f} s ({calls} AWS API calls)")
    return "\n".join(mask(line) for line in lines)


def _log_lines(log, indent):
    head = f"{indent}log {log['group']} {log['stream']}"
    if log.get("note"):
        return [f"{head}: {log['note']}"]
    if not log["lines"]:
        return [f"{head}: no lines"]
    return [f"{head}, last {len(log['lines'])} line(s):"] + [f"{indent}  | {line}" for line in log["lines"]]


def _service_line(service):
    primary = next((d for d in service["deployments"] if d["status"] == "PRIMARY"), None)
    rollout = f", deployment {primary['rollout_state']}" if primary and primary["rollout_state"] else ""
    return f"service {service['name']} {service['running']}/{service['desired']} running{rollout}"


def _evidence_lines(evidence):
    lines = [f"stack status reason: {evidence['stack']['reason']}"] if evidence["stack"].get("reason") else []
    migrate = evidence.get("migrate")
    if migrate:
        lines.append(_migrate_line(migrate))
        if migrate["task"]:
            first, *rest = _task_lines(migrate["task"])
            lines += ["migrate " + first, *rest]
    for service in evidence["services"]:
        lines.append(_service_line(service) + f" ({service['pending']} pending)")
        for d in service["deployments"]:
            lines.append(f"  deployment {d['id']} {d['status']} {d['rollout_state']} {d['running']}/{d['desired']} "
                         f"running, {d['failed_tasks']} failed" + (f": {d['rollout_reason']}" if d["rollout_reason"] else ""))
        current = current_events(service, evidence)
        # An event from before the service's latest steady state is history: shown, and said to be.
        lines += [f"  {'event' if e in current else 'history'} {e['at']}: {e['message']}"
                  for e in service["events"][:5]]
    stopped = evidence["stopped_tasks"]
    if stopped is None:
        lines.append("stopped tasks: not read (see below)" if evidence.get("cluster") else
                     "stopped tasks: no live ECS cluster in the stack to read them from")
    else:
        lines.append(f"stopped tasks (most recent {len(stopped)}):" if stopped else "stopped tasks: none")
    for task in stopped or []:
        lines += ["  " + line for line in _task_lines(task)]
    targets = evidence.get("targets")
    if targets is not None:
        lines.append(f"targets: {len(targets)}" + ("" if targets else " (none registered)"))
        lines += [f"  {t['id']}:{t['port']} {t['state']}" + (f" {t['reason']}: {t['description']}" if t["reason"] else "")
                  for t in targets]
    lines += _instance_lines(evidence)
    asg = evidence.get("asg")
    if asg:
        lines.append(f"auto scaling group {asg['name']}: desired {asg['desired']}, {len(asg['instances'])} instance(s)")
        lines += [f"  {i['id']} {i['state']} {i['health']}" for i in asg["instances"]]
        lines += [f"  activity {a['at']}: {a['status']}: {a['description']}" + (f" ({a['message']})" if a["message"] else "")
                  for a in asg["activities"]]
    lines += [f"not read: {gap}" for gap in evidence["gaps"]]
    return lines


def _migrate_line(migrate):
    """The custom resource's current status, and its failure apart (a rollback completes it again): never a
    status beside another event's reason."""
    line = f"{migrate['logical_id']}: {migrate['status']}"
    failure = migrate.get("failure")
    if not failure:
        return line
    said = f"{failure['status']} at {failure['at']}: {failure['reason']}"
    return f"{line} at {failure['at']}: {failure['reason']}" if failure["status"] == migrate["status"] \
        else f"{line}, after {said}"


def _task_lines(task):
    stop = " ".join(filter(None, [task["last_status"], task.get("stop_code"), task.get("stopped_reason")]))
    lines = [f"task {task['id']} {task['definition'].rsplit('/', 1)[-1]}: {stop}"]
    for container in task["containers"]:
        code = container["exit_code"]
        lines.append(f"  container {container['name']}: " + ("no exit code" if code is None else f"exit {code}")
                     + (f", {container['reason']}" if container.get("reason") else ""))
    return lines


def _instance_lines(evidence):
    instances = evidence.get("instances")
    if instances is None:
        return []
    definition = next((evidence["task_definitions"][s["task_definition"]] for s in evidence["services"]
                       if s.get("task_definition") in evidence["task_definitions"]), None)
    needs = ""
    if definition:
        memory, cpu = reservation(definition)
        needs = f"; a {definition['family']} task reserves {memory} MiB and {cpu} CPU units"
    lines = [f"container instances: {len(instances)} registered{needs}"]
    lines += [f"  {i['ec2_instance']} {i['status']} agent {'connected' if i['agent_connected'] else 'DISCONNECTED'}, "
              f"free {i['free'].get('MEMORY')} MiB / {i['free'].get('CPU')} CPU, {i['running_tasks']} running task(s)"
              for i in instances]
    return lines
