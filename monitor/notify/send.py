"""Sending one message to apprise URLs, each URL its own target with its own result.

Why one fresh apprise object per URL and send: apprise sleeps ``request_rate_per_sec`` between two sends
of the same plugin object (5.5 s for email); a new object has never sent, so it never waits, and we also
set the rate to 0 on it. It also lets us keep one result, and one captured log, per target.

Each kind of service gets the body rendered for it (``Message.body_for``, see
``monitor.notify.channels``): email its HTML (apprise adds the plain-text part), Slack mrkdwn, Telegram
HTML, Discord and Matrix Markdown, Teams card Markdown, ntfy and JSON webhooks plain text. A body sent
"as it is" is given to apprise without a format, so apprise converts nothing; any other service gets the
plain text declared as text, which apprise escapes for it. A ``?format=`` in the URL still wins.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.notify.render import Message
from monitor.redact import mask_url, redact

# apprise (tens of megabytes with its plugins) is loaded at the first send, not by every process that
# might one day send: a daemon whose notifiers only log, and the commands that never send, go without it.
if TYPE_CHECKING:
    import apprise

# apprise stops waiting after ``timeout``; this margin lets it report TIMEOUT itself before we give up.
_GRACE_SECONDS = 1.0
_MAX_ERROR_CHARS = 500


@dataclass(frozen=True, slots=True)
class TargetResult:
    """The outcome for the notifier URL at ``index``. ``target`` and ``error`` are free of secrets."""

    index: int
    target: str
    ok: bool
    error: str | None = None


async def send_message(
    urls: Sequence[str], message: Message, *, skip: Collection[int] = (), timeout: float = 30.0
) -> list[TargetResult]:
    """Send ``message`` to every URL whose index is not in ``skip``, all at once.

    Returns one result per URL sent to, in index order. Never raises for a failing target: a malformed
    URL, a refusal, a crash inside apprise or no answer within ``timeout`` seconds is a failed result.
    """
    sends = [_send_one(index, url, message, timeout) for index, url in enumerate(urls) if index not in skip]
    return list(await asyncio.gather(*sends))


async def _send_one(index: int, url: str, message: Message, timeout: float) -> TargetResult:
    import apprise

    target = mask_url(url)
    log = _private_logger()
    plugin = plugin_for(url)
    if plugin is None:
        return TargetResult(
            index, target, False, "not a usable apprise URL (unknown scheme or missing parts)"
        )
    plugin.request_rate_per_sec = 0
    plugin.logger = log  # capture this target's detailed reasons without touching apprise's global logger
    chosen = message.body_for(channel_of(plugin))
    sender = apprise.Apprise(plugin)
    try:
        result = await asyncio.wait_for(
            sender.async_notify(
                body=chosen.body,
                title=chosen.title,
                body_format=chosen.format,
                timeout=timeout,
                log_level=logging.DEBUG,
            ),
            timeout + _GRACE_SECONDS,
        )
    except TimeoutError:
        return TargetResult(index, target, False, f"no answer within {timeout:g}s")
    except Exception as error:  # a bug inside a plugin must not cost the other targets their results
        return TargetResult(index, target, False, _clean(f"{type(error).__name__}: {error}", url))
    if result:
        return TargetResult(index, target, True)
    return TargetResult(index, target, False, _clean(failure_reason(result, timeout), url))


def plugin_for(url: str) -> apprise.NotifyBase | None:
    """The apprise plugin object for ``url``, None when it is not usable. A scheme of one of the channels we render
    for is read by that channel's plugin alone: apprise itself imports every plugin it has (about 270 modules,
    9 MB more in the daemon) to find the one a scheme names. Any other scheme goes through apprise's lookup."""
    import apprise

    scheme = url.partition("://")[0].lower()
    kind = next((kind for kind, _ in _channels() if scheme in _schemes(kind)), None)
    if kind is None:
        return apprise.Apprise.instantiate(url)
    try:  # as apprise's own instantiate: a URL its plugin cannot use is None, not an error
        parsed = kind.parse_url(
            url.replace("/#", "/%23")
        )  # a '#' channel is not a fragment (as apprise reads it)
        plugin = kind(**{**parsed, "tag": set()}) if parsed else None
    except Exception:
        return None
    return plugin if plugin is not None and plugin.enabled else None


def _schemes(kind: type[apprise.NotifyBase]) -> set[str]:
    found: set[str] = set()
    for declared in (kind.protocol, kind.secure_protocol):
        found.update([declared] if isinstance(declared, str) else declared or ())
    return {scheme.lower() for scheme in found}


def channel_of(plugin: apprise.NotifyBase) -> str:
    """The kind of service a plugin sends to, by the name of its body in ``Message.bodies``."""
    return next((name for kind, name in _channels() if isinstance(plugin, kind)), "text")


def _channels() -> tuple[tuple[type[apprise.NotifyBase], str], ...]:
    from apprise.plugins.custom_json import NotifyJSON
    from apprise.plugins.discord import NotifyDiscord
    from apprise.plugins.email import NotifyEmail
    from apprise.plugins.matrix import NotifyMatrix
    from apprise.plugins.ntfy import NotifyNtfy
    from apprise.plugins.slack import NotifySlack
    from apprise.plugins.telegram import NotifyTelegram
    from apprise.plugins.workflows import NotifyWorkflows

    channels: tuple[tuple[type[apprise.NotifyBase], str], ...] = (
        (NotifyEmail, "email"),
        (NotifySlack, "slack"),
        (NotifyTelegram, "telegram"),
        (NotifyDiscord, "discord"),
        (NotifyMatrix, "matrix"),
        (NotifyWorkflows, "teams"),
        (NotifyNtfy, "ntfy"),
        (NotifyJSON, "json"),
    )
    return channels


def failure_reason(result: apprise.AppriseResult, timeout: float) -> str:
    """What apprise said went wrong: its warnings and errors, and the socket or SMTP error behind them."""
    import apprise

    if result.status == apprise.AppriseResultStatus.TIMEOUT:
        return f"no answer within {timeout:g}s"
    lines = [entry.message for entry in result.logs() if _is_reason(entry)]
    return "; ".join(dict.fromkeys(lines)) or f"failed ({result.status.name.lower()}, no reason given)"


def _is_reason(entry: apprise.NotifyLogEntry) -> bool:
    if entry.level in ("WARNING", "ERROR", "CRITICAL"):
        return True
    return entry.message.startswith("Socket Exception")


def _clean(reason: str, url: str) -> str:
    reason = " ".join(redact(reason, url).split())
    return reason if len(reason) <= _MAX_ERROR_CHARS else reason[: _MAX_ERROR_CHARS - 1] + "…"


def _private_logger() -> logging.Logger:
    """A logger of our own for one send: DEBUG so apprise's reasons are recorded, not propagated so
    they reach the application only as the (masked) TargetResult.error."""
    log = logging.Logger("monitor.notify.target", logging.DEBUG)
    log.propagate = False
    # Without a handler, logging's last resort would print warnings of abandoned (timed-out) sends to stderr.
    log.addHandler(logging.NullHandler())
    return log
