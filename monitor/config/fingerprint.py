"""A short fingerprint of what a config file says: two daemons whose fingerprints differ run with different
feeds, watchlists, notifiers or settings. The file's path, comments, layout and key order do not count; the
values do (secrets included, but only their hash leaves the process).

It is worked out from the file's values once its ``${VAR}`` references are expanded, not from the validated
settings, so that `monitor status` can compare it with the running daemons' without validating the whole file
(``config.database.read_status_settings``). A value written out at its default and the same key left out are
therefore two configs here, as two files that say different things."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def config_fingerprint(data: Mapping[str, Any]) -> str:
    """The fingerprint of the expanded TOML tree ``data`` (``source.expand_tree``)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
