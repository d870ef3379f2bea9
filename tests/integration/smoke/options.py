"""The smoke suite's command-line options: in pytest's --help right after its general options, and alone with
--smoke-help (pytest's own help is some 500 lines)."""
import argparse

from .security import ACCEPT

DESCRIPTION = ("todobackend smoke suite: a target is required (--stack-name, --public-url, PUBLIC_URL, or --standin "
               f"for the local stand-in); a framework debug page fails the run ({ACCEPT})")
EPILOG = "Every option of pytest works too, e.g. -x, -k, -v."

OPTIONS = (
    (("--public-url",), {"metavar": "URL", "help": "load balancer URL to test (or set PUBLIC_URL)"}),
    (("--stack-name",), {"metavar": "NAME",
                         "help": "CloudFormation stack to test; reads its Outputs and enables the active tests "
                                 "(scale to zero, forced deployment)"}),
    (("--region",), {"metavar": "REGION", "help": "region of --stack-name (default: the AWS configuration's)"}),
    (("--standin",), {"action": "store_true",
                      "help": "test the local stand-in on 127.0.0.1 instead of a deployment (tox -e integration)"}),
    (("--passive-only",), {"action": "store_true",
                           "help": "with --stack-name, skip the active tests (they take the service down briefly)"}),
    (("--ready-timeout",), {"metavar": "SECONDS", "type": float, "default": 300.0,
                            "help": "seconds the whole readiness wait may take, until --consecutive 200s in a row "
                                    "(default 300)"}),
    (("--progress-every",), {"metavar": "SECONDS", "type": float, "default": 10.0,
                             "help": "seconds between progress lines while waiting (default 10: lines at 0, 10, "
                                     "20 s...; 0: a line per poll)"}),
    (("--poll-interval",), {"metavar": "SECONDS", "type": float,
                            "help": "seconds between polls (default 2; 0.25 against the stand-in, which has no "
                                    "health-check lag)"}),
    (("--consecutive",), {"metavar": "N", "type": int, "default": 3,
                          "help": "200s in a row that make the target ready (default 3)"}),
    (("--request-timeout",), {"metavar": "SECONDS", "type": float, "default": 10.0,
                              "help": "seconds one request may take (default 10)"}),
    (("--static-path",), {"metavar": "PATH", "default": "/static/rest_framework/css/bootstrap.min.css",
                          "help": "a file collectstatic publishes (default: Django REST framework's bootstrap CSS)"}),
    (("--report-dir",), {"metavar": "DIR", "default": "reports", "help": "where plots are written (default reports/)"}),
    (("--standin-delay",), {"metavar": "SECONDS", "type": float, "default": 0.7,
                            "help": "seconds until the stand-in's target registers (default 0.7)"}),
    (("--smoke-help",), {"action": "store_true", "help": "show the smoke suite's options only, and exit"}),
)


def add_to(parser) -> None:
    """The options as a group of pytest's parser, listed right after pytest's general options in --help."""
    group = parser.getgroup("smoke", f"{DESCRIPTION}; --smoke-help shows these options alone", after="general")
    for names, spec in OPTIONS:
        group.addoption(*names, **spec)


def smoke_help() -> str:
    parser = argparse.ArgumentParser(usage="tox -e smoke -- [options]  (or: pytest tests/integration [options])",
                                     description=DESCRIPTION, epilog=EPILOG, add_help=False)
    for names, spec in OPTIONS:
        parser.add_argument(*names, **spec)
    return parser.format_help()
