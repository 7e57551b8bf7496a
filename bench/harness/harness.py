"""Process harness for scripts/chaos and scripts/bench-daemon: the real
`fitbridge serve` in a scratch folder (started, SIGKILLed, restarted, asked
over its control API) and the Intervals.icu fake server. Standard library
only. It mirrors tests/support/daemon.hpp: the same environment, readiness by
sd_notify's READY=1, the token from <state>/api-token.
"""

import base64
import glob
import http.client
import json
import os
import signal
import socket
import subprocess
import time


class HarnessError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """One daemon configuration in `workdir`; `config` may use {DIR} and {PORT}."""

    def __init__(self, binary, workdir, config):
        self.binary = binary
        self.dir = workdir
        self.port = free_port()
        self.proc = None
        self.starts = 0
        self.log_path = None
        text = config.replace("{DIR}", workdir).replace("{PORT}", str(self.port))
        with open(os.path.join(workdir, "fitbridge.yaml"), "w") as f:
            f.write(text)
        self.notify_path = os.path.join(workdir, "notify")
        self._token = None

    def env(self):
        return {"HOME": self.dir, "PATH": "/usr/bin:/bin",
                "FITBRIDGE_STATE_DIR": os.path.join(self.dir, "state"),
                "FITBRIDGE_CONFIG": os.path.join(self.dir, "fitbridge.yaml"),
                "NOTIFY_SOCKET": self.notify_path}

    def spawn(self, prefix=()):
        """Starts `fitbridge serve` (under `prefix`, e.g. strace) without
        waiting; returns the notify socket to wait on."""
        if os.path.exists(self.notify_path):
            os.unlink(self.notify_path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(self.notify_path)
        self.starts += 1
        self.log_path = os.path.join(self.dir, "log%d" % self.starts)
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(list(prefix) + [self.binary, "serve"], env=self.env(), stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        return sock

    def start(self, timeout=60.0, prefix=()):
        """Starts and waits for READY=1; raises HarnessError with the log on failure."""
        sock = self.spawn(prefix)
        try:
            self.wait_ready(sock, timeout)
        finally:
            sock.close()

    def wait_ready(self, sock, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sock.settimeout(max(0.05, min(0.5, deadline - time.monotonic())))
            try:
                msg = sock.recv(4096).decode("utf-8", "replace")
            except socket.timeout:
                if self.proc.poll() is not None:
                    raise HarnessError("the daemon exited with status %s before READY=1:\n%s"
                                       % (self.proc.returncode, self.log_tail()))
                continue
            if "READY=1" in msg.split("\n"):
                return
        raise HarnessError("the daemon sent no READY=1 within %.0f s:\n%s" % (timeout, self.log_tail()))

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            # Under a tracer (strace, heaptrack) the daemon is a child that
            # would outlive its tracer: it goes first.
            for kid in children(self.proc.pid):
                try:
                    os.kill(kid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.send_signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait()

    def stop(self, timeout=15.0):
        """SIGTERM and wait; returns the exit status (None if it had to be killed)."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            return None

    @property
    def pid(self):
        return self.proc.pid

    def log_tail(self, chars=3000):
        if not self.log_path or not os.path.exists(self.log_path):
            return "(no log)"
        with open(self.log_path, "rb") as f:
            data = f.read()
        return data[-chars:].decode("utf-8", "replace")

    def token(self):
        if self._token is None:
            with open(os.path.join(self.dir, "state", "api-token")) as f:
                self._token = f.read().strip()
        return self._token

    def call(self, method, path, body=None, timeout=30.0):
        """(status, parsed JSON or raw text) of one API request."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Authorization": "Bearer " + self.token(), "Connection": "close"}
            data = None
            if body is not None or method == "POST":
                data = json.dumps(body if body is not None else {}).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            raw = r.read()
            try:
                return r.status, json.loads(raw)
            except ValueError:
                return r.status, raw.decode("utf-8", "replace")
        finally:
            conn.close()


def children(pid):
    """Child process ids of `pid` (any thread's)."""
    out = []
    for path in glob.glob("/proc/%d/task/*/children" % pid):
        try:
            with open(path) as f:
                out += [int(x) for x in f.read().split()]
        except FileNotFoundError:
            pass
    return out


class IntervalsFake:
    """tests/fakes/run intervals on a free port (exits with this process)."""

    def __init__(self, source_dir, workdir):
        self.log_path = os.path.join(workdir, "fake.log")
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(["bash", os.path.join(source_dir, "tests/fakes/run"), "intervals", "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("http://"):
            raise HarnessError("the Intervals.icu fake did not start (printed %r); see %s" % (line, self.log_path))
        self.base_url = line
        self.port = int(line.rsplit(":", 1)[1])

    def control(self, method, path, body=None, timeout=60.0):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            raw = r.read()
            if r.status != 200:
                raise HarnessError("fake %s %s answered %d: %s" % (method, path, r.status, raw[:300]))
            return json.loads(raw) if raw else None
        finally:
            conn.close()

    def api_get(self, path, timeout=60.0):
        """GET on the fake's platform API with the test key; (status, bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            auth = base64.b64encode(b"API_KEY:test-api-key").decode()
            conn.request("GET", path, headers={"Authorization": "Basic " + auth})
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- /proc readings -------------------------------------------------------------


def proc_status(pid):
    """{key: value} of /proc/PID/status (values as text)."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def kib(value):
    return int(value.split()[0])


def context_switches(pid):
    """Voluntary + involuntary context switches over every thread of `pid`:
    each one is a wake-up or a preemption."""
    total = 0
    for path in glob.glob("/proc/%d/task/*/status" % pid):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split(":")[1])
        except FileNotFoundError:
            pass  # a thread that ended meanwhile
    return total


def sched_seconds(pid):
    """(time on a CPU, time runnable but waiting for a CPU) over every thread
    of `pid`, from /proc/PID/task/*/schedstat: the second is what other load
    on the machine cost it."""
    run = wait = 0
    for path in glob.glob("/proc/%d/task/*/schedstat" % pid):
        try:
            with open(path) as f:
                fields = f.read().split()
        except FileNotFoundError:
            continue
        run += int(fields[0])
        wait += int(fields[1])
    return run / 1e9, wait / 1e9


def io_thread_sched_seconds(pid):
    """(time on a CPU, time runnable but waiting) of the process's main
    thread alone: the daemon's io thread, which serves the API and the ledger."""
    with open("/proc/%d/task/%d/schedstat" % (pid, pid)) as f:
        fields = f.read().split()
    return int(fields[0]) / 1e9, int(fields[1]) / 1e9


def rss_breakdown(pid):
    """Resident KiB by kind of mapping, from /proc/PID/smaps: the binary, each
    shared library, the heap, anonymous mappings (malloc arenas, thread stacks,
    SQLite's page cache), stacks, and the rest."""
    kinds = {}
    current = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                parts = line.split()
                name = parts[5] if len(parts) > 5 else ""
                if name == "[heap]":
                    current = "[heap]"
                elif name.startswith("[stack"):
                    current = "[stack]"
                elif name == "":
                    current = "anonymous (malloc arenas, thread stacks, mmap)"
                elif name.startswith("["):
                    current = name
                else:
                    current = os.path.basename(name)
            elif first == "Rss:" and current is not None:
                kinds[current] = kinds.get(current, 0) + int(line.split()[1])
    return sorted(kinds.items(), key=lambda kv: -kv[1])
