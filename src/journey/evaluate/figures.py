"""What the evaluation and live reports' figures share: a matplotlib figure as the PNG bytes a report embeds."""

from __future__ import annotations

import io

from matplotlib.figure import Figure


def png(figure: Figure) -> bytes:
    """`figure` rendered as PNG (the same resolution for every report)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()
