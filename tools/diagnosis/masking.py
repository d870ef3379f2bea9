"""Every string the doctor prints passes through here: what looks like a credential is masked.

The readers keep no environment values in the first place (task definitions and overrides lose them
when read); this is the second line, for what AWS or the application put into reasons and log lines:
pre-signed URLs (a custom resource's ResponseURL), access keys, `password=...`, `user:pass@host`.
"""
import re

MASK = "<masked>"

_URL_QUERY = re.compile(r"(?P<keep>https?://[^\s?\"'<>]+)\?(?P<query>[^\s\"'<>]+)")
_SIGNED_QUERY = re.compile(r"(?i)signature|credential|token|security|expires|sig=|key=")
# The password (with or without a user) runs to the last @ before the host: one with an unencoded @ is masked whole.
_URL_PASSWORD = re.compile(r"(?P<keep>[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s/]+(?=@[^\s@/]*(?:[/?#\s\"']|$))",
                           re.IGNORECASE)
_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}\b")
# Masks the value, never what a reader needs beside it: an IAM action is not a name and its value
# (`secretsmanager:GetSecretValue`, the one service prefix these names match: "Actions, resources, and condition
# keys for AWS Secrets Manager"), MySQL's "(using password: YES)" / "NO" says whether a password was sent at all
# ("Access denied for user", MySQL error 1045), and an unquoted value does not take a closing parenthesis with it.
_NAMED_SECRET = re.compile(
    r"(?i)(?<![:\w.-])(?!(?-i:secretsmanager:(?:[A-Z][A-Za-z]*\*?|\*))(?![\w./+=-]))"
    r"(?P<name>[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|credential|signature)[\w.-]*)(?P<sep>[\"']?\s*[:=]\s*(?P<quote>[\"'])?)(?!(?:YES|NO)\))"
    r"(?P<value>(?(quote)(?:(?!(?P=quote)).)+|[^\s\"',;&}]*[^\s\"',;&})]))")  # a quoted value runs to its closing quote
_BEARER = re.compile(r"(?i)\b(?P<keep>bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
# An Authorization header's credentials whatever the scheme (Django REST framework's "Token <key>", "ApiKey ..."),
# the scheme kept readable.
_AUTHORIZATION = re.compile(r"(?i)(?P<keep>authorization[\"']?\s*[:=]\s*[\"']?(?:[A-Za-z][\w-]*\s+)?)"
                            r"[^\s\"',;]+")
# A JSON Web Token: base64url header and payload (both JSON objects, so "eyJ"), then the signature.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# A 40-character AWS secret access key (or similar): mixed case and a digit, so hex digests stay readable.
_KEY_LIKE = re.compile(r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[0-9])"
                       r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
# A longer base64 run standing alone (a session token, a private key's body line logged without its BEGIN line);
# not one that goes on from a name (an ARN's "Cluster-AbC123dEf456/<task id>" stays readable).
_LONG_BASE64 = re.compile(r"(?<![\w/+=.:-])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[0-9])"
                          r"[A-Za-z0-9/+]{56,}={0,2}(?![\w/+=.:-])")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL)


def mask(text: str) -> str:
    """`text` with anything credential-like replaced by <masked>."""
    text = _PRIVATE_KEY.sub(MASK, text)
    text = _URL_QUERY.sub(_masked_query, text)
    text = _URL_PASSWORD.sub(lambda m: m["keep"] + MASK, text)
    text = _ACCESS_KEY_ID.sub(MASK, text)
    text = _JWT.sub(MASK, text)
    text = _AUTHORIZATION.sub(lambda m: m["keep"] + MASK, text)
    text = _BEARER.sub(lambda m: f"{m['keep']} {MASK}", text)
    text = _NAMED_SECRET.sub(lambda m: m["name"] + m["sep"] + MASK, text)
    text = _LONG_BASE64.sub(MASK, text)
    return _KEY_LIKE.sub(MASK, text)


def _masked_query(match) -> str:
    if _SIGNED_QUERY.search(match["query"]):
        return f"{match['keep']}?{MASK}"
    return match[0]


def masked(value):
    """A copy of a JSON-like value with every string masked (keys too: they are ours, but cheap)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {mask(str(key)): masked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked(item) for item in value]
    return value
