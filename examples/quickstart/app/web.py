"""The quick start's web service: counts visits in the store service."""
import json
import os
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STORE = os.environ.get("STORE_URL", "http://store:7000")
GREETING = os.environ.get("GREETING", "Hello")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":  # the health check: answers, counts nothing
            self.send_response(204)
            self.end_headers()
            return
        request = urllib.request.Request(f"{STORE}/incr/visits", method="POST")
        with urllib.request.urlopen(request, timeout=5) as reply:
            visits = json.load(reply)["value"]
        body = f"{GREETING}! This page has been visited {visits} times.\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
