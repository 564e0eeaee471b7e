"""Who holds a claim and whether that holder is gone: the owner id, the start token read from /proc, and the
decision on a claim of this host's process (pure, given the start token of the pid now running)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from monitor.claims import _exists_token, current_owner, owner_gone, process_start, start_field

HOST = "desk-1"


def starts(**running: str | None) -> dict[int, str | None]:
    return {int(pid.removeprefix("p")): token for pid, token in running.items()}


def gone(owner: str, running: dict[int, str | None], host: str = HOST) -> bool:
    return owner_gone(owner, host, lambda pid: running.get(pid))


def test_a_claim_of_a_process_of_this_host_that_runs_no_more_is_gone() -> None:
    assert gone(f"{HOST}:42:1000", {})
    assert gone(f"{HOST}:42:1000", starts(p42=None))


def test_a_claim_whose_pid_now_belongs_to_another_process_is_gone() -> None:
    assert gone(f"{HOST}:42:1000", starts(p42="2000"))
    assert not gone(f"{HOST}:42:1000", starts(p42="1000"))  # the very process: still holds it


def test_a_start_that_cannot_be_told_never_releases_a_running_pids_claim() -> None:
    assert not gone(f"{HOST}:42:1000", starts(p42="*"))  # no /proc: only that the pid runs
    assert not gone(f"{HOST}:42:*", starts(p42="2000"))  # written where there was no /proc


def test_a_claim_of_another_host_is_left_to_its_expiry() -> None:
    assert not gone("other-host:42:1000", {})
    assert gone("other-host:42:1000", {}, host="other-host")


def test_an_owner_id_this_program_did_not_write_is_left_to_its_expiry() -> None:
    for owner in ("", "desk-1", "desk-1:42", f"{HOST}:pid:1000", f"{HOST}:-1:1000", f"{HOST}:4 2:1000"):
        assert not gone(owner, {}), owner
    assert gone("a:b:c:42:1000", {}, host="a:b:c")  # a host name holding colons: split from the right


def test_the_start_field_is_the_twenty_second_counted_after_the_command() -> None:
    fields = [str(n) for n in range(3, 60)]  # fields 3 onwards of a stat line, each its own number
    line = "123 (a b) c) " + " ".join(fields)
    assert start_field(line) == "22"
    assert start_field("123 (x) " + " ".join(fields[:20])) == "22"  # exactly up to field 22
    assert start_field("123 (x) " + " ".join(fields[:19])) is None  # one short
    assert start_field("") is None


def test_a_process_start_is_read_from_proc_and_a_stopped_process_has_none() -> None:
    stat = Path(f"/proc/{os.getpid()}/stat").read_text()
    assert process_start(os.getpid()) == stat.rpartition(")")[2].split()[19]
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert process_start(child.pid) is None and _exists_token(child.pid) is None
    assert _exists_token(os.getpid()) == "*"


def test_this_processs_owner_names_its_host_pid_and_start() -> None:
    host, pid, start = current_owner().rsplit(":", 2)
    assert (host, int(pid), start) == (socket.gethostname(), os.getpid(), process_start(os.getpid()))
    assert not owner_gone(current_owner(), socket.gethostname(), process_start)
