"""Train it All fake: the External API v1 of ../shared/seeds/003
(provider-apis.md §5.3).

Facts it follows: OAuth2 Authorization Code + PKCE (S256) with a required
`state`: GET /oauth/authorize stands in for the consent page and approves at
once with a 302 to redirect_uri?code=...&state=...; POST /api/oauth/token
(form) authenticates a confidential client with HTTP Basic and a public client
by its client_id alone (PKCE); refresh tokens rotate and the old one is dead
at once; access tokens expire after `access_lifetime_s` (3600).
GET /api/external/v1/activities?page=&per_page= answers {items, pagination
{page, perPage, prevPage, nextPage, hasNextPage}}, newest first, no date
filter and no single-activity GET; items carry id, type (RUN, RIDE, ...),
title, startedAt, durationSec, distanceM, perceivedExertion as a derived load
score (not 1..10), calories negative, externalId, sources.
GET /api/external/v1/activities/{id}/fit: the FIT, or 404 when there is none.
POST /api/external/v1/fit-files: multipart field `file`, name ending .fit, at
most 25 MB; de-duplicated by SHA-256 per user: {"id", "storageKey"} (201) for a
new import, {"id", "duplicate": true} (200) for the same file again.
POST /api/external/v1/activities: JSON create with the documented keys
(title, type, startedAt, durationMin, distanceKm, avgHr, maxHr, avgPower,
perceivedExertion, externalId, rawPayload, ...): {"id"}; unknown keys are a
400 in the documented error format {error, errorCode, hint, details}.

Inferred: the list's order (newest startedAt first), per_page at most 100,
the 201/200 statuses; with "duplicate_style": "conflict" a duplicate FIT is
answered 409 {"error": "... already exists", "errorCode": "duplicate_fit",
"details": {"existingActivityId"}} instead (an older server's answer).

Control API (besides the framework's):
  POST /_fake/config       {"access_lifetime_s", "duplicate_style": "body"|"conflict"}
  POST /_fake/grant        {"client_id"?} -> {"access_token", "refresh_token"} as after a consent
  POST /_fake/code         {"client_id"?, "code_challenge", "redirect_uri"} -> {"code"} as after a consent
  GET  /_fake/tokens       {"refresh": [valid refresh tokens], "refreshes": N, "access": [valid access tokens]}
  POST /_fake/expire       every access token expires now
  POST /_fake/activities   one or a list: {"start" (epoch) | "startedAt", "type" (a FitBridge family
                            or RUN/RIDE/...), "title", "durationSec", "distanceM", "file_b64", "id"?} -> ids
  GET  /_fake/activities   every activity as listed, + "has_file" and "written" (the JSON body a
                            create sent, or null)
"""

import base64
import datetime
import hashlib
import json
import re
import time
import urllib.parse

import activity_files
from framework import Operation, Platform, Reply, json_reply
from intervals import parse_multipart

PUBLIC_CLIENT = "fitbridge"
CONFIDENTIAL_CLIENT = "fitbridge-conf"
CLIENT_SECRET = "test-client-secret"
MAX_FIT_BYTES = 25 * 1024 * 1024
WRITE_KEYS = {"title", "type", "startedAt", "durationMin", "distanceKm", "avgHr", "maxHr", "avgPower",
              "perceivedExertion", "calories", "notes", "externalId", "rawPayload", "elevationGainM", "timezone"}
FAMILY_TYPES = {"run": "RUN", "ride": "RIDE", "swim": "SWIM", "walk": "WALK", "hike": "HIKE", "row": "ROW",
                "ski": "SKI", "strength": "STRENGTH", "yoga": "YOGA", "other": "OTHER"}
FILE_TYPES = {"Run": "RUN", "Ride": "RIDE", "VirtualRide": "RIDE", "Swim": "SWIM", "Walk": "WALK", "Hike": "HIKE",
              "Rowing": "ROW", "NordicSki": "SKI"}


def iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def error(status, message, code, hint=None, details=None):
    body = {"error": message, "errorCode": code}
    if hint:
        body["hint"] = hint
    if details is not None:
        body["details"] = details
    return json_reply(body, status)


def s256(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


class TrainItAll(Platform):
    name = "trainitall"
    operations = [
        Operation("GET", "/oauth/authorize", "authorize"),
        Operation("POST", "/api/oauth/token", "token"),
        Operation("GET", "/api/external/v1/activities", "list"),
        Operation("POST", "/api/external/v1/activities", "create"),
        Operation("GET", "/api/external/v1/activities/{id}/fit", "fit"),
        Operation("POST", "/api/external/v1/fit-files", "fit_upload"),
    ]

    def __init__(self):
        self.reset()

    def reset(self):
        self.activities = {}
        self.by_hash = {}
        self.next_id = 1
        self.access = {}  # token -> expires at
        self.refresh = {}  # token -> client id
        self.codes = {}  # code -> (client id, challenge, redirect uri)
        self.issued = 0
        self.refreshes = 0
        self.access_lifetime_s = 3600
        self.duplicate_style = "body"

    # -- OAuth --------------------------------------------------------------

    def grant(self, client_id):
        self.issued += 1
        access, refresh = "tia_at_%d" % self.issued, "tia_rt_%d" % self.issued
        self.access[access] = time.time() + self.access_lifetime_s
        self.refresh[refresh] = client_id
        return access, refresh

    def authorize(self, request):
        q = {k: request.arg(k) for k in ("response_type", "client_id", "redirect_uri", "state", "code_challenge",
                                         "code_challenge_method", "scope")}
        if q["client_id"] not in (PUBLIC_CLIENT, CONFIDENTIAL_CLIENT):
            return error(400, "Unknown client.", "invalid_client")
        if q["response_type"] != "code" or not q["state"] or not q["code_challenge"] or \
                q["code_challenge_method"] != "S256" or not q["redirect_uri"]:
            return error(400, "response_type=code, redirect_uri, state and an S256 code_challenge are required.",
                         "invalid_request")
        code = "code_%d" % (len(self.codes) + 1)
        self.codes[code] = (q["client_id"], q["code_challenge"], q["redirect_uri"])
        target = "%s?%s" % (q["redirect_uri"], urllib.parse.urlencode({"code": code, "state": q["state"]}))
        return Reply(302, b"", [("Location", target)], content_type=None)

    def client_of(self, request, form):
        """The authenticated client id, or None."""
        scheme, _, value = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            user, _, secret = base64.b64decode(value).decode("utf-8", "replace").partition(":")
            return user if user == CONFIDENTIAL_CLIENT and secret == CLIENT_SECRET else None
        if form.get("client_id") == PUBLIC_CLIENT and "client_secret" not in form:
            return PUBLIC_CLIENT
        return None

    def token(self, request):
        form = dict(urllib.parse.parse_qsl(request.body.decode("utf-8", "replace")))
        client = self.client_of(request, form)
        if client is None:
            return json_reply({"error": "invalid_client"}, 401)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            entry = self.codes.pop(form.get("code"), None)
            if entry is None or entry[0] != client or entry[2] != form.get("redirect_uri") or \
                    s256(form.get("code_verifier", "")) != entry[1]:
                return json_reply({"error": "invalid_grant"}, 400)
        elif grant == "refresh_token":
            old = form.get("refresh_token")
            if self.refresh.get(old) != client:
                return json_reply({"error": "invalid_grant", "error_description": "refresh token is invalid"}, 400)
            del self.refresh[old]  # rotated: the old one is dead at once
            self.refreshes += 1
        else:
            return json_reply({"error": "unsupported_grant_type"}, 400)
        access, refresh = self.grant(client)
        return json_reply({"access_token": access, "token_type": "Bearer", "expires_in": self.access_lifetime_s,
                           "refresh_token": refresh, "scope": "profile:read activities:read activities:write"})

    # -- API ----------------------------------------------------------------

    def route(self, request):
        op = self.operation_of(request)
        if op is None:
            return error(404, "Not found.", "not_found")
        name, params = op
        if name == "authorize":
            return self.authorize(request)
        if name == "token":
            return self.token(request)
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or self.access.get(token, 0) <= time.time():
            return error(401, "Unauthorized.", "unauthorized", "Send a valid access token.")
        if name == "list":
            return self.list(request)
        if name == "create":
            return self.create(request)
        if name == "fit_upload":
            return self.fit_upload(request)
        act = self.activities.get(params["id"])
        if act is None or act["file"] is None:
            return error(404, "Not found.", "not_found")
        return Reply(200, act["file"], [("Content-Disposition", 'attachment; filename="%s.fit"' % act["id"])],
                     content_type="application/octet-stream")

    def show(self, act):
        return {"id": act["id"], "organizationId": "org_1", "athleteId": "mem_1", "source": act["source"],
                "sourceName": act["sourceName"], "type": act["type"], "title": act["title"],
                "startedAt": iso(act["start"]), "durationSec": act["durationSec"], "distanceM": act["distanceM"],
                "elevationGainM": None, "avgHr": act.get("avgHr"), "maxHr": act.get("maxHr"),
                "avgPower": act.get("avgPower"), "calories": -abs(act.get("calories") or 500),
                # A derived internal load score, not the 1..10 scale a write takes.
                "perceivedExertion": int((act["durationSec"] or 0) / 60) + 7, "notes": None,
                "timezone": "Europe/Berlin", "createdAt": iso(act["created"]), "externalId": act["externalId"],
                "sources": []}

    def list(self, request):
        try:
            page = int(request.arg("page", 1))
            per_page = int(request.arg("per_page", 30))
        except ValueError:
            return error(400, "Invalid query parameters.", "validation_error", "page and per_page are integers.")
        if page < 1 or per_page < 1 or per_page > 100:
            return error(400, "Invalid query parameters.", "validation_error",
                         "page starts at 1; per_page is 1..100.")
        rows = sorted(self.activities.values(), key=lambda a: (a["start"], a["id"]), reverse=True)
        start = (page - 1) * per_page
        items = [self.show(a) for a in rows[start:start + per_page]]
        has_next = start + per_page < len(rows)
        return json_reply({"items": items, "pagination": {"page": page, "perPage": per_page,
                                                          "prevPage": page - 1 if page > 1 else None,
                                                          "nextPage": page + 1 if has_next else None,
                                                          "hasNextPage": has_next}})

    def create(self, request):
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return error(400, "Invalid JSON body.", "invalid_json")
        unknown = sorted(k for k in body if k not in WRITE_KEYS)
        missing = [k for k in ("type", "startedAt") if k not in body]
        if unknown or missing:
            return error(400, "Invalid request body.", "validation_error", "Check required fields and units.",
                         {"receivedKeys": sorted(body), "allowedKeys": sorted(WRITE_KEYS),
                          "missingFields": missing, "unknownKeys": unknown})
        try:
            start = activity_files.parse_iso(body["startedAt"])
        except ValueError:
            return error(400, "Invalid request body.", "validation_error", "startedAt is an ISO-8601 time.")
        act = self.add({"start": start, "type": body["type"], "title": body.get("title", ""),
                        "durationSec": round(body["durationMin"] * 60) if body.get("durationMin") is not None
                        else None,
                        "distanceM": round(body["distanceKm"] * 1000, 1) if body.get("distanceKm") is not None
                        else None,
                        "avgHr": body.get("avgHr"), "maxHr": body.get("maxHr"), "avgPower": body.get("avgPower"),
                        "externalId": body.get("externalId"), "source": "EXTERNAL"})
        act["written"] = body
        return json_reply({"id": act["id"]}, 201)

    def fit_upload(self, request):
        m = re.search(r'boundary="?([^";]+)"?', request.header("Content-Type") or "")
        parts = parse_multipart(request.body, m.group(1).encode()) if m else []
        part = next((p for p in parts if p["name"] == "file"), None)
        if part is None:
            return error(400, "No file uploaded.", "validation_error", "Send the .fit file in the form field 'file'.")
        if not (part["filename"] or "").lower().endswith(".fit"):
            return error(400, "Only .fit files are supported.", "invalid_file_type", "The file name must end with .fit.")
        if len(part["data"]) > MAX_FIT_BYTES:
            return error(413, "File too large.", "file_too_large", "At most 25 MB.")
        digest = hashlib.sha256(part["data"]).hexdigest()
        if digest in self.by_hash:
            existing = self.by_hash[digest]
            if self.duplicate_style == "conflict":
                return error(409, "A FIT file with this SHA-256 already exists.", "duplicate_fit", None,
                             {"existingActivityId": existing})
            return json_reply({"id": existing, "duplicate": True})
        try:
            info = activity_files.summarize(part["data"])
            if info["format"] != "fit" or info["gzipped"]:
                raise activity_files.BadFile("not a FIT file")
        except activity_files.BadFile as e:
            return error(400, "Could not parse the FIT file.", "invalid_fit", str(e))
        act = self.add({"start": info["start"], "type": FILE_TYPES.get(info["type"], "OTHER"), "title": "",
                        "durationSec": round(info["elapsed"]) if info["elapsed"] else None,
                        "distanceM": info["distance"], "file": part["data"], "source": "EXTERNAL"})
        self.by_hash[digest] = act["id"]
        day = datetime.datetime.fromtimestamp(info["start"], datetime.timezone.utc).strftime("%Y-%m-%d")
        return json_reply({"id": act["id"], "storageKey": "fit/org_1/mem_1/%s/%s.fit" % (day, digest[:12])}, 201)

    # -- control ------------------------------------------------------------

    def add(self, spec):
        act_id = spec.get("id") or "act_%04d" % self.next_id
        self.next_id += 1
        start = spec["start"] if "start" in spec else activity_files.parse_iso(spec["startedAt"])
        kind = spec.get("type", "ride")
        data = spec.get("file")
        if data is None and spec.get("file_b64"):
            data = base64.b64decode(spec["file_b64"])
        act = {"id": act_id, "start": float(start), "type": FAMILY_TYPES.get(kind, kind),
               "title": spec.get("title", "seeded"), "durationSec": spec.get("durationSec", 3600),
               "distanceM": spec.get("distanceM"), "avgHr": spec.get("avgHr"), "maxHr": spec.get("maxHr"),
               "avgPower": spec.get("avgPower"), "externalId": spec.get("externalId"), "file": data,
               "source": spec.get("source", "TRAINITALL"), "sourceName": PUBLIC_CLIENT, "created": time.time(),
               "written": None}
        self.activities[act_id] = act
        if data is not None:
            self.by_hash.setdefault(hashlib.sha256(data).hexdigest(), act_id)
        return act

    def control(self, request):
        path, method = request.path, request.method
        spec = json.loads(request.body or b"{}") if method == "POST" else {}
        if path == "/_fake/config" and method == "POST":
            self.access_lifetime_s = float(spec.get("access_lifetime_s", self.access_lifetime_s))
            self.duplicate_style = spec.get("duplicate_style", self.duplicate_style)
            return json_reply({"ok": True})
        if path == "/_fake/grant" and method == "POST":
            access, refresh = self.grant(spec.get("client_id", PUBLIC_CLIENT))
            return json_reply({"access_token": access, "refresh_token": refresh})
        if path == "/_fake/code" and method == "POST":
            code = "code_%d" % (len(self.codes) + 1)
            self.codes[code] = (spec.get("client_id", PUBLIC_CLIENT), spec["code_challenge"], spec["redirect_uri"])
            return json_reply({"code": code})
        if path == "/_fake/tokens" and method == "GET":
            now = time.time()
            return json_reply({"refresh": sorted(self.refresh), "refreshes": self.refreshes,
                               "access": sorted(t for t, e in self.access.items() if e > now)})
        if path == "/_fake/expire" and method == "POST":
            for token in self.access:
                self.access[token] = 0.0
            return json_reply({"ok": True})
        if path == "/_fake/activities" and method == "POST":
            return json_reply([self.add(one)["id"] for one in (spec if isinstance(spec, list) else [spec])])
        if path == "/_fake/activities" and method == "GET":
            return json_reply([dict(self.show(a), has_file=a["file"] is not None, written=a["written"])
                               for a in self.activities.values()])
        return Platform.control(self, request)
