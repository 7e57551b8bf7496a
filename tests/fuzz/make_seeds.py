#!/usr/bin/env python3
"""Writes candidate seeds for the fuzz targets into OUT/<target>/, from small
files of the test corpus (../shared/testdata/activities, or $FITBRIDGE_TESTDATA_DIR),
shortened copies of larger ones, and synthesised requests and configs.
`scripts/fuzz-smoke --reseed` then keeps, with libFuzzer's -merge=1, only the
candidates that add coverage, in tests/fuzz/corpus/<target>/.

    tests/fuzz/make_seeds.py OUT
"""
import gzip
import os
import re
import sys

repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
corpus = os.environ.get("FITBRIDGE_TESTDATA_DIR", os.path.join(repo, "..", "shared", "testdata", "activities"))
out = sys.argv[1]
max_len = {"fit_fuzz": 16384, "gpx_fuzz": 8192, "tcx_fuzz": 8192, "gzip_fuzz": 8192, "api_fuzz": 4096,
           "config_fuzz": 8192}


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
