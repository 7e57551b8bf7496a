"""Ride with GPS fake: the v1 API and the legacy endpoints of provider-apis.md §3.

Facts it follows: every call needs the API client's key (`x-rwgps-api-key`),
and the user's credentials either as `Authorization: Basic
base64(api_key:auth_token)` (or the `x-rwgps-auth-token` header) or as an
OAuth `Authorization: Bearer` token; anything else is 401 {"error": "Failed
to authenticate the user"} (§3.1). OAuth: GET /oauth/authorize approves at
once (302 to redirect_uri?code=...), POST /oauth/token.json (JSON or form)
answers {access_token, token_type: "Bearer", scope: "user", created_at,
user_id}: no expiry, no refresh token; `test-oauth-token` is always valid.
GET /api/v1/trips.json?page=&page_size= (page_size 20..200, default 20):
{"trips": [...], "meta": {"pagination": {record_count, page_count,
page_size, next_page_url}}}, ordered by updated_at desc, next_page_url null
on the last page; items lack track_points and gear. GET
/api/v1/trips/{id}.json: {"trip": {...}} with gear. GET
/api/v1/users/current.json: {"user": {id, name, ...}}. Errors: {"error": "..."}.
Legacy (§3.3): GET /trips/{id}.tcx?sub_format=history, the TCX export made
from the trip; POST /trips.json multipart part `data_file` with `trip[name]`;
PUT/PATCH /trips/{id}.json {"trip": {"name", "gear_id", "description"}} ->
{"trip": {...}}; GET /users/current.json {"user": {id, name, gear: [{id,
name}]}}; GET /users/{id}/gear.json {"results": [{id, nickname}],
"results_count"}.

Inferred (the legacy create is undocumented; §3.3 says only `success: 1` and
"asynchronous processing"): a file the fake cannot read is 422 {"error":
...}; an accepted one is answered {"success": 1, "task_id": N} and the trip
stays out of the v1 list for `processing_lists` list requests (default 0:
processed by the time anyone looks) while it is processed; with "create_answer": "trip" the answer is
{"success": 1, "trip": {"id", ...}} and the trip is listed at once. An
unknown gear_id in an update is 422 {"error": "Gear not found"}. The export
of a trip seeded with "export": "html" is an HTML page (200), with
"missing" a 404.

Control API (besides the framework's):
  POST /_fake/config       {"processing_lists", "create_answer": "task"|"trip"}
  POST /_fake/grant        -> {"access_token"} as after an OAuth consent
  POST /_fake/activities   one or a list: {"start" (epoch), "name", "activity_type" (or a FitBridge
                            family), "duration", "distance", "updated" (epoch; default start + 3600),
                            "gear_id", "export": "tcx"|"html"|"missing", "id"?} -> ids
  GET  /_fake/activities   every trip: the v1 detail + "processing" (list requests left) and "file_format"
"""

import base64
import datetime
import json
import re
import time
import urllib.parse

import activity_files
from framework import Operation, Platform, Reply, json_reply
from intervals import parse_multipart

API_KEY = "test-api-key"
AUTH_TOKEN = "test-auth-token"
CLIENT_ID = "fitbridge-test"
CLIENT_SECRET = "test-client-secret"
OAUTH_TOKEN = "test-oauth-token"  # an OAuth token the fake always accepts (as if granted earlier)
USER_ID = 4242
GEAR = [{"id": 275581, "name": "Gravel bike"}, {"id": 275582, "name": "Road bike"}]
FAMILY_TYPES = {"ride": "cycling", "run": "running", "walk": "walking", "hike": "hiking", "swim": "swimming",
                "row": "rowing", "ski": "skiing"}
FILE_TYPES = {"Run": "running", "Ride": "cycling", "VirtualRide": "cycling:virtual", "Walk": "walking",
              "Hike": "hiking", "Swim": "swimming", "Rowing": "rowing"}
TCX_SPORTS = {"cycling": "Biking", "running": "Running"}


def iso(epoch):
    """departed_at style: local time with its offset (the fake's users live at +01:00)."""
    tz = datetime.timezone(datetime.timedelta(hours=1))
    return datetime.datetime.fromtimestamp(epoch, tz).strftime("%Y-%m-%dT%H:%M:%S%z").replace("+0100", "+01:00")


def utc(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def error(status, message):
    return json_reply({"error": message}, status)


class RideWithGps(Platform):
    name = "ridewithgps"
    operations = [
        Operation("GET", "/oauth/authorize", "authorize"),
        Operation("POST", "/oauth/token.json", "token"),
        Operation("GET", "/api/v1/trips.json", "list"),
        Operation("GET", "/api/v1/trips/{file}", "trip"),
        Operation("GET", "/api/v1/users/current.json", "v1_user"),
        Operation("GET", "/trips/{file}", "export"),
        Operation("POST", "/trips.json", "create"),
        Operation("PUT", "/trips/{file}", "update"),
        Operation("PATCH", "/trips/{file}", "update"),
        Operation("GET", "/users/current.json", "user"),
        Operation("GET", "/users/{user}/gear.json", "gear"),
    ]

    def __init__(self):
        self.reset()

    def reset(self):
        self.trips = {}
        self.next_id = 1001
        self.next_task = 1
        self.oauth = {OAUTH_TOKEN}
        self.codes = {}
        self.processing_lists = 0
        self.create_answer = "task"

    # -- auth ---------------------------------------------------------------

    def authenticated(self, request):
        if request.header("x-rwgps-api-key") != API_KEY:
            return False
        scheme, _, value = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                key, _, token = base64.b64decode(value).decode("utf-8").partition(":")
            except ValueError:
                return False
            return key == API_KEY and token == AUTH_TOKEN
        if scheme.lower() == "bearer":
            return value in self.oauth
        return request.header("x-rwgps-auth-token") == AUTH_TOKEN

    def grant(self):
        token = "rwgps_oauth_%d" % (len(self.oauth) + 1)
        self.oauth.add(token)
        return token

    def authorize(self, request):
        if request.arg("client_id") != CLIENT_ID or request.arg("response_type") != "code" or \
                not request.arg("redirect_uri"):
            return error(400, "invalid client or redirect")
        code = "code_%d" % (len(self.codes) + 1)
        self.codes[code] = request.arg("redirect_uri")
        sep = "&" if "?" in request.arg("redirect_uri") else "?"
        target = "%s%s%s" % (request.arg("redirect_uri"), sep,
                             urllib.parse.urlencode({k: v for k, v in (("code", code), ("state", request.arg("state")))
                                                     if v}))
        return Reply(302, b"", [("Location", target)], content_type=None)

    def token(self, request):
        text = request.body.decode("utf-8", "replace")
        try:
            form = json.loads(text) if text.lstrip().startswith("{") else dict(urllib.parse.parse_qsl(text))
        except ValueError:
            return error(400, "invalid request")
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return json_reply({"error": "invalid_client"}, 401)
        if form.get("grant_type") != "authorization_code" or self.codes.pop(form.get("code"), None) is None:
            return json_reply({"error": "invalid_grant"}, 400)
        return json_reply({"access_token": self.grant(), "token_type": "Bearer", "scope": "user",
                           "created_at": int(time.time()), "user_id": USER_ID})

    # -- API ----------------------------------------------------------------

    def route(self, request):
        op = self.operation_of(request)
        if op is None:
            return error(404, "Not found")
        name, params = op
        if name == "authorize":
            return self.authorize(request)
        if name == "token":
            return self.token(request)
        if not self.authenticated(request):
            return error(401, "Failed to authenticate the user")
        if name == "list":
            return self.list(request)
        if name == "create":
            return self.create(request)
        if name in ("user", "v1_user"):
            user = {"id": USER_ID, "name": "Fake Rider", "created_at": utc(1500000000),
                    "updated_at": utc(1700000000)}
            if name == "user":
                user["gear"] = [dict(g) for g in GEAR]
            return json_reply({"user": user})
        if name == "gear":
            if params["user"] != str(USER_ID):
                return error(403, "You do not have permission to view this gear")
            rows = [{"id": g["id"], "nickname": g["name"]} for g in GEAR]
            return json_reply({"results": rows, "results_count": len(rows)})
        trip_id, _, ext = params["file"].partition(".")
        trip = self.trips.get(trip_id)
        if trip is None or trip["processing"] > 0:
            return error(404, "Record not found")
        if name == "trip":
            if ext != "json":
                return error(404, "Not found")
            return json_reply({"trip": self.detail(trip)})
        if name == "export":
            return self.export(trip, ext, request)
        return self.update(trip, ext, request)

    def summary(self, trip):
        return {"id": int(trip["id"]), "url": "/trips/%s" % trip["id"], "name": trip["name"], "description": None,
                "visibility": "private", "departed_at": iso(trip["start"]), "time_zone": "Europe/Berlin",
                "activity_type": trip["activity_type"], "distance": trip["distance"], "duration": trip["duration"],
                "moving_time": trip["duration"], "elevation_gain": 120.0, "elevation_loss": 118.0,
                "created_at": utc(trip["created"]), "updated_at": utc(trip["updated"]), "user_id": USER_ID}

    def detail(self, trip):
        out = self.summary(trip)
        gear = next((g for g in GEAR if g["id"] == trip["gear_id"]), None)
        out["gear"] = None if gear is None else {"id": gear["id"], "make": "", "model": gear["name"],
                                                  "description": gear["name"], "exclude_from_totals": False,
                                                  "created_at": utc(1500000000)}
        out["track_points"] = [{"x": 7.0, "y": 50.0, "e": 100.0, "t": int(trip["start"])},
                               {"x": 7.01, "y": 50.01, "e": 101.0, "t": int(trip["start"] + trip["duration"])}]
        return out

    def list(self, request):
        try:
            page = int(request.arg("page", 1))
            size = int(request.arg("page_size", 20))
        except ValueError:
            return error(400, "page and page_size must be integers")
        if page < 1 or size < 20 or size > 200:
            return error(400, "page_size must be between 20 and 200")
        rows = sorted((t for t in self.trips.values() if t["processing"] == 0),
                      key=lambda t: (t["updated"], int(t["id"])), reverse=True)
        for trip in self.trips.values():  # one more list request while being processed
            if trip["processing"] > 0:
                trip["processing"] -= 1
        start = (page - 1) * size
        pages = (len(rows) + size - 1) // size
        host = request.header("Host") or "127.0.0.1"
        next_url = None
        if page < pages:
            next_url = "http://%s/api/v1/trips.json?page=%d&page_size=%d" % (host, page + 1, size)
        return json_reply({"trips": [self.summary(t) for t in rows[start:start + size]],
                           "meta": {"pagination": {"record_count": len(rows), "page_count": pages, "page_size": size,
                                                   "next_page_url": next_url}}})

    def export(self, trip, ext, request):
        if ext != "tcx":
            return error(404, "Not found")
        if trip["export"] == "missing":
            return error(404, "Record not found")
        if trip["export"] == "html":
            return Reply(200, "<!DOCTYPE html><html><head><title>Ride with GPS - Maintenance</title></head>"
                              "<body>We'll be right back</body></html>", content_type="text/html")
        start, end = trip["start"], trip["start"] + trip["duration"]
        sport = TCX_SPORTS.get(trip["activity_type"].split(":")[0], "Other")
        tcx = ('<?xml version="1.0" encoding="UTF-8"?>\n'
               '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'
               '<Activities><Activity Sport="%s"><Id>%s</Id><Lap StartTime="%s">'
               '<TotalTimeSeconds>%d</TotalTimeSeconds><DistanceMeters>%.1f</DistanceMeters>'
               '<Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod><Track>'
               '<Trackpoint><Time>%s</Time><Position><LatitudeDegrees>50.0</LatitudeDegrees>'
               '<LongitudeDegrees>7.0</LongitudeDegrees></Position><DistanceMeters>0.0</DistanceMeters></Trackpoint>'
               '<Trackpoint><Time>%s</Time><Position><LatitudeDegrees>50.01</LatitudeDegrees>'
               '<LongitudeDegrees>7.01</LongitudeDegrees></Position><DistanceMeters>%.1f</DistanceMeters>'
               '</Trackpoint></Track></Lap></Activity></Activities></TrainingCenterDatabase>\n') % (
            sport, utc(start), utc(start), trip["duration"], trip["distance"], utc(start), utc(end), trip["distance"])
        return Reply(200, tcx, [("Content-Disposition", 'attachment; filename="%s.tcx"' % trip["id"])],
                     content_type="application/vnd.garmin.tcx+xml")

    def create(self, request):
        m = re.search(r'boundary="?([^";]+)"?', request.header("Content-Type") or "")
        parts = parse_multipart(request.body, m.group(1).encode()) if m else []
        fields = {p["name"]: p for p in parts}
        part = fields.get("data_file")
        if part is None:
            return error(422, "No file was uploaded")
        try:
            info = activity_files.summarize(part["data"])
        except activity_files.BadFile as e:
            return error(422, "We could not process your file: %s" % e)
        name = fields["trip[name]"]["data"].decode("utf-8", "replace") if "trip[name]" in fields else ""
        trip = self.add({"start": info["start"], "name": name or "Ride", "duration": info["elapsed"] or 0,
                         "distance": info["distance"] or 0.0,
                         "activity_type": FILE_TYPES.get(info["type"], "cycling")})
        trip["file_format"] = info["format"]
        trip["updated"] = trip["created"]
        if self.create_answer == "trip":
            return json_reply({"success": 1, "trip": self.summary(trip)})
        trip["processing"] = self.processing_lists
        task = self.next_task
        self.next_task += 1
        return json_reply({"success": 1, "task_id": task})

    def update(self, trip, ext, request):
        if ext != "json":
            return error(404, "Not found")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return error(400, "invalid JSON")
        changes = body.get("trip") if isinstance(body, dict) else None
        if not isinstance(changes, dict):
            return error(422, "trip is required")
        if "gear_id" in changes:
            if changes["gear_id"] is not None and not any(g["id"] == changes["gear_id"] for g in GEAR):
                return error(422, "Gear not found")
            trip["gear_id"] = changes["gear_id"]
        if "name" in changes:
            if not isinstance(changes["name"], str) or not changes["name"].strip():
                return error(422, "Name can't be blank")
            trip["name"] = changes["name"]
        trip["updated"] = max(time.time(), trip["updated"] + 1)
        return json_reply({"trip": self.detail(trip)})

    # -- control ------------------------------------------------------------

    def add(self, spec):
        trip_id = str(spec.get("id") or self.next_id)
        self.next_id += 1
        start = float(spec["start"])
        kind = spec.get("activity_type", "ride")
        trip = {"id": trip_id, "start": start, "name": spec.get("name", "seeded"),
                "activity_type": FAMILY_TYPES.get(kind, kind), "duration": spec.get("duration", 3600),
                "distance": float(spec.get("distance", 25000.0)), "gear_id": spec.get("gear_id"),
                "export": spec.get("export", "tcx"), "created": time.time(),
                "updated": float(spec.get("updated", start + 3600)), "processing": 0, "file_format": None}
        self.trips[trip_id] = trip
        return trip

    def control(self, request):
        path, method = request.path, request.method
        spec = json.loads(request.body or b"{}") if method == "POST" else {}
        if path == "/_fake/config" and method == "POST":
            self.processing_lists = int(spec.get("processing_lists", self.processing_lists))
            self.create_answer = spec.get("create_answer", self.create_answer)
            return json_reply({"ok": True})
        if path == "/_fake/grant" and method == "POST":
            return json_reply({"access_token": self.grant()})
        if path == "/_fake/activities" and method == "POST":
            return json_reply([self.add(one)["id"] for one in (spec if isinstance(spec, list) else [spec])])
        if path == "/_fake/activities" and method == "GET":
            return json_reply([dict(self.detail(t), processing=t["processing"], file_format=t["file_format"])
                               for t in sorted(self.trips.values(), key=lambda t: int(t["id"]))])
        return Platform.control(self, request)
