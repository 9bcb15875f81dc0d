"""Process groups: each component leads its own group, and stopping kills whole groups."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time

STOP_TIMEOUT_SECONDS = 20.0
PR_SET_PDEATHSIG = 1


def kill_groups(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every process group at once, wait, then SIGKILL whatever is left of them."""
    # start_new_session made each child its group's leader: its pid is the group id.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = [p for p in processes if group_alive(p)]
        for process in alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline and any(group_alive(p) for p in alive):
            time.sleep(0.2)
    for process in processes:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this child when its parent dies (a killed test run orphans nothing:
    the component then stops its own children)."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def group_alive(process: subprocess.Popen[bytes]) -> bool:
    process.poll()  # reap the leader so a zombie does not keep its group "alive"
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True
