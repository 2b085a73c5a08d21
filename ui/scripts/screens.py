#!/usr/bin/env python3
"""Screenshots of every view at 880 and 1400 px wide, light and dark, with the IPC mocked.

Builds the UI with `vite build --mode mock` (ui/mock/ answers every command), serves it on
127.0.0.1, and drives WebKitGTK's MiniBrowser through WebKitWebDriver under a private Xvfb.
Dark runs set GTK_THEME=Adwaita:dark, which WebKitGTK turns into prefers-color-scheme: dark.
Usage: python3 scripts/screens.py [out_dir]   (default ui/screens/). Needs Xvfb, WebKitWebDriver.
"""
import base64
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from functools import partial

UI = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
VIEWS = ["fleet", "miners", "miners-edit", "profiles", "plan", "plan-preview", "energy", "schedule", "history", "history-cost", "events", "settings"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}").get("value")


def serve(root):
    port = free_port()
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = partial(Quiet, directory=root)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, port


def run(theme, out, site_port, display):
    env = dict(os.environ, DISPLAY=display)
    if theme == "dark":
        env["GTK_THEME"] = "Adwaita:dark"
    port = free_port()
    driver = subprocess.Popen(["WebKitWebDriver", f"--port={port}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(base + "/status", timeout=1)
                break
            except Exception:
                time.sleep(0.2)
        caps = {"capabilities": {"alwaysMatch": {"browserName": "MiniBrowser", "webkitgtk:browserOptions": {
            "binary": MINIBROWSER, "args": ["--automation"]}}}}
        session = call(base, "POST", "/session", caps)["sessionId"]
        s = f"/session/{session}"
        for width in (880, 1400):
            call(base, "POST", s + "/window/rect", {"width": width, "height": 900})
            for view in VIEWS:
                page = view.split("-")[0]
                call(base, "POST", s + "/url", {"url": f"http://127.0.0.1:{site_port}/#{page}"})
                time.sleep(1.2)
                if view == "history-cost":
                    call(base, "POST", s + "/execute/sync", {"script": "document.getElementById('cost-panel')?.scrollIntoView()", "args": []})
                    time.sleep(0.5)
                if view == "plan-preview":
                    call(base, "POST", s + "/execute/sync", {"script": "document.getElementById('plan-preview')?.scrollIntoView()", "args": []})
                    time.sleep(0.5)
                if view == "miners-edit":
                    call(base, "POST", s + "/execute/sync", {"script": "document.querySelector('[data-edit]')?.click()", "args": []})
                    time.sleep(0.5)
                png = base64.b64decode(call(base, "GET", s + "/screenshot"))
                with open(os.path.join(out, f"{view}-{width}-{theme}.png"), "wb") as f:
                    f.write(png)
        call(base, "DELETE", s)
    finally:
        driver.terminate()
        driver.wait(10)


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(UI, "screens"))
    os.makedirs(out, exist_ok=True)
    subprocess.run(["npx", "vite", "build", "--mode", "mock"], cwd=UI, check=True, stdout=subprocess.DEVNULL)
    httpd, site_port = serve(os.path.join(UI, "dist-mock"))
    display = f":{200 + free_port() % 300}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        for theme in ("light", "dark"):
            run(theme, out, site_port, display)
    finally:
        xvfb.terminate()
        xvfb.wait(10)
        httpd.shutdown()
    print(out)


if __name__ == "__main__":
    main()
