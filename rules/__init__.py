"""The project rules as one importable module, for `cfn-lint --append-rules=todobackend_cfn_rules`.

cfn-lint accepts a rules directory or a module import path; from a directory it imports only the
`[A-Za-z1-9]*.py` files, so this file is never read in this repository. Installed (pyproject.toml maps
this directory to the `todobackend_cfn_rules` package, which is what the pre-commit hook does), cfn-lint
imports this module and takes every rule class found in it: each rule module's class is re-exported here.
"""
import importlib
import inspect
import pathlib

from cfnlint.rules import CloudFormationLintRule

for _path in sorted(pathlib.Path(__file__).parent.glob("[A-Za-z1-9]*.py")):
    _module = importlib.import_module(f"{__name__}.{_path.stem}")
    globals().update({
        name: rule for name, rule in inspect.getmembers(_module, inspect.isclass)
        if issubclass(rule, CloudFormationLintRule) and rule.__module__ == _module.__name__
    })
