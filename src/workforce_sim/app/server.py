"""Serving the page on this machine: a free port on 127.0.0.1 (another address only when asked, with a warning),
the address printed, and the browser opened where there is one."""

from __future__ import annotations

import socket
import threading
import webbrowser
from pathlib import Path
from typing import Callable

LOCAL = "127.0.0.1"
LOCAL_NAMES = ("127.0.0.1", "localhost", "::1")


def open_socket(host: str = LOCAL, port: int = 0) -> socket.socket:
    """A listening socket on ``host``, at ``port`` (0: a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)
    return sock


def address(sock: socket.socket) -> str:
    """The page's address for a browser."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def warning_for(host: str) -> str | None:
    """What to say when the page is served beyond this machine (None on this machine only)."""
    if host in LOCAL_NAMES or host.startswith("127."):  # the loopback addresses: this computer only
        return None
    return (f"Warning: the page is served on {host}, so other computers that can reach this one may open it, run "
            "simulations and save files here. It has no password. Leave out --host to keep it on this computer.")


def serve(scenario: str = "baseline", host: str = LOCAL, port: int = 0, browser: bool = True,
          say: Callable[[str], None] = print, workdir: Path | None = None, jobs: int | None = None) -> None:
    """Serve the page until Ctrl-C: print its address (and a warning for a host other than this machine), and
    open it in the browser unless ``browser`` is false."""
    import uvicorn

    from .page import make_app

    app = make_app(scenario, workdir, jobs)
    sock = open_socket(host, port)
    url = address(sock)
    warning = warning_for(host)
    if warning:
        say(warning)
    say(f"The page is at {url}  (Ctrl-C stops it)")
    if browser:
        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    server.run(sockets=[sock])
