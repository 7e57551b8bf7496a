"""A platform that follows the "Becoming a provider" contract
(../shared/seeds/000, the end of the providers page), for `provider: rest`.

Two configurations of one class:

- `rest`: exactly the contract's example API. Bearer API key; GET
  /activities?after=&before= (epoch seconds) answers a bare array of
  {id, name, type, start_time, duration_seconds, distance_miles}, no paging;
  GET /activities/{id} adds description and gear_id; PATCH /activities/{id}
  with a partial JSON body; POST /activities with a JSON body answers
  {"id": "..."}; GET /gear answers [{id, name}]. No original files.
- `rest_custom`: the same contract with everything named differently:
  /api/v2/workouts?from=&to= with ISO-8601 times, page (from 0) and limit
  paging, the array at data.items, fields workout_id/title/activity/started_at/
  elapsed/distance_km (km)/notes/equipment_id, the original at
  /api/v2/workouts/{id}/original, PUT updates, multipart create at
  /api/v2/uploads (file part "file", answered {"workout_id": ...}), gear at
  /api/v2/equipment.

Neither de-duplicates: the contract promises nothing of the kind.

Control API (besides the framework's):
  POST /_fake/activities   one activity or a list: {"start" (epoch) | "start_time"
                            (ISO), "type" (a contract word: run, ride, ...),
                            "name", "duration", "distance_m", "description",
                            "gear_id", "file_b64", "id"?} -> ids
  GET  /_fake/activities   every stored activity (internal form, + "has_file")
"""

import base64
import datetime
import json
import re

import activity_files
from framework import BearerAuth, Operation, Platform, Reply, json_reply, paginate
from intervals import parse_multipart

API_KEY = "test-api-key"
TOKEN = "test-oauth-token"

EXAMPLE = {
    "list": "/activities", "after": "after", "before": "before", "time": "epoch", "page": None,
    "per_page": None, "first_page": 1, "items": "", "get": "/activities/{id}", "file": None,
    "update_method": "PATCH", "update": "/activities/{id}", "create": "/activities", "body": "json",
    "gear": "/gear", "gear_field": "gear_id", "unit": "mi",
    "fields": {"id": "id", "name": "name", "sport": "type", "start": "start_time",
               "duration": "duration_seconds", "distance": "distance_miles", "description": "description",
               "gear": "gear_id"},
}

CUSTOM = {
    "list": "/api/v2/workouts", "after": "from", "before": "to", "time": "iso8601", "page": "page",
    "per_page": "limit", "first_page": 0, "items": "data.items", "get": "/api/v2/workouts/{id}",
    "file": "/api/v2/workouts/{id}/original", "update_method": "PUT", "update": "/api/v2/workouts/{id}",
    "create": "/api/v2/uploads", "body": "multipart", "gear": "/api/v2/equipment",
    "gear_field": "equipment_id", "unit": "km",
    "fields": {"id": "workout_id", "name": "title", "sport": "activity", "start": "started_at",
               "duration": "elapsed", "distance": "distance_km", "description": "notes",
               "gear": "equipment_id"},
}

UNIT_M = {"m": 1.0, "km": 1000.0, "mi": 1609.344}
FILE_SPORTS = {"Run": "run", "Ride": "ride", "VirtualRide": "ride", "Walk": "walk", "Swim": "swim",
               "Hike": "hike"}


def iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def error(status, message):
    return json_reply({"error": message}, status)


class RestContract(Platform):
    def __init__(self, config):
        self.c = config
        self.name = "rest"
        self.auth = BearerAuth([API_KEY, TOKEN])
        ops = [Operation("GET", config["list"], "list"), Operation("GET", config["get"], "get"),
               Operation(config["update_method"], config["update"], "update"),
               Operation("POST", config["create"], "create"), Operation("GET", config["gear"], "gear")]
        if config["file"]:
            ops.append(Operation("GET", config["file"], "file"))
        self.operations = ops
        self.reset()

    def reset(self):
        self.activities = {}
        self.next_id = 1
        self.gear = [{"id": "g1", "name": "Trek Domane"}, {"id": "g2", "name": "Pegasus 40"}]

    # -- wire format ------------------------------------------------------

    def time_out(self, epoch):
        return int(epoch) if self.c["time"] == "epoch" else iso(epoch)

    def time_in(self, text):
        if self.c["time"] == "epoch":
            return float(text)
        return activity_files.parse_iso(text)

    def show(self, act, full):
        f = self.c["fields"]
        out = {f["id"]: act["id"], f["name"]: act["name"], f["sport"]: act["type"],
               f["start"]: self.time_out(act["start"]), f["duration"]: act["duration"]}
        if act["distance_m"] is not None:
            out[f["distance"]] = round(act["distance_m"] / UNIT_M[self.c["unit"]], 3)
        if full:
            out[f["description"]] = act["description"]
            out[f["gear"]] = act["gear_id"]
        return out

    def nest(self, rows):
        out = rows
        for key in reversed([k for k in self.c["items"].split(".") if k]):
            out = {key: out}
        return out

    def route(self, request):
        denied = self.auth.check(request)
        if denied is not None:
            return denied
        op = self.operation_of(request)
        if op is None:
            return error(404, "no such endpoint")
        name, params = op
        if name == "list":
            return self.list(request)
        if name == "gear":
            return json_reply(self.gear)
        if name == "create":
            return self.create(request)
        act = self.activities.get(params.get("id"))
        if act is None:
            return error(404, "activity not found")
        if name == "get":
            return json_reply(self.show(act, True))
        if name == "file":
            if act["file"] is None:
                return error(404, "no original file for this activity")
            return self.file_reply(act["file"])
        return self.update(request, act)

    @staticmethod
    def file_reply(data):
        return Reply(200, data, content_type="application/octet-stream")

    def list(self, request):
        try:
            after = self.time_in(request.arg(self.c["after"]))
            before = request.arg(self.c["before"])
            before = self.time_in(before) if before is not None else None
        except (TypeError, ValueError):
            return error(400, "%s and %s must be %s times" % (self.c["after"], self.c["before"], self.c["time"]))
        rows = sorted((a for a in self.activities.values()
                       if a["start"] >= after and (before is None or a["start"] < before)),
                      key=lambda a: (a["start"], a["id"]))
        rows = [self.show(a, False) for a in rows]
        if self.c["page"]:
            style = "page0" if self.c["first_page"] == 0 else "page1"
            rows, _ = paginate(rows, request, style, page_name=self.c["page"], per_page_name=self.c["per_page"],
                               default_limit=50, max_limit=1000)
        return json_reply(self.nest(rows))

    def create(self, request):
        f = self.c["fields"]
        if self.c["body"] == "json":
            try:
                body = json.loads(request.body)
                start = self.time_in(str(body[f["start"]]))
            except (ValueError, KeyError, TypeError):
                return error(400, "a JSON body with %s is required" % f["start"])
            distance = body.get(f["distance"])
            act = self.add({"start": start, "name": body.get(f["name"], ""), "type": body.get(f["sport"], "other"),
                            "duration": body.get(f["duration"]),
                            "distance_m": distance * UNIT_M[self.c["unit"]] if distance is not None else None})
        else:
            m = re.search(r'boundary="?([^";]+)"?', request.header("Content-Type") or "")
            if not m:
                return error(415, "multipart/form-data expected")
            parts = parse_multipart(request.body, m.group(1).encode())
            file_part = next((p for p in parts if p["name"] == "file"), None)
            if file_part is None:
                return error(400, "the file part is missing")
            try:
                info = activity_files.summarize(file_part["data"])
            except activity_files.BadFile as e:
                return error(422, str(e))
            title = next((p["data"].decode() for p in parts if p["name"] == f["name"]), "")
            act = self.add({"start": info["start"], "name": title, "type": FILE_SPORTS.get(info["type"], "other"),
                            "duration": info["elapsed"], "distance_m": info["distance"],
                            "file_b64": base64.b64encode(file_part["data"]).decode()})
        return json_reply({f["id"]: act["id"]}, 201)

    def update(self, request, act):
        f = self.c["fields"]
        try:
            body = json.loads(request.body)
        except ValueError:
            return error(400, "a JSON body is required")
        for key, value in body.items():
            if key == f["name"]:
                act["name"] = value
            elif key == f["description"]:
                act["description"] = value
            elif key == f["sport"]:
                act["type"] = value
            elif key == self.c["gear_field"]:
                act["gear_id"] = value
            else:
                return error(400, "unknown field %s" % key)
        return json_reply(self.show(act, True))

    # -- control ----------------------------------------------------------

    def add(self, spec):
        act_id = spec.get("id") or "a%d" % self.next_id
        self.next_id += 1
        start = spec["start"] if "start" in spec else activity_files.parse_iso(spec["start_time"])
        data = base64.b64decode(spec["file_b64"]) if spec.get("file_b64") else None
        act = {"id": act_id, "name": spec.get("name", ""), "type": spec.get("type", "ride"), "start": float(start),
               "duration": spec.get("duration", 3600), "distance_m": spec.get("distance_m"),
               "description": spec.get("description", ""), "gear_id": spec.get("gear_id"),
               "file": data if self.c["file"] else None}
        self.activities[act_id] = act
        return act

    def control(self, request):
        if request.path == "/_fake/activities" and request.method == "POST":
            spec = json.loads(request.body or b"{}")
            return json_reply([self.add(one)["id"] for one in (spec if isinstance(spec, list) else [spec])])
        if request.path == "/_fake/activities" and request.method == "GET":
            return json_reply([dict({k: v for k, v in a.items() if k != "file"}, has_file=a["file"] is not None)
                               for a in self.activities.values()])
        return Platform.control(self, request)


def example():
    return RestContract(EXAMPLE)


def custom():
    return RestContract(CUSTOM)
