"""Readable reports of timelines: the text line is in the pytest summary, the plot is a PNG file."""
import pathlib

import matplotlib

matplotlib.use("Agg")  # no display on CI machines
import matplotlib.pyplot as plt  # noqa: E402  (must follow the backend choice)

from .timeline import Timeline  # noqa: E402


def plot(timeline: Timeline, path: pathlib.Path, title: str) -> pathlib.Path:
    """Status (or failure) of every request over time; failures in red so a blip stands out."""
    path.parent.mkdir(parents=True, exist_ok=True)
    labels = sorted({sample.label for sample in timeline.samples})
    rows = {label: row for row, label in enumerate(labels)}
    figure, axes = plt.subplots(figsize=(10, 1.2 + 0.5 * len(labels)))
    try:
        for ok, colour in ((True, "tab:green"), (False, "tab:red")):
            picked = [s for s in timeline.samples if s.ok is ok]
            axes.scatter([s.at for s in picked], [rows[s.label] for s in picked], s=12, c=colour,
                         label="2xx" if ok else "not 2xx")
        axes.set_yticks(range(len(labels)), labels)
        axes.set_xlabel("seconds since the probe started")
        axes.set_title(f"{title}: {len(timeline.failures())} of {len(timeline.samples)} not 2xx")
        axes.legend(loc="upper right")
        figure.tight_layout()
        figure.savefig(path, dpi=100)
    finally:
        plt.close(figure)
    return path
