"""Writing files so that a reader never sees half of one, and one writer at a time per folder."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Callable

LOCK = ".lock"
TMP_NAME = re.compile(r"\..+\.p(\d+)\.[^.]*\.tmp")  # atomic_write's temporary files: .NAME.pPID.RANDOM.tmp


class FolderError(Exception):
    """An output folder cannot be used: in use by another run, not writable, or holding another run."""


def atomic_write(path: Path, write: Callable[[IO], object], binary: bool = False) -> None:
    """Write through a temporary file in the same folder, then rename it over ``path``.

    The rename is atomic, so ``path`` holds either its old contents or the whole
    new file, even if the process is killed part-way. Permissions follow the umask.
    The temporary file's name carries the writer's process id, so one left by a
    killed process can be recognised and removed (:func:`remove_stale_temporaries`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.p{os.getpid()}.", suffix=".tmp")
    try:
        fh: IO = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", newline="", encoding="utf-8")
        with fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- processes ---------------------------------------------------------------------------------
def _start_ticks(pid: int) -> str | None:
    """When process ``pid`` started, in clock ticks since boot (Linux), to tell a reused pid from the original."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rindex(")") + 2:].split()[19]
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid: int) -> bool:
    """Whether a process with this id is running on this machine."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill(pid, 0) would send Ctrl-C on Windows
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: Path, min_age: float = 60.0) -> list[Path]:
    """Remove temporary files (``.*.tmp``) left in ``folder`` by writers that no longer run.

    A file naming its process is removed once that process has gone; one that does not
    (an older version's) once it is ``min_age`` seconds old.
    """
    removed = []
    for f in Path(folder).glob(".*.tmp"):
        m = TMP_NAME.fullmatch(f.name)
        try:
            stale = not pid_alive(int(m.group(1))) if m else time.time() - f.stat().st_mtime > min_age
            if stale:
                f.unlink()
                removed.append(f)
        except OSError:
            pass
    return removed


# -- one writer per folder ----------------------------------------------------------------------
def _cannot_write(folder: Path, exc: OSError) -> FolderError:
    why = exc.strerror or str(exc)
    return FolderError(f"cannot write results to {folder}: {why}. Choose a folder you can write to with --out.")


class FolderLock:
    """``FOLDER/.lock``, created exclusively (O_EXCL) and holding the owner's process id, while a run writes there.

    A second run into the same folder is refused while the first runs. A lock left by a
    process that has gone (killed, or its machine restarted) is taken over, with a message.
    """

    def __init__(self, folder: Path, notify: Callable[[str], None] | None = None, what: str = "run"):
        self.folder = Path(folder)
        self.path = self.folder / LOCK
        self.notify = notify or (lambda message: None)
        self.mine: dict | None = None
        self.what = what  # what holds the lock, in the words another command's refusal uses: "run", "report"

    def _describe(self) -> dict:
        return {"pid": os.getpid(), "host": socket.gethostname(), "start_ticks": _start_ticks(os.getpid()),
                "since": dt.datetime.now().isoformat(timespec="seconds"), "what": self.what}

    def _read(self) -> dict | None:
        try:
            info = json.loads(self.path.read_text(encoding="utf-8"))
            return info if isinstance(info, dict) and isinstance(info.get("pid"), int) else {}
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # unreadable, or caught between creation and writing

    def _holder_gone(self, info: dict) -> bool | None:
        """True if the lock's owner no longer runs, False if it does, None if that cannot be told from here."""
        if info.get("host") != socket.gethostname():
            return None
        pid = info["pid"]
        if not pid_alive(pid):
            return True
        ticks = _start_ticks(pid)
        return bool(ticks and info.get("start_ticks") and ticks != info["start_ticks"])  # pid reused since

    def acquire(self) -> None:
        """Take the lock, or raise :class:`FolderError` saying who holds it."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _cannot_write(self.folder, exc) from None
        unreadable_since = None
        while True:
            mine = self._describe()
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                pass
            except OSError as exc:
                raise _cannot_write(self.folder, exc) from None
            else:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(mine, fh)
                self.mine = mine
                return
            info = self._read()
            if info is None:
                continue  # released meanwhile: try again
            if not info:  # a lock being written this instant, or a torn one left by a killed process
                unreadable_since = unreadable_since or time.monotonic()
                if time.monotonic() - unreadable_since < 2:
                    time.sleep(0.05)
                    continue
                self._break({}, f"Taking over {self.path}, an unreadable lock left by an earlier run.")
                continue
            gone = self._holder_gone(info)
            if gone is None:
                raise FolderError(
                    f"{self.folder} is in use by a run on {info.get('host')} (process {info['pid']}, since "
                    f"{info.get('since')}). Wait for it to finish, or choose another --out folder; if no run is "
                    f"writing there, delete {self.path} and try again.")
            if not gone:
                what = info.get("what") if info.get("what") in ("report", "plot") else "run"
                raise FolderError(
                    f"another {what} (process {info['pid']}, started {info.get('since')}) is "
                    f"{'writing to' if what == 'run' else 'reading'} {self.folder}. Wait for it to finish, or choose "
                    "another --out folder.")
            self._break(info, f"Taking over {self.path}: the run that left it (process {info['pid']}, started "
                              f"{info.get('since')}) is no longer running.")

    def _break(self, seen: dict, message: str) -> None:
        """Remove a stale lock, unless someone else has replaced it meanwhile (checked under ``.lock.break``)."""
        breaker = self.path.with_name(LOCK + ".break")
        try:
            os.close(os.open(breaker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except FileExistsError:
            try:
                if time.time() - breaker.stat().st_mtime > 30:  # left by a process killed while breaking
                    breaker.unlink()
            except OSError:
                pass
            time.sleep(0.05)
            return
        try:
            now = self._read()
            if now is not None and now == seen:
                self.path.unlink(missing_ok=True)
                self.notify(message)
        finally:
            breaker.unlink(missing_ok=True)

    def release(self) -> None:
        """Remove the lock if it is still this process's."""
        if self.mine is not None and self._read() == self.mine:
            self.path.unlink(missing_ok=True)
        self.mine = None

    def __enter__(self) -> "FolderLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def clear_stale_lock(folder: Path) -> None:
    """Remove ``folder``'s lock if the process that took it no longer runs (killed: issue 26, item 7), so that no
    ``.lock`` stays behind; a lock of a running process, or of another machine's, is left alone."""
    lock = FolderLock(folder)
    info = lock._read()
    if info and lock._holder_gone(info) is True:
        lock._break(info, "")
