"""Changing the config file from commands (`monitor feeds import`, `monitor feeds add`): new [[feed]] tables are
appended with tomlkit, which keeps the file's comments and layout; the new text is checked with the real loader
before it atomically replaces the old file, so a failed edit leaves the file as it was."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError

from monitor.config.loader import load_settings
from monitor.errors import ConfigError


@dataclass(frozen=True, slots=True)
class FeedTable:
    """One [[feed]] table to append; None and empty values are left out of the file."""

    name: str
    url: str
    tags: tuple[str, ...] = ()
    comment: str | None = None


def append_feeds(path: Path, feeds: Sequence[FeedTable], env: Mapping[str, str] = os.environ) -> str:
    """Append ``feeds`` to the config file at ``path`` and return the new text. The file is replaced only when
    the new text loads without error."""
    old_text = _read(path)
    new_text = with_feeds(old_text, feeds, path)
    replace_checked(path, new_text, env)
    return new_text


def with_feeds(text: str, feeds: Sequence[FeedTable], path: Path) -> str:
    """The config text with ``feeds`` appended as [[feed]] tables at its end, the rest byte for byte as it was
    (TOML adds a [[feed]] written after other tables to the same list of feeds)."""
    try:
        tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError([f"{path}: invalid TOML: {exc}"]) from exc
    if not feeds:
        return text
    separator = "" if not text or text.endswith("\n\n") else "\n" if text.endswith("\n") else "\n\n"
    rendered = "\n".join(_feed_table(feed) for feed in feeds)
    return text + separator + rendered


def replace_checked(path: Path, text: str, env: Mapping[str, str] = os.environ) -> None:
    """Write ``text`` to a temporary file beside ``path``, load it with the real loader, then rename it over
    ``path`` (atomic on one file system). On any problem the temporary file is removed and ``path`` untouched."""
    folder = path.resolve().parent
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        try:
            load_settings(Path(temporary), env)
        except ConfigError as exc:
            problems = [problem.replace(temporary, str(path)) for problem in exc.problems]
            raise ConfigError([f"{path}: the edit was not saved: {problems[0]}", *problems[1:]]) from exc
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the config file: {exc.strerror}"]) from None


def _feed_table(feed: FeedTable) -> str:
    table = tomlkit.table()
    if feed.comment:
        table.add(tomlkit.comment(feed.comment))
    table.add("name", feed.name)
    table.add("url", feed.url)
    if feed.tags:
        table.add("tags", list(feed.tags))
    tables = tomlkit.aot()
    tables.append(table)
    document = tomlkit.document()
    document.append("feed", tables)
    return tomlkit.dumps(document)
