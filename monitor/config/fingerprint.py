"""A short fingerprint of what a config file compiles to: two daemons whose fingerprints differ run with
different feeds, watchlists, notifiers or settings. The file's path, comments, layout and key order do not
count; the values do (secrets included, but only their hash leaves the process)."""

from __future__ import annotations

import hashlib
import json

from monitor.config.settings import Settings


def config_fingerprint(settings: Settings) -> str:
    content = settings.model_dump(mode="json", exclude={"path", "warnings"})
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
