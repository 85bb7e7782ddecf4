"""Child processes that do not outlive the process that started them.

`swingflow up` and the tests start nats-server and the services in sessions of their
own (so a terminal's Ctrl-C reaches only the owner, which stops them in order). If the
owner is killed outright, nothing would stop them; on Linux the kernel can: the child
asks for SIGTERM when its parent dies (prctl PR_SET_PDEATHSIG). Written by hand because
no pinned package offers it, and it is one system call.
"""

from __future__ import annotations

import ctypes
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` for subprocess.Popen: SIGTERM the child when its parent dies
    (Linux only; None elsewhere, where the child is left as before)."""
    return _die_with_parent if sys.platform.startswith("linux") else None
