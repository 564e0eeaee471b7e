"""The only reader of the config file: TOML -> validated, frozen ``Settings``.

Every mistake in the file is reported at once, each as ``path:line: message``. tomllib gives no positions for
a valid document, so ``source.LineLocator`` scans the text for table headers and ``key =`` lines to point at them.
"""

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
    default_config_path,
)
from monitor.config.source import LineLocator, expand_env
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
