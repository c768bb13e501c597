"""Open a page in headless Chromium over the DevTools protocol and report what it saw.

Used by the report's browser test, and by hand to look at a report::

    python -m tests._chromium emkit-demo/report.html --screenshot shot.png

Chromium (Debian's ``chromium``) is started the way this project's machines allow: headless, no
sandbox (we may be root), no GPU, and without its background network traffic, with a fresh
profile. The DevTools port is chosen by Chromium (``--remote-debugging-port=0``) and read from
the ``DevToolsActivePort`` file it writes into the profile.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
]

# Evaluated in the page once it has loaded: every <img>, whether it decoded, and its size.
_PROBE = """
(() => {
  const images = [...document.images].map(img => ({
    alt: img.alt, complete: img.complete, naturalWidth: img.naturalWidth,
    naturalHeight: img.naturalHeight, width: img.getBoundingClientRect().width,
    drawnWidth: Number(img.getAttribute('width') || img.naturalWidth),
    boxWidth: img.parentElement.getBoundingClientRect().width,
    src: img.currentSrc.slice(0, 30)}));
  const root = document.documentElement;
  return JSON.stringify({
    title: document.title,
    images,
    sections: document.querySelectorAll('main > section').length,
    scrollWidth: root.scrollWidth, clientWidth: root.clientWidth,
    scrollHeight: root.scrollHeight,
    fontSize: parseFloat(getComputedStyle(document.body).fontSize),
    text: document.body.innerText,
  });
})()
"""


def find_chromium() -> str | None:
    """Path of a Chromium binary: ``$EMKIT_CHROMIUM``, else ``chromium`` on PATH."""
    candidate = os.environ.get("EMKIT_CHROMIUM")
    if candidate:
        return candidate if Path(candidate).exists() else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageReport:
    """What Chromium saw: the probe's result, console messages, and a screenshot if asked."""

    title: str
    images: list[dict[str, Any]]
    sections: int
    scroll_width: int
    client_width: int
    scroll_height: int
    font_size: float
    text: str
    errors: list[str] = field(default_factory=list)
    screenshot: bytes | None = None


class _DevTools:
    """A minimal synchronous DevTools client: send commands, collect events."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_event(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            self.events.append(message)
            if message.get("method") == method:
                return message


def _console_errors(events: list[dict[str, Any]]) -> list[str]:
    errors = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            errors.append(f"console.{params['type']}: {args}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            description = details.get("exception", {}).get("description", "")
            errors.append(f"exception: {details.get('text')} {description}".strip())
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            errors.append(
                f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}"
            )
    return errors


def open_page(
    path: Path,
    chromium: str,
    *,
    width: int = 1366,
    height: int = 768,
    screenshot: bool = False,
    timeout: float = 60.0,
) -> PageReport:
    """Load ``path`` (a local HTML file) at a ``width`` x ``height`` viewport and probe it."""
    # Chromium's helper processes may still write to the profile as it exits: a leftover
    # temporary folder is not a test failure
    with tempfile.TemporaryDirectory(
        prefix="emkit-chromium-", ignore_cleanup_errors=True
    ) as profile:
        proc = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + timeout
            while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
                if proc.poll() is not None:
                    raise RuntimeError(f"chromium exited with code {proc.returncode}")
                if time.monotonic() > deadline:
                    raise TimeoutError("chromium did not open its DevTools port")
                time.sleep(0.05)
            port = int(port_file.read_text().split()[0])
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=20) as r:
                targets = json.loads(r.read())
            page = next(t for t in targets if t.get("type") == "page")
            from websockets.sync.client import connect

            with connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=20) as ws:
                return _probe(_DevTools(ws), path, width, height, screenshot, timeout)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _probe(
    client: _DevTools, path: Path, width: int, height: int, screenshot: bool, timeout: float
) -> PageReport:
    for domain in ("Runtime", "Log", "Page"):
        client.call(f"{domain}.enable")
    client.call(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=height,
        deviceScaleFactor=1,
        mobile=False,
    )
    client.call("Page.navigate", url=path.resolve().as_uri())
    client.wait_event("Page.loadEventFired", timeout=timeout)
    result = client.call("Runtime.evaluate", expression=_PROBE, returnByValue=True)
    data = json.loads(result["result"]["value"])
    shot = None
    if screenshot:
        full = client.call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": width, "height": data["scrollHeight"], "scale": 1},
        )
        shot = base64.b64decode(full["data"])
    time.sleep(0.2)  # let late console messages arrive
    client.call("Runtime.evaluate", expression="0")
    return PageReport(
        title=data["title"],
        images=data["images"],
        sections=data["sections"],
        scroll_width=data["scrollWidth"],
        client_width=data["clientWidth"],
        scroll_height=data["scrollHeight"],
        font_size=data["fontSize"],
        text=data["text"],
        errors=_console_errors(client.events),
        screenshot=shot,
    )


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path)
    parser.add_argument("--screenshot", type=Path)
    parser.add_argument("--width", type=int, default=1366)
    args = parser.parse_args()
    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("chromium not found")
    report = open_page(args.page, chromium, width=args.width, screenshot=bool(args.screenshot))
    if args.screenshot and report.screenshot:
        args.screenshot.write_bytes(report.screenshot)
    summary = {k: v for k, v in vars(report).items() if k not in ("screenshot", "text")}
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
