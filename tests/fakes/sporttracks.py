"""SportTracks API v2 (../shared/seeds/001, provider-apis.md §5.1).

- OAuth2: GET /oauth2/authorize?client_id&redirect_uri&state&response_type=code
  (a missing or empty `state` is a 400), POST /oauth2/token (form) for the
  authorization_code and refresh_token grants; access tokens live 2 hours.
  The static token `test-oauth-token` is always accepted.
- GET /api/v2/fitnessActivities?pageSize=&page=&noEarlierThan=&noLaterThan=:
  newest first, `page` counted from 0 (pageSize default 25), answered
  {"items": [{uri, name, type, start_time, duration, total_distance,
  user_id}], "size", "next"} with numbers as strings, start times in the
  workout's local time with a short offset ("2025-01-10T03:00:00-05"), and
  `next` the full URL of the following page (absent after the last).
- GET /api/v2/fitnessActivities/{id}: the whole workout, with the sample
  arrays (location [t, [lat, lon], ...], elevation, heartrate, cadence,
  power, distance as [t, v, ...]), laps, notes, tags, equipment.
- PUT /api/v2/fitnessActivities/{id}: the body replaces the whole workout
  (start_time required); answers {"uris": [...]}.
- POST /api/v2/fitnessActivities: a workout from JSON (start_time required).
- POST /api/v2/fileUpload: {"format": "FIT"|"TCX"|"GPX", "data", "name"?}
  (JSON or form; FIT base64) -> {"fitnessActivities": {"size": 1, "uris":
  [".../api/v2/fitnessActivity/<id>"]}}. No de-duplication.
- DELETE /api/v2/fitnessActivities/{id} -> {"status": "ok"}.

Control API (besides the framework's):
  POST /_fake/activities   one or a list of {"start" (epoch), "type" (e.g.
                            Running, Cycling), "name", "duration", "distance"
                            (m), "offset_hours" (default -5), "samples": true
                            (a track of `points` samples every 5 s),
                            "points", "notes", "id"?} -> ids
  GET  /_fake/activities   every stored workout (with the fake's own "_" keys)
  POST /_fake/grant        tokens as if the user had authorized: {access_token, refresh_token}
"""

import base64
import datetime
import json
import math
import urllib.parse

import activity_files
from framework import OAuthServer, Operation, Platform, Reply, json_reply

TOKEN = "test-oauth-token"
PUBLIC_HOST = "https://api.sporttracks.mobi"
FILE_TYPES = {"Run": "Running", "Ride": "Cycling", "VirtualRide": "Cycling", "Walk": "Walking", "Swim": "Swimming",
              "Hike": "Hiking", "Rowing": "Rowing"}


def num(value):
    """SportTracks sends numbers as strings."""
    return ("%.3f" % value).rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def local_time(epoch, offset_hours):
    """The workout's local time with a short offset, as SportTracks writes it."""
    tz = datetime.timezone(datetime.timedelta(hours=offset_hours))
    text = datetime.datetime.fromtimestamp(epoch, tz).strftime("%Y-%m-%dT%H:%M:%S")
    return text + ("%+03d" % offset_hours)


def parse_time(text):
    text = text.strip()
    if len(text) > 19 and text[-3] in "+-" and text[-5] != ":":  # a short offset
        text += ":00"
    return activity_files.parse_iso(text)


def error(status, message):
    return json_reply({"error": message, "status": status}, status)


class SportTracks(Platform):
    name = "sporttracks"
    operations = [
        Operation("GET", "/oauth2/authorize", "authorize"),
        Operation("POST", "/oauth2/token", "token"),
        Operation("GET", "/api/v2/fitnessActivities", "list"),
        Operation("POST", "/api/v2/fitnessActivities", "create"),
        Operation("GET", "/api/v2/fitnessActivities/{id}", "get"),
        Operation("PUT", "/api/v2/fitnessActivities/{id}", "update"),
        Operation("DELETE", "/api/v2/fitnessActivities/{id}", "delete"),
        Operation("POST", "/api/v2/fileUpload", "upload"),
    ]

    def __init__(self):
        self.reset()

    def reset(self):
        self.oauth = OAuthServer(lifetime_s=7200, rotate=True)
        self.oauth.access[TOKEN] = float("inf")
        self.workouts = {}
        self.next_id = 100001
        self.base = ""

    @staticmethod
    def uri(workout_id, singular=False):
        # Workout URIs name the real host; only `next` links point back here.
        return "%s/api/v2/%s/%s" % (PUBLIC_HOST, "fitnessActivity" if singular else "fitnessActivities", workout_id)

    def route(self, request):
        self.base = "http://" + (request.header("Host") or "127.0.0.1")
        op = self.operation_of(request)
        if op is None:
            return error(404, "not found")
        name, params = op
        if name == "authorize":
            return self.authorize(request)
        if name == "token":
            return self.oauth.token_endpoint(request)
        denied = self.oauth.check(request)
        if denied is not None:
            return error(401, "invalid or expired access token")
        if name == "list":
            return self.list(request)
        if name == "create":
            return self.create(request)
        if name == "upload":
            return self.upload(request)
        workout = self.workouts.get(params["id"])
        if workout is None:
            return error(404, "workout not found")
        if name == "get":
            return json_reply(self.public(workout))
        if name == "delete":
            del self.workouts[params["id"]]
            return json_reply({"status": "ok"})
        return self.replace(request, workout)

    @staticmethod
    def public(workout):
        return {k: v for k, v in workout.items() if not k.startswith("_")}

    def authorize(self, request):
        redirect = request.arg("redirect_uri")
        if request.arg("client_id") != self.oauth.client_id or not redirect:
            return error(400, "unknown client_id or no redirect_uri")
        if not request.arg("state"):
            return error(400, "state is required")
        params = {"code": self.oauth.new_code(), "state": request.arg("state")}
        location = redirect + ("&" if "?" in redirect else "?") + urllib.parse.urlencode(params)
        return Reply(302, b"", [("Location", location)], content_type=None)

    def list(self, request):
        try:
            size = max(1, min(1000, int(request.arg("pageSize", "25"))))
            page = int(request.arg("page", "0"))
            since = request.arg("noEarlierThan")
            until = request.arg("noLaterThan")
            since = parse_time(since) if since else None
            until = parse_time(until) if until else None
        except ValueError:
            return error(400, "bad pageSize, page, noEarlierThan or noLaterThan")
        rows = [w for w in self.workouts.values()
                if (since is None or w["_start"] >= since) and (until is None or w["_start"] <= until)]
        rows.sort(key=lambda w: (-w["_start"], w["uri"]))
        chunk = rows[page * size:(page + 1) * size]
        out = {"size": num(len(rows)),
               "items": [{k: w[k] for k in ("uri", "name", "type", "start_time", "duration", "total_distance",
                                            "user_id") if k in w} for w in chunk]}
        if (page + 1) * size < len(rows):
            query = dict(request.query)
            query["page"] = [str(page + 1)]
            out["next"] = "%s%s?%s" % (self.base, request.path, urllib.parse.urlencode(query, doseq=True))
        return json_reply(out)

    def body_of(self, request):
        try:
            body = json.loads(request.body)
        except ValueError:
            return None
        return body if isinstance(body, dict) and body.get("start_time") else None

    def create(self, request):
        body = self.body_of(request)
        if body is None:
            return error(400, "a JSON workout with start_time is required")
        workout = self.store(dict(body))
        return json_reply({"uris": [workout["uri"]]})

    def replace(self, request, workout):
        body = self.body_of(request)
        if body is None:
            return error(400, "a JSON workout with start_time is required")
        body["uri"] = workout["uri"]
        body["_id"] = workout["_id"]
        body["_start"] = parse_time(body["start_time"])
        body["_updates"] = workout.get("_updates", 0) + 1
        self.workouts[workout["_id"]] = body
        return json_reply({"uris": [workout["uri"]]})

    def upload(self, request):
        kind = request.header("Content-Type") or ""
        try:
            if kind.startswith("application/json"):
                form = json.loads(request.body)
            else:
                form = dict(urllib.parse.parse_qsl(request.body.decode("utf-8", "replace")))
        except ValueError:
            return error(400, "unreadable body")
        fmt = form.get("format")
        if fmt not in ("FIT", "TCX", "GPX") or not form.get("data"):
            return error(400, "format (FIT, TCX or GPX) and data are required")
        try:
            data = base64.b64decode(form["data"], validate=True) if fmt == "FIT" else form["data"].encode()
            info = activity_files.summarize(data)
        except (ValueError, activity_files.BadFile) as e:
            return error(400, "cannot import the %s data: %s" % (fmt, e))
        if info["format"] != fmt.lower():
            return error(400, "the data is not %s" % fmt)
        workout = self.store({"name": form.get("name") or "", "type": FILE_TYPES.get(info["type"], "Other"),
                              "start_time": local_time(info["start"], 0), "duration": num(info["elapsed"] or 0),
                              "total_distance": num(info["distance"] or 0), "_source": fmt})
        return json_reply({"fitnessActivities": {"size": 1, "uris": [self.uri(workout["_id"], singular=True)]}})

    def store(self, workout, workout_id=None):
        workout_id = workout_id or str(self.next_id)
        self.next_id += 1
        workout.update({"uri": self.uri(workout_id), "_id": workout_id, "user_id": "4711",
                        "_start": parse_time(workout["start_time"])})
        self.workouts[workout_id] = workout
        return workout

    # -- control ----------------------------------------------------------

    def add(self, spec):
        start = float(spec["start"])
        offset = spec.get("offset_hours", -5)
        duration = spec.get("duration", 3600)
        distance = spec.get("distance", 20000.0)
        workout = {"name": spec.get("name", ""), "type": spec.get("type", "Cycling"),
                   "start_time": local_time(start, offset), "duration": num(duration),
                   "clock_duration": num(duration), "total_distance": num(float(distance)),
                   "notes": spec.get("notes", "Felt strong"), "tags": "fitbridge,test",
                   "elevation_gain": "120", "total_calories": "640",
                   "equipment": {"uri": "https://api.sporttracks.mobi/api/v2/equipment/77", "name": "Trek"},
                   "laps": [{"start_time": local_time(start, offset), "duration": num(duration),
                             "clock_duration": num(duration), "total_distance": num(float(distance))}]}
        if spec.get("samples"):
            points = int(spec.get("points", 20))
            step = duration / max(1, points - 1)
            location, elevation, heartrate, cadence, power, dist = [], [], [], [], [], []
            for i in range(points):
                t = round(i * step)
                location += [t, [round(45.0 + i * 0.0005, 7), round(7.0 + i * 0.0005, 7)]]
                elevation += [t, num(100.0 + 2 * math.sin(i))]
                heartrate += [t, num(120 + i % 30)]
                cadence += [t, num(85 + i % 5)]
                power += [t, num(200 + i % 40)]
                dist += [t, num(round(distance * i / max(1, points - 1), 1))]
            workout.update({"location": location, "elevation": elevation, "heartrate": heartrate,
                            "cadence": cadence, "power": power, "distance": dist})
        return self.store(workout, spec.get("id"))

    def control(self, request):
        if request.path == "/_fake/activities" and request.method == "POST":
            spec = json.loads(request.body or b"{}")
            return json_reply([self.add(one)["_id"] for one in (spec if isinstance(spec, list) else [spec])])
        if request.path == "/_fake/activities" and request.method == "GET":
            return json_reply(list(self.workouts.values()))
        if request.path == "/_fake/grant" and request.method == "POST":
            access, refresh = self.oauth.grant()
            return json_reply({"access_token": access, "refresh_token": refresh})
        return Platform.control(self, request)
