"""Read Markdown pages the way GitHub renders them: their links, their heading anchors, their code blocks.

markdown-it-py parses CommonMark (GitHub's Markdown is CommonMark plus tables), so a link inside a code span or
a fenced block is not a link, and a heading inside a fenced block is not a heading.
"""
import collections
import re

from markdown_it import MarkdownIt

_PARSER = MarkdownIt("commonmark").enable("table")
_NOT_IN_SLUG = re.compile(r"[^\w\- ]")


def _tokens(text):
    return _PARSER.parse(text)


def _inline_children(text):
    for token in _tokens(text):
        yield from (token.children or []) if token.type == "inline" else []


def links(text) -> list[str]:
    """Every link target of the page, in order."""
    return [child.attrs["href"] for child in _inline_children(text) if child.type == "link_open"]


def anchors(text) -> set[str]:
    """The anchors GitHub gives the page's headings: the heading's text, lower case, punctuation dropped, spaces
    turned into hyphens; a repeated slug gets -1, -2, ... in order."""
    tokens = _tokens(text)
    seen = collections.Counter()
    found = set()
    for opening, inline in zip(tokens, tokens[1:]):
        if opening.type != "heading_open":
            continue
        words = "".join(child.content for child in inline.children if child.type in ("text", "code_inline"))
        slug = _NOT_IN_SLUG.sub("", words.strip().lower()).replace(" ", "-")
        found.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
        seen[slug] += 1
    return found


def code_blocks(text, info: str) -> list[str]:
    """The contents of the page's fenced blocks whose info string is `info` (e.g. "sh"), in order."""
    return [token.content for token in _tokens(text) if token.type == "fence" and token.info.strip() == info]


def section(text, heading: str) -> str:
    """The lines under the level-2 heading `heading`, up to the next level-2 heading."""
    tokens = _tokens(text)
    lines = text.splitlines(keepends=True)
    starts = [(inline.content, opening.map[0]) for opening, inline in zip(tokens, tokens[1:])
              if opening.type == "heading_open" and opening.tag == "h2"]
    for index, (title, line) in enumerate(starts):
        if title == heading:
            end = starts[index + 1][1] if index + 1 < len(starts) else len(lines)
            return "".join(lines[line + 1:end])
    raise AssertionError(f"no '## {heading}' heading")
