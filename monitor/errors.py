"""The project's exception tree. Every error says which thing it concerns and what to do about it."""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every error the project raises on purpose; the CLI turns it into one line and an exit code."""

    exit_code = 1


class ConfigError(MonitorError):
    """The config file is unreadable or invalid. ``problems`` holds one ``path:line: message`` per mistake."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class QueryError(MonitorError):
    """A watchlist query does not parse: ``position`` is the 0-based offset in the query text."""

    exit_code = 2

    def __init__(self, query: str, position: int, expected: str, watchlist: str | None = None) -> None:
        self.query = query
        self.position = position
        self.expected = expected
        self.watchlist = watchlist
        where = f"watchlist {watchlist!r}: " if watchlist else ""
        super().__init__(f"{where}query error at position {position + 1}: expected {expected}")


class UrlError(MonitorError):
    """A problem with one URL: ``url`` names it, ``reason`` says what went wrong in a few words."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason

    def __reduce__(self) -> tuple[object, ...]:
        # Rebuild from (url, reason) plus the attributes, so the error survives pickling across worker processes.
        return (type(self), (self.url, self.reason), self.__dict__)


class FetchError(UrlError):
    """A URL could not be fetched ("HTTP 404 Not Found", "timed out after 30s").

    ``permanent``: the address is gone for good (410, a bad URL). ``transient``: trying again later may work
    (a timeout, a refused connection, 5xx, 408, 429); by default every error without a status that is not
    permanent counts as transient, so that an unforeseen failure is retried rather than lost."""

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        permanent: bool = False,
        transient: bool | None = None,
    ) -> None:
        super().__init__(url, reason)
        self.status = status
        self.retry_after = retry_after
        self.permanent = permanent
        self.transient = (not permanent) and (
            transient if transient is not None else transient_status(status)
        )


TRANSIENT_STATUSES = frozenset({408, 425, 429})


def transient_status(status: int | None) -> bool:
    """Whether an HTTP status (None: no response at all) may well be different on a later try."""
    return status is None or status >= 500 or status in TRANSIENT_STATUSES


class FeedParseError(UrlError):
    """A body is not a feed (empty, an HTML page, unparseable)."""


class ExtractError(UrlError):
    """Article text could not be extracted (too big, too slow, not HTML, worker crashed)."""


class WorkerCrashed(MonitorError):
    """A worker process died while running a task (killed by the OS, out of memory, a segfault)."""


class StoreError(MonitorError):
    """The database cannot be opened, migrated or written."""

    exit_code = 3


class AlreadyRunningError(MonitorError):
    """Another daemon holds the database."""

    exit_code = 4
