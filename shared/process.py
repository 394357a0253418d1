"""Processes that end with the one that started them."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1
SUPERVISED = "GAODEDIM_SUPERVISED"
"""Set by `gaodedim run` for the processes it starts (not by a container or systemd, where the
process manager, not the parent, decides what lives)."""


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this process when its parent dies, however it dies (SIGKILL too).

    The supervisor sets it for its children before exec; an API process calls it again at
    start-up, because under `--workers N` its parent is uvicorn's master, and a master killed
    outright would otherwise leave its workers serving on, holding the port the restarted
    master needs. Elsewhere than Linux it does nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)
