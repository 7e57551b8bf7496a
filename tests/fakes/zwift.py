"""Zwift cloud fake: the unofficial API Zwift's own game and companion app
use (provider-apis.md §6.1), plus a stand-in for the storage bucket its FIT
files live in.

Facts it follows: a Keycloak realm's token endpoint
POST /auth/realms/zwift/protocol/openid-connect/token (form) with
grant_type=password (client_id, username, password) or
grant_type=refresh_token; answers {access_token, expires_in,
refresh_expires_in, refresh_token, token_type, not-before-policy,
session_state, scope}; refusals are Keycloak's {"error", "error_description"}:
401 invalid_grant "Invalid user credentials" for a wrong password, 400
invalid_grant "Token is not active" for a dead refresh token, 401
unauthorized_client for an unknown client. API host: GET /api/profiles/me ->
{id, ...}; GET /api/profiles/{id}/activities?start=&limit= -> a JSON array,
newest first (offset paging), items with id (a 64-bit number), id_str, name,
startDate/endDate ("2025-01-10T08:00:00.000+0000"; endDate null while the
ride is in progress), distanceInMeters, movingTimeInMs, sport (CYCLING,
RUNNING), privateActivity, fitFileBucket, fitFileKey. FIT files:
GET /files/{bucket}/{key} (the tests' files_url is
<base>/files/{bucket}/{key}), public objects: a request carrying an
Authorization header is refused the way S3 refuses a foreign one (400
InvalidArgument, XML), a missing object is 404 NoSuchKey (XML).

Inferred: without `Accept: application/json` the API answers protobuf
(application/x-protobuf) instead of JSON; the 401 body of the API; that
refresh tokens are not rotated (Keycloak's default).

Control API (besides the framework's):
  POST /_fake/config       {"access_lifetime_s", "refresh_lifetime_s", "password", "profile_id"}
  POST /_fake/expire       every access token expires now ({"refresh": true}: refresh tokens too)
  GET  /_fake/tokens       {"password_grants": N, "refreshes": N, "access": [valid access tokens]}
  POST /_fake/activities   one or a list: {"start" (epoch) | "startDate", "duration" (s, 3600),
                            "in_progress": true (no endDate yet), "sport" (a FitBridge family or
                            CYCLING/RUNNING), "name", "distance", "file_b64", "id"?} -> ids (id_str)
  POST /_fake/finish       {"id", "file_b64"?}: the ride in progress ends now (its file appears)
  GET  /_fake/activities   every activity as listed, + "has_file"
"""

import base64
import datetime
import json
import time
import urllib.parse

from framework import Operation, Platform, Reply, json_reply

USERNAME = "rider@example.com"
PASSWORD = "zwift-password"
CLIENTS = ("Zwift_Game_Client", "Zwift_Mobile_Link")
BUCKET = "s3-fit-prd-uswest2-zwift"
SPORTS = {"ride": "CYCLING", "run": "RUNNING", "walk": "WALKING"}


def zwift_time(epoch):
    value = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d+0000" % (int(round(epoch * 1000)) % 1000)


def keycloak_error(status, error, description):
    return json_reply({"error": error, "error_description": description}, status)


def s3_error(status, code, message):
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
            '<RequestId>FAKE</RequestId></Error>' % (code, message))
    return Reply(status, body, content_type="application/xml")


class Zwift(Platform):
    name = "zwift"
    operations = [
        Operation("POST", "/auth/realms/zwift/protocol/openid-connect/token", "token"),
        Operation("GET", "/api/profiles/me", "me"),
        Operation("GET", "/api/profiles/{id}/activities", "activities"),
        Operation("GET", "/files/{bucket}/prod/{profile}/{name}", "file"),
    ]

    def __init__(self):
        self.reset()

    def reset(self):
        self.activities = {}
        self.next_id = 1
        self.access = {}  # token -> expires at
        self.refresh = {}  # token -> expires at
        self.issued = 0
        self.password_grants = 0
        self.refreshes = 0
        self.access_lifetime_s = 21600
        self.refresh_lifetime_s = 86400
        self.password = PASSWORD
        self.profile_id = 5120001

    # -- Keycloak -------------------------------------------------------------

    def grant(self):
        self.issued += 1
        access, refresh = "kc-access-%d" % self.issued, "kc-refresh-%d" % self.issued
        now = time.time()
        self.access[access] = now + self.access_lifetime_s
        self.refresh[refresh] = now + self.refresh_lifetime_s
        return json_reply({"access_token": access, "expires_in": self.access_lifetime_s,
                           "refresh_expires_in": self.refresh_lifetime_s, "refresh_token": refresh,
                           "token_type": "Bearer", "not-before-policy": 0,
                           "session_state": "fake-session-%d" % self.issued, "scope": "profile email"})

    def token(self, request):
        form = dict(urllib.parse.parse_qsl(request.body.decode("utf-8", "replace")))
        if form.get("client_id") not in CLIENTS:
            return keycloak_error(401, "unauthorized_client", "Invalid client or Invalid client credentials")
        grant = form.get("grant_type")
        if grant == "password":
            if form.get("username") != USERNAME or form.get("password") != self.password:
                return keycloak_error(401, "invalid_grant", "Invalid user credentials")
            self.password_grants += 1
            return self.grant()
        if grant == "refresh_token":
            if self.refresh.get(form.get("refresh_token"), 0) <= time.time():
                return keycloak_error(400, "invalid_grant", "Token is not active")
            self.refreshes += 1
            return self.grant()
        return keycloak_error(400, "unsupported_grant_type", "Unsupported grant_type")

    # -- API ------------------------------------------------------------------

    def route(self, request):
        op = self.operation_of(request)
        if op is None:
            return json_reply({"error": "not found"}, 404)
        name, params = op
        if name == "token":
            return self.token(request)
        if name == "file":
            return self.file(request, params)
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or self.access.get(token, 0) <= time.time():
            return json_reply({"error": "unauthorized", "error_description": "Full authentication is required"}, 401)
        if "application/json" not in (request.header("Accept") or ""):
            # The game's own format: a protobuf message, not JSON.
            return Reply(200, b"\x08\x81\xc4\x38\x12\x05rider", content_type="application/x-protobuf")
        if name == "me":
            return json_reply({"id": self.profile_id, "publicId": "fake-public-id", "firstName": "Fake",
                               "lastName": "Rider", "emailAddress": USERNAME})
        if params["id"] not in (str(self.profile_id), "me"):
            return json_reply({"error": "forbidden"}, 403)
        try:
            start = int(request.arg("start", 0))
            limit = int(request.arg("limit", 20))
        except ValueError:
            return json_reply({"error": "bad request"}, 400)
        rows = sorted(self.activities.values(), key=lambda a: (a["start"], a["id"]), reverse=True)
        return json_reply([self.show(a) for a in rows[start:start + max(0, min(limit, 100))]])

    def file(self, request, params):
        if request.header("Authorization"):
            return s3_error(400, "InvalidArgument", "Unsupported Authorization Type")
        key = "prod/%s/%s" % (params["profile"], params["name"])
        for act in self.activities.values():
            if act["key"] == key and params["bucket"] == BUCKET and act["file"] is not None and act["end"]:
                return Reply(200, act["file"], content_type="application/octet-stream")
        return s3_error(404, "NoSuchKey", "The specified key does not exist.")

    def show(self, act):
        done = act["end"] is not None
        return {"id": act["id"], "id_str": str(act["id"]), "profileId": self.profile_id, "name": act["name"],
                "startDate": zwift_time(act["start"]), "endDate": zwift_time(act["end"]) if done else None,
                "distanceInMeters": act["distance"], "movingTimeInMs": int((act["duration"] or 0) * 1000),
                "sport": act["sport"], "privateActivity": False,
                "fitFileBucket": BUCKET if done and act["file"] is not None else None,
                "fitFileKey": act["key"] if done and act["file"] is not None else None}

    # -- control --------------------------------------------------------------

    def add(self, spec):
        act_id = int(spec.get("id") or 1300000000000000000 + self.next_id * 7919)
        self.next_id += 1
        start = float(spec["start"]) if "start" in spec else \
            datetime.datetime.strptime(spec["startDate"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
        duration = float(spec.get("duration", 3600))
        data = base64.b64decode(spec["file_b64"]) if spec.get("file_b64") else None
        sport = spec.get("sport", "ride")
        act = {"id": act_id, "start": start, "duration": duration, "name": spec.get("name", "Watopia ride"),
               "end": None if spec.get("in_progress") else start + duration, "distance": spec.get("distance", 30000.0),
               "sport": SPORTS.get(sport, sport), "file": data,
               "key": "prod/%d/%d.fit" % (self.profile_id, act_id)}
        self.activities[act_id] = act
        return str(act_id)

    def control(self, request):
        path, method = request.path, request.method
        spec = json.loads(request.body or b"{}") if method == "POST" else {}
        if path == "/_fake/config" and method == "POST":
            self.access_lifetime_s = float(spec.get("access_lifetime_s", self.access_lifetime_s))
            self.refresh_lifetime_s = float(spec.get("refresh_lifetime_s", self.refresh_lifetime_s))
            self.password = spec.get("password", self.password)
            self.profile_id = int(spec.get("profile_id", self.profile_id))
            return json_reply({"ok": True})
        if path == "/_fake/expire" and method == "POST":
            for token in self.access:
                self.access[token] = 0.0
            if spec.get("refresh"):
                for token in self.refresh:
                    self.refresh[token] = 0.0
            return json_reply({"ok": True})
        if path == "/_fake/tokens" and method == "GET":
            now = time.time()
            return json_reply({"password_grants": self.password_grants, "refreshes": self.refreshes,
                               "access": sorted(t for t, e in self.access.items() if e > now)})
        if path == "/_fake/activities" and method == "POST":
            return json_reply([self.add(one) for one in (spec if isinstance(spec, list) else [spec])])
        if path == "/_fake/activities" and method == "GET":
            return json_reply([dict(self.show(a), has_file=a["file"] is not None) for a in self.activities.values()])
        if path == "/_fake/finish" and method == "POST":
            act = self.activities.get(int(spec["id"]))
            if act is None:
                return json_reply({"error": "no such activity"}, 404)
            act["end"] = max(time.time(), act["start"] + 1)
            act["duration"] = act["end"] - act["start"]
            if spec.get("file_b64"):
                act["file"] = base64.b64decode(spec["file_b64"])
            return json_reply({"ok": True})
        return Platform.control(self, request)
