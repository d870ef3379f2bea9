"""A block of a docs page that a tool writes between two HTML-comment markers, and the tool's command line:
rewrite the block, or with --check only say whether it is stale (a unit test fails while it is)."""
import argparse
import pathlib
import sys
from typing import Callable


def replaced(page: str, start: str, end: str, block: str, page_name: str) -> str:
    """`page` with the text between its `start` and `end` markers replaced by `block`."""
    before, found_start, rest = page.partition(start)
    _, found_end, after = rest.partition(end)
    if not (found_start and found_end):
        raise SystemExit(f"{page_name}: markers {start!r} and {end!r} not found")
    return f"{before}{start}\n{block}\n{end}{after}"


def main(argv, description: str, page: pathlib.Path, with_block: Callable[[str], str], what: str, tool: str) -> int:
    """Rewrite `page` as `with_block` has it; with --check, exit 1 and say so if that would change it."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="only report whether the page is up to date")
    args = parser.parse_args(argv)
    current = page.read_text()
    wanted = with_block(current)
    if args.check:
        if wanted != current:
            print(f"{page.name}: {what} is stale; run python {tool}", file=sys.stderr)
            return 1
        return 0
    page.write_text(wanted)
    return 0
