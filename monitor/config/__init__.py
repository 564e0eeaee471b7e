"""The only reader of the config file: TOML -> validated, frozen ``Settings``.

Every mistake in the file is reported at once, each as ``path:line: message``. tomllib gives no positions for
a valid document, so ``source.LineLocator`` scans the text for table headers and ``key =`` lines to point at them.

The names below are loaded on first use: a command that reads only the database's address from the file
(``database.read_database_settings``) does not load pydantic and the settings models with the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.lazy import lazy_names

if TYPE_CHECKING:
    from monitor.config.loader import load_settings
    from monitor.config.settings import (
        DEFAULT_USER_AGENT,
        AliasSettings,
        FeedSettings,
        MonitorSettings,
        NotifierSettings,
        QuietHours,
        Settings,
        WatchlistSettings,
    )
    from monitor.config.source import LineLocator, default_config_path, expand_env
    from monitor.config.units import format_duration, parse_duration, parse_size
    from monitor.redact import mask_url

__all__ = [
    "DEFAULT_USER_AGENT",
    "AliasSettings",
    "FeedSettings",
    "LineLocator",
    "MonitorSettings",
    "NotifierSettings",
    "QuietHours",
    "Settings",
    "WatchlistSettings",
    "default_config_path",
    "expand_env",
    "format_duration",
    "load_settings",
    "mask_url",
    "parse_duration",
    "parse_size",
]

_SETTINGS = "monitor.config.settings"
__getattr__ = lazy_names(
    __name__,
    {
        "DEFAULT_USER_AGENT": _SETTINGS,
        "AliasSettings": _SETTINGS,
        "FeedSettings": _SETTINGS,
        "LineLocator": "monitor.config.source",
        "MonitorSettings": _SETTINGS,
        "NotifierSettings": _SETTINGS,
        "QuietHours": _SETTINGS,
        "Settings": _SETTINGS,
        "WatchlistSettings": _SETTINGS,
        "default_config_path": "monitor.config.source",
        "expand_env": "monitor.config.source",
        "format_duration": "monitor.config.units",
        "load_settings": "monitor.config.loader",
        "mask_url": "monitor.redact",
        "parse_duration": "monitor.config.units",
        "parse_size": "monitor.config.units",
    },
)
