"""Intervals.icu fake: the wire format of ../shared/reference/provider-apis.md §4
and the OpenAPI snapshot (reference/openapi/intervals-icu.json).

Facts it follows: Basic auth with user `API_KEY` and the key as password, or an
OAuth `Bearer` token; the key sent as a Bearer token gets
403 {"status":403,"error":"Access denied"}; athlete id `0` means the caller;
activities listed by `oldest`/`newest` (local ISO date or date-time) in
descending order, `limit`, `fields`; Strava-sourced activities come back as
stubs (id, icu_athlete_id, start_date_local, source STRAVA, _note) and have no
file; the original file at /api/v1/activity/{id}/file; multipart upload with
the `file` part and name/description/external_id/device_name as query
parameters, de-duplicated by a hash of the file: 201 when created, 200 when
all duplicates; partial PUT of an activity (Strava ones cannot be updated);
gear list. Errors are Spring-style JSON.

Inferred (not documented, marked so in the facts sheet): the 429 answer and
its Retry-After header (limiter off unless configured), the hash covering the
decompressed file, the wording of error messages, the stub's _note text.

OAuth (§4.1, staff forum post): GET /oauth/authorize?client_id&redirect_uri&
scope&state stands in for the consent page and approves at once with a 302 to
redirect_uri?code=...&state=... (or ?error=access_denied when told to deny);
POST /api/oauth/token with the form client_id, client_secret, code (single
use, valid 2 minutes) answers {"token_type": "Bearer", "access_token", "scope",
"athlete": {"id", "name"}}, no refresh token or expiry; the new access token is
the one the API accepts from then on.

Control API (besides the framework's):
  POST /_fake/config       {"api_key", "token", "athlete_id", "tz_offset_minutes",
                            "timezone", "rate_limit_per_s", "rate_burst",
                            "client_id", "client_secret", "oauth_deny"}
  POST /_fake/activities   one activity or a list: {"id"?, "start_date" (UTC
                            ISO or epoch "start"), "type", "name", "external_id",
                            "source", "strava": bool, "file_b64", "serve_gzip":
                            bool, "elapsed_time", "distance", "gear_id"}
  GET  /_fake/activities   every stored activity as the API shows it (+ "_file_bytes")
  POST /_fake/gear         one gear item or a list
"""

import base64
import datetime
import gzip
import hashlib
import json
import re
import threading
import time
import urllib.parse

import activity_files
from framework import Operation, Platform, Reply, json_reply

ATHLETE = "i12345"
API_KEY = "test-api-key"
TOKEN = "test-oauth-token"
CLIENT_ID = "fitbridge-test"
CLIENT_SECRET = "test-client-secret"
CODE_LIFETIME_S = 120
STUB_NOTE = "STRAVA activities are not available via the API"


def spring_error(status, error, path, message=None):
    body = {"timestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+00:00"),
            "status": status, "error": error, "path": path}
    if message is not None:
        body["message"] = message
    return json_reply(body, status)


def iso_utc(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_local(epoch, offset_minutes):
    t = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc) + datetime.timedelta(minutes=offset_minutes)
    return t.strftime("%Y-%m-%dT%H:%M:%S")


def parse_local_bound(text, end_of_day):
    """A local ISO date or date-time as a comparable 'YYYY-MM-DDTHH:MM:SS' string."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text + ("T23:59:59" if end_of_day else "T00:00:00")
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?)(\.\d+)?", text)
    if not m:
        raise ValueError(text)
    return m.group(1) if m.group(2) else m.group(1) + ":00"


class Intervals(Platform):
    name = "intervals"
    operations = [
        Operation("GET", "/oauth/authorize", "authorize"),
        Operation("POST", "/api/oauth/token", "token"),
        Operation("GET", "/api/v1/athlete/{athlete}/activities", "list_activities"),
        Operation("POST", "/api/v1/athlete/{athlete}/activities", "upload"),
        Operation("GET", "/api/v1/athlete/{athlete}/activities/{ids}", "get_activities"),
        Operation("GET", "/api/v1/athlete/{athlete}/gear", "gear"),
        Operation("GET", "/api/v1/athlete/{athlete}/gear.json", "gear"),
        Operation("GET", "/api/v1/activity/{id}", "get_activity"),
        Operation("GET", "/api/v1/activity/{id}/file", "download"),
        Operation("PUT", "/api/v1/activity/{id}", "update"),
        Operation("DELETE", "/api/v1/activity/{id}", "delete"),
    ]

    def __init__(self):
        self.reset()

    def reset(self):
        self.api_key = API_KEY
        self.token = TOKEN
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self.oauth_deny = False
        self.codes = {}  # code -> (issued at, scope)
        self.tokens_issued = 0
        self.athlete = ATHLETE
        self.tz_offset = 60
        self.timezone = "Europe/Berlin"
        self.rate_per_s = 0.0
        self.rate_burst = 10.0
        self.bucket = 0.0
        self.bucket_time = time.monotonic()
        self.activities = {}  # id -> dict (API fields + private "_" keys)
        self.gear = []
        self.next_id = 1001
        self.lock = threading.RLock()

    # -- state ------------------------------------------------------------

    def new_id(self):
        value = "i%d" % self.next_id
        self.next_id += 1
        return value

    def add_activity(self, spec):
        aid = spec.get("id") or self.new_id()
        file_bytes = base64.b64decode(spec["file_b64"]) if spec.get("file_b64") else None
        info = None
        if file_bytes is not None:
            try:
                info = activity_files.summarize(file_bytes)
            except activity_files.BadFile:
                info = None
        if "start" in spec:
            start = float(spec["start"])
        elif "start_date" in spec:
            start = activity_files.parse_iso(spec["start_date"])
        elif info is not None:
            start = info["start"]
        else:
            start = time.time()
        act = {
            "id": aid,
            "icu_athlete_id": self.athlete,
            "start_date_local": iso_local(start, self.tz_offset),
            "start_date": iso_utc(start),
            "timezone": self.timezone,
            "type": spec.get("type") or (info["type"] if info else "Ride"),
            "name": spec.get("name", "Activity"),
            "description": spec.get("description"),
            "external_id": spec.get("external_id"),
            "source": "STRAVA" if spec.get("strava") else spec.get("source", "UPLOAD"),
            "file_type": (info["format"] if info else None),
            "device_name": spec.get("device_name"),
            "elapsed_time": spec.get("elapsed_time", int(info["elapsed"]) if info and info["elapsed"] else 3600),
            "moving_time": spec.get("moving_time", spec.get("elapsed_time", 3600)),
            "distance": spec.get("distance", info["distance"] if info else None),
            "gear": None,
            "trainer": spec.get("trainer", False),
            "created": iso_utc(time.time()),
            "strava_id": spec.get("strava_id") if spec.get("strava") else None,
            "_file": file_bytes,
            "_serve_gzip": bool(spec.get("serve_gzip")),
            "_hash": hashlib.sha256(info["payload"]).hexdigest() if info else None,
        }
        if spec.get("gear_id"):
            act["gear"] = self.gear_ref(spec["gear_id"])
        self.activities[aid] = act
        return act

    def gear_ref(self, gear_id):
        for g in self.gear:
            if g["id"] == gear_id:
                return {"id": g["id"], "name": g["name"], "distance": g.get("distance", 0), "primary": False}
        return {"id": gear_id, "name": None, "distance": 0, "primary": False}

    def public(self, act):
        if act["source"] == "STRAVA":
            return {"id": act["id"], "icu_athlete_id": act["icu_athlete_id"],
                    "start_date_local": act["start_date_local"], "source": "STRAVA", "_note": STUB_NOTE}
        return {k: v for k, v in act.items() if not k.startswith("_")}

    # -- auth and limits --------------------------------------------------

    def check_auth(self, request):
        auth = request.header("Authorization")
        if not auth:
            return spring_error(401, "Unauthorized", request.path)
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return spring_error(401, "Unauthorized", request.path)
            if user == "API_KEY" and password == self.api_key:
                return None
            return spring_error(401, "Unauthorized", request.path)
        if scheme.lower() == "bearer" and value == self.token:
            return None
        # An API key (or anything else) sent as a bearer token.
        return json_reply({"status": 403, "error": "Access denied"}, 403)

    def rate_limited(self):
        if self.rate_per_s <= 0:
            return None
        now = time.monotonic()
        self.bucket = min(self.rate_burst, self.bucket + (now - self.bucket_time) * self.rate_per_s)
        self.bucket_time = now
        if self.bucket >= 1.0:
            self.bucket -= 1.0
            return None
        return json_reply({"status": 429, "error": "Too Many Requests"}, 429, [("Retry-After", "1")])

    def athlete_ok(self, athlete):
        return athlete in ("0", self.athlete)

    # -- routes -----------------------------------------------------------

    def route(self, request):
        with self.lock:
            found = self.operation_of(request)
            name, params = found if found else (None, {})
            if name == "authorize":
                return self.authorize(request)
            if name == "token":
                return self.token_exchange(request)
            denied = self.check_auth(request)
            if denied is not None:
                return denied
            limited = self.rate_limited()
            if limited is not None:
                return limited
            if name is None:
                return spring_error(404, "Not Found", request.path)
            if "athlete" in params and not self.athlete_ok(params["athlete"]):
                return json_reply({"status": 403, "error": "Access denied"}, 403)
            if name == "list_activities":
                return self.list_activities(request)
            if name == "upload":
                return self.upload(request)
            if name == "get_activities":
                ids = params["ids"].split(",")
                return json_reply([self.public(self.activities[i]) for i in ids if i in self.activities])
            if name == "gear":
                return json_reply(self.gear)
            act = self.activities.get(params["id"])
            if act is None:
                return spring_error(404, "Not Found", request.path)
            if name == "download":
                return self.download(act, request.path)
            if name == "get_activity":
                return json_reply(self.public(act))
            if name == "update":
                return self.update(act, request)
            del self.activities[act["id"]]
            return json_reply({"id": act["id"], "icu_athlete_id": act["icu_athlete_id"]})

    # -- OAuth ------------------------------------------------------------

    def authorize(self, request):
        redirect = request.arg("redirect_uri")
        if request.arg("client_id") != self.client_id or not redirect:
            return spring_error(400, "Bad Request", request.path, "unknown client_id or no redirect_uri")
        params = {"state": request.arg("state") or ""}
        if self.oauth_deny:
            params["error"] = "access_denied"
        else:
            code = "code-%d-%s" % (len(self.codes) + 1, hashlib.sha256(str(time.time()).encode()).hexdigest()[:12])
            self.codes[code] = (time.time(), request.arg("scope") or "ACTIVITY:READ")
            params["code"] = code
        sep = "&" if "?" in redirect else "?"
        location = redirect + sep + urllib.parse.urlencode(params)
        return Reply(302, b"", [("Location", location)], content_type=None)

    def token_exchange(self, request):
        form = dict(urllib.parse.parse_qsl(request.body.decode("utf-8", "replace")))
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return json_reply({"status": 401, "error": "Unauthorized", "message": "bad client credentials"}, 401)
        issued = self.codes.pop(form.get("code", ""), None)
        if issued is None or time.time() - issued[0] > CODE_LIFETIME_S:
            return spring_error(400, "Bad Request", request.path, "invalid or expired code")
        self.tokens_issued += 1
        self.token = "oauth-token-%d" % self.tokens_issued
        return json_reply({"token_type": "Bearer", "access_token": self.token, "scope": issued[1],
                           "athlete": {"id": self.athlete, "name": "Test Athlete"}})

    def list_activities(self, request):
        oldest = request.arg("oldest")
        if oldest is None:
            return spring_error(400, "Bad Request", request.path,
                                "Required request parameter 'oldest' for method parameter type String is not present")
        try:
            low = parse_local_bound(oldest, False)
            newest = request.arg("newest")
            high = parse_local_bound(newest, True) if newest else "9999-12-31T23:59:59"
            limit = int(request.arg("limit")) if request.arg("limit") else None
        except ValueError as e:
            return spring_error(422, "Unprocessable Entity", request.path, "Invalid value: %s" % e)
        rows = [a for a in self.activities.values() if low <= a["start_date_local"] <= high]
        rows.sort(key=lambda a: a["start_date_local"], reverse=True)
        if limit is not None:
            rows = rows[:limit]
        out = [self.public(a) for a in rows]
        fields = request.arg("fields")
        if fields:
            keep = set(fields.split(","))
            out = [{k: v for k, v in a.items() if k in keep and v is not None} for a in out]
        return json_reply(out)

    def download(self, act, path):
        if act["source"] == "STRAVA":
            return spring_error(422, "Unprocessable Entity", path, "Strava activities are not available via the API")
        data = act["_file"]
        if data is None:
            return spring_error(404, "Not Found", path, "Activity has no file")
        if act["_serve_gzip"] and data[:2] != b"\x1f\x8b":
            data = gzip.compress(data, mtime=0)
        return Reply(200, data, [("Content-Disposition", 'attachment; filename="%s.%s%s"' % (
            act["id"], act["file_type"] or "fit", ".gz" if data[:2] == b"\x1f\x8b" else ""))],
                     content_type="application/octet-stream")

    def upload(self, request):
        ctype = request.header("Content-Type") or ""
        m = re.search(r'boundary="?([^";]+)"?', ctype)
        if not ctype.startswith("multipart/form-data") or not m:
            return spring_error(415, "Unsupported Media Type", request.path,
                                "Content-Type '%s' is not supported" % ctype)
        parts = parse_multipart(request.body, m.group(1).encode())
        file_part = next((part for part in parts if part["name"] == "file"), None)
        if file_part is None:
            return spring_error(400, "Bad Request", request.path, "Required part 'file' is not present.")
        try:
            info = activity_files.summarize(file_part["data"])
        except activity_files.BadFile as e:
            return spring_error(422, "Unprocessable Entity", request.path, str(e))
        digest = hashlib.sha256(info["payload"]).hexdigest()
        for act in self.activities.values():
            if act["_hash"] == digest:
                return json_reply({"icu_athlete_id": self.athlete, "id": act["id"],
                                   "activities": [{"icu_athlete_id": self.athlete, "id": act["id"]}]}, 200)

        def field(name):
            # Documented as query parameters; Spring binds multipart text
            # parts of the same name too, so accept both.
            value = request.arg(name)
            if value is None:
                part = next((q for q in parts if q["name"] == name and q["filename"] is None), None)
                value = part["data"].decode("utf-8") if part else None
            return value

        act = self.add_activity({
            "start": info["start"], "type": info["type"],
            "name": field("name") or file_part["filename"] or "Activity",
            "description": field("description"), "external_id": field("external_id"),
            "device_name": field("device_name"), "file_b64": base64.b64encode(file_part["data"]).decode(),
            "elapsed_time": int(info["elapsed"]) if info["elapsed"] else 3600, "distance": info["distance"],
        })
        return json_reply({"icu_athlete_id": self.athlete, "id": act["id"],
                           "activities": [{"icu_athlete_id": self.athlete, "id": act["id"]}]}, 201)

    def update(self, act, request):
        if act["source"] == "STRAVA":
            return spring_error(422, "Unprocessable Entity", request.path, "Strava activities cannot be updated")
        try:
            change = json.loads(request.body or b"{}")
        except ValueError as e:
            return spring_error(400, "Bad Request", request.path, "JSON parse error: %s" % e)
        if not isinstance(change, dict):
            return spring_error(400, "Bad Request", request.path, "JSON parse error: expected an object")
        for key, value in change.items():
            if key in ("id", "icu_athlete_id", "source", "start_date") or key.startswith("_"):
                continue
            if key == "gear":
                gear_id = (value or {}).get("id")
                act["gear"] = self.gear_ref(gear_id) if gear_id else None
            else:
                act[key] = value
        return json_reply(self.public(act))

    # -- control ----------------------------------------------------------

    def control(self, request):
        p, m = request.path, request.method
        body = json.loads(request.body) if request.body else {}
        with self.lock:
            if p == "/_fake/config" and m == "POST":
                self.api_key = body.get("api_key", self.api_key)
                self.token = body.get("token", self.token)
                self.client_id = body.get("client_id", self.client_id)
                self.client_secret = body.get("client_secret", self.client_secret)
                self.oauth_deny = bool(body.get("oauth_deny", self.oauth_deny))
                self.athlete = body.get("athlete_id", self.athlete)
                self.tz_offset = int(body.get("tz_offset_minutes", self.tz_offset))
                self.timezone = body.get("timezone", self.timezone)
                self.rate_per_s = float(body.get("rate_limit_per_s", self.rate_per_s))
                self.rate_burst = float(body.get("rate_burst", self.rate_burst))
                self.bucket = self.rate_burst
                return json_reply({"ok": True})
            if p == "/_fake/activities" and m == "POST":
                added = [self.add_activity(a) for a in (body if isinstance(body, list) else [body])]
                return json_reply([a["id"] for a in added])
            if p == "/_fake/activities" and m == "GET":
                out = []
                for a in sorted(self.activities.values(), key=lambda x: x["start_date_local"]):
                    row = {k: v for k, v in a.items() if not k.startswith("_")}
                    row["_file_bytes"] = len(a["_file"]) if a["_file"] is not None else None
                    out.append(row)
                return json_reply(out)
            if p == "/_fake/gear" and m == "POST":
                for g in body if isinstance(body, list) else [body]:
                    g.setdefault("athlete_id", self.athlete)
                    g.setdefault("type", "Bike")
                    g.setdefault("distance", 0)
                    g.setdefault("retired", None)
                    g.setdefault("component", False)
                    self.gear.append(g)
                return json_reply(self.gear)
        return Platform.control(self, request)


def parse_multipart(body, boundary):
    """[{'name', 'filename', 'content_type', 'data'}] of a multipart/form-data body."""
    parts = []
    delimiter = b"--" + boundary
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        if data.endswith(b"\r\n"):
            data = data[:-2]
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        disposition = headers.get("content-disposition", "")
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        parts.append({"name": name.group(1) if name else None,
                      "filename": filename.group(1) if filename else None,
                      "content_type": headers.get("content-type"), "data": data})
    return parts
