"""MyWhoosh fake: the unofficial cloud API of MyWhoosh's apps
(../shared/reference/provider-apis.md §6.2, seed 004).

Facts it follows [CODE: public clients of the apps' API]: login POST
/http-service/api/login (the auth host) with JSON Username, Password,
Platform, Action 1001, CorrelationId, DeviceId (and an empty Authorization)
answering 200 with Success, Message, AccessToken (a JWT), RefreshToken,
WhooshId; a refused password is still 200, `"Success": false` with a Message.
Activities POST /v2/rider/profile/activities (Bearer) with JSON
{"type": "", "page": N (from 1), "sortDate": "DESC"|"ASC", "limit"?} answering
{"error": false, "data": {"results": [...], "totalPages", "currentPage",
"totalRecords"}}; each result has id, title, date (Unix seconds),
startDatetime (ISO, ms, Z), activityFileId, distance (km), rideDuration
("HH:MM:SS.000"), watt, heartrate, routeName. The file: POST
/v2/rider/profile/download-activity-file {"fileId"} -> {"error": false,
"message", "data": "<pre-signed URL>"}; the URL is fetched without a token
(a storage host answers 400 to an Authorization header next to a signature,
as S3 does). Some files are MyWhoosh's own .dms, not FIT [CODE: a client that
renames them].

Inferred: an expired or unknown token is 401 {"error": true, "message":
"Unauthenticated."}; a missing sortDate is 422; `limit` defaults to 10 (max
50); an unknown fileId is {"error": true, "message": "File not found"}.

Control API (besides the framework's):
  POST /_fake/config      {"token_lifetime_s", "file_host" (base URL of the
                           file links; default this server), "links_in_listing":
                           bool (results carry "downloadUrl" directly),
                           "rate_limit": [limit, window_s] on the API calls}
  POST /_fake/activities  one or a list: {"start" (epoch), "name", "file_b64",
                           "dms": true (a .dms payload), "no_file": true,
                           "duration", "distance" (m)} -> ids
  GET  /_fake/activities  every activity
  POST /_fake/expire      every session token expires now
  GET  /_fake/logins      {"logins": N, "device_ids": [...]}
"""

import base64
import datetime
import json
import time

from framework import Operation, Platform, RateLimitWindow, Reply, json_reply

USERS = {"rider@example.com": "whoosh-pass"}
WHOOSH_ID = "whoosh-rider-1"
DMS_MAGIC = b"DMS\x01\x00\x07MyWhoosh-ride\x00"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt(subject, expires):
    header = b64url(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
    payload = b64url(json.dumps({"sub": subject, "exp": int(expires)}).encode())
    return "%s.%s.%s" % (header, payload, b64url(b"not-a-real-signature"))


def hms(seconds):
    seconds = int(round(seconds))
    return "%02d:%02d:%02d.000" % (seconds // 3600, seconds // 60 % 60, seconds % 60)


class MyWhoosh(Platform):
    name = "mywhoosh"
    operations = [
        Operation("POST", "/http-service/api/login", "login"),
        Operation("POST", "/v2/rider/profile/activities", "list"),
        Operation("POST", "/v2/rider/profile/download-activity-file", "file_link"),
        Operation("GET", "/files/{key}", "file"),
    ]

    def __init__(self):
        self.reset()

    def reset(self):
        self.activities = []  # newest last; listed newest first
        self.next_id = 1001
        self.sessions = {}  # token -> expires at
        self.logins = 0
        self.device_ids = []
        self.token_lifetime_s = 3600
        self.file_host = None
        self.links_in_listing = False
        self.limiter = None

    # -- routes ---------------------------------------------------------------

    def route(self, request):
        op = self.operation_of(request)
        if op is None:
            return json_reply({"error": True, "message": "Not Found"}, 404)
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
            return json_reply({"error": True, "message": "Unauthenticated."}, 401)
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return json_reply({"error": True, "message": "Malformed JSON"}, 400)
        reply = self.list(request, body) if name == "list" else self.file_link(request, body)
        reply.headers.extend(extra)
        return reply

    def login(self, request):
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return json_reply({"Success": False, "Message": "Bad request"}, 400)
        for field in ("Username", "Password", "Platform", "CorrelationId", "DeviceId"):
            if not isinstance(body.get(field), str) or not body.get(field):
                return json_reply({"Success": False, "Message": "%s is required" % field}, 400)
        if body.get("Action") != 1001:
            return json_reply({"Success": False, "Message": "Unknown action"}, 400)
        answer = {"Username": body["Username"], "Action": "1001", "CorrelationId": body["CorrelationId"]}
        if USERS.get(body["Username"]) != body["Password"]:
            answer.update({"Success": False, "Message": "Invalid email or password", "Verified": False})
            return json_reply(answer)
        self.logins += 1
        self.device_ids.append(body["DeviceId"])
        expires = time.time() + self.token_lifetime_s
        access = jwt("%s-%d" % (WHOOSH_ID, self.logins), expires)
        self.sessions[access] = expires
        answer.update({"Success": True, "Message": "Authentication Successful", "WhooshId": WHOOSH_ID,
                       "Verified": True, "LoginType": 1, "AccessToken": access,
                       "RefreshToken": "refresh-%d" % self.logins})
        return json_reply(answer)

    def host(self, request):
        return self.file_host or "http://%s" % request.header("Host")

    def link(self, request, act):
        ext = "dms" if act["dms"] else "fit"
        return "%s/files/%s.%s?X-Amz-Expires=900&X-Amz-Signature=sig%d" % (self.host(request), act["file_id"], ext,
                                                                             act["id"])

    def show(self, request, act):
        out = {"id": act["id"], "title": act["name"], "date": int(act["start"]),
               "startDatetime": datetime.datetime.fromtimestamp(act["start"], datetime.timezone.utc)
               .strftime("%Y-%m-%dT%H:%M:%S.000Z"),
               "distance": round(act["distance"] / 1000.0, 2), "rideDuration": hms(act["duration"]),
               "watt": 180, "heartrate": 140, "elevation": 120, "routeName": "Tour of Arabia", "sportType": "ride",
               "activityFileId": act["file_id"]}
        if act["no_file"]:
            out["activityFileId"] = None
        elif self.links_in_listing:
            out["downloadUrl"] = self.link(request, act)
        return out

    def list(self, request, body):
        if body.get("sortDate") not in ("DESC", "ASC"):
            return json_reply({"error": True, "message": "The sort date field is required."}, 422)
        page = body.get("page", 1)
        limit = body.get("limit", 10)
        if not isinstance(page, int) or page < 1 or not isinstance(limit, int) or limit < 1:
            return json_reply({"error": True, "message": "The page field must be at least 1."}, 422)
        limit = min(limit, 50)
        ordered = sorted(self.activities, key=lambda a: a["start"], reverse=body["sortDate"] == "DESC")
        rows = ordered[(page - 1) * limit: page * limit]
        total_pages = max(1, (len(ordered) + limit - 1) // limit)
        return json_reply({"error": False, "message": "Activities fetched successfully",
                           "data": {"results": [self.show(request, a) for a in rows], "totalPages": total_pages,
                                    "currentPage": page, "totalRecords": len(ordered)}})

    def file_link(self, request, body):
        act = next((a for a in self.activities if a["file_id"] == body.get("fileId") and not a["no_file"]), None)
        if act is None:
            return json_reply({"error": True, "message": "File not found", "data": None})
        return json_reply({"error": False, "message": "Success", "data": self.link(request, act)})

    def file(self, request, key):
        if request.header("Authorization"):
            return Reply(400, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidArgument</Code>"
                              "<Message>Only one auth mechanism allowed</Message></Error>", content_type="application/xml")
        if not request.arg("X-Amz-Signature"):
            return Reply(403, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code>"
                              "<Message>Access Denied</Message></Error>", content_type="application/xml")
        stem, _, ext = key.rpartition(".")
        act = next((a for a in self.activities if a["file_id"] == stem), None)
        if act is None:
            return Reply(404, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code></Error>",
                         content_type="application/xml")
        if act["dms"]:
            return Reply(200, DMS_MAGIC + act["file"], content_type="application/octet-stream")
        return Reply(200, act["file"], content_type="application/octet-stream")

    # -- control ----------------------------------------------------------------

    def control(self, request):
        path, method = request.path, request.method
        body = json.loads(request.body or b"{}") if method == "POST" else {}
        if path == "/_fake/config" and method == "POST":
            self.token_lifetime_s = body.get("token_lifetime_s", self.token_lifetime_s)
            self.file_host = body.get("file_host", self.file_host)
            self.links_in_listing = body.get("links_in_listing", self.links_in_listing)
            if body.get("rate_limit"):
                self.limiter = RateLimitWindow(body["rate_limit"][0], body["rate_limit"][1])
            return json_reply({"ok": True})
        if path == "/_fake/activities" and method == "POST":
            ids = []
            for spec in body if isinstance(body, list) else [body]:
                act = {"id": spec.get("id", self.next_id), "start": float(spec["start"]),
                       "name": spec.get("name", "Free Ride"), "dms": bool(spec.get("dms")),
                       "no_file": bool(spec.get("no_file")), "duration": spec.get("duration", 3600),
                       "distance": spec.get("distance", 30000.0),
                       "file": base64.b64decode(spec.get("file_b64", ""))}
                act["file_id"] = "f%08x" % (act["id"] * 2654435761 % 2 ** 32)
                self.next_id = max(self.next_id, act["id"]) + 1
                self.activities.append(act)
                ids.append(str(act["id"]))
            return json_reply(ids)
        if path == "/_fake/activities" and method == "GET":
            return json_reply([{k: v for k, v in a.items() if k != "file"} for a in self.activities])
        if path == "/_fake/expire" and method == "POST":
            for token in self.sessions:
                self.sessions[token] = 0.0
            return json_reply({"ok": True})
        if path == "/_fake/logins" and method == "GET":
            return json_reply({"logins": self.logins, "device_ids": self.device_ids})
        return json_reply({"error": "unknown control endpoint " + path}, 404)
