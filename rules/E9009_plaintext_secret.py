"""E9009: a secret in plaintext.

Lesson: a container `Environment` value is stored in the task definition in clear text, readable by
anyone who may describe task definitions, and a `NoEcho` parameter passed into it is no longer masked.
A plain `String` parameter is worse still: its value also shows in the stack's parameters. Give
containers secrets through `Secrets` (`ValueFrom` a Secrets Manager secret or SSM SecureString),
which the execution role reads at task start. A `NoEcho` parameter with a non-empty `Default` ships
its secret inside the template itself.

Whatever a variable is called, a `NoEcho` parameter in its value (a password inside a connection URL)
and a `{{resolve:secretsmanager:...}}` dynamic reference (CloudFormation resolves it and registers the
task definition with the value; "Get a secret or secret value from Secrets Manager" in the
CloudFormation User Guide) are secrets in plaintext too.

A name looks like a secret when one of its `_`-separated segments is PASSWORD, SECRET, TOKEN (and the
like) or KEY/KEYS after API/APP/SECRET/PRIVATE/ACCESS/MASTER (Laravel's APP_KEY, Strapi's APP_KEYS),
unless its last segment says it only points at the
secret (DB_SECRET_ARN, DB_PASSWORD_FILE, PASSWORD_MIN_LENGTH). Each branch of an `Fn::If` is checked.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
"""
import pathlib
import sys

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# cfn-lint loads rule files by path, not as a package: put the shared helper within reach.
if (_HERE := str(pathlib.Path(__file__).resolve().parent)) not in sys.path:
    sys.path.append(_HERE)
import _cfn_lessons as lessons  # noqa: E402

# Names are matched by whole `_`-separated segments, so PASSWORD_MIN_LENGTH or MONKEY_MODE are no secrets.
SECRET_SEGMENTS = {"PASSWORD", "PASSWD", "PASS", "PWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIALS",
                   "APIKEY", "SECRETKEY", "PRIVATEKEY", "ACCESSKEY"}
KEY_QUALIFIERS = {"API", "APP", "SECRET", "PRIVATE", "ACCESS", "SIGNING", "ENCRYPTION", "MASTER", "HMAC", "JWT"}
# A last segment that says the value points at or describes the secret rather than holding it.
# A dynamic reference CloudFormation replaces with the secret itself before ECS sees the value.
RESOLVED_SECRET = "{{resolve:secretsmanager:"
REFERENCE_SUFFIXES = {"ARN", "NAME", "ID", "URL", "URI", "PATH", "FILE", "LENGTH", "PREFIX", "SUFFIX",
                      "SIZE", "TTL", "TIMEOUT", "ENABLED", "HEADER", "PARAMETER", "REGION", "VERSION"}


def is_secret_name(name: str) -> bool:
    segments = [segment for segment in name.upper().split("_") if segment]
    if not segments or segments[-1] in REFERENCE_SUFFIXES:
        return False
    return any(
        segment in SECRET_SEGMENTS or (segment in ("KEY", "KEYS") and index and segments[index - 1] in KEY_QUALIFIERS)
        for index, segment in enumerate(segments)
    )


class PlaintextSecret(CloudFormationLintRule):
    id = "E9009"
    shortdesc = "Secret in a container environment variable or in a NoEcho parameter's Default"
    description = (
        "Environment variables named like secrets (a PASSWORD, SECRET or TOKEN segment, API_KEY, "
        "APP_KEY...) set from literals or parameters, and any with a NoEcho parameter or a resolved "
        "Secrets Manager reference, are stored in clear text; use container Secrets. NoEcho "
        "parameters must not have a Default."
    )
    source_url = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html"
    tags = ["resources", "ecs", "parameters", "security", "project"]

    def match(self, cfn):
        parameters = cfn.get_parameters_valid()
        hidden = {name for name, p in parameters.items() if str(p.get("NoEcho", "")).lower() == "true"}
        plain = {name for name, p in parameters.items() if p.get("Type") == "String"} - hidden
        matches = [
            RuleMatch(["Parameters", name, "Default"], f"NoEcho parameter {name} has a Default: the secret is in the template")
            for name in sorted(hidden) if parameters[name].get("Default", "") != ""
        ]
        for task in cfn.get_resources("AWS::ECS::TaskDefinition"):
            for path, container in lessons.containers(cfn, task):
                for variable_path, variable in lessons.items(container.get("Environment"), (*path, "Environment")):
                    if not isinstance(variable, dict):
                        continue
                    by_name = is_secret_name(str(variable.get("Name", "")))
                    sources = _plaintext_sources(variable.get("Value"), hidden, plain, by_name)
                    if sources:
                        matches.append(RuleMatch(variable_path, (
                            f"{lessons.name_key(variable.get('Name'))} of container "
                            f"{lessons.name_key(container.get('Name'))} in {task} is "
                            f"{' or '.join(sources)} in plaintext; pass it through Secrets")))
        return matches


def _plaintext_sources(value, hidden, plain, by_name):
    """How each Fn::If branch of the value leaks a secret: 'a resolved Secrets Manager reference' or
    'NoEcho parameter X' whatever the variable's name; for a secret name also 'a literal' or 'plain
    parameter X' (shown in the stack's parameters too)."""
    sources = []
    for _, concrete in lessons.alternatives(value):
        text = lessons.template_text(concrete)
        referenced = lessons.parameter_refs(concrete)
        found = []
        if text is not None and RESOLVED_SECRET in text:
            found.append("a resolved Secrets Manager reference")
        elif by_name and isinstance(concrete, (str, int, float)) and str(concrete):
            found.append("a literal")
        leaks = (("NoEcho", referenced & hidden), ("plain", referenced & plain if by_name else set()))
        found += [f"{kind} parameter {', '.join(sorted(leaked))}" for kind, leaked in leaks if leaked]
        sources += [source for source in found if source not in sources]
    return sources
