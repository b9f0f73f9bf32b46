"""Process groups: one signal reaches a step's whole tree; a gone or recycled group is not taken for the step's."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from etl.runner.process import group_alive, kill_group
from tests.etl.conftest import alive_pids, wait_for

# A step-like leader that starts a child of its own, reports both pids, then waits.
TREE = """
import os, subprocess, sys, time
kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
print(os.getpid(), kid.pid, flush=True)
time.sleep(300)
"""


@pytest.fixture
def step_group() -> Iterator[tuple[subprocess.Popen[str], list[int]]]:
    """Start TREE in a process group of its own, as the runner starts a step; yield the leader and every pid."""
    leader = subprocess.Popen([sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True, process_group=0)
    assert leader.stdout is not None
    pids = [int(p) for p in leader.stdout.readline().split()]
    yield leader, pids
    with contextlib.suppress(ProcessLookupError):
        os.killpg(leader.pid, signal.SIGKILL)
    leader.wait(timeout=10)


def test_kill_group_stops_the_leader_and_the_children_it_started(
    step_group: tuple[subprocess.Popen[str], list[int]],
) -> None:
    leader, pids = step_group
    assert len(alive_pids(pids)) == 2
    assert group_alive(leader.pid)
    assert kill_group(leader.pid, signal.SIGKILL) is True
    assert leader.wait(timeout=10) == -signal.SIGKILL
    wait_for(lambda: not alive_pids(pids), timeout=10)


def test_a_group_with_no_process_left_is_neither_alive_nor_signalled() -> None:
    leader = subprocess.Popen([sys.executable, "-c", "pass"], process_group=0)
    assert leader.wait(timeout=30) == 0
    assert group_alive(leader.pid) is False
    assert kill_group(leader.pid, signal.SIGTERM) is False


def test_the_signal_stays_inside_the_group(step_group: tuple[subprocess.Popen[str], list[int]]) -> None:
    # A second, unrelated group must survive the first one's kill: cancelling one step never touches another.
    leader, pids = step_group
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], process_group=0)
    try:
        kill_group(leader.pid, signal.SIGKILL)
        wait_for(lambda: not alive_pids(pids), timeout=10)
        assert alive_pids([other.pid]) == [other.pid]
        assert group_alive(other.pid)
    finally:
        other.kill()
        other.wait(timeout=10)


def test_a_group_whose_members_predate_the_step_is_taken_for_a_recycled_id(
    step_group: tuple[subprocess.Popen[str], list[int]],
) -> None:
    leader, _ = step_group
    now = dt.datetime.now(tz=dt.UTC)
    assert group_alive(leader.pid, now - dt.timedelta(minutes=1))
    assert not group_alive(leader.pid, now + dt.timedelta(minutes=1))  # a step that started after these were born
