"""Loopback fake-server framework for FitBridge's provider tests.

A platform fake subclasses Platform and routes API requests; the framework
owns what every fake needs: a threaded HTTP/1.1 server on 127.0.0.1, a log of
every API request (method, path, query, headers, body) that tests read back,
scripted faults (status bursts, slow and truncated answers, dropped
connections, an outage window) and a JSON control API under /_fake/ that the
real platforms never use. Standard library only.

A new platform's fake declares its `operations` (method + path pattern), an
auth scheme (BasicAuth, BearerAuth, OAuthServer with rotating refresh tokens
and expiry, LoginServer), a paging style (paginate()) and its JSON; requests
that match no operation are answered 404 and recorded as violations.

Control API (JSON bodies):
  GET    /_fake/requests          the request log, oldest first (each with the
                                   answer's "status", null when dropped, and
                                   "operation", the declared name or null);
                                   ?brief=1 leaves the bodies out
  GET    /_fake/violations        requests no declared operation covers
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
import re
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
    "delay_ms": 0, "truncate": false, "close": false, "pass_through": false,
    "stall": false, "lost": false}.
    `delay_ms` alone (with pass_through) slows a real answer; `truncate`
    sends the real or scripted answer with half of its body missing; `close`
    drops the connection without answering; `stall` holds the connection
    silent for `delay_ms` (default 60 s, the client's deadline decides) and
    then drops it; `lost` lets the platform process the request and then
    drops the connection: the client never learns that it succeeded.
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
        self.stall = bool(spec.get("stall", False))
        self.lost = bool(spec.get("lost", False))
        if self.stall and not self.delay_ms:
            self.delay_ms = 60000
        self.pass_through = bool(spec.get("pass_through", self.status is None and not self.close))

    def matches(self, request):
        if self.method and self.method != request.method:
            return False
        return request.path.startswith(self.path)


class Operation:
    """One documented operation: a method and a path pattern ({name} = one
    segment), e.g. Operation("GET", "/api/v3/activities/{id}", "get_activity")."""

    def __init__(self, method, pattern, name=None):
        self.method = method
        self.pattern = pattern
        self.name = name or "%s %s" % (method, pattern)
        parts = []
        for segment in pattern.split("/"):
            param = re.fullmatch(r"\{([a-z_]+)\}", segment)
            parts.append("(?P<%s>[^/]+)" % param.group(1) if param else re.escape(segment))
        self.regex = re.compile("^" + "/".join(parts) + "$")

    def match(self, request):
        if request.method != self.method:
            return None
        m = self.regex.match(request.path)
        return m.groupdict() if m else None


class Platform:
    """Base for one platform's fake: declare `operations`, override route()
    and optionally control() and reset()."""

    name = "platform"
    operations = []  # [Operation]; empty: every request is allowed

    def reset(self):
        pass

    def route(self, request):
        return json_reply({"error": "not found"}, 404)

    def control(self, request):
        return json_reply({"error": "unknown control endpoint " + request.path}, 404)

    def operation_of(self, request):
        """(name, path parameters) of the declared operation, or None."""
        for op in self.operations:
            params = op.match(request)
            if params is not None:
                return op.name, params
        return None


# -- auth schemes -------------------------------------------------------------


def bearer_of(request, query_param=None):
    auth = request.header("Authorization") or ""
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value
    if query_param:
        return request.arg(query_param)
    return None


class BasicAuth:
    """HTTP Basic against a user -> password table."""

    def __init__(self, users):
        self.users = dict(users)

    def check(self, request):
        scheme, _, value = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = None, None
            if user in self.users and self.users[user] == password:
                return None
        return json_reply({"message": "Authorization Error", "errors": [{"code": "invalid"}]}, 401,
                          [("WWW-Authenticate", 'Basic realm="api"')])


class BearerAuth:
    """Fixed bearer tokens (personal access tokens, API keys sent as Bearer)."""

    def __init__(self, tokens, query_param=None):
        self.tokens = set(tokens)
        self.query_param = query_param

    def check(self, request):
        if bearer_of(request, self.query_param) in self.tokens:
            return None
        return json_reply({"message": "Authorization Error", "errors": [{"code": "invalid"}]}, 401)


class OAuthServer:
    """An OAuth2 token endpoint: authorization_code and refresh_token grants
    (form bodies), access tokens that expire after `lifetime_s`, refresh
    tokens that rotate on every use (the old one is dead at once)."""

    def __init__(self, client_id="fitbridge-test", client_secret="test-client-secret", lifetime_s=21600,
                 rotate=True, query_param=None):
        self.client_id = client_id
        self.client_secret = client_secret
        self.lifetime_s = lifetime_s
        self.rotate = rotate
        self.query_param = query_param
        self.access = {}  # token -> expires at (epoch)
        self.refresh = set()
        self.codes = set()
        self.issued = 0
        self.refreshes = 0

    def grant(self):
        """Tokens as if an authorization had happened: (access, refresh)."""
        self.issued += 1
        access, refresh = "access-%d" % self.issued, "refresh-%d" % self.issued
        self.access[access] = time.time() + self.lifetime_s
        self.refresh.add(refresh)
        return access, refresh

    def new_code(self):
        code = "code-%d" % (len(self.codes) + self.issued + 1)
        self.codes.add(code)
        return code

    def expire_all(self):
        for token in self.access:
            self.access[token] = 0.0

    def check(self, request):
        token = bearer_of(request, self.query_param)
        if token in self.access and self.access[token] > time.time():
            return None
        return json_reply({"message": "Authorization Error",
                           "errors": [{"resource": "Athlete", "field": "access_token", "code": "invalid"}]}, 401)

    def token_endpoint(self, request):
        form = dict(urllib.parse.parse_qsl(request.body.decode("utf-8", "replace")))
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return json_reply({"message": "Bad Request", "errors": [{"field": "client_id", "code": "invalid"}]}, 400)
        grant = form.get("grant_type")
        if grant == "authorization_code" and form.get("code") in self.codes:
            self.codes.discard(form.get("code"))
        elif grant == "refresh_token" and form.get("refresh_token") in self.refresh:
            self.refreshes += 1
            if self.rotate:
                self.refresh.discard(form.get("refresh_token"))
        else:
            return json_reply({"message": "Bad Request", "errors": [{"field": grant or "grant_type",
                                                                      "code": "invalid"}]}, 400)
        access, refresh = self.grant()
        if not self.rotate and grant == "refresh_token":
            self.refresh.discard(refresh)
            refresh = form.get("refresh_token")
        return json_reply({"token_type": "Bearer", "access_token": access, "refresh_token": refresh,
                           "expires_at": int(self.access[access]), "expires_in": self.lifetime_s})


class LoginServer:
    """A username + password login (JSON or form body) that hands out a
    session token valid for `lifetime_s`, sent back as a bearer token."""

    def __init__(self, users, lifetime_s=3600):
        self.users = dict(users)
        self.lifetime_s = lifetime_s
        self.sessions = {}  # token -> expires at
        self.logins = 0

    def login(self, request):
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = dict(urllib.parse.parse_qsl(request.body.decode("utf-8", "replace")))
        if self.users.get(body.get("username")) != body.get("password"):
            return json_reply({"status": "INVALID_USERNAME_PASSWORD"}, 401)
        self.logins += 1
        token = "session-%d" % self.logins
        self.sessions[token] = time.time() + self.lifetime_s
        return json_reply({"token": token, "expires_in": self.lifetime_s})

    def expire_all(self):
        for token in self.sessions:
            self.sessions[token] = 0.0

    def check(self, request):
        token = bearer_of(request)
        if token in self.sessions and self.sessions[token] > time.time():
            return None
        return json_reply({"message": "Token is not active"}, 401)


# -- paging -------------------------------------------------------------------


def paginate(items, request, style, limit_name="limit", offset_name="offset", page_name="page",
             per_page_name="per_page", cursor_name="cursor", default_limit=30, max_limit=200):
    """One page of `items` as the request asks for it.

    style: "offset" (offset/limit), "page0"/"page1" (page/per_page counted
    from 0 or 1), "next" (a `next` URL for the following page), "cursor" (an
    opaque token for the following page). Returns (page, next) where next is
    the next page's URL (style "next") or token (style "cursor") or None.
    """
    size_name = per_page_name if style in ("page0", "page1") else limit_name
    limit = max(1, min(max_limit, int(request.arg(size_name, default_limit))))
    if style == "offset":
        start = int(request.arg(offset_name, 0))
    elif style in ("page0", "page1"):
        first = 0 if style == "page0" else 1
        start = (int(request.arg(page_name, first)) - first) * limit
    else:
        token = request.arg(cursor_name)
        start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
    page = items[start:start + limit]
    if start + limit >= len(items):
        return page, None
    if style == "cursor":
        return page, base64.urlsafe_b64encode(str(start + limit).encode()).decode()
    if style == "next":
        query = dict(request.query)
        query[cursor_name] = [base64.urlsafe_b64encode(str(start + limit).encode()).decode()]
        query[limit_name] = [str(limit)]
        return page, "%s?%s" % (request.path, urllib.parse.urlencode(query, doseq=True))
    return page, None


# -- rate limits --------------------------------------------------------------


class RateLimitWindow:
    """A request budget per window with the headers platforms send
    (X-RateLimit-Limit / X-RateLimit-Usage by default); over budget -> 429,
    with Retry-After until the window ends unless `retry_after` is False."""

    def __init__(self, limit, window_s, limit_header="X-RateLimit-Limit", usage_header="X-RateLimit-Usage",
                 retry_after=True):
        self.limit = limit
        self.window_s = window_s
        self.limit_header = limit_header
        self.usage_header = usage_header
        self.retry_after = retry_after
        self.window_start = time.time()
        self.used = 0

    def take(self):
        """(headers, None) when allowed, (headers, 429 Reply) when not."""
        now = time.time()
        if now - self.window_start >= self.window_s:
            self.window_start, self.used = now, 0
        self.used += 1
        headers = [(self.limit_header, str(self.limit)), (self.usage_header, str(self.used))]
        if self.used <= self.limit:
            return headers, None
        extra = [("Retry-After", str(max(1, int(self.window_start + self.window_s - now + 0.999))))] \
            if self.retry_after else []
        return headers, json_reply({"message": "Rate Limit Exceeded"}, 429, headers + extra)


class FakeServer:
    """Serves one Platform on 127.0.0.1:port (0 = any free port)."""

    def __init__(self, platform, port=0):
        self.platform = platform
        self.lock = threading.RLock()
        self.log = []
        self.faults = []
        self.violations = []
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
            self.violations.clear()
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
        operation = self.platform.operation_of(request)
        entry["operation"] = operation[0] if operation else None
        with self.lock:
            self.log.append(entry)
            if operation is None and self.platform.operations:
                self.violations.append({"method": request.method, "path": request.path})
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
        if fault is not None and (fault.close or fault.stall):
            self.drop(handler)
            return
        if fault is not None and fault.lost:
            with self.lock:
                reply = self.platform.route(request)
            entry["status"] = reply.status
            entry["lost"] = True
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
        if path == "/_fake/violations" and method == "GET":
            return json_reply(self.violations)
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
            self.violations.clear()
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
