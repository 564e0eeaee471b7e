"""Alerts: render hits into a message (Jinja2 templates) and send it to apprise URLs, one target each.

The names below are loaded on first use, so that a module which needs one small part of this package (the
sending policies, the snippet runs) does not load Jinja2 and the sender with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.lazy import lazy_names

if TYPE_CHECKING:
    from monitor.notify.console import log_message
    from monitor.notify.render import Message, render_message
    from monitor.notify.send import TargetResult, send_message

__all__ = ["Message", "TargetResult", "log_message", "render_message", "send_message"]

__getattr__ = lazy_names(
    __name__,
    {
        "Message": "monitor.notify.render",
        "render_message": "monitor.notify.render",
        "log_message": "monitor.notify.console",
        "TargetResult": "monitor.notify.send",
        "send_message": "monitor.notify.send",
    },
)
