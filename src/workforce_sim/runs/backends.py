"""Where replications run: in this process, on local cores, or on a Dask cluster.

Every backend is used through the ``concurrent.futures`` Executor interface
(``submit`` and standard futures), so the experiment code has one path.
Results never depend on the backend: a replication's random numbers come from
(seed, replication index) alone.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import signal
import sys
from contextlib import ExitStack, contextmanager
from typing import Iterator

from .beside import one_thread

DASK_HINT = 'Dask is not installed. Install it, in the project folder, with: python -m pip install -e ".[dask]"'
CONNECT_SECONDS = 20  # how long a Dask scheduler has to answer before --cluster gives up


class DaskMissing(ImportError, RuntimeError):
    """A Dask cluster was asked for but Dask is not installed; the message says how to install it.

    It is also a RuntimeError, the type this error had before it had a class of its own.
    """


def available_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class SerialExecutor(cf.Executor):
    """Runs each task at once, in this process (for --jobs 1 and for debugging)."""

    def submit(self, fn, /, *args, **kwargs):
        """Run ``fn`` now and return a finished future holding its result or its exception."""
        fut: cf.Future = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            if isinstance(exc, KeyboardInterrupt):
                raise
            fut.set_exception(exc)
        return fut


class ClusterUnreachable(OSError):
    """No Dask scheduler answered at the address given; the message says what to check."""


def _unreachable(address: str, why: str) -> ClusterUnreachable:
    return ClusterUnreachable(
        f"no Dask scheduler answered at {address} ({why}). Check the address (a scheduler's looks like "
        "tcp://HOST:8786) and that the scheduler is running, or leave out --cluster to run on this machine.")


def check_scheduler(address: str, seconds: float | None = None) -> None:
    """Raise :class:`ClusterUnreachable` unless a Dask peer completes a handshake at ``address`` in time.

    Dask bounds the connection attempt but not the handshake that follows it, so a port that
    accepts and stays silent, or a web server, would otherwise hold the run forever.
    """
    import asyncio  # (here: a run on this machine does without it, 60 ms of every command's start)

    from distributed.comm import connect

    seconds = CONNECT_SECONDS if seconds is None else seconds

    async def handshake():
        comm = await connect(address, timeout=seconds)
        await comm.close()

    def attempt():  # in a thread of its own: a notebook's thread already runs an event loop
        asyncio.run(asyncio.wait_for(handshake(), seconds))

    with cf.ThreadPoolExecutor(1) as pool:
        try:
            pool.submit(attempt).result()
        except (asyncio.TimeoutError, TimeoutError):
            raise _unreachable(address, f"nothing that speaks Dask's protocol replied within {seconds:g} s") from None
        except (OSError, ValueError, TypeError, MemoryError) as exc:
            raise _unreachable(address, str(exc) or type(exc).__name__) from None


def _ignore_sigint() -> None:
    """Worker processes leave Ctrl-C to the parent, which stops the run cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start_method() -> str:
    """How local workers start. ``fork`` on Linux while this process runs one thread: the workers begin at once
    with the model this process has already imported (about 1.4 s sooner than a forkserver, which imports it again
    before the first worker starts). ``forkserver`` where threads run beside (the page's server: forking them is
    unsafe) or on other platforms that have it, else ``spawn``. Results never depend on it."""
    methods = multiprocessing.get_all_start_methods()
    if sys.platform == "linux" and "fork" in methods and one_thread():
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


@contextmanager
def open_executor(jobs: int = 1, cluster: str | None = None) -> Iterator[tuple[cf.Executor, int]]:
    """An executor and how many tasks it runs at once.

    ``cluster`` is None (local processes, or this process when ``jobs`` is 1),
    ``"local"`` (a Dask LocalCluster on this machine with ``jobs`` workers) or
    the address of an existing Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.
    """
    if cluster is None:
        if jobs <= 1:
            yield SerialExecutor(), 1
            return
        ctx = multiprocessing.get_context(start_method())
        if ctx.get_start_method() == "forkserver":
            ctx.set_forkserver_preload(["workforce_sim.runs.experiment"])  # workers start with the model imported
        ex = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_ignore_sigint)
        try:
            yield ex, jobs
        finally:
            ex.shutdown(wait=True, cancel_futures=True)
        return
    import asyncio

    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise DaskMissing(DASK_HINT) from None
    if cluster == "local":
        lc = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(lc)
    else:
        lc = None
        check_scheduler(cluster)
        try:
            client = Client(cluster, timeout=f"{CONNECT_SECONDS}s")
        except (OSError, asyncio.TimeoutError, TimeoutError) as exc:
            raise _unreachable(cluster, str(exc) or type(exc).__name__) from None
    try:
        width = sum(client.nthreads().values()) or 1
        # pure=False: every replication is distinct work even when its arguments look alike
        ex = client.get_executor(pure=False)
        try:
            yield ex, width
        finally:
            ex.shutdown(wait=False)
    finally:
        client.close()
        if lc is not None:
            lc.close()


class Workers:
    """The workers of one command, started when a step first needs them and kept for every step after.

    The command line opens one for a whole command, so the start-state check and the run share their worker
    processes (each starts, and loads the model, once per command rather than once per step). ``jobs`` and
    ``cluster`` are as for :func:`open_executor`. Use it as a context manager; the workers stop when it closes.
    Results never depend on which executor ran them.
    """

    def __init__(self, jobs: int, cluster: str | None = None):
        self.jobs = jobs
        self.cluster = cluster
        self._stack = ExitStack()
        self._open: tuple[cf.Executor, int] | None = None
        self.started = 0  # how many times workers were started (once at most: tests count it)
        # set before the command's last step on them: they stop as soon as that step's simulations are done, and
        # the process runs one thread again while it writes (so it may fork a writer: runs/beside.py)
        self.final = False

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers, if they were started."""
        self._open = None
        self._stack.close()

    @contextmanager
    def executor(self, jobs: int | None = None) -> Iterator[tuple[cf.Executor, int]]:
        """The shared executor and how many tasks it runs at once; a step that would run in this process
        (``jobs`` 1, no cluster) gets a serial executor and starts nothing. The workers outlive the block, unless
        :attr:`final` is set."""
        if self.cluster is None and min(jobs or self.jobs, self.jobs) <= 1:
            yield SerialExecutor(), 1
            return
        if self._open is None:
            self._open = self._stack.enter_context(open_executor(self.jobs, self.cluster))
            self.started += 1
        try:
            yield self._open
        finally:
            if self.final:
                self.close()
