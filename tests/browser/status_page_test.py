#!/usr/bin/env python3
"""The status page in a real browser: Debian's chromium, headless, driven
through the DevTools protocol (python3-websocket), against the real daemon.

It signs in (a wrong token first, then the right one), sees the accounts,
drops a file into the watched folder and sees the activity arrive live with
its delivery chips, opens its details, retries the delivery that failed,
follows the daemon through a restart (events resumed with Last-Event-ID),
pages through sixty activities by scrolling, filters them, starts a sync and
a backfill, visits every screen (a screenshot of each under --out), signs in again through
a `fitbridge open` link, checks the phone layout, and checks that the page
requested nothing but the daemon and raised no script or CSP error.

Exit 0: passed; 1: failed; 77: skipped (no chromium or websocket module, and
$CI is not set).
"""

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

try:
    import websocket  # Debian: python3-websocket
except ImportError:  # a python3 other than Debian's (pyenv, venv) may lack it
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import websocket
    except ImportError:
        websocket = None

SKIP = 77


class Failure(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, token=None, body=None, timeout=5):
    req = urllib.request.Request(url, method=method, data=body)
    req.add_header("Host", url.split("/")[2])
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Browser:
    """One page of a headless chromium, spoken to over the DevTools protocol."""

    def __init__(self, chromium, profile, log_path):
        args = [
            chromium, "--headless=new", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-default-apps", "--metrics-recording-only", "--password-store=basic",
            "--remote-debugging-port=0", "--remote-allow-origins=*", "--user-data-dir=" + profile,
            "--window-size=1280,900", "about:blank",
        ]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # chromium refuses to run as root with its sandbox
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not (os.path.exists(port_file) and open(port_file).read().count("\n") >= 1):
            if time.time() > deadline or self.proc.poll() is not None:
                raise Failure("chromium did not start (see %s)" % log_path)
            time.sleep(0.1)
        port = int(open(port_file).read().split("\n")[0])
        pages = []
        while not pages:
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=5) as r:
                pages = [t for t in json.load(r) if t["type"] == "page"]
            time.sleep(0.1)
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30)
        self.next_id = 0
        self.events = []
        self.requests = []  # every URL the page asked for
        self.sent = []  # (URL, request headers) of each request
        self.problems = []  # script exceptions, CSP and other security messages
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(domain + ".enable")

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)
        except Exception:
            self.proc.kill()
        self.log.close()

    def _event(self, msg):
        method = msg.get("method")
        p = msg.get("params", {})
        if method == "Network.requestWillBeSent":
            self.requests.append(p["request"]["url"])
            self.sent.append((p["request"]["url"], p["request"].get("headers", {})))
        elif method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            self.problems.append("exception: %s" % d.get("exception", {}).get("description", d.get("text")))
        elif method == "Log.entryAdded" and p["entry"]["source"] in ("security", "javascript"):
            self.problems.append("%s: %s" % (p["entry"]["source"], p["entry"]["text"]))
        elif method == "Runtime.consoleAPICalled" and p["type"] == "error":
            self.problems.append("console.error: %s" % p["args"])
        self.events.append(method)

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise Failure("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self._event(msg)

    def eval(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in r:
            raise Failure("evaluating %r: %s" % (expression, r["exceptionDetails"].get("exception", {}).get(
                "description", r["exceptionDetails"].get("text"))))
        return r["result"].get("value")

    def wait_for(self, expression, what, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.eval(expression):
                return
            time.sleep(0.1)
        raise Failure("timed out waiting for %s (%s)" % (what, expression))

    def goto(self, url):
        self.call("Page.navigate", url=url)

    def screenshot(self, path, whole_page=True):
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=whole_page)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))


def text_of(selector):
    return "(document.querySelector(%s)?.textContent || '')" % json.dumps(selector)


def visible(selector):
    return "(() => { const e = document.querySelector(%s); return !!e && !e.closest('[hidden]'); })()" % json.dumps(
        selector)


def recent_gpx(days_ago=40):
    """A 20-minute ride that started `days_ago` days ago, one point every 10 s."""
    start = time.time() - days_ago * 86400
    points = []
    for i in range(120):
        t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + 10 * i))
        points.append('<trkpt lat="%.6f" lon="%.6f"><ele>100</ele><time>%s</time></trkpt>'
                      % (46.0 + i * 0.0008, 14.5, t))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<gpx version="1.1" creator="fitbridge-test" xmlns="http://www.topografix.com/GPX/1/1">'
            '<trk><name>Evening ride</name><type>cycling</type><trkseg>%s</trkseg></trk></gpx>\n' % "".join(points))


def describe_process(proc):
    """The exit status of a daemon that ended, or each of its threads' name, state and wait channel."""
    if proc is None:
        return "the daemon did not start"
    if proc.poll() is not None:
        return "the daemon exited with status %d" % proc.returncode
    lines = []
    for tid in sorted(os.listdir("/proc/%d/task" % proc.pid), key=int):
        try:
            base = "/proc/%d/task/%s/" % (proc.pid, tid)
            name = open(base + "comm").read().strip()
            state = open(base + "stat").read().rsplit(")", 1)[1].split()[0]
            wchan = open(base + "wchan").read().strip() or "-"
        except OSError:
            continue
        lines.append("  thread %s %s: %s in %s" % (tid, name, state, wchan))
    return "the daemon's threads:\n" + "\n".join(lines)


def tail(path, n):
    try:
        with open(path, "rb") as f:
            return b"".join(f.readlines()[-n:]).decode("utf-8", "replace")
    except OSError as e:
        return "(%s)" % e


def run(args, work):
    port = free_port()
    origin = "http://127.0.0.1:%d" % port
    inbox, archive, shelf, state = (os.path.join(work, d) for d in ("inbox", "archive", "shelf", "state"))
    for d in (inbox, archive, shelf):
        os.makedirs(d)
    # An Intervals.icu account (its fake, on loopback) whose key the platform refuses: its card must say
    # needs_reauth, why, and what to do.
    fake = subprocess.Popen([os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakes", "run"),
                             "intervals", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    icu_base = fake.stdout.readline().strip()
    if not icu_base.startswith("http://127.0.0.1:"):
        fake.kill()
        raise Failure("the Intervals.icu fake did not start: %r" % icu_base)
    icu_key = os.path.join(work, "icu.key")
    with open(icu_key, "w") as f:
        f.write("a-key-intervals-refuses\n")
    config = os.path.join(work, "fitbridge.yaml")
    with open(config, "w") as f:
        f.write("""api:
  listen: 127.0.0.1:%(port)d
accounts:
  - id: inbox
    provider: folder
    path: %(inbox)s
    settle_time: "0"
    poll_interval: 10s
  - id: archive
    provider: archive
    root: %(archive)s
  - id: shelf
    provider: archive
    root: %(shelf)s
  - id: rides-icu
    provider: intervals_icu
    base_url: %(icu)s
    api_key_file: %(icu_key)s
routes:
  - id: inbox-out
    from: [inbox]
    to: [archive, shelf]
  - id: rides-in
    from: [rides-icu]
    to: [archive]
""" % {"port": port, "inbox": inbox, "archive": archive, "shelf": shelf, "icu": icu_base, "icu_key": icu_key})
    env = {"HOME": work, "PATH": "/usr/bin:/bin", "FITBRIDGE_STATE_DIR": state, "FITBRIDGE_CONFIG": config}
    ride = os.path.join(args.testdata, "fit", "garmin-fenix2-run.fit")
    # The shelf cannot take the ride while a file stands where its year's folder goes.
    summary = json.loads(subprocess.run([args.fitbridge, "inspect", "--json", ride], env=env, check=True,
                                        capture_output=True, text=True).stdout)
    blocker = os.path.join(shelf, summary["start_time"][:4])
    with open(blocker, "w") as f:
        f.write("not a folder\n")

    daemon_log = open(os.path.join(args.out, "daemon.log"), "wb")
    daemon = None

    def start_daemon():
        proc = subprocess.Popen([args.fitbridge, "serve"], env=env, stdout=daemon_log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while True:
            try:
                if http("GET", origin + "/healthz")[0] == 200:
                    return proc
            except OSError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise Failure("the daemon did not start (see daemon.log)")
            time.sleep(0.1)

    def stop_daemon(proc):
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    browser = None
    try:
        daemon = start_daemon()
        token = open(os.path.join(state, "api-token")).read().strip()

        browser = Browser(args.chromium, os.path.join(work, "chrome"), os.path.join(args.out, "chromium.log"))
        b = browser
        shot = lambda name, whole_page=True: b.screenshot(os.path.join(args.out, name + ".png"), whole_page)

        # Sign-in: a wrong token is refused with a clear message; the right one gets in.
        b.goto(origin + "/")
        b.wait_for(visible("#signin-form"), "the sign-in form")
        shot("signin")
        b.eval("document.getElementById('token').value = 'not-the-token'; "
               "document.getElementById('signin-form').requestSubmit(); true")
        b.wait_for(text_of("#signin-message") + ".includes('refused this token')", "the wrong-token message")
        msg = b.eval(text_of("#signin-message"))
        if "HTTP 401" not in msg:
            raise Failure("wrong-token message: %r" % msg)
        if b.eval("sessionStorage.getItem('fitbridge.token')") is not None:
            raise Failure("a refused token stayed in session storage")
        b.eval("document.getElementById('token').value = %s; "
               "document.getElementById('signin-form').requestSubmit(); true" % json.dumps(token))

        # Overview: the four accounts, the refused one saying so and what to do.
        b.wait_for("document.querySelectorAll('#accounts li[data-account]').length === 4", "four account cards")
        accounts = b.eval("[...document.querySelectorAll('#accounts li[data-account]')].map(e => e.dataset.account)")
        if sorted(accounts) != ["archive", "inbox", "rides-icu", "shelf"]:
            raise Failure("accounts shown: %r" % accounts)
        icu_card = "document.querySelector('#accounts li[data-account=\"rides-icu\"]').textContent"
        b.wait_for(icu_card + ".includes('needs_reauth')", "the refused account in needs_reauth", timeout=30)
        card = b.eval(icu_card)
        for expected in ("Provider", "intervals_icu", "Reason", "401", "What to do",
                         "Put a valid key or token in the file the account's configuration names",
                         "api_key (api_key_file)"):
            if expected not in card:
                raise Failure("the needs_reauth card lacks %r: %r" % (expected, card))
        if b.eval("sessionStorage.getItem('fitbridge.token')") != token:
            raise Failure("the token is not in session storage")
        b.wait_for(text_of("#live") + " === 'Live'", "the live indicator")
        b.wait_for(text_of("#daemon") + ".includes('FitBridge ')", "the daemon card")
        shot("overview")

        # Activities: empty, then a dropped file arrives live (no reload: the marker survives).
        b.eval("location.hash = '#activities'; true")
        b.wait_for(text_of("#activity-end") + " === 'No activities match.'", "the empty activity list")
        b.eval("window.__same_page = true")
        shutil.copy(ride, os.path.join(inbox, "morning-run.fit"))
        row = "document.querySelector('#activity-list li[data-activity]')"
        chip = lambda sink, state: ("!!document.querySelector('#activity-list [data-sink=\"%s\"][data-state=\"%s\"]')"
                                    % (sink, state))
        b.wait_for(row + " !== null", "the new activity's row", timeout=30)
        b.wait_for(chip("archive", "delivered"), "the archive chip turning delivered", timeout=30)
        b.wait_for(chip("shelf", "failed"), "the shelf chip turning failed", timeout=30)
        if not b.eval("window.__same_page === true"):
            raise Failure("the page reloaded instead of updating live")
        chips = b.eval("[...document.querySelectorAll('#activity-list .chips .state')].map(e => e.textContent)")
        if sorted(chips) != ["archive: delivered", "shelf: failed"]:
            raise Failure("chips: %r" % chips)
        shot("activities")

        # Details, then retry the failed delivery once the shelf can take it.
        b.eval(row + ".querySelector('button.row').click(); true")
        b.wait_for("document.getElementById('details').open && !!document.querySelector('#details [data-retry]')",
                   "the details dialog with a Retry button")
        details = b.eval(text_of("#details-body"))
        for expected in ("Deliveries", "Copies", "inbox", "Not a directory", "Retry"):
            if expected not in details:
                raise Failure("details lack %r: %r" % (expected, details[:600]))
        shot("details")
        os.remove(blocker)
        b.eval("document.querySelector('#details [data-retry]').click(); true")
        b.wait_for(chip("shelf", "delivered"), "the shelf chip turning delivered after the retry", timeout=30)
        b.wait_for("!document.querySelector('#details [data-retry]')", "the dialog without a failed delivery")
        shot("details-retried")
        b.eval("document.getElementById('details-close').click(); true")

        # The daemon restarts: the page reconnects to its events with Last-Event-ID and goes on.
        stop_daemon(daemon)
        daemon = None
        b.wait_for(text_of("#live") + " === 'Live updates: reconnecting…'", "the page noticing the daemon is gone")
        daemon = start_daemon()
        b.wait_for(text_of("#live") + " === 'Live'", "the page reconnecting")
        replays = [h for u, h in b.sent if u == origin + "/v1/events" and "Last-Event-ID" in h]
        if not replays:
            raise Failure("no reconnection sent Last-Event-ID: %r" % [h for u, h in b.sent if "/v1/events" in u])

        # A recent ride (the chart covers two years) arrives too.
        with open(os.path.join(work, "evening-ride.gpx"), "w") as f:
            f.write(recent_gpx())
        shutil.move(os.path.join(work, "evening-ride.gpx"), os.path.join(inbox, "evening-ride.gpx"))
        b.wait_for("document.querySelectorAll('#activity-list li[data-activity]').length === 2", "the second activity")
        b.wait_for("document.querySelectorAll('#activity-list [data-state=\"delivered\"]').length === 4",
                   "both activities delivered to both sinks", timeout=30)

        # Jobs, plan and chart.
        b.eval("location.hash = '#jobs'; true")
        b.wait_for("document.querySelector('#backfill-form select[name=route]').value === 'inbox-out'",
                   "the route list")
        b.wait_for("document.querySelector('#sync-form select[name=account]').value === 'inbox'", "the source list")
        b.eval("document.getElementById('sync-form').requestSubmit(); true")
        b.wait_for(text_of("#jobs-message") + ".startsWith('Sync of inbox started: job ')", "the sync job started")
        b.wait_for("!!document.querySelector('#job-list li[data-job] [data-state=\"done\"]')", "the sync job done")
        shot("jobs")
        b.eval("location.hash = '#plan'; true")
        b.wait_for(text_of("#plan-totals") + " === '0 to deliver, 0 skipped, 4 already delivered.'", "the plan totals")
        sinks = b.eval("[...document.querySelectorAll('#plan-groups details[data-sink]')].map(e => e.dataset.sink)")
        if sinks != ["archive", "shelf"]:
            raise Failure("plan groups: %r" % sinks)
        shot("plan")
        b.eval("location.hash = '#chart'; true")
        b.wait_for("!!document.querySelector('#chart-sinks svg rect')", "the deliveries chart")
        b.wait_for("!!document.querySelector('#chart-months svg rect')", "the activities chart")
        months = b.eval("[...document.querySelectorAll('#chart-months td')].map(e => e.textContent)")
        if months != ["inbox", "1"]:
            raise Failure("activities per source in two years: %r" % months)
        sinks = b.eval("[...document.querySelectorAll('#chart-sinks tbody td')].map(e => e.textContent)")
        if sinks != ["archive", "1", "0", "0", "0", "0", "0", "shelf", "1", "0", "0", "0", "0", "0"]:
            raise Failure("deliveries per sink in two years: %r" % sinks)
        shot("chart")

        # A backfill started from the page.
        b.eval("location.hash = '#jobs'; true")
        b.wait_for("document.querySelector('#backfill-form select[name=route]').value === 'inbox-out'",
                   "the route list")
        b.eval("{ const f = document.getElementById('backfill-form'); f.elements.since.value = '2015-01-01'; "
               "f.requestSubmit(); } true")
        b.wait_for(text_of("#jobs-message") + ".startsWith('Backfill of route inbox-out since 2015-01-01')",
                   "the backfill started")

        # Sixty activities: the list pages through the API's cursor as it scrolls.
        for i in range(58):
            path = os.path.join(work, "ride-%02d.gpx" % i)
            with open(path, "w") as f:
                f.write(recent_gpx(50 + i))
            shutil.move(path, os.path.join(inbox, "ride-%02d.gpx" % i))
        # Ingested and delivered to both sinks: the phone's list below looks for delivered chips, and on a
        # loaded machine the deliveries can trail the ingest by many seconds.
        deadline = time.time() + 120
        while True:
            status, body = http("GET", origin + "/v1/activities?limit=500", token)
            listed = json.loads(body)["activities"] if status == 200 else []
            if len(listed) == 60 and all(a.get("deliveries") == {"archive": "delivered", "shelf": "delivered"}
                                         for a in listed):
                break
            if time.time() > deadline:
                raise Failure("the 58 rides were not all ingested and delivered: %s" % body[:300])
            time.sleep(0.3)
        b.goto("about:blank")
        b.goto(origin + "/#activities")
        b.wait_for("document.querySelectorAll('#activity-list li[data-activity]').length === 50", "the first page")
        b.eval("document.getElementById('activity-end').scrollIntoView(); true")
        b.wait_for("document.querySelectorAll('#activity-list li[data-activity]').length === 60", "the second page")
        b.wait_for(text_of("#activity-end") + " === '60 activities, the end of the list.'", "the end of the list")
        shot("activities-scrolled")
        # Filters: the sport, and an inclusive day.
        b.eval("{ const f = document.getElementById('filters'); f.elements.sport.value = 'run'; f.requestSubmit(); } true")
        b.wait_for(text_of("#activity-end") + " === '1 activity, the end of the list.'", "the sport filter")
        b.eval("{ const f = document.getElementById('filters'); f.elements.sport.value = ''; "
               "f.elements.since.value = '2015-08-15'; f.elements.until.value = '2015-08-15'; f.requestSubmit(); } true")
        b.wait_for(text_of("#activity-end") + " === '1 activity, the end of the list.'", "the date filter")
        name = b.eval(text_of("#activity-list .name"))
        if name != "morning-run":
            raise Failure("filtered to %r" % name)

        # A `fitbridge open` link signs a fresh session in, and leaves no code in the address bar.
        b.eval("sessionStorage.clear(); true")
        opened = subprocess.run([args.fitbridge, "open", "--no-browser"], env=env, capture_output=True, text=True,
                                timeout=20)
        link = [w for w in opened.stdout.split() if w.startswith(origin + "/#code=")]
        if opened.returncode != 0 or len(link) != 1:
            raise Failure("fitbridge open: %d %r %r" % (opened.returncode, opened.stdout, opened.stderr))
        b.goto("about:blank")
        b.goto(link[0])
        b.wait_for("document.querySelectorAll('#accounts li[data-account]').length === 4", "sign-in by link")
        if "code" in b.eval("location.href"):
            raise Failure("the code stayed in the address bar: %s" % b.eval("location.href"))
        # The link works once.
        b.eval("sessionStorage.clear(); true")
        b.goto("about:blank")
        b.goto(link[0])
        b.wait_for(text_of("#signin-message") + ".includes('unknown, used or expired')", "a used link refused")

        # A token that stops working (the daemon has a new one) brings the sign-in back.
        b.eval("sessionStorage.setItem('fitbridge.token', 'stale'); location.hash = '#overview'; true")
        b.goto(origin + "/#jobs")
        b.wait_for(visible("#signin-form") + " && " + text_of("#signin-message") + ".includes('HTTP 401')",
                   "the sign-in form after a 401")

        # Phone: one column, nothing wider than the screen.
        b.eval("sessionStorage.setItem('fitbridge.token', %s); true" % json.dumps(token))
        b.call("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
        b.goto("about:blank")
        b.goto(origin + "/#activities")
        b.wait_for(chip("shelf", "delivered"), "the activity list on a phone")
        if not b.eval(visible("#nav") + " && " + visible("#signout")):
            raise Failure("the navigation is hidden on the phone")
        width = b.eval("document.documentElement.scrollWidth")
        if width > 390:
            raise Failure("the phone layout is %d px wide" % width)
        shot("activities-phone", whole_page=False)
        b.eval("location.hash = '#overview'; true")
        b.wait_for("document.querySelectorAll('#accounts li[data-account]').length === 4", "the overview on a phone")
        if b.eval("document.documentElement.scrollWidth") > 390:
            raise Failure("the phone overview is wider than the screen")
        shot("overview-phone", whole_page=False)

        foreign = [u for u in b.requests if not (u.startswith(origin + "/") or u.startswith("data:")
                                                 or u == "about:blank")]
        if foreign:
            raise Failure("the page requested other places: %r" % foreign)
        # Refused requests (the 401s this test caused) are logged as network errors, not here.
        if b.problems:
            raise Failure("script or security errors: %r" % b.problems)
        print("browser test passed: %d requests, all to %s; screenshots in %s" % (len(b.requests), origin, args.out))
    except Failure as e:
        # What CI's log shows of a failure: the page as it stood, the daemon's threads and its last lines.
        if browser:
            try:
                shot("failure")
            except Exception:  # the browser may be what failed
                pass
        daemon_log.flush()
        raise Failure("%s\n%s\nthe daemon's log ends:\n%s" % (e, describe_process(daemon),
                                                               tail(os.path.join(args.out, "daemon.log"), 30)))
    finally:
        if browser:
            browser.close()
        if daemon:
            stop_daemon(daemon)
        daemon_log.close()
        fake.kill()
        fake.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--fitbridge", required=True)
    p.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    p.add_argument("--testdata", required=True)
    p.add_argument("--out", required=True, help="directory for screenshots and logs")
    args = p.parse_args()
    missing = []
    if not args.chromium:
        missing.append("chromium")
    if websocket is None:
        missing.append("python3-websocket")
    if missing:
        msg = "browser test: %s not installed (scripts/bootstrap installs them)" % " and ".join(missing)
        print(msg, file=sys.stderr)
        return 1 if os.environ.get("CI") else SKIP
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="fitbridge-browser-")
    try:
        run(args, work)
    except Failure as e:
        print("browser test FAILED: %s" % e, file=sys.stderr)
        print("(screenshots and logs in %s)" % args.out, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
