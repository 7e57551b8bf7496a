"""Strava API v3 fake: the wire format of ../shared/reference/provider-apis.md §1
and its fake-server checklist (§8).

Facts it follows: OAuth on both /oauth/token and /api/v3/oauth/token
(authorization_code and refresh_token grants with client_id/client_secret,
refresh tokens rotated on every use, 6 h access tokens, the granted `scope` in
the consent redirect); the token as `Authorization: Bearer` or the
`access_token` query parameter; two quota windows per application, 15 minutes
(ending at :00/:15/:30/:45) and daily (ending at UTC midnight), overall and
"read" (everything but uploads), in X-RateLimit-Limit/-Usage and
X-ReadRateLimit-Limit/-Usage on every answer, 429 with a Fault body and no
Retry-After once spent (rejected requests count too); Fault bodies
{"message", "errors": [{"resource", "field", "code"}]}; activities listed by
after/before (epoch seconds, exclusive) with page/per_page (default 30, max
200), newest first (oldest first when only `after` is given); uploads that
stay "processing" for several polls, then are ready, fail with an error text
or are a "duplicate of activity N"; streams keyed by type; PUT takes only the
UpdatableActivity fields; GET /athlete has bikes and shoes only with
profile:read_all; an application in Single Player Mode answers 403 "Limit of
connected athletes exceeded".

Inferred (not documented): the 429 body text, the 404 for streams of a manual
activity, the wording of upload errors besides the documented ones.

Control API (besides the framework's):
  POST /_fake/config      {"client_id", "client_secret", "grant_scope" (what the
                           consent page grants), "token_lifetime_s",
                           "limits": {"overall": [15min, daily], "read": [15min, daily]},
                           "processing_polls", "processing_s", "athlete_limit_exceeded"}
  POST /_fake/clock       {"advance_s": N}: moves the fake's quota clock (windows end
                           on the shifted clock); GET answers {"now", "offset_s"}
  GET  /_fake/quota       {"overall": [used15, usedDay], "read": [...]}
  POST /_fake/activities  one or a list: {"id"?, "start" | "start_date", "sport_type",
                           "name", "elapsed_time", "distance", "manual", "external_id",
                           "streams": bool (default: not manual), "gear_id", "file_b64",
                           "laps": [elapsed seconds of each lap] (default: one lap over
                           the whole activity; none for a manual one)}
  GET  /_fake/activities  every activity as the API shows it
  GET  /_fake/uploads     every upload with its state
  POST /_fake/gear        {"bikes": [...], "shoes": [...]}
  POST /_fake/tokens      {"expire": true} ends every access token now;
                           {"access_token", "refresh_token", "scope"} adds a grant
  GET  /_fake/oauth       {"refreshes", "issued", "refresh_tokens": [...]}
"""

import base64
import datetime
import hashlib
import json
import math
import re
import threading
import time
import urllib.parse

import activity_files
from framework import OAuthServer, Operation, Platform, Reply, bearer_of, json_reply
from intervals import parse_multipart

CLIENT_ID = "12345"
CLIENT_SECRET = "test-client-secret"
TOKEN = "test-oauth-token"
REFRESH = "test-refresh-token"
FULL_SCOPE = "read,activity:read_all,activity:write,profile:read_all"
UPDATABLE = {"name", "description", "sport_type", "type", "gear_id", "commute", "trainer", "hide_from_home"}
DATA_TYPES = {"fit", "fit.gz", "tcx", "tcx.gz", "gpx", "gpx.gz"}
PROCESSING = "Your activity is still being processed."
READY = "Your activity is ready."
FAILED = "There was an error processing your activity."


def fault(status, message, resource="", field="", code=""):
    return json_reply({"message": message, "errors": [{"resource": resource, "field": field, "code": code}]}, status)


def iso_utc(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Quota:
    """One bucket's 15-minute and daily windows on the fake's clock."""

    def __init__(self, short, daily):
        self.limit = [short, daily]
        self.used = [0, 0]
        self.window = [None, None]  # index of the current window

    def roll(self, now):
        for i, size in enumerate((900, 86400)):
            index = int(now // size)
            if self.window[i] != index:
                self.window[i], self.used[i] = index, 0

    def spent(self):
        return any(self.used[i] >= self.limit[i] for i in range(2))

    def headers(self, limit_name, usage_name):
        return [(limit_name, "%d,%d" % tuple(self.limit)), (usage_name, "%d,%d" % tuple(self.used))]


class Strava(Platform):
    name = "strava"
    operations = [
        Operation("GET", "/oauth/authorize", "authorize"),
        Operation("POST", "/oauth/token", "token"),
        Operation("POST", "/api/v3/oauth/token", "token"),
        Operation("POST", "/oauth/deauthorize", "deauthorize"),
        Operation("GET", "/api/v3/athlete", "athlete"),
        Operation("GET", "/api/v3/athlete/activities", "list_activities"),
        Operation("GET", "/api/v3/activities/{id}", "get_activity"),
        Operation("PUT", "/api/v3/activities/{id}", "update"),
        Operation("GET", "/api/v3/activities/{id}/streams", "streams"),
        Operation("GET", "/api/v3/activities/{id}/laps", "laps"),
        Operation("POST", "/api/v3/uploads", "upload"),
        Operation("GET", "/api/v3/uploads/{id}", "upload_status"),
    ]

    def __init__(self):
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        with self.lock:
            self.oauth = OAuthServer(CLIENT_ID, CLIENT_SECRET, lifetime_s=21600, rotate=True,
                                     query_param="access_token")
            self.scopes = {}  # access token -> granted scope
            self.refresh_scopes = {}  # refresh token -> granted scope
            self.add_grant(TOKEN, REFRESH, FULL_SCOPE)
            self.grant_scope = FULL_SCOPE
            self.codes = {}  # code -> scope
            self.offset_s = 0.0
            self.overall = Quota(200, 2000)
            self.read = Quota(100, 1000)
            self.processing_polls = 2
            self.processing_s = 1.0
            self.athlete_limit_exceeded = False
            self.activities = {}
            self.uploads = {}
            self.bikes, self.shoes = [], []
            self.next_id = 10001
            self.next_upload = 900001

    # -- state ------------------------------------------------------------

    def now(self):
        return time.time() + self.offset_s

    def add_grant(self, access, refresh, scope):
        self.oauth.access[access] = time.time() + self.oauth.lifetime_s
        self.oauth.refresh.add(refresh)
        self.scopes[access] = scope
        self.refresh_scopes[refresh] = scope

    def add_activity(self, spec):
        aid = int(spec.get("id") or self.next_id)
        self.next_id = max(self.next_id, aid) + 1
        info = None
        if spec.get("file_b64"):
            try:
                info = activity_files.summarize(base64.b64decode(spec["file_b64"]))
            except activity_files.BadFile:
                info = None
        if "start" in spec:
            start = float(spec["start"])
        elif "start_date" in spec:
            start = activity_files.parse_iso(spec["start_date"])
        else:
            start = info["start"] if info else time.time()
        elapsed = int(spec.get("elapsed_time") or (info and info["elapsed"]) or 3600)
        manual = bool(spec.get("manual", False))
        sport = spec.get("sport_type") or (info["type"] if info else "Ride")
        distance = spec.get("distance")
        if distance is None:
            distance = (info and info["distance"]) or (elapsed * (8.0 if "Ride" in sport else 2.8))
        act = {
            "id": aid, "resource_state": 2, "athlete": {"id": 4242, "resource_state": 1},
            "external_id": spec.get("external_id"), "upload_id": spec.get("upload_id"),
            "name": spec.get("name", "Activity"), "description": spec.get("description"),
            "distance": float(distance), "moving_time": int(spec.get("moving_time", elapsed)), "elapsed_time": elapsed,
            "total_elevation_gain": 0.0, "type": sport, "sport_type": sport,
            "start_date": iso_utc(start), "start_date_local": iso_utc(start + 3600),
            "timezone": "(GMT+01:00) Europe/Berlin", "utc_offset": 3600.0,
            "trainer": bool(spec.get("trainer", False)), "commute": False, "manual": manual, "private": False,
            "visibility": "everyone", "gear_id": spec.get("gear_id"),
            "_start": start, "_streams": bool(spec.get("streams", not manual)),
            "_laps": [int(x) for x in spec.get("laps", [] if manual else [elapsed])],
            "_hash": hashlib.sha256(info["payload"]).hexdigest() if info else None,
        }
        if act["upload_id"] is not None:
            act["upload_id_str"] = str(act["upload_id"])
        self.activities[aid] = act
        return act

    @staticmethod
    def public(act):
        return {k: v for k, v in act.items() if not k.startswith("_")}

    def streams_of(self, act):
        """Samples every few seconds along a line: distance grows evenly to the
        activity's distance, time ends at its elapsed time."""
        elapsed, distance = act["elapsed_time"], act["distance"]
        step = max(1, elapsed // 1500)
        times = list(range(0, elapsed, step)) + [elapsed]
        out = {"time": times,
               "distance": [round(distance * t / elapsed, 1) for t in times],
               "latlng": [[round(46.5 + 0.2 * t / elapsed, 6), round(6.6 + 0.1 * t / elapsed, 6)] for t in times],
               "altitude": [round(400 + 50 * math.sin(t / 600.0), 1) for t in times],
               "heartrate": [130 + (t // 60) % 20 for t in times]}
        if "Ride" in act["sport_type"]:
            out["watts"] = [180 + (t // 30) % 40 for t in times]
            out["cadence"] = [85 + (t // 45) % 10 for t in times]
        else:
            out["cadence"] = [80 + (t // 45) % 6 for t in times]
        out["temp"] = [21 for _ in times]
        return out

    def laps_of(self, act):
        """The activity's laps as Strava lists them: each with its totals and
        its first and last index into the time stream."""
        times = self.streams_of(act)["time"] if act["_streams"] else []
        out, offset = [], 0
        for n, elapsed in enumerate(act["_laps"], 1):
            first = next((i for i, t in enumerate(times) if t >= offset), 0)
            last = next((i for i, t in enumerate(times) if t >= offset + elapsed), max(0, len(times) - 1))
            out.append({"id": act["id"] * 100 + n, "resource_state": 2, "name": "Lap %d" % n,
                        "activity": {"id": act["id"], "resource_state": 1},
                        "athlete": {"id": 4242, "resource_state": 1},
                        "elapsed_time": elapsed, "moving_time": elapsed,
                        "start_date": iso_utc(act["_start"] + offset),
                        "start_date_local": iso_utc(act["_start"] + offset + 3600),
                        "distance": round(act["distance"] * elapsed / act["elapsed_time"], 1),
                        "start_index": first, "end_index": last, "lap_index": n, "split": n})
            offset += elapsed
        return out

    def settle_uploads(self):
        """Uploads whose processing time is over become activities (or errors)
        even when nobody polls them."""
        for up in self.uploads.values():
            if up["_state"] == "processing" and time.time() - up["_at"] >= self.processing_s:
                self.finish_upload(up)

    def finish_upload(self, up):
        up["_state"] = "done"
        outcome = up["_outcome"]
        if outcome["kind"] == "error":
            up.update(error=outcome["error"], status=FAILED)
        elif outcome["kind"] == "duplicate":
            up.update(error="%s duplicate of activity %d" % (up["_file_name"], outcome["of"]), status=FAILED)
        else:
            act = self.add_activity(dict(outcome["spec"], upload_id=up["id"]))
            up.update(activity_id=act["id"], status=READY)

    # -- auth and quota ---------------------------------------------------

    def scope_of(self, request):
        return self.scopes.get(bearer_of(request, "access_token"), "")

    def quota(self, request, upload):
        now = self.now()
        self.overall.roll(now)
        self.read.roll(now)
        limited = self.overall.spent() or (not upload and self.read.spent())
        self.overall.used = [u + 1 for u in self.overall.used]  # rejected requests count too
        if not upload:
            self.read.used = [u + 1 for u in self.read.used]
        headers = (self.overall.headers("X-RateLimit-Limit", "X-RateLimit-Usage") +
                   self.read.headers("X-ReadRateLimit-Limit", "X-ReadRateLimit-Usage"))
        return headers, limited

    # -- routes -----------------------------------------------------------

    def route(self, request):
        with self.lock:
            found = self.operation_of(request)
            name, params = found if found else (None, {})
            if name == "authorize":
                return self.authorize(request)
            if name == "token":
                return self.token(request)
            headers, limited = self.quota(request, name == "upload")
            reply = self.api(request, name, params, limited)
            reply.headers.extend(headers)
            return reply

    def api(self, request, name, params, limited):
        denied = self.oauth.check(request)
        if denied is not None:
            return denied
        if self.athlete_limit_exceeded:
            return fault(403, "Limit of connected athletes exceeded", "Application", "athletes", "limit exceeded")
        if limited:
            return fault(429, "Rate Limit Exceeded", "Application", "rate limit", "exceeded")
        if name is None:
            return fault(404, "Record Not Found", "resource", "path", "invalid")
        self.settle_uploads()
        scope = self.scope_of(request).split(",")
        if name in ("upload", "upload_status", "update") and "activity:write" not in scope:
            return fault(401, "Authorization Error", "AccessToken", "activity:write_permission", "missing")
        if name == "deauthorize":
            return json_reply({})
        if name == "athlete":
            athlete = {"id": 4242, "username": "fake", "firstname": "Test", "lastname": "Athlete",
                       "resource_state": 2}
            if "profile:read_all" in scope:
                athlete.update(resource_state=3, bikes=self.bikes, shoes=self.shoes)
            return json_reply(athlete)
        if name == "list_activities":
            return self.list_activities(request)
        if name == "upload":
            return self.upload(request)
        if name == "upload_status":
            up = self.uploads.get(params["id"])
            if up is None:
                return fault(404, "Record Not Found", "Upload", "id", "invalid")
            up["_polls"] += 1
            if up["_state"] == "processing" and up["_polls"] > self.processing_polls:
                self.finish_upload(up)
            return json_reply(self.public(up), 200)
        act = self.activities.get(int(params["id"])) if params.get("id", "").isdigit() else None
        if act is None:
            return fault(404, "Record Not Found", "Activity", "id", "invalid")
        if name == "get_activity":
            return json_reply(dict(self.public(act), resource_state=3))
        if name == "streams":
            return self.streams(act, request)
        if name == "laps":
            return json_reply(self.laps_of(act))
        return self.update(act, request)

    def authorize(self, request):
        redirect = request.arg("redirect_uri")
        if request.arg("client_id") != self.oauth.client_id or not redirect:
            return fault(400, "Bad Request", "Application", "client_id", "invalid")
        code = "code-%d" % (len(self.codes) + 1)
        self.codes[code] = self.grant_scope
        self.oauth.codes.add(code)
        query = urllib.parse.urlencode({"state": request.arg("state") or "", "code": code, "scope": self.grant_scope})
        return Reply(302, b"", [("Location", redirect + ("&" if "?" in redirect else "?") + query)], content_type=None)

    def token(self, request):
        form = dict(urllib.parse.parse_qsl(request.body.decode("utf-8", "replace")))
        if self.athlete_limit_exceeded and form.get("grant_type") == "authorization_code":
            return fault(403, "Limit of connected athletes exceeded", "Application", "athletes", "limit exceeded")
        reply = self.oauth.token_endpoint(request)
        if reply.status != 200:
            return reply
        body = json.loads(reply.body)
        if form.get("grant_type") == "authorization_code":
            scope = self.codes.pop(form.get("code"), FULL_SCOPE)
            body["athlete"] = {"id": 4242, "resource_state": 2}
        else:
            scope = self.refresh_scopes.get(form.get("refresh_token"), FULL_SCOPE)
        self.scopes[body["access_token"]] = scope
        self.refresh_scopes[body["refresh_token"]] = scope
        return json_reply(body)

    def list_activities(self, request):
        try:
            after = float(request.arg("after")) if request.arg("after") else None
            before = float(request.arg("before")) if request.arg("before") else None
            page = int(request.arg("page", "1"))
            per_page = min(200, max(1, int(request.arg("per_page", "30"))))
        except ValueError as e:
            return fault(400, "Bad Request", "Activity", "query", "invalid: %s" % e)
        if page < 1:
            return fault(400, "Bad Request", "Activity", "page", "invalid")
        rows = [a for a in self.activities.values()
                if (after is None or a["_start"] > after) and (before is None or a["_start"] < before)]
        ascending = after is not None and before is None
        rows.sort(key=lambda a: (a["_start"], a["id"]), reverse=not ascending)
        chunk = rows[(page - 1) * per_page:page * per_page]
        return json_reply([self.public(a) for a in chunk])

    def streams(self, act, request):
        keys = [k for k in (request.arg("keys") or "").split(",") if k]
        if not keys:
            return fault(400, "Bad Request", "Stream", "keys", "missing")
        if request.arg("key_by_type") != "true":
            return fault(400, "Bad Request", "Stream", "key_by_type", "must be true")
        if not act["_streams"]:
            return fault(404, "Record Not Found", "Activity", "streams", "not found")
        data = self.streams_of(act)
        out = {}
        for key in keys:
            if key in data:
                out[key] = {"data": data[key], "series_type": "distance", "original_size": len(data[key]),
                            "resolution": "high"}
        return json_reply(out)

    def upload(self, request):
        m = re.search(r'boundary="?([^";]+)"?', request.header("Content-Type") or "")
        if not m:
            return fault(400, "Bad Request", "Upload", "file", "missing")
        parts = {p["name"]: p for p in parse_multipart(request.body, m.group(1).encode())}
        if "file" not in parts:
            return fault(400, "Bad Request", "Upload", "file", "missing")
        data_type = parts["data_type"]["data"].decode() if "data_type" in parts else ""
        if data_type not in DATA_TYPES:
            return fault(400, "Bad Request", "Upload", "data_type", "invalid")
        field = lambda n: parts[n]["data"].decode("utf-8", "replace") if n in parts else None  # noqa: E731
        data = parts["file"]["data"]
        file_name = parts["file"]["filename"] or "upload"
        outcome = {"kind": "ok"}
        if not data:
            outcome = {"kind": "error", "error": "file empty"}
        elif data_type.endswith(".gz") != (data[:2] == b"\x1f\x8b"):
            outcome = {"kind": "error", "error": "Bad Request: invalid encoding"}
        else:
            try:
                info = activity_files.summarize(data)
                if info["format"] != data_type.split(".")[0]:
                    raise activity_files.BadFile("format")
            except activity_files.BadFile:
                outcome = {"kind": "error", "error": "unrecognized file type"}
        if outcome["kind"] == "ok":
            digest = hashlib.sha256(info["payload"]).hexdigest()
            earlier = [a["id"] for a in self.activities.values() if a["_hash"] == digest]
            earlier += [u["_outcome"]["spec"]["id"] for u in self.uploads.values()
                        if u["_outcome"]["kind"] == "ok" and u["_hash"] == digest]
            if earlier:
                outcome = {"kind": "duplicate", "of": earlier[0]}
            else:
                outcome["spec"] = {"id": self.next_id, "start": info["start"], "sport_type": info["type"],
                                   "name": field("name") or file_name, "external_id": field("external_id"),
                                   "elapsed_time": int(info["elapsed"]) if info["elapsed"] else 3600,
                                   "distance": info["distance"], "trainer": field("trainer") == "1",
                                   "file_b64": base64.b64encode(data).decode()}
                self.next_id += 1
        up = {"id": self.next_upload, "id_str": str(self.next_upload), "external_id": field("external_id"),
              "error": None, "status": PROCESSING, "activity_id": None,
              "_state": "processing", "_polls": 0, "_at": time.time(), "_outcome": outcome, "_file_name": file_name,
              "_hash": hashlib.sha256(info["payload"]).hexdigest() if outcome["kind"] == "ok" else None}
        self.uploads[str(up["id"])] = up
        self.next_upload += 1
        return json_reply(self.public(up), 201)

    def update(self, act, request):
        try:
            change = json.loads(request.body or b"{}")
        except ValueError:
            return fault(400, "Bad Request", "Activity", "body", "invalid json")
        if not isinstance(change, dict):
            return fault(400, "Bad Request", "Activity", "body", "invalid")
        for key in change:
            if key not in UPDATABLE:
                return fault(400, "Bad Request", "Activity", key, "not updatable")
        for key, value in change.items():
            if key == "gear_id" and value == "none":
                value = None
            act[key] = value
            if key == "sport_type":
                act["type"] = value
        return json_reply(dict(self.public(act), resource_state=3))

    # -- control ----------------------------------------------------------

    def control(self, request):
        p, m = request.path, request.method
        body = json.loads(request.body) if request.body else {}
        with self.lock:
            if p == "/_fake/config" and m == "POST":
                self.oauth.client_id = body.get("client_id", self.oauth.client_id)
                self.oauth.client_secret = body.get("client_secret", self.oauth.client_secret)
                self.oauth.lifetime_s = int(body.get("token_lifetime_s", self.oauth.lifetime_s))
                self.grant_scope = body.get("grant_scope", self.grant_scope)
                if "limits" in body:
                    self.overall.limit = list(body["limits"].get("overall", self.overall.limit))
                    self.read.limit = list(body["limits"].get("read", self.read.limit))
                self.processing_polls = int(body.get("processing_polls", self.processing_polls))
                self.processing_s = float(body.get("processing_s", self.processing_s))
                self.athlete_limit_exceeded = bool(body.get("athlete_limit_exceeded", self.athlete_limit_exceeded))
                return json_reply({"ok": True})
            if p == "/_fake/clock":
                if m == "POST":
                    self.offset_s += float(body.get("advance_s", 0))
                return json_reply({"now": self.now(), "offset_s": self.offset_s})
            if p == "/_fake/quota" and m == "GET":
                self.overall.roll(self.now())
                self.read.roll(self.now())
                return json_reply({"overall": self.overall.used, "read": self.read.used,
                                   "limits": {"overall": self.overall.limit, "read": self.read.limit}})
            if p == "/_fake/activities" and m == "POST":
                added = [self.add_activity(a) for a in (body if isinstance(body, list) else [body])]
                return json_reply([str(a["id"]) for a in added])
            if p == "/_fake/activities" and m == "GET":
                self.settle_uploads()
                rows = sorted(self.activities.values(), key=lambda a: (a["_start"], a["id"]))
                return json_reply([self.public(a) for a in rows])
            if p == "/_fake/uploads" and m == "GET":
                return json_reply([dict(self.public(u), state=u["_state"], polls=u["_polls"])
                                   for u in self.uploads.values()])
            if p == "/_fake/gear" and m == "POST":
                self.bikes = body.get("bikes", self.bikes)
                self.shoes = body.get("shoes", self.shoes)
                return json_reply({"ok": True})
            if p == "/_fake/tokens" and m == "POST":
                if body.get("expire"):
                    self.oauth.expire_all()
                if body.get("access_token"):
                    self.add_grant(body["access_token"], body.get("refresh_token", ""), body.get("scope", FULL_SCOPE))
                return json_reply({"ok": True})
            if p == "/_fake/oauth" and m == "GET":
                return json_reply({"refreshes": self.oauth.refreshes, "issued": self.oauth.issued,
                                   "refresh_tokens": sorted(self.oauth.refresh)})
        return Platform.control(self, request)
