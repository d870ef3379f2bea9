"""The smoke report's account of the items a run created, at its end: what is left, what may be, what never was.

Lines go to `add(kind, headline, *details)` (the red findings) and `note(line)` (the report's plain lines).
"""
import requests

from .findings import CAUSE, DATA
from .todos import SPLIT_HINT, ApiClient, Ledger, TableMissing

DELETE_BY_MARKER = ("Delete them by the marker in their title, in each database: through the load balancer the URL "
                    "can reach another task's item with the same id.")


def account(books: Ledger, api: ApiClient, add, note) -> None:
    if books.disagreement is not None:
        add(CAUSE, f"SPLIT DATABASES: {books.disagreement} ({books.noticed_in})",
            f"  {SPLIT_HINT}; the suite wrote nothing more from then on")
    if not books.items:
        return
    left = books.left_behind()
    found, table = _sweep(api, books.run_id, note)
    never = [item for item in left if item.url is None and table is not None and item.missing_table == table]
    if never:
        note(f"data: {len(never)} POST(s) stored nothing: each answered a server error naming the missing table "
             f"{table}, the table GET /todos fails on")
    left = [item for item in left if item not in never]
    stray = [entry for entry in found or [] if entry not in {(item.url, item.marker) for item in left}]
    left = [item for item in left if item.url is not None or item.marker not in {marker for _, marker in stray}]
    _report_left(books, [item for item in left if item.url is not None], add)
    _report_unsure([item for item in left if item.url is None], searched=found is not None, add=add)
    if stray:
        add(DATA, f"DATA LEFT BEHIND: {len(stray)} item(s) carrying this run's marker are still listed by GET /todos "
                  "(a POST that landed twice, or one whose answer went wrong). Delete them by the marker in their title.",
            *(f"  {url}  marker {marker}" for url, marker in stray))
    if not left and not stray and not never:
        note(f"data: the {len(books.items)} item(s) this run created are deleted, each confirmed by its marker "
             f"[smoke {books.run_id} ...]")


def _sweep(api: ApiClient, run_id: str, note) -> tuple[list | None, str | None]:
    """(url, marker) of what GET /todos lists with the run's marker (None if it could not look), and the missing
    table it failed on, if it named one."""
    try:
        return api.listed_with(f"[smoke {run_id} "), None
    except TableMissing as error:
        note(f"data: could not search GET /todos for items left behind: {error}")
        return None, error.table
    except (AssertionError, requests.RequestException) as error:
        note(f"data: could not search GET /todos for items left behind: {str(error).splitlines()[0]}")
        return None, None


def _report_left(books: Ledger, left: list, add) -> None:
    """Items with a URL the run could not delete."""
    if left:
        why = f"tasks disagree ({books.noticed_in})" if books.disagreement else \
            "the clean-up could not delete them (the test's error says why)"
        add(DATA, f"DATA LEFT BEHIND: {len(left)} item(s) this run created, not deleted because {why}. "
                  f"{DELETE_BY_MARKER}", *(f"  {item.url}  marker {item.marker}" for item in left))


def _report_unsure(items: list, searched: bool, add) -> None:
    """Items whose POST went wrong: stored or not, nothing the suite saw tells."""
    if items:
        looked = ("GET /todos does not list them, but it reads one task's database" if searched else
                  "GET /todos could not be searched for them")
        add(DATA, f"DATA MAY BE LEFT BEHIND: {len(items)} item(s) whose POST did not answer 201 with the marker and a "
                  f"Location on the target may have been stored ({looked}). {DELETE_BY_MARKER}",
            *(f"  URL unknown (delete it by its marker)  marker {item.marker}" for item in items))
