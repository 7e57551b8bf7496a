"""Garmin Connect fake: the unofficial API of Garmin's apps as
../shared/reference/provider-apis.md §2 and its §8 checklist describe it. One
server plays the three hosts (API, DI token endpoint, SSO): point base_url,
auth_url and sso_url at it.

Facts it follows [CODE in §2]: API calls carry `Authorization: Bearer <DI
access token>`; DI access tokens are JWTs with `client_id` and `exp` claims;
POST /di-oauth2-service/oauth/token (form, `Authorization: Basic
base64("<client_id>:")`) takes grant_type=refresh_token (client_id,
refresh_token) or the service-ticket grant (client_id, service_ticket,
service_url equal to the sign-in's service) and answers access_token,
refresh_token, expires_in, refresh_token_expires_in; the mobile JSON sign-in:
GET /mobile/sso/en/sign-in (cookies), POST /mobile/api/login?clientId=&locale=
&service= {"username","password","rememberMe","captchaToken"} answering
responseStatus.type SUCCESSFUL (+ serviceTicketId), MFA_REQUIRED (+
customerMfaInfo.mfaLastMethodUsed), INVALID_USERNAME_PASSWORD or
CAPTCHA_REQUIRED, or a 429 inside the JSON (error.status-code "429"); POST
/mobile/api/mfa/verifyCode; GET /activitylist-service/activities/search/
activities?start=&limit=&startDate=&endDate= (0-based offset, newest first,
dates are local dates, a bare array of items with activityId, activityName,
startTimeLocal/startTimeGMT "YYYY-MM-DD HH:MM:SS", activityType{typeId,
typeKey,parentTypeId}, distance, duration, elapsedDuration, movingDuration,
deviceId, manualActivity); GET /device-service/deviceregistration/devices
(deviceId, productDisplayName); GET /download-service/files/activity/{id} (a
ZIP holding "<id>_ACTIVITY.fit", or .tcx/.gpx; 404 or 500
NullPointerException for manual activities); POST /upload-service/upload
(multipart part `file`) answering detailedImportResult {uploadId, uploadUuid
{uuid}, creationDate "YYYY-MM-DD HH:MM:SS.mmm GMT", fileName, successes[],
failures[] with internalId and messages[{code, content}]}: 201 with one
success, 202 while processing, 409 "Duplicate activity" with the existing id;
GET /activity-service/activity/status/{YYYY-MM-DD}/{uuid without dashes}: 202
while processing, 201 + Location .../activity/<id> when done; PUT
/activity-service/activity/{id} (JSON with activityId; 204); GET
/device-service/deviceservice/mylastused (userProfileNumber); GET
/gear-service/gear/filterGear?userProfilePk= | ?activityId=; PUT
/gear-service/gear/link|unlink/{uuid}/activity/{id} (404 for unknown or
retired gear).

Inferred (no source says): the 401 body {"message": "Token is not active"};
the MFA refusal type INVALID_MFA_CODE; the EU upload-consent refusal as a 409
whose failure message is the text tapiriik compares ("The user is from EU
location, but upload consent is not yet granted or revoked"); duplicates are
recognised by start time (within 2 s), whatever the file's bytes, as Garmin
does for a ride its watch already uploaded.

Control API (besides the framework's):
  POST /_fake/config      {"token_lifetime_s" (default 3600), "rotate_refresh"
                           (default true; false: the refresh answer has no
                           refresh_token), "di_clients" (accepted for service
                           tickets, default all four), "login": "ok" | "mfa" |
                           "captcha" | "429" | "429_json" | "cloudflare" |
                           "changed", "mfa_code" (default "123456"),
                           "upload_polls" (0: uploads answer 201; N: 202 and N
                           status polls), "upload_consent": false (EU refusal),
                           "user_profile" (default 90123456)}
  POST /_fake/grant       {"client_id"?, "lifetime_s"?} -> DI tokens as if handed over
  GET  /_fake/tokens      {"refreshes", "exchanges", "logins", "mfa_checks"}
  POST /_fake/expire      every access token expires now
  POST /_fake/activities  one or a list: {"start" (epoch), "type" (FitBridge
                           family) | "type_key", "name", "duration",
                           "distance", "file_b64", "file_name" (member name),
                           "download": "zip" | "none" | "two" | "text" |
                           "truncated" | "html" | 404 | 500, "manual", "device_id",
                           "gear": [uuid]} -> ids
  GET  /_fake/activities  every activity (name, description, type_key, gear, source)
  POST /_fake/gear        one or a list: {"uuid", "name", "type" (Bike|Shoes), "retired"}
  GET  /_fake/uploads     every upload (status, activity id, duplicate)
"""

import base64
import datetime
import io
import json
import time
import urllib.parse
import uuid as uuidlib
import zipfile

import activity_files
from framework import Operation, Platform, Reply, json_reply
from intervals import parse_multipart

DI_CLIENTS = ["GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2", "GARMIN_CONNECT_MOBILE_ANDROID_DI_2024Q4",
              "GARMIN_CONNECT_MOBILE_ANDROID_DI", "GARMIN_CONNECT_MOBILE_IOS_DI"]
SERVICE = "https://mobile.integration.garmin.com/gcm/android"
TICKET_GRANT = "https://connectapi.garmin.com/di-oauth2-service/oauth/grant/service_ticket"
USER, PASSWORD = "rider@example.com", "correct horse"
TYPES = {"ride": (2, "cycling", 17), "run": (1, "running", 17), "walk": (9, "walking", 17),
         "swim": (26, "lap_swimming", 27), "hike": (3, "hiking", 17), "other": (4, "other", 4)}
FILE_TYPES = {"Ride": "cycling", "VirtualRide": "virtual_ride", "Run": "running", "Walk": "walking",
              "Swim": "lap_swimming", "Hike": "hiking"}
CONSENT = "The user is from EU location, but upload consent is not yet granted or revoked"
DEVICES = [{"deviceId": 3442978015, "productDisplayName": "Edge 530", "displayName": "Edge 530 (work)"},
           {"deviceId": 3314159265, "productDisplayName": "Forerunner 955"}]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def gmt(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def zip_of(members):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return out.getvalue()


def import_result(upload_id, uid, name, successes=(), failures=()):
    return {"detailedImportResult": {
        "uploadId": upload_id, "uploadUuid": {"uuid": uid}, "owner": 90123456, "fileSize": 0, "processingTime": 42,
        "creationDate": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.000 GMT"),
        "ipAddress": None, "fileName": name, "report": None, "successes": list(successes),
        "failures": list(failures)}}


class Garmin(Platform):
    name = "garmin"
    operations = [
        Operation("POST", "/di-oauth2-service/oauth/token", "di_token"),
        Operation("GET", "/mobile/sso/en/sign-in", "sign_in_page"),
        Operation("POST", "/mobile/api/login", "login"),
        Operation("POST", "/mobile/api/mfa/verifyCode", "verify_mfa"),
        Operation("GET", "/activitylist-service/activities/search/activities", "list"),
        Operation("GET", "/device-service/deviceregistration/devices", "devices"),
        Operation("GET", "/device-service/deviceservice/mylastused", "last_used"),
        Operation("GET", "/download-service/files/activity/{id}", "download"),
        Operation("POST", "/upload-service/upload", "upload"),
        Operation("GET", "/activity-service/activity/status/{date}/{uuid}", "upload_status"),
        Operation("GET", "/activity-service/activity/{id}", "get"),
        Operation("PUT", "/activity-service/activity/{id}", "update"),
        Operation("GET", "/gear-service/gear/filterGear", "filter_gear"),
        Operation("PUT", "/gear-service/gear/link/{uuid}/activity/{id}", "link_gear"),
        Operation("PUT", "/gear-service/gear/unlink/{uuid}/activity/{id}", "unlink_gear"),
    ]

    def __init__(self):
        self.reset()

    def reset(self):
        self.activities = {}  # id (int) -> activity
        self.uploads = {}  # compact uuid -> upload
        self.gear = {}
        self.next_id = 21000000001
        self.token_lifetime_s = 3600
        self.rotate_refresh = True
        self.di_clients = list(DI_CLIENTS)
        self.login_mode = "ok"
        self.mfa_code = "123456"
        self.upload_polls = 0
        self.upload_consent = True
        self.user_profile = 90123456
        self.access = {}  # token -> expires at
        self.refresh = {}  # refresh token -> client id
        self.sessions = {}  # SESSION cookie -> {"mfa": bool}
        self.tickets = set()
        self.counts = {"refreshes": 0, "exchanges": 0, "logins": 0, "mfa_checks": 0}
        self.issued = 0

    # -- tokens -------------------------------------------------------------

    def issue(self, client_id, lifetime_s=None):
        self.issued += 1
        lifetime = self.token_lifetime_s if lifetime_s is None else lifetime_s
        exp = int(time.time() + lifetime)
        head = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
        body = b64url(json.dumps({"client_id": client_id, "exp": exp, "iat": int(time.time()),
                                  "jti": "jti-%d" % self.issued, "scope": ["CONNECT_READ", "CONNECT_WRITE"]}).encode())
        access = "%s.%s.%s" % (head, body, b64url(b"sig-%d" % self.issued))
        self.access[access] = exp
        refresh = "di-refresh-%d" % self.issued
        self.refresh[refresh] = client_id
        return {"scope": "CONNECT_READ CONNECT_WRITE", "jti": "jti-%d" % self.issued, "token_type": "Bearer",
                "access_token": access, "refresh_token": refresh, "expires_in": lifetime,
                "refresh_token_expires_in": 2591999}

    def di_token(self, request):
        form = dict(urllib.parse.parse_qsl(request.body.decode("utf-8")))
        client_id = form.get("client_id", "")
        basic = "Basic " + base64.b64encode((client_id + ":").encode()).decode()
        if not client_id or request.header("Authorization") != basic:
            return json_reply({"error": "invalid_client", "error_description": "Bad client credentials"}, 401)
        grant = form.get("grant_type")
        if grant == "refresh_token":
            if self.refresh.get(form.get("refresh_token")) != client_id:
                return json_reply({"error": "invalid_grant", "error_description": "Invalid refresh token"}, 400)
            self.counts["refreshes"] += 1
            out = self.issue(client_id)
            if self.rotate_refresh:
                del self.refresh[form["refresh_token"]]
            else:
                del self.refresh[out["refresh_token"]]
                del out["refresh_token"]
            return json_reply(out)
        if grant == TICKET_GRANT:
            if client_id not in self.di_clients:
                return json_reply({"error": "unauthorized_client", "error_description": "client not allowed"}, 401)
            if form.get("service_ticket") not in self.tickets or form.get("service_url") != SERVICE:
                return json_reply({"error": "invalid_grant", "error_description": "Invalid service ticket"}, 400)
            self.tickets.discard(form["service_ticket"])
            self.counts["exchanges"] += 1
            return json_reply(self.issue(client_id))
        return json_reply({"error": "unsupported_grant_type"}, 400)

    def authorize(self, request):
        auth = request.header("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme != "Bearer" or self.access.get(token, 0) <= time.time():
            return json_reply({"message": "Token is not active"}, 401)
        return None

    # -- sign-in ------------------------------------------------------------

    def session_of(self, request):
        for part in (request.header("Cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "SESSION" and value in self.sessions:
                return value
        return None

    def sso(self, name, request):
        mode = self.login_mode
        if mode == "cloudflare":
            return Reply(403, "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>cf</body></html>",
                         content_type="text/html")
        if mode == "429":
            return json_reply({"message": "Too Many Requests"}, 429)
        if name == "sign_in_page":
            session = "sess-%d" % (len(self.sessions) + 1)
            self.sessions[session] = {"mfa": False}
            return Reply(200, "<html><head><title>Sign In</title></head></html>",
                         [("Set-Cookie", "SESSION=%s; Path=/; Secure; HttpOnly" % session),
                          ("Set-Cookie", "__cflb=02DiuJLb; Path=/")], content_type="text/html")
        if request.arg("clientId") != "GCM_ANDROID_DARK" or request.arg("service") != SERVICE:
            return json_reply({"responseStatus": {"type": "INVALID_CLIENT"}}, 400)
        session = self.session_of(request)
        if session is None:
            return json_reply({"responseStatus": {"type": "SESSION_EXPIRED"}}, 400)
        body = json.loads(request.body or b"{}")
        if name == "login":
            self.counts["logins"] += 1
            if mode == "429_json":
                return json_reply({"error": {"status-code": "429", "message": "Too many requests"}})
            if mode == "changed":
                return json_reply({"responseStatus": {"type": "ACCOUNT_LOCKED_NEW_FLOW"}})
            if body.get("username") != USER or body.get("password") != PASSWORD:
                return json_reply({"responseStatus": {"type": "INVALID_USERNAME_PASSWORD"}})
            if mode == "captcha":
                return json_reply({"responseStatus": {"type": "CAPTCHA_REQUIRED"}})
            if mode == "mfa":
                self.sessions[session]["mfa"] = True
                return json_reply({"responseStatus": {"type": "MFA_REQUIRED"},
                                   "customerMfaInfo": {"mfaLastMethodUsed": "email"}})
            return self.ticket()
        self.counts["mfa_checks"] += 1
        if not self.sessions[session]["mfa"]:
            return json_reply({"responseStatus": {"type": "MFA_NOT_REQUESTED"}}, 400)
        if body.get("mfaVerificationCode") != self.mfa_code or body.get("mfaMethod") != "email":
            return json_reply({"responseStatus": {"type": "INVALID_MFA_CODE"}})
        self.sessions[session]["mfa"] = False
        return self.ticket()

    def ticket(self):
        ticket = "ST-%d-garmin-fake" % (len(self.tickets) + self.counts["exchanges"] + 1)
        self.tickets.add(ticket)
        return json_reply({"responseStatus": {"type": "SUCCESSFUL"}, "serviceTicketId": ticket,
                           "serviceURL": SERVICE})

    # -- routes -------------------------------------------------------------

    def route(self, request):
        op = self.operation_of(request)
        if op is None:
            return json_reply({"message": "Not Found"}, 404)
        name, params = op
        if name == "di_token":
            return self.di_token(request)
        if name in ("sign_in_page", "login", "verify_mfa"):
            return self.sso(name, request)
        denied = self.authorize(request)
        if denied is not None:
            return denied
        if name == "list":
            return self.list(request)
        if name == "devices":
            return json_reply(DEVICES)
        if name == "last_used":
            return json_reply({"userDeviceId": DEVICES[0]["deviceId"], "userProfileNumber": self.user_profile,
                               "lastUsedDeviceName": DEVICES[0]["productDisplayName"]})
        if name == "upload":
            return self.upload(request)
        if name == "upload_status":
            return self.status(params["uuid"])
        if name == "filter_gear":
            return self.filter_gear(request)
        act = self.activities.get(int(params["id"])) if params["id"].isdigit() else None
        if act is None:
            return json_reply({"message": "Activity not found"}, 404)
        if name == "download":
            return self.download(act)
        if name == "get":
            return json_reply(self.show(act))
        if name == "update":
            return self.update(act, request)
        return self.link(name, params["uuid"], act)

    def show(self, act):
        type_id, key, parent = act["type"]
        local = act["start"] + 3600
        return {"activityId": act["id"], "activityName": act["name"], "description": act["description"],
                "startTimeLocal": gmt(local), "startTimeGMT": gmt(act["start"]),
                "activityType": {"typeId": type_id, "typeKey": key, "parentTypeId": parent},
                "distance": act["distance"], "duration": act["duration"], "elapsedDuration": act["duration"],
                "movingDuration": act["duration"], "deviceId": act["device_id"], "manualActivity": act["manual"],
                "ownerId": self.user_profile, "hasPolyline": not act["manual"]}

    def list(self, request):
        try:
            start = int(request.arg("start", 0))
            limit = int(request.arg("limit", 20))
        except ValueError:
            return json_reply({"message": "Bad Request"}, 400)
        first, last = request.arg("startDate"), request.arg("endDate")
        rows = []
        for act in self.activities.values():
            day = gmt(act["start"] + 3600)[:10]  # the local date (UTC+1)
            if (first is None or day >= first) and (last is None or day <= last):
                rows.append(act)
        rows.sort(key=lambda a: (a["start"], a["id"]), reverse=True)
        return json_reply([self.show(a) for a in rows[start:start + limit]])

    def download(self, act):
        mode = act["download"]
        if mode == 404 or (act["manual"] and mode == "zip"):
            return json_reply({"message": "Not Found"}, 404)
        if mode == 500:
            return json_reply({"message": "java.lang.NullPointerException", "error": "Internal Server Error"}, 500)
        if mode == "html":
            return Reply(200, "<!DOCTYPE html><html><head><title>Garmin Connect</title></head><body>maintenance"
                         "</body></html>", content_type="text/html")
        member = act["file_name"] or "%d_ACTIVITY.fit" % act["id"]
        data = act["file"] or b""
        members = {"zip": [(member, data)], "none": [], "two": [(member, data), ("%d_2.fit" % act["id"], data)],
                   "text": [("%d_ACTIVITY.txt" % act["id"], b"no activity here")]}.get(mode, [(member, data)])
        body = zip_of(members)
        if mode == "truncated":
            body = body[:len(body) // 2]
        return Reply(200, body, [("Content-Disposition", 'attachment; filename="%d.zip"' % act["id"])],
                     content_type="application/x-zip-compressed")

    def upload(self, request):
        boundary = request.header("Content-Type") or ""
        marker = "boundary="
        if marker not in boundary:
            return json_reply({"message": "Bad Request"}, 400)
        parts = parse_multipart(request.body, boundary.split(marker, 1)[1].strip('"').encode())
        files = [p for p in parts if p["name"] == "file"]
        if len(files) != 1:
            return json_reply({"message": "Required request part 'file' is not present"}, 400)
        data, name = files[0]["data"], files[0]["filename"] or "upload"
        uid = str(uuidlib.uuid4())
        upload_id = 300000 + len(self.uploads) + 1
        rec = {"uuid": uid, "id": upload_id, "name": name, "status": "processing", "activity": None,
               "duplicate": False, "polls": 0, "data": data}
        self.uploads[uid.replace("-", "")] = rec
        if not self.upload_consent:
            rec["status"] = "failed"
            return json_reply(import_result(upload_id, uid, name, failures=[
                {"internalId": None, "externalId": None, "messages": [{"code": 403, "content": CONSENT}]}]), 409)
        try:
            info = activity_files.summarize(data)
        except activity_files.BadFile as e:
            rec["status"] = "failed"
            return json_reply(import_result(upload_id, uid, name, failures=[
                {"internalId": None, "externalId": None, "messages": [{"code": 400, "content": str(e)}]}]), 400)
        rec["info"] = info
        dup = self.duplicate_of(info["start"])
        if dup is not None:
            rec.update(status="done", activity=dup, duplicate=True)
            return json_reply(import_result(upload_id, uid, name, failures=[
                {"internalId": dup, "externalId": None,
                 "messages": [{"code": 202, "content": "Duplicate activity"}]}]), 409)
        if self.upload_polls > 0:
            rec["polls_left"] = self.upload_polls
            return json_reply(import_result(upload_id, uid, name), 202)
        act = self.process(rec)
        return json_reply(import_result(upload_id, uid, name, successes=[
            {"internalId": act["id"], "externalId": None, "messages": None}]), 201)

    def duplicate_of(self, start):
        for act in self.activities.values():
            if start is not None and abs(act["start"] - start) <= 2:
                return act["id"]
        return None

    def process(self, rec):
        info = rec["info"]
        key = FILE_TYPES.get(info.get("type"), "other")
        type_id = {v[1]: v for v in TYPES.values()}.get(key, (2, key, 17))
        act = self.add({"start": info["start"], "type_key": key, "type_tuple": type_id, "name": rec["name"],
                        "duration": info.get("elapsed") or 0, "distance": info.get("distance"),
                        "file": rec["data"], "source": "upload"})
        rec.update(status="done", activity=act["id"])
        return act

    def status(self, compact):
        rec = self.uploads.get(compact)
        if rec is None:
            return json_reply({"message": "Not Found"}, 404)
        if rec["status"] == "processing":
            rec["polls"] += 1
            if rec["polls"] >= rec.get("polls_left", 0):
                dup = self.duplicate_of(rec["info"]["start"])
                if dup is not None:
                    rec.update(status="done", activity=dup, duplicate=True)
                else:
                    self.process(rec)
            else:
                return Reply(202, b"", content_type=None)
        if rec["status"] != "done":
            return json_reply({"message": "upload failed"}, 400)
        return json_reply(import_result(rec["id"], rec["uuid"], rec["name"], successes=[
            {"internalId": rec["activity"], "externalId": None, "messages": None}]), 201,
            [("Location", "https://connectapi.garmin.com/activity-service/activity/%d" % rec["activity"])])

    def update(self, act, request):
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return json_reply({"message": "Bad Request"}, 400)
        if body.get("activityId") != act["id"]:
            return json_reply({"message": "activityId does not match the path"}, 400)
        if "activityName" in body:
            act["name"] = body["activityName"]
        if "description" in body:
            act["description"] = body["description"]
        if "activityTypeDTO" in body:
            key = body["activityTypeDTO"].get("typeKey")
            known = {v[1]: v for v in TYPES.values()}
            if key not in known:
                return json_reply({"message": "Invalid activity type"}, 400)
            act["type"] = known[key]
        return Reply(204, b"", content_type=None)

    def gear_json(self, g):
        return {"gearPk": g["pk"], "uuid": g["uuid"], "userProfilePk": self.user_profile,
                "gearMakeName": "Unspecified", "gearModelName": "Unspecified", "gearTypeName": g["type"],
                "gearStatusName": "retired" if g["retired"] else "active", "displayName": g["name"],
                "customMakeModel": g["name"], "dateBegin": "2024-01-01T00:00:00.0", "maximumMeters": 0.0}

    def filter_gear(self, request):
        if request.arg("userProfilePk") is not None:
            if request.arg("userProfilePk") != str(self.user_profile):
                return json_reply({"message": "Forbidden"}, 403)
            return json_reply([self.gear_json(g) for g in self.gear.values()])
        act_id = request.arg("activityId", "")
        act = self.activities.get(int(act_id)) if act_id.isdigit() else None
        if act is None:
            return json_reply([])
        return json_reply([self.gear_json(self.gear[u]) for u in act["gear"] if u in self.gear])

    def link(self, name, uid, act):
        g = self.gear.get(uid)
        if g is None or (g["retired"] and name == "link_gear"):
            return json_reply({"message": "Gear not found"}, 404)
        if name == "link_gear" and uid not in act["gear"]:
            act["gear"].append(uid)
        if name == "unlink_gear" and uid in act["gear"]:
            act["gear"].remove(uid)
        return json_reply(self.gear_json(g))

    # -- control ------------------------------------------------------------

    def add(self, spec):
        act_id = self.next_id
        self.next_id += 1
        if "type_tuple" in spec:
            kind = spec["type_tuple"]
        elif "type_key" in spec:
            kind = {v[1]: v for v in TYPES.values()}.get(spec["type_key"], (4, spec["type_key"], 4))
        else:
            kind = TYPES[spec.get("type", "ride")]
        data = spec.get("file")
        if data is None and spec.get("file_b64"):
            data = base64.b64decode(spec["file_b64"])
        act = {"id": act_id, "start": float(spec["start"]), "type": kind, "name": spec.get("name", "Ride"),
               "description": spec.get("description"), "duration": float(spec.get("duration", 3600)),
               "distance": spec.get("distance"), "file": data, "file_name": spec.get("file_name"),
               "download": spec.get("download", "zip"), "manual": bool(spec.get("manual", False)),
               "device_id": spec.get("device_id"), "gear": list(spec.get("gear", [])),
               "source": spec.get("source", "seed")}
        self.activities[act_id] = act
        return act

    def control(self, request):
        path, method = request.path, request.method
        spec = json.loads(request.body or b"{}") if method == "POST" else None
        if path == "/_fake/config" and method == "POST":
            self.token_lifetime_s = float(spec.get("token_lifetime_s", self.token_lifetime_s))
            self.rotate_refresh = bool(spec.get("rotate_refresh", self.rotate_refresh))
            self.di_clients = list(spec.get("di_clients", self.di_clients))
            self.login_mode = spec.get("login", self.login_mode)
            self.mfa_code = spec.get("mfa_code", self.mfa_code)
            self.upload_polls = int(spec.get("upload_polls", self.upload_polls))
            self.upload_consent = bool(spec.get("upload_consent", self.upload_consent))
            self.user_profile = int(spec.get("user_profile", self.user_profile))
            return json_reply({"ok": True})
        if path == "/_fake/grant" and method == "POST":
            return json_reply(self.issue(spec.get("client_id", DI_CLIENTS[0]), spec.get("lifetime_s")))
        if path == "/_fake/tokens" and method == "GET":
            return json_reply(self.counts)
        if path == "/_fake/expire" and method == "POST":
            for token in self.access:
                self.access[token] = 0
            return json_reply({"ok": True})
        if path == "/_fake/activities" and method == "POST":
            return json_reply([str(self.add(one)["id"]) for one in (spec if isinstance(spec, list) else [spec])])
        if path == "/_fake/activities" and method == "GET":
            return json_reply([{"id": str(a["id"]), "name": a["name"], "description": a["description"],
                                "type_key": a["type"][1], "start": a["start"], "gear": a["gear"],
                                "source": a["source"]} for a in self.activities.values()])
        if path == "/_fake/gear" and method == "POST":
            for one in (spec if isinstance(spec, list) else [spec]):
                self.gear[one["uuid"]] = {"pk": 7000 + len(self.gear), "uuid": one["uuid"],
                                          "name": one.get("name", one["uuid"]), "type": one.get("type", "Bike"),
                                          "retired": bool(one.get("retired", False))}
            return json_reply({"ok": True})
        if path == "/_fake/uploads" and method == "GET":
            return json_reply([{"uuid": r["uuid"], "file_name": r["name"], "status": r["status"],
                                "activity": r["activity"] and str(r["activity"]), "duplicate": r["duplicate"]}
                               for r in self.uploads.values()])
        return Platform.control(self, request)
