"""Text as it may be shown: nothing a document or a question carries can drive a terminal.

A document can hold escape sequences (an OSC title change, a cursor move) and a file
name can hold a newline; printed raw, the first rewrites the clinician's terminal and
the second splits one listed line in two. Everything the CLI prints passes through here.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

# C0 and C1 controls (tab and newline kept), DEL, and the bidirectional overrides and
# isolates that reorder what is displayed ("Trojan source").
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ESCAPE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clearing
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC: titles, links
    r"|\x1b[@-_]"
)
_UNSAFE_IN_JSON = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """`text` without escape sequences or control characters (newlines and tabs kept)."""
    return _CONTROL.sub("", _ESCAPE.sub("", text.replace("\r\n", "\n")))


def one_line(text: str) -> str:
    """`text` on one line: controls (newlines too) shown as escapes, e.g. a\\nb."""
    return "".join(_visible(ch) for ch in text)


def json_line(record: Any) -> str:
    """One JSON line; characters a terminal could act on are \\u-escaped, so the data a
    program reads back is unchanged."""
    text = json.dumps(record, ensure_ascii=False)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def preview(text: str, limit: int = 120) -> str:
    """At most `limit` characters of `text` on one line, for echoing input in errors."""
    shown = one_line(text[: limit + 1])
    return shown if len(text) <= limit else shown[:limit] + f"… ({len(text):,} characters)"


def _visible(ch: str) -> str:
    if ch == "\n":
        return "\\n"
    if ch == "\t":
        return "\\t"
    if _CONTROL.match(ch) or unicodedata.category(ch) in {"Zl", "Zp"}:
        return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
    return ch
