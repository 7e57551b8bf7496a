"""SweatStack fake: the activities API of ../shared/seeds/002 and
../shared/reference/provider-apis.md §5.2.

Facts it follows: `Authorization: Bearer <API key or access token>`; GET
/api/v1/activities/ (trailing slash) with `start`/`end` as dates (YYYY-MM-DD;
a date-time is refused with FastAPI's 422 `date_from_datetime_inexact`),
`limit` (default 50) and `offset` (default 0), newest first, a bare array of
ActivitySummary (id, sport as OpenSportTaxonomy like "cycling.road", start,
end, start_local, end_local, duration as ISO-8601, metrics, source_id,
summary, tags, ...); GET /api/v1/activities/{id} (ActivityDetails, with
`distance`); GET /api/v1/activities/{id}/download; POST
/api/v1/activities/upload multipart with repeatable `files` parts (at most
10, FIT or CSV) answering {"sources": [{id, type, origin, filename, status
"processing", error, activity_ids, created_at}]} in the order of the files;
validation errors are FastAPI `{"detail": [{"loc", "msg", "type"}]}` (422).
OAuth2 + PKCE: POST /api/v1/oauth/token (form; client_id and client_secret
as form fields).

Inferred (no public document says): the source status endpoint GET
/api/v1/sources/{id} (SourceResponse); a response header `refreshed-token`
carrying a fresh access token when the one used is past half its life (the
seed lists the name among the parameters); processing ends after
`processing_polls` status reads (default 1) or as soon as the activity list is
read, as the platform's workers would have by then; a file already uploaded
(same SHA-256) is processed into the activity it made before; 404 from
/download for an activity that has no original file (one created from CSV or
synced from another platform).

Tokens: the API key `test-api-key` never expires; `test-oauth-token` and
tokens added through /_fake/tokens or issued by OAuth expire.

Control API (besides the framework's):
  POST /_fake/config       {"processing_polls", "token_lifetime_s", "fail_files": bool
                            (every FIT fails processing with "File is corrupt")}
  POST /_fake/tokens       {"token", "expires_in"} -> an extra access token
  POST /_fake/activities   one or a list: {"start" (epoch) | "start_time" (ISO),
                            "sport" (OpenSportTaxonomy) | "type" (a FitBridge
                            family), "duration", "distance", "file_b64", "id"?} -> ids
  GET  /_fake/activities   every activity (+ "has_file")
  GET  /_fake/sources      every upload source
"""

import base64
import datetime
import hashlib
import json
import re
import time

import activity_files
from framework import OAuthServer, Operation, Platform, Reply, json_reply
from intervals import parse_multipart

API_KEY = "test-api-key"
TOKEN = "test-oauth-token"
MAX_FILES = 10
FAMILY_SPORTS = {"ride": "cycling.road", "run": "running", "walk": "walking", "swim": "swimming",
                 "hike": "hiking", "row": "rowing", "ski": "cross_country_skiing", "other": "generic"}
FILE_SPORTS = {"Run": "running", "Ride": "cycling.road", "VirtualRide": "cycling.trainer", "Walk": "walking",
               "Swim": "swimming", "Hike": "hiking", "Rowing": "rowing"}


def iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def iso_duration(seconds):
    return "PT%dS" % int(round(seconds))


def validation(loc, msg, kind):
    return json_reply({"detail": [{"loc": loc, "msg": msg, "type": kind}]}, 422)


def parse_date(text, name):
    """A pydantic `date`: YYYY-MM-DD, or a date-time at midnight."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return datetime.date.fromisoformat(text)
    try:
        value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(validation(["query", name], "Input should be a valid date", "date_from_datetime_parsing"))
    if value.time() != datetime.time(0, 0):
        raise ValueError(validation(["query", name], "Datetimes provided to dates should have zero time - e.g. be "
                                    "exact dates", "date_from_datetime_inexact"))
    return value.date()


class SweatStack(Platform):
    name = "sweatstack"
    operations = [
        Operation("GET", "/api/v1/activities/", "list"),
        Operation("GET", "/api/v1/activities/{id}", "get"),
        Operation("GET", "/api/v1/activities/{id}/download", "download"),
        Operation("POST", "/api/v1/activities/upload", "upload"),
        Operation("GET", "/api/v1/sources/{id}", "source"),
        Operation("POST", "/api/v1/oauth/token", "token"),
    ]

    def __init__(self):
        self.reset()

    def reset(self):
        self.activities = {}
        self.sources = {}
        self.by_hash = {}  # sha256 -> activity id
        self.next_id = 1
        self.processing_polls = 1
        self.token_lifetime_s = 3600
        self.fail_files = False
        self.tokens = {TOKEN: time.time() + self.token_lifetime_s}  # access token -> expires at
        self.issued_at = {TOKEN: time.time()}
        self.refreshed = 0
        self.oauth = OAuthServer(lifetime_s=self.token_lifetime_s)

    # -- auth ---------------------------------------------------------------

    def authorize(self, request):
        """(None, extra headers) when allowed, (401 reply, None) when not."""
        auth = request.header("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return json_reply({"detail": "Not authenticated"}, 401), None
        if token == API_KEY:
            return None, []
        if token in self.oauth.access:
            self.tokens.setdefault(token, self.oauth.access[token])
            self.issued_at.setdefault(token, self.oauth.access[token] - self.oauth.lifetime_s)
        expires = self.tokens.get(token)
        now = time.time()
        if expires is None or expires <= now:
            return json_reply({"detail": "Could not validate credentials"}, 401), None
        issued = self.issued_at.get(token, now)
        if now - issued < (expires - issued) / 2:
            return None, []
        # Past half its life: a fresh token rides along with the answer.
        self.refreshed += 1
        fresh = "refreshed-%d" % self.refreshed
        self.tokens[fresh] = now + self.token_lifetime_s
        self.issued_at[fresh] = now
        return None, [("refreshed-token", fresh)]

    # -- routes -------------------------------------------------------------

    def route(self, request):
        op = self.operation_of(request)
        if op is None:
            return json_reply({"detail": "Not Found"}, 404)
        name, params = op
        if name == "token":
            reply = self.oauth.token_endpoint(request)
            return reply
        denied, extra = self.authorize(request)
        if denied is not None:
            return denied
        reply = self.dispatch(name, params, request)
        reply.headers.extend(extra)
        return reply

    def dispatch(self, name, params, request):
        if name == "list":
            return self.list(request)
        if name == "upload":
            return self.upload(request)
        if name == "source":
            return self.source(params["id"])
        act = self.activities.get(params["id"])
        if act is None:
            return json_reply({"detail": "Activity not found"}, 404)
        if name == "get":
            return json_reply(self.show(act, True))
        if act["file"] is None:
            return json_reply({"detail": "No original file is available for this activity"}, 404)
        return Reply(200, act["file"], [("Content-Disposition", 'attachment; filename="%s.fit"' % act["id"])],
                     content_type="application/octet-stream")

    def show(self, act, details):
        out = {"id": act["id"], "sport": act["sport"], "start": iso(act["start"]),
               "end": iso(act["start"] + act["duration"]), "start_local": iso(act["start"] + 3600)[:-1],
               "end_local": iso(act["start"] + act["duration"] + 3600)[:-1], "duration": iso_duration(act["duration"]),
               "metrics": ["duration", "heart_rate"], "source_id": act["source_id"], "tags": [], "laps": None,
               "traces": None, "app_metadata": None,
               "summary": {"distance": {"sum": act["distance"]}} if act["distance"] is not None else None}
        if details:
            out["distance"] = act["distance"]
            out["devices"] = []
        return out

    def list(self, request):
        try:
            start = parse_date(request.arg("start"), "start") if request.arg("start") else None
            end = parse_date(request.arg("end"), "end") if request.arg("end") else None
            limit = int(request.arg("limit", 50))
            offset = int(request.arg("offset", 0))
        except ValueError as e:
            if e.args and isinstance(e.args[0], Reply):
                return e.args[0]
            return validation(["query", "limit"], "Input should be a valid integer", "int_parsing")
        if limit < 1 or limit > 500:
            return validation(["query", "limit"], "Input should be less than or equal to 500", "less_than_equal")
        self.finish_processing()
        rows = []
        for act in self.activities.values():
            day = datetime.datetime.fromtimestamp(act["start"], datetime.timezone.utc).date()
            if (start is None or day >= start) and (end is None or day <= end):
                rows.append(act)
        rows.sort(key=lambda a: (a["start"], a["id"]), reverse=True)
        return json_reply([self.show(a, False) for a in rows[offset:offset + limit]])

    def upload(self, request):
        m = re.search(r'boundary="?([^";]+)"?', request.header("Content-Type") or "")
        if not m:
            return validation(["body", "files"], "Field required", "missing")
        files = [p for p in parse_multipart(request.body, m.group(1).encode()) if p["name"] == "files"]
        if not files:
            return validation(["body", "files"], "Field required", "missing")
        if len(files) > MAX_FILES:
            return validation(["body", "files"], "List should have at most 10 items after validation, not %d"
                              % len(files), "too_long")
        out = []
        for part in files:
            source_id = "src_%d" % (len(self.sources) + 1)
            src = {"id": source_id, "type": "file", "origin": "upload", "filename": part["filename"],
                   "status": "processing", "error": None, "activity_ids": [], "created_at": iso(time.time()),
                   "_data": part["data"], "_polls": 0}
            self.sources[source_id] = src
            out.append(self.source_json(src))
        return json_reply({"sources": out})

    def source_json(self, src):
        return {k: v for k, v in src.items() if not k.startswith("_")}

    def source(self, source_id):
        src = self.sources.get(source_id)
        if src is None:
            return json_reply({"detail": "Source not found"}, 404)
        if src["status"] == "processing":
            src["_polls"] += 1
            if src["_polls"] > self.processing_polls:
                self.process(src)
        return json_reply(self.source_json(src))

    def finish_processing(self):
        for src in self.sources.values():
            if src["status"] == "processing":
                self.process(src)

    def process(self, src):
        data = src["_data"]
        digest = hashlib.sha256(data).hexdigest()
        try:
            if self.fail_files:
                raise activity_files.BadFile("File is corrupt")
            info = activity_files.summarize(data)
            if info["format"] != "fit" or info["gzipped"]:
                raise activity_files.BadFile("Unsupported file type: only .fit and .csv files are accepted")
        except activity_files.BadFile as e:
            src["status"] = "failed"
            src["error"] = {"code": "processing_error", "message": str(e)}
            return
        if digest in self.by_hash:
            src["status"] = "processed"
            src["activity_ids"] = [self.by_hash[digest]]
            return
        act = self.add({"start": info["start"], "sport": FILE_SPORTS.get(info["type"], "generic"),
                        "duration": info["elapsed"] or 0, "distance": info["distance"], "file": data,
                        "source_id": src["id"]})
        self.by_hash[digest] = act["id"]
        src["status"] = "processed"
        src["activity_ids"] = [act["id"]]

    # -- control ------------------------------------------------------------

    def add(self, spec):
        act_id = spec.get("id") or "act_%04d" % self.next_id
        self.next_id += 1
        start = spec["start"] if "start" in spec else activity_files.parse_iso(spec["start_time"])
        sport = spec.get("sport") or FAMILY_SPORTS.get(spec.get("type", "ride"), "generic")
        data = spec.get("file")
        if data is None and spec.get("file_b64"):
            data = base64.b64decode(spec["file_b64"])
        act = {"id": act_id, "sport": sport, "start": float(start), "duration": float(spec.get("duration", 3600)),
               "distance": spec.get("distance"), "file": data, "source_id": spec.get("source_id", "src_seed")}
        self.activities[act_id] = act
        if data is not None:
            self.by_hash.setdefault(hashlib.sha256(data).hexdigest(), act_id)
        return act

    def control(self, request):
        path, method = request.path, request.method
        if path == "/_fake/config" and method == "POST":
            spec = json.loads(request.body or b"{}")
            self.processing_polls = int(spec.get("processing_polls", self.processing_polls))
            self.token_lifetime_s = float(spec.get("token_lifetime_s", self.token_lifetime_s))
            self.fail_files = bool(spec.get("fail_files", self.fail_files))
            return json_reply({"ok": True})
        if path == "/_fake/tokens" and method == "POST":
            spec = json.loads(request.body or b"{}")
            now = time.time()
            self.tokens[spec["token"]] = now + float(spec.get("expires_in", 3600))
            self.issued_at[spec["token"]] = now - float(spec.get("age", 0))
            return json_reply({"ok": True})
        if path == "/_fake/activities" and method == "POST":
            spec = json.loads(request.body or b"{}")
            return json_reply([self.add(one)["id"] for one in (spec if isinstance(spec, list) else [spec])])
        if path == "/_fake/activities" and method == "GET":
            return json_reply([dict(self.show(a, True), has_file=a["file"] is not None)
                               for a in self.activities.values()])
        if path == "/_fake/sources" and method == "GET":
            return json_reply([self.source_json(s) for s in self.sources.values()])
        return Platform.control(self, request)
