"""Copy lambda/task_runner.py into stack.yml's EcsTaskRunner Code.ZipFile block.

The handler is developed and tested as a real file; CloudFormation deploys it inline. Run this after
editing the handler (tests/unit/test_stack_contract.py fails while the two differ):

    python tools/sync_zipfile.py
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
STACK = ROOT / "stack.yml"
HANDLER = ROOT / "lambda" / "task_runner.py"

ZIPFILE_LINE = re.compile(r"^(?P<indent> *)ZipFile: \|\n", re.MULTILINE)


def inline(template: str, code: str) -> str:
    match = ZIPFILE_LINE.search(template)
    if match is None:
        raise SystemExit(f"{STACK.name}: no 'ZipFile: |' block to fill")
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
    code = HANDLER.read_text()
    if not code.endswith("\n") or code.endswith("\n\n"):
        raise SystemExit(f"{HANDLER}: must end with exactly one newline to survive a YAML '|' block")
    STACK.write_text(inline(STACK.read_text(), code))
    return 0


if __name__ == "__main__":
    sys.exit(main())
