"""The page of `workforce-sim app` as a director uses it: the time from pressing Run to the first answer (the first
"so far" line, once the first futures finish) and to the last (the answer in words, with the charts drawn), for
a scenario at its defaults (baseline: 5 years, 20 simulated futures), in headless Chromium.

    python benchmarks/bench_app.py [SCENARIO] [--rounds N] [--futures N] [--years Y] [--jobs N]

Worker processes are as `run` chooses them unless --jobs says (the page's default). Not a test: run it by hand.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from app_browser import chromium, served, set_value, wait_for  # noqa: E402

FIRST = "return document.querySelector('#progress_box .so-far')"
LAST = ("const c = Array.from(document.querySelectorAll('img.chart'));"
        "return document.getElementById('headline') && c.length > 0 && c.every(i => i.complete && i.naturalWidth > 0)")


def one_round(browser, url: str, futures: int, years: float) -> tuple[float, float]:
    from selenium.webdriver.common.by import By

    browser.get(url)
    wait_for(browser, "return document.getElementById('futures')", 60)
    set_value(browser, "years", years)
    set_value(browser, "futures", futures)
    t0 = time.perf_counter()
    browser.find_element(By.ID, "run").click()
    wait_for(browser, FIRST, 600, every=0.05)
    first = time.perf_counter() - t0
    wait_for(browser, LAST, 1200, every=0.05)
    return first, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", nargs="?", default="baseline")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--futures", type=int, default=20)
    ap.add_argument("--years", type=float, default=5)
    ap.add_argument("--jobs", type=int, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, served(args.scenario, Path(tmp), args.jobs) as url, \
            chromium() as browser:
        for r in range(args.rounds):
            first, last = one_round(browser, url, args.futures, args.years)
            load = os.getloadavg()[0]
            print(f"round {r + 1}: {args.scenario}, {args.futures} futures of {args.years:g} years: first answer "
                  f"{first:.1f} s, last answer {last:.1f} s after Run (load average {load:.1f})")


if __name__ == "__main__":
    main()
