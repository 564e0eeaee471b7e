"""The console notifier: the alert goes to the log instead of a service."""

from __future__ import annotations

import logging

from monitor.notify.render import Message


def log_message(logger: logging.Logger, notifier: str, message: Message) -> None:
    """Log the plain-text alert at INFO, one record, so log collectors keep it together."""
    logger.info("notifier %s: %s\n%s", notifier, message.title, message.text.rstrip())
