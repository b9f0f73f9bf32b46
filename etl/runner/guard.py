"""Lead a step's process group and end the whole group when its worker dies.

Run as ``python -I -S guard.py <worker pid> -- argv...`` (standard library only: it starts in
milliseconds and imports nothing of the project). Linux delivers ``PR_SET_PDEATHSIG`` to this process
when the worker thread that started it dies, however it dies; the guard then SIGKILLs its process
group, the step and everything the step started. ``PR_SET_PDEATHSIG`` alone would reach only the
group's leader: grandchildren would keep downloading (docs/decisions/etl-crash-detection.md).
The guard otherwise stays out of the way: it passes the step's exit status on as its own, and a
signal sent to the group (cancel, timeout) reaches the step directly.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys

PR_SET_PDEATHSIG = 1
DEATH_SIGNAL = signal.SIGUSR1


def _end_group(signum: int, frame: object) -> None:
    os.killpg(0, signal.SIGKILL)


def main(args: list[str]) -> int:
    """Run the step in ``args`` (after ``--``) under the guard; return its exit status."""
    worker = int(args[0])
    argv = args[args.index("--") + 1 :]
    signal.signal(DEATH_SIGNAL, _end_group)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(DEATH_SIGNAL), 0, 0, 0)
    if os.getppid() != worker:  # the worker died before the death signal was armed
        _end_group(0, None)
    try:
        step = subprocess.Popen(argv)  # argv comes from ETL_COMMANDS, never from the admin
    except OSError as exc:
        print(f"cannot start the step: {exc}", file=sys.stderr, flush=True)
        return 127
    # Ignored only now (an ignored signal stays ignored across exec): SIGTERM to the group reaches the step
    # itself, and the guard outlives it to pass its status on.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    code = step.wait()
    if code < 0:  # killed by a signal: die of the same one, so the worker sees what it would without the guard
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
