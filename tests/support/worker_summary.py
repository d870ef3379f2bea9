"""Terminal-summary lines gathered on pytest-xdist workers, printed once by the controller.

Under `-n`, tests run in worker processes but only the controller prints the terminal summary. A conftest
hands what its tests gathered to `send(config, ...)` at the end of each worker's session and adds each
worker's share back with `received(node, name)` in `pytest_testnodedown` (optional: xdist may be absent).
Without xdist neither does anything and the summary reads the lists the tests filled in-process.
"""


def send(config, **gathered) -> None:
    """On an xdist worker, hand these lists to the controller (lists of str and numbers travel as they are)."""
    output = getattr(config, "workeroutput", None)  # set on xdist workers only
    if output is not None:
        output.update(gathered)


def received(node, name: str) -> list:
    """What one finished worker sent under `name`; nothing if it crashed before sending."""
    return list(getattr(node, "workeroutput", {}).get(name, []))
