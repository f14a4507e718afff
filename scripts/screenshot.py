"""Screenshot app pages in headless Chromium (a developer aid; the e2e suite has its own fixtures).

    python scripts/screenshot.py "pages/1_Tokens.py?lang=zh" out.png [--port 8599] [--width 1400]

Starts `streamlit run app.py` on a loopback port, opens the page (the path is a page's URL path such as
`Tokens` or a file under pages/; query strings are passed on), waits until the script is idle and saves
a full-page PNG. Uses Debian's /usr/bin/chromium through Playwright.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def url_path(target: str) -> str:
    path, _, query = target.partition("?")
    if path.startswith("pages/"):
        stem = Path(path).stem
        path = stem.split("_", 1)[1] if "_" in stem else stem
    elif path in ("app.py", ""):
        path = ""
    return f"/{path}" + (f"?{query}" if query else "")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("targets", nargs="+", help="pairs: PAGE[?query] OUT.png")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--wait", type=float, default=1.0, help="extra seconds after idle (charts to draw)")
    args = parser.parse_args()
    pairs = list(zip(args.targets[0::2], args.targets[1::2], strict=True))
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TINYLM_RUNS_DIR": os.environ.get("TINYLM_RUNS_DIR", str(ROOT / "runs"))},
    )
    try:
        from playwright.sync_api import sync_playwright

        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            for target, out in pairs:
                page.goto(f"http://127.0.0.1:{port}{url_path(target)}")
                page.wait_for_selector(IDLE, timeout=60_000)
                time.sleep(args.wait)
                page.wait_for_selector(IDLE, timeout=60_000)
                page.screenshot(path=out, full_page=True)
                errors = page.locator('[data-testid="stException"]').count()
                print(f"{out}: {'EXCEPTION SHOWN' if errors else 'ok'}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
