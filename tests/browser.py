"""Debian's chromium driven by Selenium for end-to-end tests: headless, kept off the network, and never
downloading a driver (the driver is Debian's chromium-driver, named by path)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
    # Everything but the desk on loopback goes to a closed port or resolves to nothing.
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)


def require_browser() -> None:
    """The browser tests never skip: without chromium they fail and say how to get it."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        pytest.fail(
            f"browser tests need {' and '.join(missing)}: run `make chromium` "
            "(apt-get install chromium chromium-driver)",
            pytrace=False,
        )


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    require_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), env={**os.environ, "SE_OFFLINE": "true"})
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def desk_server(config: Path, port: int) -> Iterator[str]:
    """`monitor web` on ``port`` as a subprocess; yields its base URL once it accepts connections."""
    log = (config.parent / "web.log").open("w", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "web", "--listen", f"127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"monitor web stopped: {(config.parent / 'web.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("monitor web did not start listening") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    ARTEFACTS.mkdir(exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"screenshot {name} not saved"
    return path


def csp_violations(driver: webdriver.Chrome) -> list[str]:
    """Console messages about the Content-Security-Policy (an inline script or style it blocked)."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"]
    ]
