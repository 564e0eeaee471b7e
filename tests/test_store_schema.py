"""How `monitor check` words a database's schema against the migration files, and which URLs name a SQLite
file: plain functions of their values."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.store.schema import Revisions, head_revision, plain_sqlite_path, read_revisions, schema_state

REVISIONS = Revisions(frozenset({"0001", "0002", "0003"}), "0003")


@pytest.mark.parametrize(
    ("versions", "words"),
    [
        (["0003"], "opened and writable"),
        ([], "opened and writable; no tables yet, the first poll creates them"),
        (["0002"], "opened and writable; at schema 0002, the next poll migrates it to 0003"),
        (["0009"], "opened and writable; at schema 0009, which these migration files do not lead to"),
        (
            ["0001", "0002"],
            "opened and writable; at schema 0001, 0002, which these migration files do not lead to",
        ),
    ],
)
def test_the_schema_is_worded_against_the_migration_files(versions: list[str], words: str) -> None:
    assert schema_state(versions, REVISIONS) == words


def test_the_shipped_migrations_have_one_head_among_the_revisions_they_know() -> None:
    revisions = read_revisions()
    assert revisions.head is not None and revisions.head in revisions.known
    assert head_revision() == revisions.head


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:////var/lib/monitor/monitor.db", Path("/var/lib/monitor/monitor.db")),
        ("sqlite+pysqlite:///monitor.db", Path("monitor.db")),
        ("sqlite:///my%20monitor.db", Path("my monitor.db")),
        ("sqlite:///:memory:", None),
        ("sqlite://", None),
        ("sqlite:///monitor.db?mode=ro", None),  # not a plain file URL
        ("postgresql://root@127.0.0.1/test", None),
    ],
)
def test_only_a_plain_sqlite_url_names_a_file(url: str, path: Path | None) -> None:
    assert plain_sqlite_path(url) == path
