"""TrainingPeaks fake: the personal route (the web app's own API at
tpapi.trainingpeaks.com, provider-apis.md §6.5, unofficial) and the partner
API's file upload.

Personal route, as tp2intervals and the web app use it: GET /users/v3/token
with the browser's `Production_tpAuth` cookie -> {"success": true, "token":
{"access_token", "token_type", "expires_in", "scope"}}; a missing or expired
cookie is a 401 {"Message": "Authorization has been denied for this
request."}. Bearer calls: GET /users/v3/user -> {"user": {"userId", ...},
"accountStatus": {...}}; GET /fitness/v6/athletes/{id}/workouts/{start}/{end}
(dates YYYY-MM-DD, both included, at most 90 days: longer is a 400) -> a
JSON array of workouts (workoutId, athleteId, workoutDay, startTime as local
time without a zone, title, workoutTypeValueId, totalTime in hours,
distance in m; planned ones have no startTime/totalTime yet);
GET .../workouts/{workoutId}/details -> {"workoutId", "attachmentFileInfos":
[{"fileId", "fileName", "contentType"}]}; GET
.../workouts/{workoutId}/attachments/{fileId}/raw -> the device file.

Partner API (approved partners only, DOC: the PartnersAPI wiki): POST
/v3/file JSON {UploadClient, Filename (no spaces or /\\?%*:|"<>. but the
extension's dot), Data (base64, maybe gzipped), Title?, Comment?, Type?,
WorkoutDay?, StartTime?, ...} -> 202 with Location /v3/status/{id} and
{"Id"}; GET /v3/status/{id} -> {"Completed", "Status", "WorkoutIds"} (done
after `processing_polls` polls); a request without a User-Agent is a 400.
GET /v2/workouts/{start}/{end} (scope workouts:read) -> the workouts uploaded
here ({Id, WorkoutDay, StartTime, Title}).
POST /oauth/token: refresh_token grant (client fitbridge-tp /
test-client-secret), rotating refresh tokens.

Control API (besides the framework's):
  POST /_fake/config      {"cookie", "token_lifetime_s", "processing_polls", "tz_offset_minutes" (60)}
  POST /_fake/expire      every bearer token expires ({"cookie": true}: the cookie too)
  GET  /_fake/tokens      {"exchanges": N}
  POST /_fake/activities  one or a list: {"start" (epoch, UTC; shown as local time + tz_offset_minutes),
                           "sport" (family), "title", "hours", "distance", "file_b64", "file_name",
                           "planned": true} -> workout ids
  GET  /_fake/activities  every workout as listed (+ "has_file")
  GET  /_fake/uploads     partner uploads with their fields
  POST /_fake/grant       -> {"access_token", "refresh_token"} for the partner client
"""

import base64
import datetime
import json
import re
import time
import urllib.parse

from framework import Operation, Platform, Reply, json_reply

COOKIE = "tp-cookie-value-123"
USER_ID = 3141592
MAX_DAYS = 90
TYPES = {"swim": 1, "ride": 2, "run": 3, "strength": 9, "row": 12, "walk": 13, "other": 100}
PARTNER_CLIENT = "fitbridge-tp"
PARTNER_SECRET = "test-client-secret"
BAD_NAME = re.compile(r'[\s/\\?%*:|"<>]')


def denied():
    return json_reply({"Message": "Authorization has been denied for this request."}, 401)


def local(epoch, offset_minutes):
    value = datetime.datetime.fromtimestamp(epoch + offset_minutes * 60, datetime.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S")


class TrainingPeaks(Platform):
    name = "trainingpeaks"
    operations = [
        Operation("GET", "/users/v3/token", "token"),
        Operation("GET", "/users/v3/user", "user"),
        Operation("GET", "/fitness/v6/athletes/{athlete}/workouts/{workout}/details", "details"),
        Operation("GET", "/fitness/v6/athletes/{athlete}/workouts/{start}/{end}", "workouts"),
        Operation("GET", "/fitness/v6/athletes/{athlete}/workouts/{workout}/attachments/{file}/raw", "raw"),
        Operation("POST", "/v3/file", "upload"),
        Operation("GET", "/v3/status/{id}", "status"),
        Operation("GET", "/v2/workouts/{start}/{end}", "partner_workouts"),
        Operation("POST", "/oauth/token", "oauth_token"),
    ]

    def __init__(self):
        self.reset()

    def reset(self):
        self.workouts = {}
        self.next_id = 1
        self.cookie = COOKIE
        self.tokens = {}  # bearer -> expires at
        self.token_lifetime_s = 3600
        self.exchanges = 0
        self.tz_offset_minutes = 60
        self.uploads = {}
        self.processing_polls = 1
        self.partner_access = {}
        self.partner_refresh = set()
        self.issued = 0

    # -- personal route ---------------------------------------------------------

    def cookie_of(self, request):
        for part in (request.header("Cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "Production_tpAuth":
                return value
        return None

    def token(self, request):
        if not self.cookie or self.cookie_of(request) != self.cookie:
            return denied()
        self.exchanges += 1
        self.issued += 1
        access = "tp-bearer-%d" % self.issued
        self.tokens[access] = time.time() + self.token_lifetime_s
        return json_reply({"success": True, "token": {"access_token": access, "token_type": "bearer",
                                                      "expires_in": self.token_lifetime_s,
                                                      "scope": "users:read workouts:read file:read"}})

    def show(self, w):
        done = not w["planned"]
        return {"workoutId": w["id"], "athleteId": USER_ID,
                "workoutDay": local(w["start"], self.tz_offset_minutes)[:10] + "T00:00:00",
                "startTime": local(w["start"], self.tz_offset_minutes) if done else None,
                "title": w["title"], "workoutTypeValueId": TYPES.get(w["sport"], 100),
                "totalTime": w["hours"] if done else None, "totalTimePlanned": w["hours"],
                "distance": w["distance"] if done else None, "completed": done}

    def route(self, request):
        op = self.operation_of(request)
        if op is None:
            return json_reply({"Message": "No HTTP resource was found that matches the request URI."}, 404)
        name, params = op
        if name == "token":
            return self.token(request)
        if name in ("upload", "status", "oauth_token", "partner_workouts"):
            return self.partner(request, name, params)
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or self.tokens.get(token, 0) <= time.time():
            return denied()
        if name == "user":
            return json_reply({"user": {"userId": USER_ID, "firstName": "Fake", "lastName": "Athlete",
                                        "athletes": [{"athleteId": USER_ID}]},
                               "accountStatus": {"isAthlete": True, "isPremium": False}})
        if params["athlete"] != str(USER_ID):
            return json_reply({"Message": "Authorization has been denied for this request."}, 403)
        if name == "workouts":
            return self.list(params)
        w = self.workouts.get(params["workout"])
        if w is None:
            return json_reply({"Message": "Workout not found"}, 404)
        if name == "details":
            files = [{"fileId": "f%s" % w["id"], "fileName": w["file_name"], "contentType": "application/octet-stream"}] \
                if w["file"] is not None else []
            return json_reply({"workoutId": w["id"], "attachmentFileInfos": files})
        if w["file"] is None or params["file"] != "f%s" % w["id"]:
            return json_reply({"Message": "Attachment not found"}, 404)
        return Reply(200, w["file"], content_type="application/octet-stream")

    def list(self, params):
        try:
            first = datetime.date.fromisoformat(params["start"])
            last = datetime.date.fromisoformat(params["end"])
        except ValueError:
            return json_reply({"Message": "The request is invalid."}, 400)
        if (last - first).days + 1 > MAX_DAYS or last < first:
            return json_reply({"Message": "Date range cannot exceed 90 days."}, 400)
        rows = [w for w in self.workouts.values()
                if first.isoformat() <= local(w["start"], self.tz_offset_minutes)[:10] <= last.isoformat()]
        rows.sort(key=lambda w: w["start"])
        return json_reply([self.show(w) for w in rows])

    # -- partner API -------------------------------------------------------------

    def partner(self, request, name, params):
        if name == "oauth_token":
            form = dict(urllib.parse.parse_qsl(request.body.decode("utf-8", "replace")))
            if form.get("client_id") != PARTNER_CLIENT or form.get("client_secret") != PARTNER_SECRET:
                return json_reply({"error": "invalid_client"}, 400)
            if form.get("grant_type") != "refresh_token" or form.get("refresh_token") not in self.partner_refresh:
                return json_reply({"error": "invalid_grant"}, 400)
            self.partner_refresh.discard(form["refresh_token"])
            access, refresh = self.partner_grant()
            return json_reply({"access_token": access, "token_type": "bearer", "expires_in": 600,
                               "refresh_token": refresh, "scope": "file:write workouts:read"})
        if not request.header("User-Agent"):
            return json_reply({"Message": "A User-Agent naming the application is required."}, 400)
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or self.partner_access.get(token, 0) <= time.time():
            return json_reply({"Message": "Authorization has been denied for this request."}, 401)
        if name == "upload":
            return self.upload(request)
        if name == "partner_workouts":
            first, last = params["start"], params["end"]
            return json_reply([{"Id": int(u["workout"]), "WorkoutDay": u["fields"].get("WorkoutDay", "") + "T00:00:00",
                                "StartTime": u["fields"].get("StartTime"), "Title": u["fields"].get("Title")}
                               for u in self.uploads.values()
                               if first <= (u["fields"].get("WorkoutDay") or "") <= last])
        up = self.uploads.get(params["id"])
        if up is None:
            return json_reply({"Message": "Not found"}, 404)
        up["polls"] += 1
        done = up["polls"] >= self.processing_polls
        return json_reply({"Completed": done, "Status": "Completed" if done else "Processing",
                           "WorkoutIds": [up["workout"]] if done else []})

    def partner_grant(self):
        self.issued += 1
        access, refresh = "tp-partner-%d" % self.issued, "tp-partner-refresh-%d" % self.issued
        self.partner_access[access] = time.time() + 600
        self.partner_refresh.add(refresh)
        return access, refresh

    def upload(self, request):
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return json_reply({"Message": "The request is invalid."}, 400)
        filename = body.get("Filename") or ""
        stem, dot, ext = filename.rpartition(".")
        if not body.get("UploadClient") or not dot or not stem or BAD_NAME.search(stem) or "." in stem:
            return json_reply({"Message": "UploadClient and a Filename without spaces or reserved characters "
                                          "are required."}, 400)
        try:
            data = base64.b64decode(body.get("Data") or "", validate=True)
        except ValueError:
            return json_reply({"Message": "Data is not base64."}, 400)
        if not data:
            return json_reply({"Message": "Data is required."}, 400)
        tracking = "ft%d" % (len(self.uploads) + 1)
        workout = str(900000 + len(self.uploads) + 1)
        self.uploads[tracking] = {"id": tracking, "workout": workout, "polls": 0,
                                  "fields": {k: v for k, v in body.items() if k != "Data"}, "size": len(data)}
        return json_reply({"Id": tracking}, 202, [("Location", "/v3/status/%s" % tracking)])

    # -- control -----------------------------------------------------------------

    def add(self, spec):
        wid = str(spec.get("id") or 2000000 + self.next_id)
        self.next_id += 1
        data = base64.b64decode(spec["file_b64"]) if spec.get("file_b64") else None
        w = {"id": wid, "start": float(spec["start"]), "sport": spec.get("sport", "ride"),
             "title": spec.get("title", "Workout"), "hours": spec.get("hours", 1.0),
             "distance": spec.get("distance", 30000.0), "file": data,
             "file_name": spec.get("file_name", "device-%s.fit" % wid), "planned": bool(spec.get("planned"))}
        self.workouts[wid] = w
        return wid

    def control(self, request):
        path, method = request.path, request.method
        spec = json.loads(request.body or b"{}") if method == "POST" else {}
        if path == "/_fake/config" and method == "POST":
            self.cookie = spec.get("cookie", self.cookie)
            self.token_lifetime_s = float(spec.get("token_lifetime_s", self.token_lifetime_s))
            self.processing_polls = int(spec.get("processing_polls", self.processing_polls))
            self.tz_offset_minutes = int(spec.get("tz_offset_minutes", self.tz_offset_minutes))
            return json_reply({"ok": True})
        if path == "/_fake/expire" and method == "POST":
            for t in self.tokens:
                self.tokens[t] = 0.0
            if spec.get("cookie"):
                self.cookie = None
            return json_reply({"ok": True})
        if path == "/_fake/tokens" and method == "GET":
            return json_reply({"exchanges": self.exchanges})
        if path == "/_fake/activities" and method == "POST":
            return json_reply([self.add(one) for one in (spec if isinstance(spec, list) else [spec])])
        if path == "/_fake/activities" and method == "GET":
            return json_reply([dict(self.show(w), has_file=w["file"] is not None) for w in self.workouts.values()])
        if path == "/_fake/uploads" and method == "GET":
            return json_reply(list(self.uploads.values()))
        if path == "/_fake/grant" and method == "POST":
            access, refresh = self.partner_grant()
            return json_reply({"access_token": access, "refresh_token": refresh})
        return Platform.control(self, request)
