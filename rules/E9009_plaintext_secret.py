"""E9009: a secret in plaintext.

Lesson: a container `Environment` value is stored in the task definition in clear text, readable by
anyone who may describe task definitions, and a `NoEcho` parameter passed into it is no longer masked.
A plain `String` parameter is worse still: its value also shows in the stack's parameters. Give
containers secrets through `Secrets` (`ValueFrom` a Secrets Manager secret or SSM SecureString),
which the execution role reads at task start. A `NoEcho` parameter with a non-empty `Default` ships
its secret inside the template itself.

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
        "APP_KEY...) set from literals or parameters are stored in clear text; use container "
        "Secrets. NoEcho parameters must not have a Default."
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
                    if not (isinstance(variable, dict) and is_secret_name(str(variable.get("Name", "")))):
                        continue
                    sources = _plaintext_sources(variable.get("Value"), hidden, plain)
                    if sources:
                        matches.append(RuleMatch(variable_path, (
                            f"{variable['Name']} of container {container.get('Name')} in {task} is "
                            f"{' or '.join(sources)} in plaintext; pass it through Secrets")))
        return matches


def _plaintext_sources(value, hidden, plain):
    """How each Fn::If branch of the value leaks a secret: 'a literal', 'NoEcho parameter X' or
    'plain parameter X' (shown in the stack's parameters too)."""
    sources = []
    for _, concrete in lessons.alternatives(value):
        if isinstance(concrete, (str, int, float)) and str(concrete):
            found = ["a literal"]
        else:
            referenced = lessons.parameter_refs(concrete)
            found = [f"{kind} parameter {', '.join(sorted(leaked))}"
                     for kind, leaked in (("NoEcho", referenced & hidden), ("plain", referenced & plain)) if leaked]
        sources += [source for source in found if source not in sources]
    return sources
