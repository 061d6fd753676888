"""The microservices example: one small program, six roles (standard library only).

    python3 service.py db|queue|users|orders|worker|gateway|migrate [--check]

db       a key-value store over HTTP, kept in /data (a named volume)
queue    a FIFO over HTTP (POST /push, POST /pop)
migrate  a one-shot: seeds the users into db, then exits 0
users    GET /users: the users, from db
orders   POST /orders: stores an order in db and queues it for the worker
worker   pops orders from the queue and marks them processed in db
gateway  the only published service: /users and /orders, forwarded by name
"""
import json
import os
import sys
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = 8000


def call(method, url, payload=None, timeout=5):
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        return json.load(reply)


def serve(routes):
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null") if length else None
            handler = routes.get((method, self.path.split("?")[0])) or routes.get((method, "*"))
            if handler is None:
                return self._send(404, {"error": "not found"})
            try:
                status, payload = handler(self.path, body)
            except Exception as error:  # noqa: BLE001 - the example says what failed
                status, payload = 502, {"error": str(error)}
            self._send(status, payload)

        def _send(self, status, payload):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._answer("GET")

        def do_POST(self):
            self._answer("POST")

        def log_message(self, *args):
            pass
    print(f"{sys.argv[1]} listening on {PORT}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()


def db():
    path = "/data/db.json"
    store = json.load(open(path)) if os.path.exists(path) else {}

    def save():
        with open(path + ".tmp", "w") as handle:
            json.dump(store, handle)
        os.replace(path + ".tmp", path)

    def get(url, _):
        key = url.split("/", 2)[2]
        return (200, {"value": store[key]}) if key in store else (404, {"error": f"no key {key}"})

    def put(url, body):
        store[url.split("/", 2)[2]] = body
        save()
        return 200, {"ok": True}

    def keys(url, _):
        prefix = url.split("prefix=", 1)[1] if "prefix=" in url else ""
        return 200, {"keys": sorted(k for k in store if k.startswith(prefix))}
    serve({("GET", "/health"): lambda *_: (200, {"ok": True}), ("GET", "/keys"): keys,
           ("GET", "*"): get, ("POST", "*"): put})


def queue():
    items = []

    def push(_, body):
        items.append(body)
        return 200, {"length": len(items)}

    def pop(*_):
        return (200, {"item": items.pop(0)}) if items else (200, {"item": None})
    serve({("GET", "/health"): lambda *_: (200, {"ok": True}), ("POST", "/push"): push, ("POST", "/pop"): pop})


def migrate():
    for name in ("ada", "grace", "linus"):
        call("POST", f"http://db:{PORT}/kv/user:{name}", {"name": name})
    print("migrated 3 users", flush=True)


def users():
    def listing(*_):
        keys = call("GET", f"http://db:{PORT}/keys?prefix=user:")["keys"]
        return 200, {"users": [call("GET", f"http://db:{PORT}/kv/{key}")["value"]["name"] for key in keys]}
    serve({("GET", "/users"): listing})


def orders():
    def place(_, body):
        order = f"order:{int(time.time() * 1000)}"
        call("POST", f"http://db:{PORT}/kv/{order}", {**(body or {}), "state": "placed"})
        call("POST", f"http://queue:{PORT}/push", {"order": order})
        return 200, {"order": order}

    def listing(*_):
        keys = call("GET", f"http://db:{PORT}/keys?prefix=order:")["keys"]
        return 200, {"orders": {key: call("GET", f"http://db:{PORT}/kv/{key}")["value"] for key in keys}}
    serve({("POST", "/orders"): place, ("GET", "/orders"): listing})


def worker():
    print("worker started", flush=True)
    while True:
        item = call("POST", f"http://queue:{PORT}/pop")["item"]
        if item is None:
            time.sleep(0.1)
            continue
        order = call("GET", f"http://db:{PORT}/kv/{item['order']}")["value"]
        call("POST", f"http://db:{PORT}/kv/{item['order']}", {**order, "state": "processed"})
        print(f"processed {item['order']}", flush=True)


def gateway():
    def forward(target):
        def handler(url, body):
            return 200, call("POST" if body is not None else "GET", f"http://{target}:{PORT}{url}", body)
        return handler
    serve({("GET", "/users"): forward("users"), ("GET", "/orders"): forward("orders"),
           ("POST", "/orders"): forward("orders")})


def check(role):
    call("GET", f"http://127.0.0.1:{PORT}/health", timeout=1)


if __name__ == "__main__":
    role = sys.argv[1]
    if "--check" in sys.argv:
        check(role)
    else:
        {"db": db, "queue": queue, "migrate": migrate, "users": users, "orders": orders, "worker": worker,
         "gateway": gateway}[role]()
