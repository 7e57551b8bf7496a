"""iGPSport fake: the unofficial API of iGPSport's web app
(../shared/reference/provider-apis.md §6.3, seed 004).

Facts it follows [CODE: public iGPSport-to-Garmin clients]: every answer is
{"code", "message", "data"} and code != 0 is an error; login POST
/auth/account/login JSON {"username", "password", "appId": "igpsport-web"} ->
data.access_token (a JWT, about 7 days), then `Authorization: Bearer`; list
GET /web-gateway/web-analyze/activity/queryMyActivity?pageNo=&pageSize=&reqType=0&sort=1
-> data {rows, totalRows, totalPage, pageNo, pageSize}, newest first, each row
{id (an ObjectId string), rideId, startTime "YYYY.MM.DD", title, rideDistance
(m), totalMovingTime (s), avgSpeed, ...}; detail GET
/web-gateway/web-analyze/activity/queryActivityDetail/{rideId} -> data
{id, rideId, startTime, rideName, distance, totalTime, fitUrl}; fitUrl is a
cloud-storage (OSS) link fetched without the token.

Inferred: a refused password is HTTP 200 with code 10002; an expired or
unknown token is HTTP 401 {"code": 401, "message": "token expired"}; the list
date is the ride's day in the rider's zone (`tz_offset_minutes`, default
+480, China); pageSize is capped at 100; an unknown rideId is code 40004.

Control API (besides the framework's):
  POST /_fake/config      {"token_lifetime_s", "file_host" (base URL of fitUrl;
                           default this server), "tz_offset_minutes",
                           "rate_limit": [limit, window_s]}
  POST /_fake/activities  one or a list: {"start" (epoch), "name", "file_b64",
                           "no_file": true, "payload_b64" (served instead of a FIT),
                           "duration", "distance"} -> rideIds
  GET  /_fake/activities  every ride
  POST /_fake/expire      every token expires now
  GET  /_fake/logins      {"logins": N}
"""

import base64
import datetime
import json
import time

from framework import Operation, Platform, RateLimitWindow, Reply, json_reply

USERS = {"rider@example.com": "igs-pass"}
API = "/web-gateway/web-analyze/activity"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def envelope(data, code=0, message="success", status=200):
    return json_reply({"code": code, "message": message, "data": data}, status)


class IGPSport(Platform):
    name = "igpsport"
    operations = [
        Operation("POST", "/auth/account/login", "login"),
        Operation("GET", API + "/queryMyActivity", "list"),
        Operation("GET", API + "/queryActivityDetail/{ride_id}", "detail"),
        Operation("GET", "/oss/fit/{key}", "file"),
    ]

    def __init__(self):
        self.reset()

    def reset(self):
        self.rides = []
        self.next_id = 880001
        self.sessions = {}
        self.logins = 0
        self.token_lifetime_s = 7 * 86400
        self.file_host = None
        self.tz_offset_minutes = 480
        self.limiter = None

    def route(self, request):
        op = self.operation_of(request)
        if op is None:
            return envelope(None, 404, "Not Found", 404)
        name, params = op
        if name == "file":
            return self.file(request, params["key"])
        if name == "login":
            return self.login(request)
        extra = []
        if self.limiter is not None:
            extra, denied = self.limiter.take()
            if denied is not None:
                return denied
        token = (request.header("Authorization") or "").partition(" ")[2]
        if self.sessions.get(token, 0) <= time.time():
            return envelope(None, 401, "token expired", 401)
        reply = self.list(request) if name == "list" else self.detail(request, params["ride_id"])
        reply.headers.extend(extra)
        return reply

    def login(self, request):
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return envelope(None, 400, "bad request", 400)
        if body.get("appId") != "igpsport-web":
            return envelope(None, 10001, "invalid appId")
        if USERS.get(body.get("username")) != body.get("password"):
            return envelope(None, 10002, "Incorrect account or password")
        self.logins += 1
        expires = time.time() + self.token_lifetime_s
        token = "%s.%s.%s" % (b64url(b'{"alg":"HS256"}'),
                              b64url(json.dumps({"sub": "member-1", "exp": int(expires)}).encode()),
                              b64url(b"sig-%d" % self.logins))
        self.sessions[token] = expires
        return envelope({"access_token": token, "token_type": "bearer", "memberId": 1})

    def day(self, ride):
        local = datetime.datetime.fromtimestamp(ride["start"] + self.tz_offset_minutes * 60, datetime.timezone.utc)
        return local.strftime("%Y.%m.%d")

    def list(self, request):
        try:
            page = int(request.arg("pageNo", "1"))
            size = int(request.arg("pageSize", "20"))
        except ValueError:
            return envelope(None, 400, "pageNo and pageSize must be numbers")
        if request.arg("reqType") != "0" or request.arg("sort") not in ("0", "1") or page < 1 or size < 1:
            return envelope(None, 400, "invalid parameters")
        size = min(size, 100)
        ordered = sorted(self.rides, key=lambda r: r["start"], reverse=request.arg("sort") == "1")
        rows = [{"id": "%024x" % r["ride_id"], "rideId": r["ride_id"], "startTime": self.day(r), "title": r["name"],
                 "rideDistance": r["distance"], "totalMovingTime": r["duration"], "avgSpeed": 25.1,
                 "avgPower": 175, "avgHeartRate": 138, "totalAscent": 210}
                for r in ordered[(page - 1) * size: page * size]]
        return envelope({"rows": rows, "totalRows": len(ordered), "totalPage": (len(ordered) + size - 1) // size,
                         "pageNo": page, "pageSize": size})

    def detail(self, request, ride_id):
        ride = next((r for r in self.rides if str(r["ride_id"]) == ride_id), None)
        if ride is None:
            return envelope(None, 40004, "activity does not exist")
        local = datetime.datetime.fromtimestamp(ride["start"] + self.tz_offset_minutes * 60, datetime.timezone.utc)
        host = self.file_host or "http://%s" % request.header("Host")
        return envelope({"id": ride["ride_id"], "rideId": ride["ride_id"], "rideName": ride["name"],
                         "startTime": local.strftime("%Y-%m-%d %H:%M:%S"), "distance": ride["distance"],
                         "totalTime": ride["duration"],
                         "fitUrl": None if ride["no_file"] else "%s/oss/fit/%d.fit?Expires=%d&Signature=s%d" % (
                             host, ride["ride_id"], int(time.time()) + 3600, ride["ride_id"])})

    def file(self, request, key):
        if request.header("Authorization"):
            return Reply(400, "<Error><Code>InvalidArgument</Code><Message>Authorization header is invalid"
                              "</Message></Error>", content_type="application/xml")
        ride = next((r for r in self.rides if "%d.fit" % r["ride_id"] == key), None)
        if ride is None or not request.arg("Signature"):
            return Reply(404, "<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml")
        return Reply(200, ride["file"], content_type="application/octet-stream")

    def control(self, request):
        path, method = request.path, request.method
        body = json.loads(request.body or b"{}") if method == "POST" else {}
        if path == "/_fake/config" and method == "POST":
            self.token_lifetime_s = body.get("token_lifetime_s", self.token_lifetime_s)
            self.file_host = body.get("file_host", self.file_host)
            self.tz_offset_minutes = body.get("tz_offset_minutes", self.tz_offset_minutes)
            if body.get("rate_limit"):
                self.limiter = RateLimitWindow(body["rate_limit"][0], body["rate_limit"][1])
            return json_reply({"ok": True})
        if path == "/_fake/activities" and method == "POST":
            ids = []
            for spec in body if isinstance(body, list) else [body]:
                ride = {"ride_id": spec.get("id", self.next_id), "start": float(spec["start"]),
                        "name": spec.get("name", "Morning ride"), "no_file": bool(spec.get("no_file")),
                        "duration": spec.get("duration", 3600), "distance": spec.get("distance", 30000.0),
                        "file": base64.b64decode(spec.get("payload_b64") or spec.get("file_b64", ""))}
                self.next_id = max(self.next_id, ride["ride_id"]) + 1
                self.rides.append(ride)
                ids.append(str(ride["ride_id"]))
            return json_reply(ids)
        if path == "/_fake/activities" and method == "GET":
            return json_reply([{k: v for k, v in r.items() if k != "file"} for r in self.rides])
        if path == "/_fake/expire" and method == "POST":
            for token in self.sessions:
                self.sessions[token] = 0.0
            return json_reply({"ok": True})
        if path == "/_fake/logins" and method == "GET":
            return json_reply({"logins": self.logins})
        return json_reply({"error": "unknown control endpoint " + path}, 404)
