"""Alerts: render hits into a message (Jinja2 templates) and send it to apprise URLs, one target each."""

from monitor.notify.console import log_message
from monitor.notify.render import Message, render_message
from monitor.notify.send import TargetResult, send_message

__all__ = ["Message", "TargetResult", "log_message", "render_message", "send_message"]
