"""Headless Chromium driven over the DevTools protocol, for tests that look at pages as a person
would: what the page shows once its scripts have run, and every console error on the way.

    with Browser() as browser:                  # skips the test when Chromium is not installed
        page = browser.load(url, expect=["he l0 kp1"])
        assert page.errors == [] and "he l0 kp1" in page.text

Debian's ``chromium`` (``apt-get install chromium``; ``.ci/run`` installs it); the protocol's
websocket goes through aiohttp, which MLflow already depends on.
"""

import asyncio
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--remote-debugging-port=0", "--window-size=1600,1000"]
SKIP = "Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it"


@dataclass
class Page:
    """A loaded page: its visible text, its console errors and uncaught exceptions, and a
    screenshot (PNG bytes) when one was asked for."""

    url: str
    text: str
    errors: list[str] = field(default_factory=list)
    screenshot: bytes | None = None
    value: object = None  # what ``evaluate`` returned


class Browser:
    """One headless Chromium for the duration of a ``with`` block."""

    def __enter__(self) -> "Browser":
        if CHROMIUM is None:  # in CI (.ci/run installs it) a skip would hide the test
            (pytest.fail if os.environ.get("CI") else pytest.skip)(SKIP)
        self._profile = tempfile.TemporaryDirectory(prefix="initreg-chromium-")
        self.proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={self._profile.name}",
                                      "about:blank"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        port_file = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.1)
        self.port = int(port_file.read_text().split()[0])
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._profile.cleanup()

    def load(self, url: str, expect: list[str] = (), timeout: float = 60,
             screenshot: bool = False, click: str | None = None,
             evaluate: str | None = None) -> Page:
        """Open ``url`` in a new tab and wait until its text holds every string of ``expect``
        (or ``timeout`` passes); ``click``: a CSS selector of elements to click (each once) as
        soon as they appear, e.g. the buttons that expand a parent run's row; ``evaluate``: a
        JavaScript expression run then in the page (a promise is awaited, for at most 60 s),
        its JSON-able result in ``page.value``: what the DOM holds beyond its text."""
        return asyncio.run(self._load(url, list(expect), timeout, screenshot, click, evaluate))

    async def _load(self, url, expect, timeout, screenshot, click, evaluate) -> Page:
        import aiohttp

        async with aiohttp.ClientSession() as http:
            async with http.put(f"http://127.0.0.1:{self.port}/json/new?about:blank") as r:
                target = await r.json()
            async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                tab = _Tab(ws)
                reader = asyncio.create_task(tab.read())
                try:
                    for domain in ("Page", "Runtime", "Log"):
                        await tab.call(f"{domain}.enable")
                    await tab.call("Page.navigate", url=url)
                    text = await tab.wait_for(expect, timeout, click)
                    value = None
                    if evaluate:
                        value = (await tab.call("Runtime.evaluate", expression=evaluate,
                                                awaitPromise=True, returnByValue=True)
                                 )["result"].get("value")
                    shot = None
                    if screenshot:
                        shot = base64.b64decode(
                            (await tab.call("Page.captureScreenshot", format="png"))["data"])
                    return Page(url, text, tab.errors, shot, value)
                finally:
                    reader.cancel()
                    async with http.get(f"http://127.0.0.1:{self.port}/json/close/"
                                        f"{target['id']}"):
                        pass


class _Tab:
    """The protocol's requests and events over one tab's websocket."""

    def __init__(self, ws):
        self.ws, self.next_id, self.pending, self.errors = ws, 0, {}, []

    async def read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if "id" in data and data["id"] in self.pending:
                self.pending.pop(data["id"]).set_result(data)
            elif data.get("method") == "Runtime.consoleAPICalled" and \
                    data["params"]["type"] in ("error", "assert"):
                args = data["params"]["args"]
                self.errors.append("console: " + " ".join(
                    str(a.get("value", a.get("description", ""))) for a in args))
            elif data.get("method") == "Runtime.exceptionThrown":
                details = data["params"]["exceptionDetails"]
                self.errors.append("exception: " + details.get("exception", {}).get(
                    "description", details.get("text", "")))
            elif data.get("method") == "Log.entryAdded" and \
                    data["params"]["entry"]["level"] == "error":
                entry = data["params"]["entry"]
                self.errors.append(f"log: {entry.get('text')} {entry.get('url', '')}".strip())

    async def call(self, method: str, **params) -> dict:
        self.next_id += 1
        done = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = done
        await self.ws.send_str(json.dumps({"id": self.next_id, "method": method,
                                           "params": params}))
        reply = await asyncio.wait_for(done, 60)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    async def text(self) -> str:
        result = await self.call("Runtime.evaluate",
                                 expression="document.body ? document.body.innerText : ''")
        return result["result"].get("value", "")

    async def wait_for(self, expect: list[str], timeout: float, click: str | None) -> str:
        deadline = time.monotonic() + timeout
        clicked = click is None
        while True:
            text = await self.text()
            if not clicked:
                found = await self.call("Runtime.evaluate",
                                        expression=_CLICK % json.dumps(click))
                clicked = found["result"].get("value", 0) > 0
            elif all(s in text for s in expect):
                await asyncio.sleep(1)  # let late requests fail loudly, if they do
                return await self.text()
            if time.monotonic() > deadline:
                return text
            await asyncio.sleep(0.25)


_CLICK = """(() => {
  const found = [...document.querySelectorAll(%s)];
  found.forEach(e => e.click());
  return found.length;
})()"""
