"""What tools/diagnosis/masking.py hides, and what it must leave readable for a diagnosis."""
import pytest

from tools.diagnosis.masking import MASK, mask, masked

SIGNED_URL = ("https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation"
              "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261128&X-Amz-Signature=ab12")


@pytest.mark.parametrize("line, secret", [
    (f"PUT {SIGNED_URL} failed", "X-Amz-Signature=ab12"),
    ("DATABASE_URL=mysql://todobackend:Pa55w0rd@db.internal:3306/todobackend", "Pa55w0rd"),
    ("OperationalError for mysql://todobackend:Pa55@w0rd@db.internal:3306/todobackend", "w0rd"),  # an unencoded @
    ("celery broker redis://:R3disPass@cache.internal:6379/0 unreachable", "R3disPass"),  # a password, no user
    ("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("creds ASIAY34FZKBOKMUTVV7A expire soon", "ASIAY34FZKBOKMUTVV7A"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
    ("key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY leaked alone", "wJalrXUtnFEMI"),
    ("MYSQL_PASSWORD: hunter2", "hunter2"),
    ('{"SECRET_KEY": "django-insecure-abc"}', "django-insecure-abc"),
    ('{"SECRET_KEY": "django insecure, with spaces"}', "with spaces"),  # a quoted value runs to its closing quote
    ("MYSQL_PASSWORD='correct horse battery' exported", "horse battery"),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9"),
    # Django REST framework's TokenAuthentication (the todobackend API's scheme) and any other scheme.
    ("HTTP_AUTHORIZATION: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", "9944b09199c62bcf"),
    ("{'Authorization': 'ApiKey k-live-1234'}", "k-live-1234"),
    ("refresh failed for eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
     "eyJzdWIiOiIxMjM0In0"),  # a JWT on its own, no header or key name before it
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA"),
    # A key logged one line per log event: its body lines come without the BEGIN line before them.
    ("MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmwIDAQAB",
     "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lg"),
    ("session FwoGZXIvYXdzEJr//////////wEaDOcbbLHSRtmDOfLo0yKvAfbNbW3SM1qs6pdGcWNvr4hyUBIHZF8jt3v5FpXh== used",
     "FwoGZXIvYXdzEJr"),  # an STS session token, alone
])
def test_credentials_are_masked(line, secret):
    assert secret not in mask(line)
    assert MASK in mask(line)


@pytest.mark.parametrize("line", [
    "container 'migrate' exited with code 1 (task arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef)",
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
    "unable to retrieve secret from asm: failed to fetch secret arn:aws:secretsmanager:us-east-1:123456789012:"
    "secret:db-AbCdEf from secrets manager: AccessDeniedException",
    "commit da39a3ee5e6b4b0d3255bfef95601890afd80709 deployed",
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html",
    "GET /todos?page=2 HTTP/1.1 200",
    "django.db.utils.OperationalError: (1045, \"Access denied for user 'todobackend'@'10.0.1.5'\")",
    # MySQL says whether a password was sent at all: YES/NO is the diagnosis, not the password.
    "django.db.utils.OperationalError: (1045, \"Access denied for user 'todobackend'@'10.0.1.5' "
    "(using password: YES)\")",
    "(1045, \"Access denied for user 'todobackend'@'10.0.1.5' (using password: NO)\")",
    # IAM actions, in AWS's answer and in the doctor's own advice, and in a policy's wildcard.
    "User: arn:aws:sts::123456789012:assumed-role/exec/abc is not authorized to perform: secretsmanager:GetSecretValue "
    "on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
    "Check the execution role allows secretsmanager:GetSecretValue on each ValueFrom ARN",
    "Action: secretsmanager:* denied",
])
def test_what_a_diagnosis_needs_stays_readable(line):
    assert mask(line) == line


@pytest.mark.parametrize("line, shown", [
    ("(password: hunter2)", f"(password: {MASK})"),  # the value, not the parenthesis closing around it
    ("password: YESplease", f"password: {MASK}"),  # YES/NO only as MySQL writes it
    ("secretsmanager:hunter2", f"secretsmanager:{MASK}"),  # not an action name
    ("MYSQL_PASSWORD=GetSecretValue", f"MYSQL_PASSWORD={MASK}"),
])
def test_only_the_value_is_masked(line, shown):
    assert mask(line) == shown


def test_masked_walks_json_values():
    assert masked({"lines": ["password=x", 3, None], "url": SIGNED_URL}) == {
        "lines": [f"password={MASK}", 3, None],
        "url": SIGNED_URL.split("?")[0] + "?" + MASK}
