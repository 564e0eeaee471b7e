"""Alerts: render hits into a message (Jinja2 templates) and send it to apprise URLs, one target each.

The names below are loaded on first use, so that a module which needs one small part of this package (the
sending policies, the snippet runs) does not load Jinja2 and the sender with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.notify.console import log_message
    from monitor.notify.render import Message, render_message
    from monitor.notify.send import TargetResult, send_message

__all__ = ["Message", "TargetResult", "log_message", "render_message", "send_message"]

_HOMES = {
    "Message": "monitor.notify.render",
    "render_message": "monitor.notify.render",
    "log_message": "monitor.notify.console",
    "TargetResult": "monitor.notify.send",
    "send_message": "monitor.notify.send",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
