"""Text from files and servers, made safe to show: never read as rich markup, never a terminal
control sequence. A header named `Tags [/]` or holding an ESC byte is data, shown as written."""

from __future__ import annotations

import re

from rich.markup import escape

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Control characters (ESC, CR, a line break...) as escapes: '\\x1b', '\\n'."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def shown(value: object) -> str:
    """`value` as text for rich: control characters escaped, then markup escaped."""
    return escape(printable(str(value)))
