#!/usr/bin/env python3
"""Writes candidate seeds for the fuzz targets into OUT/<target>/, from small
files of the test corpus (../shared/testdata/activities, or $FITBRIDGE_TESTDATA_DIR),
shortened copies of larger ones, synthesised requests and configs, and
platform answers (JSON shaped like Intervals.icu's, ZIP, gzip and HTML bodies)
built around files of tests/data.
`scripts/fuzz-smoke --reseed` then keeps, with libFuzzer's -merge=1, only the
candidates that add coverage, in tests/fuzz/corpus/<target>/.

    tests/fuzz/make_seeds.py OUT
"""
import gzip
import io
import json
import os
import re
import sys
import zipfile

repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
corpus = os.environ.get("FITBRIDGE_TESTDATA_DIR", os.path.join(repo, "..", "shared", "testdata", "activities"))
out = sys.argv[1]
max_len = {"fit_fuzz": 16384, "gpx_fuzz": 8192, "tcx_fuzz": 8192, "gzip_fuzz": 8192, "api_fuzz": 4096,
           "config_fuzz": 8192, "kit_fuzz": 8192, "platform_fuzz": 8192}


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    data = data[: max_len[target]]
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, re.sub(r"[^A-Za-z0-9._-]", "_", name)), "wb") as f:
        f.write(data)


def files(sub, suffix):
    d = os.path.join(corpus, sub)
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.lower().endswith(suffix))


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    return gzip.decompress(data) if path.endswith(".gz") else data


# XML: the document cut after its first few points, with the open elements
# closed again, so a seed is small but still a whole, valid-looking file.
def shorten_xml(text, point_tag, keep):
    ends = [m.end() for m in re.finditer(r"</%s>" % point_tag, text)]
    if len(ends) <= keep:
        return text
    head = text[: ends[keep - 1]]
    stack = []
    for m in re.finditer(r"<(/?)([A-Za-z_][\w:.-]*)[^>]*?(/?)>", head):
        closing, name, selfclosing = m.group(1), m.group(2), m.group(3)
        if selfclosing:
            continue
        if closing:
            if stack and stack[-1] == name:
                stack.pop()
        else:
            stack.append(name)
    return head + "".join("</%s>" % n for n in reversed(stack))


for kind, tag in (("gpx", "trkpt"), ("tcx", "Trackpoint")):
    target = kind + "_fuzz"
    for path in files(kind, "." + kind) + files(kind, "." + kind + ".gz") + files("bad", "." + kind):
        text = read(path).decode("utf-8", "replace")
        for keep in (2, 6):
            put(target, "%s.%d" % (os.path.basename(path), keep), shorten_xml(text, tag, keep))

for path in files("fit", ".fit") + files("bad", ".fit"):
    data = read(path)
    # The header, the definitions and the first records: enough to reach each
    # device's messages while keeping the corpus (and each execution) small.
    put("fit_fuzz", os.path.basename(path), data[:4096])

for path in files("fit", ".gz") + files("gpx", ".gz") + files("tcx", ".gz") + files("bad", ".gz"):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) <= max_len["gzip_fuzz"]:
        put("gzip_fuzz", os.path.basename(path), raw)
    payload = gzip.decompress(raw) if not path.startswith(os.path.join(corpus, "bad")) else raw[:2048]
    put("gzip_fuzz", os.path.basename(path) + ".small.gz", gzip.compress(payload[:2048], mtime=0))

# gzip members around small payloads of each kind (the target inflates and
# dispatches on what it finds inside).
for target in ("fit_fuzz", "gpx_fuzz", "tcx_fuzz"):
    d = os.path.join(out, target)
    for name in sorted(os.listdir(d))[:8] if os.path.isdir(d) else []:
        with open(os.path.join(d, name), "rb") as f:
            payload = f.read(6144)
        put("gzip_fuzz", name + ".gz", gzip.compress(payload, mtime=0))

token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
auth = "Authorization: Bearer %s\r\n" % token
requests = {
    "healthz": "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "status": "GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1:8787\r\n" + auth + "\r\n",
    "noauth": "GET /v1/jobs HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "query": "GET /v1/activities?since=2024-01-01&sport=ride&limit=20&cursor=a%20b HTTP/1.1\r\nHost: [::1]:8787\r\n"
    + auth + "\r\n",
    "param": "GET /v1/activities/12%2F3 HTTP/1.1\r\nHost: fitbridge.lan\r\n" + auth + "Origin: http://localhost:8787\r\n\r\n",
    "post": "POST /v1/backfill HTTP/1.1\r\nHost: localhost\r\n" + auth
    + "Content-Type: application/json\r\nContent-Length: 47\r\n\r\n"
    + '{"route":"inbox-to-archive","since":"2019-01-01"}',
    "chunked": "POST /v1/accounts/icu/credentials HTTP/1.1\r\nHost: localhost\r\n" + auth
    + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n3\r\n[1]\r\n1\r\n}\r\n0\r\n\r\n",
    "405": "DELETE /v1/jobs/1 HTTP/1.1\r\nHost: localhost\r\n" + auth + "\r\n",
    "415": "POST /v1/plan HTTP/1.1\r\nHost: localhost\r\n" + auth + "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}",
    "origin": "GET /metrics HTTP/1.1\r\nHost: localhost\r\nOrigin: null\r\n" + auth + "\r\n",
    "head": "HEAD /healthz HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n",
    "badtarget": "GET /v1/%zz?x=%G1 HTTP/1.1\r\nHost: localhost\r\n" + auth + "\r\n",
}
for name, r in requests.items():
    put("api_fuzz", name, r)

example = os.path.join(repo, "config", "fitbridge.example.yaml")
with open(example) as f:
    put("config_fuzz", "example.yaml", f.read())
configs = {
    "full": """log_level: debug
api:
  listen: "[::1]:9000"
  allowed_hosts: [fitbridge.lan]
  header_timeout: 5s
  max_connections: 8
  metrics_public: true
sync:
  match_tolerance: 10m
  match_duration_ratio: 0.1
  name_authority: icu
accounts:
  - id: zwift
    provider: folder
    preset: zwift
    poll_interval: 1h
  - id: icu
    provider: intervals_icu
    api_key_file: icu.key
    enabled: false
    tags: [a, b]
routes:
  - id: zwift-to-icu
    from: zwift
    to: [icu]
    since: 2019-01-01
    sports: [ride, run]
""",
    "unix": "api: {listen: 'unix:/run/fitbridge.sock', idle_timeout: 2d}\naccounts: []\nroutes: []\n",
    "bad": "api:\n  listen: [1, 2]\n  request_timeout: -1\nsync: {match_duration_ratio: 2}\n",
    "anchors": "accounts:\n  - &a {id: x, provider: archive, root: /tmp/a}\n  - *a\nroutes:\n  - {id: r, from: x, to: x}\n",
}
for name, c in configs.items():
    put("config_fuzz", name + ".yaml", c)


# ---- platform answers (kit_fuzz, platform_fuzz) ------------------------------
data = os.path.join(repo, "tests", "data")


def data_file(rel):
    with open(os.path.join(data, rel), "rb") as f:
        return f.read()


def zip_of(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, payload in members:
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 10, 8, 0, 0))
            z.writestr(info, payload, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


small_fit = data_file("fit/chained-activity-settings.fit")
small_gpx = shorten_xml(data_file("gpx/fittrackee-e2e.gpx").decode(), "trkpt", 3).encode()
small_tcx = shorten_xml(read(os.path.join(data, "tcx", sorted(os.listdir(os.path.join(data, "tcx")))[0])).decode(
    "utf-8", "replace"), "Trackpoint", 3).encode()


def row(i, start, **extra):
    r = {"id": "i%d" % i, "name": "Ride %d" % i, "start_date": start + "Z", "start_date_local": start,
         "type": "VirtualRide", "elapsed_time": 3600 + i, "distance": 20000.5 + i, "source": "UPLOAD",
         "external_id": "fb-%d" % i}
    r.update(extra)
    return r


page1 = json.dumps([row(3, "2025-01-20T08:00:00"), row(2, "2025-01-15T08:00:00"),
                    row(1, "2025-01-10T08:00:00", source="STRAVA", name="")], separators=(",", ":"))
page2 = json.dumps([row(0, "2025-01-05T07:30:00", type="Run", distance="10 km")], separators=(",", ":"))
html = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
bodies = {
    "list": page1.encode(),
    "list_odd": b'[{"id":5,"start_date":1736496000000},{"id":"","type":null},[],{"id":"x","elapsed_time":"1:02:03",'
    b'"distance":"3.1mi","start_date":"2025-01-10 08:00:00.250+01:00"}]',
    "upload": b'{"id":"i77","activities":[{"id":"i77"}]}',
    "gear": b'[{"id":"b1234","name":"Canyon","type":"Bike"},{"id":"s99","name":"Shoes","type":"Shoes","retired":"2024"}]',
    "error": b'{"status":404,"error":"Not Found","message":"Activity i9 not found","errors":[{"detail":"no such id"}]}',
    "durations": b'{"a":["PT1H2M3S","P1DT1H","62:03","3723.5","5 km","4200 m"],"b":{"c.d":"2025-01-10T08:00:00Z"}}',
    "html": html,
    "zip_fit": zip_of([("activity_123.fit", small_fit)]),
    "zip_two": zip_of([("a.gpx", small_gpx), ("b.tcx", small_tcx)]),
    "zip_none": zip_of([("readme.txt", b"nothing here"), ("dir/", b"")]),
    "gpx_gz": gzip.compress(small_gpx, mtime=0),
    "tcx": small_tcx,
    "fit": small_fit,
}
for name, body in bodies.items():
    put("kit_fuzz", name, body)


def answer(status, body, headers=()):
    head = "%d\n" % status + "".join("%s: %s\n" % h for h in headers) + "\n"
    return head.encode() + (body if isinstance(body, bytes) else body.encode())


js = [("content-type", "application/json")]
sep = b"\n=====\n"
scripts = {
    # A window of two pages, an incremental poll, downloads, an upload with
    # its gear update, find_existing and the gear list.
    "full": [answer(200, page1, js), answer(200, page2, js), answer(200, "[]", js),
             answer(200, small_fit, [("content-type", "application/octet-stream")]),
             answer(200, bodies["zip_fit"], [("content-type", "application/zip")]),
             answer(200, bodies["gpx_gz"]), answer(404, bodies["error"], js),
             answer(201, bodies["upload"], js), answer(200, "{}", js), answer(200, page1, js),
             answer(200, bodies["gear"], js)],
    # Refusals and throttling: auth, rate limit, server errors, HTML pages.
    "errors": [answer(403, '{"error":"Access denied"}', js), answer(429, "", [("retry-after", "5")]),
               answer(401, "", [("www-authenticate", "Basic")]), answer(401, ""), answer(503, html, [("content-type", "text/html")]),
               answer(200, html, [("content-type", "text/html")]), answer(200, "", []),
               answer(422, '{"message":"File has no activities"}', js), answer(500, "not json"), b"lost"],
    # Upload answered without an id (read back by listing), duplicates.
    "upload_readback": [answer(200, "[]", js), answer(200, "[]", js), answer(200, bodies["zip_two"]),
                        answer(200, bodies["zip_none"]), answer(200, small_tcx), answer(200, b"x"),
                        answer(201, "{}", js),
                        answer(200, json.dumps([row(9, "2016-04-11T10:00:00", external_id="fb-0123456789abcdef")]), js),
                        answer(200, '{"id":"i9"}', js), answer(200, bodies["list_odd"], js), answer(200, "{}", js)],
}
# The first byte picks the platform (a row of k_platforms in platform_fuzz.cpp).
platform_rows = 5
for name, parts in scripts.items():
    for selector in range(platform_rows):
        put("platform_fuzz", "%s-%d" % (name, selector), bytes([selector]) + sep.join(parts))

# ---- health exports (health_fuzz) ---------------------------------------------
# The first byte picks the parser (0 export.xml, 1 its heart-rate pass, 2 a
# route GPX, 3 Samsung's exercise table, 4 its locations, 5 its live data),
# the second the chunk size export.xml is fed in.
max_len["health_fuzz"] = 8192
apple_xml = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Workout)*)>
<!ATTLIST HealthData locale CDATA #REQUIRED>
]>
<HealthData locale="en_GB">
 <ExportDate value="2022-07-01 10:00:00 +0200"/>
 <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="W" unit="count/min" startDate="2022-06-01 07:30:05 +0200" endDate="2022-06-01 07:30:05 +0200" value="128">
  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="2"/>
 </Record>
 <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="W" unit="count/min" startDate="2022-06-01 07:30:10 +0200" endDate="2022-06-01 07:30:10 +0200" value="131"/>
 <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" durationUnit="min" totalDistance="5.2" totalDistanceUnit="km" sourceName="W" startDate="2022-06-01 07:30:00 +0200" endDate="2022-06-01 08:00:00 +0200">
  <MetadataEntry key="HKIndoorWorkout" value="0"/>
  <WorkoutRoute sourceName="W" startDate="2022-06-01 07:30:00 +0200" endDate="2022-06-01 08:00:00 +0200">
   <FileReference path="/workout-routes/route_2022-06-01_8.00am.gpx"/>
  </WorkoutRoute>
 </Workout>
 <Workout workoutActivityType="HKWorkoutActivityTypeCycling" duration="1.5" durationUnit="hr" sourceName="W" startDate="2022-06-02 07:30:00 +0200" endDate="2022-06-02 09:00:00 +0200">
  <WorkoutStatistics type="HKQuantityTypeIdentifierDistanceCycling" startDate="2022-06-02 07:30:00 +0200" endDate="2022-06-02 09:00:00 +0200" sum="30.5" unit="mi"/>
 </Workout>
</HealthData>
"""
route_gpx = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="Apple Health Export" xmlns="http://www.topografix.com/GPX/1/1">
 <trk><name>Route</name><trkseg>
  <trkpt lon="7.0000000" lat="45.0000000"><ele>100.0</ele><time>2022-06-01T05:30:00Z</time><extensions><speed>2.8</speed></extensions></trkpt>
  <trkpt lon="7.0000100" lat="45.0000400"><ele>100.5</ele><time>2022-06-01T05:30:02Z</time></trkpt>
  <trkpt lon="7.0000200" lat="45.0000800"><time>2022-06-01T05:30:04Z</time></trkpt>
 </trkseg></trk>
</gpx>
"""
samsung_prefix = "com.samsung.health.exercise."
samsung_csv = ("com.samsung.shealth.exercise,6312002,3\n" +
               ",".join(samsung_prefix + c for c in ["start_time", "end_time", "exercise_type", "duration",
                                                     "distance", "location_data", "live_data", "datauuid"]) +
               ",\n2024-01-02 06:00:00.000,2024-01-02 06:10:00.000,11007,600000,4000.5,a.json,a.json,u1,\n" +
               '2024-01-03 18:00:00.000,2024-01-03 18:20:00.000,"9002",1200000,,,,"u""2",\n')
locations = json.dumps([{"latitude": 45.0, "longitude": 7.0, "altitude": 100, "start_time": 1704175200000},
                        {"latitude": 45.001, "longitude": 7.0, "start_time": 1704175210000}])
live = json.dumps([{"start_time": 1704175200000, "heart_rate": 130, "speed": 6.5},
                   {"start_time": 1704175205000, "speed": 6.6}, {"start_time": 1704175203000, "heart_rate": 131}])
for name, sel, chunk, body in [("apple_xml_whole", 0, 255, apple_xml), ("apple_xml_chunks", 0, 6, apple_xml),
                               ("apple_hr", 1, 63, apple_xml), ("route_gpx", 2, 0, route_gpx),
                               ("samsung_csv", 3, 0, samsung_csv), ("samsung_locations", 4, 0, locations),
                               ("samsung_live", 5, 0, live)]:
    put("health_fuzz", name, bytes([sel, chunk]) + body.encode())
