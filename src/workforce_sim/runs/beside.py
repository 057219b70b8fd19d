"""Work done beside this process, in a forked copy of it, while this process goes on with other work.

A run's folder is written by several independent writers; the weekly table of a large run (2.4 s for the README's
compare) and the workbook (1.9 s) are the largest. On a machine with two cores the weekly table is written in a
forked copy of the process, which has the table already, while this process writes the rest. Forking is done
only where it is safe: on Linux, in a process running one thread (a server's threads would be copied half-way
through their work). Elsewhere :func:`begin` returns None and the caller does the work itself. The files written
are the same either way.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
from typing import Callable


def one_thread() -> bool:
    """True if this process runs a single thread, native threads included (Linux lists them in /proc)."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def can_fork() -> bool:
    """Whether work may be forked off here: Linux, one thread."""
    return sys.platform == "linux" and hasattr(os, "fork") and one_thread()


class Beside:
    """Work running in a forked child: :meth:`wait` for it, which raises what the work raised."""

    def __init__(self, pid: int, reader: int):
        self.pid = pid
        self._pipe = os.fdopen(reader, "rb")

    def wait(self) -> None:
        """Wait for the child to finish; raise the exception its work raised, if any."""
        if self.pid < 0:
            return
        message = self._pipe.read()  # the child writes only when its work failed, then exits
        self._pipe.close()
        _, status = os.waitpid(self.pid, 0)
        self.pid = -1
        if message:
            try:
                exc = pickle.loads(message)
            except Exception:  # an exception that does not survive pickling: its words
                exc = RuntimeError(message.decode("utf-8", "replace"))
            raise exc
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"the process writing beside this one stopped (status {status})")

    def abandon(self) -> None:
        """Stop the child (this process is stopping for another reason) and wait for it."""
        if self.pid < 0:
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        self._pipe.close()
        os.waitpid(self.pid, 0)
        self.pid = -1


def _die_with(parent: int) -> None:
    """Be killed if ``parent`` dies (Linux's PR_SET_PDEATHSIG): a killed run leaves no writer behind to race the next
    command's tidying of its folder."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before that took effect
        os._exit(1)


def begin(work: Callable[[], None]) -> Beside | None:
    """Start ``work`` in a forked copy of this process, or return None where forking is not safe (the caller then
    does the work itself)."""
    if not can_fork():
        return None
    parent = os.getpid()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: do the work, report a failure through the pipe, and leave without Python's shutdown
        code = 0
        try:
            os.close(reader)
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C stops it at once: the parent cleans up
            _die_with(parent)
            work()
        except BaseException as exc:
            code = 1
            try:
                data = pickle.dumps(exc)
            except Exception:
                data = f"{type(exc).__name__}: {exc}".encode()
            try:
                os.write(writer, data)
            except OSError:
                pass
        finally:
            os._exit(code)
    os.close(writer)
    return Beside(pid, reader)
