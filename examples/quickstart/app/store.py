"""The quick start's key-value store: counters over HTTP, kept in a file."""
import argparse
import json
import os
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=7000)
    parser.add_argument("--data", default="/data")
    parser.add_argument("--check", action="store_true", help="exit 0 if the store answers")
    args = parser.parse_args()
    if args.check:
        with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/health", timeout=2):
            sys.exit(0)
    path = os.path.join(args.data, "counters.json")

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, payload):
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self._reply({"ok": True})

        def do_POST(self):
            key = self.path.rsplit("/", 1)[-1]
            with LOCK:
                counters = json.load(open(path)) if os.path.exists(path) else {}
                counters[key] = counters.get(key, 0) + 1
                with open(path + ".tmp", "w") as handle:
                    json.dump(counters, handle)
                os.replace(path + ".tmp", path)
            self._reply({"key": key, "value": counters[key]})

    ThreadingHTTPServer(("0.0.0.0", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
