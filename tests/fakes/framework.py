"""Loopback fake-server framework for FitBridge's provider tests.

A platform fake subclasses Platform and routes API requests; the framework
owns what every fake needs: a threaded HTTP/1.1 server on 127.0.0.1, a log of
every API request (method, path, query, headers, body) that tests read back,
scripted faults (status bursts, slow and truncated answers, dropped
connections, an outage window) and a JSON control API under /_fake/ that the
real platforms never use. Standard library only.

Control API (JSON bodies):
  GET    /_fake/requests          the request log, oldest first (each with the
                                   answer's "status", null when dropped);
                                   ?brief=1 leaves the bodies out
  DELETE /_fake/requests          clear the log
  POST   /_fake/faults            queue a fault (see Fault.from_json)
  DELETE /_fake/faults            drop queued faults and any outage
  POST   /_fake/outage            {"seconds": S, "mode": "503"|"close"}
  POST   /_fake/reset             back to the initial state
  anything else under /_fake/     handed to Platform.control()
"""

import base64
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Reply:
    """One HTTP answer a platform route produces."""

    def __init__(self, status=200, body=b"", headers=None, content_type="application/json"):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.headers = list(headers or [])
        if content_type and not any(k.lower() == "content-type" for k, _ in self.headers):
            self.headers.append(("Content-Type", content_type))


def json_reply(value, status=200, headers=None):
    return Reply(status, json.dumps(value, separators=(",", ":")), headers)


class Request:
    """A parsed API request as routes and the log see it."""

    def __init__(self, method, target, headers, body):
        parts = urllib.parse.urlsplit(target)
        self.method = method
        self.path = parts.path
        self.raw_query = parts.query
        self.query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        self.headers = headers  # list of (name, value) as sent
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def arg(self, name, default=None):
        values = self.query.get(name)
        return values[0] if values else default

    def to_json(self):
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return {
            "method": self.method,
            "path": self.path,
            "query": self.raw_query,
            "args": {k: v for k, v in self.query.items()},
            "headers": [[k, v] for k, v in self.headers],
            "body": text,
            "body_b64": base64.b64encode(self.body).decode("ascii"),
            "time": time.time(),
        }


class Fault:
    """A scripted misbehaviour for the next `count` matching requests.

    JSON: {"method": "GET", "path": "/api/v1/..." (prefix), "count": 1,
    "status": 503, "body": "...", "headers": [["Retry-After", "7"]],
    "delay_ms": 0, "truncate": false, "close": false, "pass_through": false}.
    `delay_ms` alone (with pass_through) slows a real answer; `truncate`
    sends the real or scripted answer with half of its body missing; `close`
    drops the connection without answering.
    """

    def __init__(self, spec):
        self.method = spec.get("method")
        self.path = spec.get("path", "")
        self.count = int(spec.get("count", 1))
        self.status = spec.get("status")
        self.body = spec.get("body")
        self.headers = [tuple(h) for h in spec.get("headers", [])]
        self.delay_ms = int(spec.get("delay_ms", 0))
        self.truncate = bool(spec.get("truncate", False))
        self.close = bool(spec.get("close", False))
        self.pass_through = bool(spec.get("pass_through", self.status is None and not self.close))

    def matches(self, request):
        if self.method and self.method != request.method:
            return False
        return request.path.startswith(self.path)


class Platform:
    """Base for one platform's fake: override route() and optionally control()."""

    name = "platform"

    def reset(self):
        pass

    def route(self, request):
        return json_reply({"error": "not found"}, 404)

    def control(self, request):
        return json_reply({"error": "unknown control endpoint " + request.path}, 404)


class FakeServer:
    """Serves one Platform on 127.0.0.1:port (0 = any free port)."""

    def __init__(self, platform, port=0):
        self.platform = platform
        self.lock = threading.RLock()
        self.log = []
        self.faults = []
        self.outage_until = 0.0
        self.outage_mode = "503"
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):  # keep test output quiet
                pass

            def handle_any(self):
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    body = self.read_chunked()
                else:
                    length = int(self.headers.get("Content-Length") or 0)
                    body = self.rfile.read(length) if length else b""
                request = Request(self.command, self.path, list(self.headers.items()), body)
                server.dispatch(self, request)

            def read_chunked(self):
                body = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return body
                    body += self.rfile.read(size)
                    self.rfile.readline()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True

    @property
    def port(self):
        return self.httpd.server_address[1]

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    def serve_forever(self):
        self.httpd.serve_forever(poll_interval=0.1)

    def start(self):
        thread = threading.Thread(target=self.serve_forever, daemon=True)
        thread.start()
        return thread

    def reset(self):
        with self.lock:
            self.log.clear()
            self.faults.clear()
            self.outage_until = 0.0
            self.platform.reset()

    # -- dispatch ---------------------------------------------------------

    def dispatch(self, handler, request):
        if request.path.startswith("/_fake/"):
            with self.lock:
                reply = self.control(request)
            self.send(handler, reply)
            return
        entry = request.to_json()
        entry["status"] = None  # the answer's status; stays None for a dropped connection
        with self.lock:
            self.log.append(entry)
            outage = time.time() < self.outage_until
            # A fault is spent only on a request that reaches the platform.
            fault = None if outage else self.take_fault(request)
        if outage:
            if self.outage_mode == "close":
                self.drop(handler)
            else:
                entry["status"] = 503
                self.send(handler, json_reply({"status": 503, "error": "Service Unavailable"}, 503))
            return
        if fault is not None and fault.delay_ms:
            time.sleep(fault.delay_ms / 1000.0)
        if fault is not None and fault.close:
            self.drop(handler)
            return
        if fault is not None and not fault.pass_through:
            body = fault.body if fault.body is not None else json.dumps({"status": fault.status, "error": "fault"})
            reply = Reply(int(fault.status), body, fault.headers)
        else:
            with self.lock:
                reply = self.platform.route(request)
            if fault is not None:
                reply.headers.extend(fault.headers)
        entry["status"] = reply.status
        self.send(handler, reply, truncate=fault is not None and fault.truncate)

    def take_fault(self, request):
        for fault in self.faults:
            if fault.matches(request):
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def control(self, request):
        path, method = request.path, request.method
        if path == "/_fake/requests" and method == "GET":
            if request.arg("brief"):  # without bodies: cheap enough to poll
                return json_reply([{k: v for k, v in e.items() if k not in ("body", "body_b64")} for e in self.log])
            return json_reply(self.log)
        if path == "/_fake/requests" and method == "DELETE":
            self.log.clear()
            return json_reply({"ok": True})
        if path == "/_fake/faults" and method == "POST":
            spec = json.loads(request.body or b"{}")
            for one in spec if isinstance(spec, list) else [spec]:
                self.faults.append(Fault(one))
            return json_reply({"ok": True})
        if path == "/_fake/faults" and method == "DELETE":
            self.faults.clear()
            self.outage_until = 0.0
            return json_reply({"ok": True})
        if path == "/_fake/outage" and method == "POST":
            spec = json.loads(request.body or b"{}")
            self.outage_until = time.time() + float(spec.get("seconds", 30))
            self.outage_mode = spec.get("mode", "503")
            return json_reply({"ok": True, "until": self.outage_until})
        if path == "/_fake/reset" and method == "POST":
            self.log.clear()
            self.faults.clear()
            self.outage_until = 0.0
            self.platform.reset()
            return json_reply({"ok": True})
        return self.platform.control(request)

    # -- output -----------------------------------------------------------

    @staticmethod
    def send(handler, reply, truncate=False):
        try:
            handler.send_response(reply.status)
            for k, v in reply.headers:
                handler.send_header(k, v)
            handler.send_header("Content-Length", str(len(reply.body)))
            if truncate:
                # Promise the whole body, deliver half, hang up: what a proxy
                # dying mid-response looks like to the client.
                handler.send_header("Connection", "close")
                handler.end_headers()
                handler.wfile.write(reply.body[: len(reply.body) // 2])
                handler.wfile.flush()
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
                return
            handler.end_headers()
            handler.wfile.write(reply.body)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    @staticmethod
    def drop(handler):
        handler.close_connection = True
        try:
            handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def exit_with_parent():
    """Exits when the process that started us goes away, so a crashed test
    run leaves no fake server behind."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def serve(platform, port):
    """Runs a fake in the foreground: prints its base URL, serves until killed
    (or until its parent process exits)."""
    exit_with_parent()
    server = FakeServer(platform, port)
    print(server.base_url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)
