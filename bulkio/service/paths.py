"""Server paths stay on the server: messages for the page and the API name files, not where
they are kept."""

from __future__ import annotations

import re
from pathlib import Path


def without_paths(text: str, data_dir: Path) -> str:
    """A message for the page and the API: a path in the data directory becomes its file name
    (where the server keeps files is not theirs to see)."""
    roots = sorted({str(data_dir), str(data_dir.absolute()), str(data_dir.resolve())},
                   key=len, reverse=True)
    pattern = "|".join(re.escape(root) for root in roots) + r"""[^\s'",;:)]*"""
    return re.sub(pattern, lambda m: Path(m.group()).name, text)
