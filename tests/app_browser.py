"""The page of `workforce-sim app` served in this process, and headless Chromium to drive it: shared by
tests/test_app.py and benchmarks/bench_app.py."""

from __future__ import annotations

import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,1100")
MISSING = ("needs Chromium and ChromeDriver: sudo apt-get install chromium chromium-driver "
           "(.ci/run installs them, so CI runs this test)")


def browser_parts() -> tuple[str | None, str | None]:
    """Chromium and ChromeDriver, where both (and selenium) are installed."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        driver = None
    return chromium, driver


@contextmanager
def served(scenario: str, workdir: Path, jobs: int | None = 1) -> Iterator[str]:
    """The page, served on a free port of 127.0.0.1 in a thread of this process; yields its address."""
    import uvicorn

    from workforce_sim.app.page import make_app
    from workforce_sim.app.server import address, open_socket

    sock = open_socket()
    server = uvicorn.Server(uvicorn.Config(make_app(scenario, workdir, jobs), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield address(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def chromium() -> Iterator:
    """Headless Chromium with its network log on (the flags of tests/test_charts.py's report test)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = browser_parts()
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    browser = webdriver.Chrome(service=Service(driver), options=opts)
    try:
        yield browser
    finally:
        browser.quit()


def requested_urls(browser) -> list[str]:
    """Every address the page asked for so far (Chrome's network events: requests and web sockets)."""
    import json

    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(params["request"]["url"])
        elif message.get("method") == "Network.webSocketCreated":
            urls.append(params["url"])
    return urls


def off_machine(urls: list[str]) -> list[str]:
    """The addresses among ``urls`` that are not on this machine (data: pictures are in the page itself)."""
    return [u for u in urls if urlparse(u).scheme not in ("data", "blob", "about")
            and urlparse(u).hostname not in ("127.0.0.1", "localhost")]


def wait_for(browser, script: str, seconds: float = 120.0, every: float = 0.2):
    """Run ``script`` (JavaScript returning a value) until it returns something true; return that value."""
    deadline = time.monotonic() + seconds
    while True:
        value = browser.execute_script(script)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"the page did not show this within {seconds:g} s: {script}")
        time.sleep(every)


def set_value(browser, element_id: str, value) -> None:
    """Type ``value`` into a control as a person would (the control tells Shiny of the change)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = browser.find_element(By.ID, element_id)
    box.send_keys(Keys.CONTROL + "a")
    box.send_keys(str(value))
    box.send_keys(Keys.TAB)
    time.sleep(0.6)  # Shiny sends a typed value after a pause (250 ms); a person is slower than that anyway
