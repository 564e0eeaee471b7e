"""Text from feeds made harmless for terminals and spreadsheets.

Feeds are written by strangers. A title may carry terminal escape sequences (ESC, CSI, OSC: colours, cursor
moves, hyperlinks, window-title and clipboard writes), bare C0/C1 control characters, and bidirectional
overrides that make a line read differently from what it holds. A CSV cell that starts with ``=``, ``+``, ``-``
or ``@`` is a formula to a spreadsheet. Like ``models``, this module imports nothing else of the project.
"""

from __future__ import annotations

import re

# Whole escape sequences go, so that no parameters ("]8;;http://...") are left behind as text.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # CSI, as one C1 character
    r"|[\x1b][\]PX^_].*?(?:\x07|\x1b\\|\x9c|$)"  # OSC, DCS, SOS, PM, APC up to their terminator
    r"|[\x90\x98\x9d\x9e\x9f].*?(?:\x07|\x1b\\|\x9c|$)"  # the same, as C1 characters
    r"|\x1b[ -/]*[0-~]?",  # any other escape
    re.DOTALL,
)
# C0 except tab and newline, DEL, C1; bidi embeddings, overrides, isolates and marks (U+202A-202E,
# U+2066-2069, U+200E, U+200F, U+061C).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
# Line and paragraph separators end a line in some terminals and editors.
_SEPARATOR = re.compile("[\u2028\u2029\x85]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def printable(text: str) -> str:
    """``text`` without escape sequences, control characters (tab and newline stay) or bidi controls."""
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", _SEPARATOR.sub(" ", text)))


def csv_cell(text: str) -> str:
    """A cell a spreadsheet will show as text: printable, and a leading ``'`` if it would start a formula
    (the OWASP rule: ``=``, ``+``, ``-``, ``@``, tab or carriage return, also after leading spaces)."""
    if text.lstrip(" ").startswith(_FORMULA_START):
        text = "'" + text
    return printable(text)
