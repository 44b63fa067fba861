"""The documentation's chart: leads stored over time, bulkio against the documented loop (one
POST, then a sleep), per latency.

Rendered from `import-vs-loop.json` (its once-a-second counts) into
docs/images/import-vs-loop.png, where the docs show it. matplotlib is a benchmark-only
dependency (`pip install -e .[bench]`).
"""

from __future__ import annotations

from pathlib import Path

import orjson

NAME = "import-vs-loop"
IMAGES = Path(__file__).parent.parent / "docs" / "images"


def render(results: Path, images: Path = IMAGES) -> Path | None:
    """Write the chart into `images`; None when there is nothing to draw it from."""
    source = results / f"{NAME}.json"
    if not source.exists():
        return None
    runs = [r for r in orjson.loads(source.read_bytes())["runs"] if "bulkio_series" in r]
    if not runs:
        return None
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.6), sharey=True,
                             squeeze=False)
    for ax, run in zip(axes[0], runs, strict=True):
        for key, label, style in (("bulkio_series", "bulkio import", "-"),
                                  ("loop_series", "one POST, then 150 ms sleep", "--")):
            points = run[key]
            ax.plot([t for t, _ in points], [n for _, n in points], style, label=label)
        ax.set_title(f"{run['latency_ms']} ms latency (x{run['ratio']:.1f})")
        ax.set_xlabel("seconds")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("leads stored on the server")
    axes[0][0].legend(loc="upper left")
    fig.suptitle("Importing at the premium quota (1,000 requests a minute)")
    fig.tight_layout()
    out = images / f"{NAME}.png"
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
