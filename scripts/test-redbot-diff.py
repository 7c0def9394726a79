#!/usr/bin/env python3
"""Host self-test of scripts/guest/redbot-diff.py: it passes a server that behaves like its
peer, and fails one that resets every Range request (REDbot then rates the range check only
`info`) and one that answers with another status code.

Run with the project venv's python (it has REDbot). Exits 1 naming the first wrong verdict.
"""

import os
import subprocess
import sys
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = b"hello, redbot-diff self-test\n" * 40
MTIME = formatdate(1_600_000_000, usegmt=True)
DIFF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest", "redbot-diff.py")


def handler(mode):
    """A tiny static server of one file: `good`, `no-range` (closes on Range) or `404`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def send(self, status, body, extra=()):
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Last-Modified", MTIME)
            self.send_header("ETag", '"self-test"')
            self.send_header("Accept-Ranges", "bytes")
            for name, value in extra:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self):
            if mode == "404":
                self.send(404, b"not here\n")
                return
            spec = self.headers.get("Range")
            if spec and mode == "no-range":
                self.close_connection = True
                self.connection.close()
                return
            if self.headers.get("If-None-Match") == '"self-test"' or (
                self.headers.get("If-Modified-Since") == MTIME
            ):
                self.send_response(304)
                self.send_header("ETag", '"self-test"')
                self.send_header("Last-Modified", MTIME)
                self.end_headers()
                return
            if spec and spec.startswith("bytes=") and "," not in spec:
                first, _, last = spec[6:].partition("-")
                if first.isdigit():
                    lo = int(first)
                    hi = min(int(last), len(BODY) - 1) if last.isdigit() else len(BODY) - 1
                    if lo <= hi:
                        crange = f"bytes {lo}-{hi}/{len(BODY)}"
                        self.send(206, BODY[lo : hi + 1], [("Content-Range", crange)])
                        return
            self.send(200, BODY)

        do_HEAD = do_GET

    return Handler


def serve(mode):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(mode))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def main():
    peer = serve("good")
    cases = [("good", 0), ("no-range", 1), ("404", 1)]
    env = dict(os.environ, REDBOT_CHECK_SECS="20")
    for mode, want in cases:
        ours = serve(mode)
        run = subprocess.run(
            [sys.executable, DIFF, ours, peer, "/a.txt"],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            check=False,
        )
        verdict = 0 if run.returncode == 0 else 1
        if run.returncode not in (0, 1) or verdict != want:
            print(f"redbot-diff on a '{mode}' server: exit {run.returncode}, expected {want}")
            print(run.stdout[-2000:], run.stderr[-2000:])
            return 1
    print(f"redbot-diff self-test: {len(cases)} verdicts right (good passes, no-range and 404 fail)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
