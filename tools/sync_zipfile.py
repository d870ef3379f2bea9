"""Copy each handler in lambda/ into its function's Code.ZipFile block in stack.yml.

The handlers are developed and tested as real files; CloudFormation deploys them inline. Run this after
editing a handler (tests/unit/test_stack_contract.py fails while the two differ):

    python tools/sync_zipfile.py
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
STACK = ROOT / "stack.yml"
# Logical id of the function -> the file its inline code comes from.
HANDLERS = {"EcsTaskRunner": ROOT / "lambda" / "task_runner.py",
            "EcsCapacityDrainer": ROOT / "lambda" / "capacity_drainer.py"}

ZIPFILE_LINE = re.compile(r"^(?P<indent> *)ZipFile: \|\n", re.MULTILINE)


def inline(template: str, code: str, function: str = "EcsTaskRunner") -> str:
    resource = re.search(rf"^  {function}:\n", template, re.MULTILINE)
    match = ZIPFILE_LINE.search(template, resource.end()) if resource else None
    if match is None:
        raise SystemExit(f"{STACK.name}: no 'ZipFile: |' block to fill under {function}")
    block_indent = " " * (len(match["indent"]) + 2)
    rest = template[match.end():]
    # The block ends at the first non-blank line indented less than its own lines.
    # Blank lines before that belong to the layout around the block, not to the code.
    end = re.search(rf"^(?!{block_indent}|\n)", rest, re.MULTILINE)
    block_end = end.start() if end else len(rest)
    tail = rest[len(rest[:block_end].rstrip("\n")) + 1:]
    body = "".join(block_indent + line if line.strip() else "\n" for line in code.splitlines(True))
    return template[:match.end()] + body + tail


def main() -> int:
    template = STACK.read_text()
    for function, handler in HANDLERS.items():
        code = handler.read_text()
        if not code.endswith("\n") or code.endswith("\n\n"):
            raise SystemExit(f"{handler}: must end with exactly one newline to survive a YAML '|' block")
        template = inline(template, code, function)
    STACK.write_text(template)
    return 0


if __name__ == "__main__":
    sys.exit(main())
