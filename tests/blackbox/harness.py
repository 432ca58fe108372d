"""Black-box test harness: start the real wartad on ipc:// endpoints in a
temp dir and talk to it with real ZeroMQ sockets.

Every test is a function ``test_*(t)`` in a ``tests/blackbox/test_*.py``
module; ``t`` is a :class:`Ctx` that cleans up every daemon and socket it
made when the test ends.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import msgpack
import zmq

BUILD = os.environ.get("WARTA_BUILD", "build")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CTX = zmq.Context.instance()


def now_ms():
    return int(time.time() * 1000)


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def unpack(data):
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


def meeting(id="m-1", action="scheduled", country="CH", **kw):
    """A valid meeting event; keyword arguments add or override keys."""
    ev = {"id": id, "action": action, "country": country,
          "title": "Bilateral meeting on labour migration", "kind": "bilateral",
          "counterparts": ["Swiss State Secretariat for Migration"],
          "starts_at": 1767225600000}
    ev.update(kw)
    return ev


def training(id="t-1", action="announced", country="ID", **kw):
    """A valid training event."""
    ev = {"id": id, "action": action, "country": country,
          "title": "International negotiation skills", "provider": "JICA",
          "format": "workshop", "starts_at": 1767225600000}
    ev.update(kw)
    return ev


def attache(id="a-1", action="arrived", country="KR", **kw):
    """A valid attache event."""
    ev = {"id": id, "action": action, "country": country,
          "person": "Budi Santoso", "role": "attache", "post": "KBRI Seoul"}
    ev.update(kw)
    return ev


class TestFailure(AssertionError):
    pass


class Skip(Exception):
    """Raised by a test that cannot run here (e.g. no permission to mount a
    tmpfs); run.py reports it as skipped, neither passed nor failed."""


# WARTA_VALGRIND=1 (make valgrind) runs every daemon under valgrind; each
# writes its report to valgrind.PID.log in its dir, and Ctx.close() fails
# the test when a report holds an error.
VALGRIND = os.environ.get("WARTA_VALGRIND") == "1"
VALGRIND_ARGS = ["valgrind", "--leak-check=full", "--error-exitcode=1",
                 "--errors-for-leak-kinds=definite,possible",
                 "--suppressions=" + os.path.join(
                     os.path.dirname(os.path.abspath(__file__)),
                     "valgrind.supp")]


def wait_for(pred, timeout=20.0, what="condition", interval=0.01):
    """Poll pred() until it returns a true value; fail after timeout.  Used
    only to wait for asynchronous effects, never to assert speed (under
    valgrind, which runs the daemon's threads one at a time, 5x longer)."""
    if VALGRIND:
        timeout *= 5
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TestFailure("timed out waiting for %s" % what)
        time.sleep(interval)


def curve_client(sock, curve):
    """Make sock a CURVE client when curve is (server public key, our
    public key, our secret key), Z85 bytes; do nothing when it is None."""
    if curve is not None:
        sock.curve_serverkey, sock.curve_publickey, sock.curve_secretkey = curve


def free_port():
    """A loopback TCP port that is free right now (for [http] listen and
    tcp:// endpoints)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Api:
    """A REQ (or DEALER) client of the api socket."""

    def __init__(self, endpoint, dealer=False, timeout_ms=15000, curve=None):
        self.sock = CTX.socket(zmq.DEALER if dealer else zmq.REQ)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RCVTIMEO, timeout_ms)
        curve_client(self.sock, curve)
        self.dealer = dealer
        self.sock.connect(endpoint)

    def send(self, req):
        """Send one request (a dict, or raw bytes)."""
        body = req if isinstance(req, (bytes, bytearray)) else pack(req)
        if self.dealer:
            self.sock.send_multipart([b"", body])
        else:
            self.sock.send(body)

    def recv(self):
        """Receive one reply as a dict."""
        frames = self.sock.recv_multipart()
        if self.dealer:
            assert frames[0] == b"", frames
            frames = frames[1:]
        assert len(frames) == 1, frames
        return unpack(frames[0])

    def call(self, op=None, **kw):
        """Send {op, **kw} (or a raw dict/bytes as op) and return the reply."""
        req = op if isinstance(op, (dict, bytes, bytearray)) else dict(op=op, **kw)
        self.send(req)
        return self.recv()

    def close(self):
        self.sock.close(0)


class Daemon:
    """One wartad process with its own data dir and ipc:// endpoints."""

    def __init__(self, base, name="d", config=None, args=(), env=None,
                 data=None, curve=None):
        self.dir = os.path.join(base, name)
        os.makedirs(self.dir, exist_ok=True)
        self.data = data or os.path.join(self.dir, "data")
        self.ingest = "ipc://%s/in" % self.dir
        self.notify = "ipc://%s/out" % self.dir
        self.api_ep = "ipc://%s/api" % self.dir
        self.config = config
        self.args = list(args)
        self.env = env
        self.proc = None
        self.log_path = os.path.join(self.dir, "stderr.log")
        self.starts = 0
        self.curve = curve      # keys wait_ready pings with, see curve_client
        # False for a run that is meant to die (a fault point): valgrind
        # then checks memory errors but not leaks, which a crash leaves.
        self.valgrind_leaks = True

    def argv(self):
        argv = [os.path.join(ROOT, BUILD, "wartad"), "--data", self.data,
                "--ingest", self.ingest, "--notify", self.notify,
                "--api", self.api_ep]
        # The HTTP listener's default port would be fought over by every
        # daemon a test (or a parallel run) starts, so it is off unless the
        # test's config has an [http] section of its own.
        text = self.config or ""
        if "[http]" not in text:
            text += "\n[http]\nlisten =\n"
        path = os.path.join(self.dir, "wartad.conf")
        with open(path, "w") as f:
            f.write(text)
        argv = argv + ["-c", path] + self.args
        if VALGRIND:
            argv = VALGRIND_ARGS + [
                "--log-file=" + os.path.join(self.dir, "valgrind.%p.log")] + (
                [] if self.valgrind_leaks else ["--leak-check=no"]) + argv
        return argv

    def valgrind_errors(self):
        """The valgrind reports of this daemon's runs that hold an error.
        A run killed with SIGKILL has no summary; its report still counts
        when it shows an error."""
        bad = []
        for fn in sorted(os.listdir(self.dir)):
            if not (fn.startswith("valgrind.") and fn.endswith(".log")):
                continue
            with open(os.path.join(self.dir, fn), errors="replace") as f:
                text = f.read()
            summary = [l for l in text.splitlines() if "ERROR SUMMARY:" in l]
            if summary and " 0 errors" not in summary[-1]:
                bad.append("%s:\n%s" % (fn, text[-6000:]))
            elif not summary and any(m in text for m in (
                    "Invalid read", "Invalid write", "Invalid free",
                    "Conditional jump", "uninitialised", "Mismatched free",
                    "overlap")):
                bad.append("%s (killed):\n%s" % (fn, text[-6000:]))
        return bad

    def start(self, wait=True):
        """Start the daemon; with wait, return once the api answers ping."""
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        if self.env:
            env.update(self.env)
        self.starts += 1
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=self.log,
                                     stderr=self.log, env=env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=20.0):
        api = Api(self.api_ep, timeout_ms=500, curve=self.curve)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if self.proc.poll() is not None:
                    raise TestFailure("wartad exited %d at start:\n%s" %
                                      (self.proc.returncode, self.stderr()))
                try:
                    r = api.call("ping")
                    if r.get("ok"):
                        return r
                except zmq.Again:
                    api.close()
                    api = Api(self.api_ep, timeout_ms=500, curve=self.curve)
                if time.monotonic() > deadline:
                    raise TestFailure("wartad did not answer ping:\n" + self.stderr())
        finally:
            api.close()

    def stderr(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=60.0):
        """Signal the daemon and return its exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise TestFailure("wartad did not exit within %ss of signal %d"
                              % (timeout, sig))
        self.log.close()
        return rc

    def kill(self):
        """SIGKILL: no chance to clean up."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            self.log.close()

    def run(self, extra=(), timeout=30, argv=None):
        """Run wartad to completion (e.g. -n or a bad config); return
        (exit status, stderr).  A daemon that keeps running is killed and
        the test fails."""
        try:
            p = subprocess.run((argv or self.argv()) + list(extra),
                               capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            err = (e.stderr or b"").decode("utf-8", "replace")
            raise TestFailure("wartad still running after %ss (expected it "
                              "to exit):\n%s" % (timeout, err))
        return p.returncode, p.stderr.decode("utf-8", "replace")

    def wait_exit(self, timeout=30.0):
        """Wait for the daemon to exit by itself; return its status."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure("wartad did not exit within %ss" % timeout)
        self.log.close()
        return rc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


class Ctx:
    """Per-test context: a temp dir, and cleanup of daemons and sockets."""

    def __init__(self):
        # ipc:// paths must stay short (108 bytes), so use /tmp directly.
        self.base = tempfile.mkdtemp(prefix="wb", dir="/tmp")
        self.daemons = []
        self.socks = []

    def daemon(self, start=True, **kw):
        d = Daemon(self.base, name="d%d" % len(self.daemons), **kw)
        self.daemons.append(d)
        if start:
            d.start()
        return d

    def api(self, d, dealer=False, **kw):
        a = Api(d.api_ep, dealer=dealer, **kw)
        self.socks.append(a.sock)
        return a

    def pub(self, d, wait=True, curve=None):
        """A publisher connected to d's ingest.  It is an XPUB so that it can
        wait for the daemon's three subscriptions to arrive: a plain PUB
        drops whatever it sends before then (the slow joiner)."""
        s = CTX.socket(zmq.XPUB)
        s.setsockopt(zmq.SNDHWM, 0)
        s.setsockopt(zmq.LINGER, 5000)
        s.setsockopt(zmq.RCVTIMEO, 20000)
        curve_client(s, curve)
        s.connect(d.ingest)
        self.socks.append(s)
        if wait:
            seen = set()
            while len(seen) < 3:
                m = s.recv()
                if m[:1] == b"\x01":
                    seen.add(m[1:])
        return s

    def wait_subscribers(self, d, n):
        """Wait until d's stats count at least n subscriptions, so that a
        SUB socket made before this misses nothing published after."""
        api = self.api(d)
        wait_for(lambda: api.call("stats").get("subscribers", 0) >= n,
                 what="%d subscribers" % n)

    def sub(self, d, *prefixes, curve=None):
        """A SUB socket on d's notify, subscribed to prefixes (default all)."""
        s = CTX.socket(zmq.SUB)
        s.setsockopt(zmq.RCVHWM, 0)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RCVTIMEO, 15000)
        curve_client(s, curve)
        for p in prefixes or ("",):
            s.setsockopt(zmq.SUBSCRIBE, p.encode() if isinstance(p, str) else p)
        s.connect(d.notify)
        self.socks.append(s)
        return s

    def close(self):
        for c in getattr(self, "collectors", []):
            try:
                c.stop()
            except Exception:
                pass
        for s in self.socks:
            try:
                s.close(0)
            except Exception:
                pass
        bad = []
        for d in self.daemons:
            # Tests add other processes here too (test_cli's Bg).
            ours = isinstance(d, Daemon)
            try:
                if VALGRIND and ours and d.alive():
                    d.stop(timeout=120)  # let valgrind check for leaks
                d.kill()
            except Exception:
                pass
            if VALGRIND and ours:
                bad += d.valgrind_errors()
        shutil.rmtree(self.base, ignore_errors=True)
        if bad:
            raise TestFailure("valgrind found errors:\n" + "\n".join(bad))



def publish_ok(api, topic, event):
    """Acknowledged publish that must succeed; returns the seq."""
    r = api.call("publish", topic=topic, event=event)
    if not r.get("ok"):
        raise TestFailure("publish failed: %r" % (r,))
    return r["seq"]


def expect_error(reply, code, field=None):
    """Assert an api error reply with this code (and detail naming field)."""
    if reply.get("ok") is not False or reply.get("error") != code:
        raise TestFailure("expected error %r, got %r" % (code, reply))
    if not isinstance(reply.get("detail"), str) or not reply["detail"]:
        raise TestFailure("error without detail: %r" % (reply,))
    if field is not None and field not in reply["detail"]:
        raise TestFailure("detail %r does not name %r" % (reply["detail"], field))


# ---- helpers shared by the test modules ---------------------------------

def stats(api):
    """The stats reply, which must be ok."""
    try:
        r = api.call("stats")
    except zmq.Again:
        raise TestFailure("the api did not answer stats (no reply within "
                          "the socket's receive timeout)")
    if not r.get("ok"):
        raise TestFailure("stats failed: %r" % (r,))
    return r


def rejected(api, reason):
    """stats.rejected[reason] (0 when absent)."""
    return (stats(api).get("rejected") or {}).get(reason, 0)


def raw_map(pairs):
    """MessagePack map from (key, value) pairs in order; a value given as
    Raw(b"...") is written as those exact bytes."""
    n = len(pairs)
    if n < 16:
        out = bytes([0x80 | n])
    elif n < 65536:
        out = b"\xde" + n.to_bytes(2, "big")
    else:
        out = b"\xdf" + n.to_bytes(4, "big")
    for k, v in pairs:
        out += k.data if isinstance(k, Raw) else pack(k)
        out += v.data if isinstance(v, Raw) else pack(v)
    return out


class Raw:
    """Pre-encoded MessagePack bytes for raw_map()."""

    def __init__(self, data):
        self.data = data


def sized(ev, size):
    """ev padded with an x_pad string so that pack(ev) is exactly size
    bytes."""
    ev = dict(ev)
    ev["x_pad"] = ""
    base = len(pack(ev))
    if base > size:
        raise ValueError("event already %d bytes" % base)
    for extra in range(size - base, -1, -1):
        ev["x_pad"] = "p" * extra
        if len(pack(ev)) == size:
            return ev
    raise ValueError("cannot pad to %d" % size)


def recv_note(sub, skip_heartbeats=True):
    """Next notification on sub as (topic, body dict, raw body bytes)."""
    while True:
        frames = sub.recv_multipart()
        if len(frames) != 2:
            raise TestFailure("notification with %d frames: %r"
                              % (len(frames), frames))
        topic = frames[0].decode()
        if skip_heartbeats and topic == "_sys.heartbeat":
            continue
        return topic, unpack(frames[1]), frames[1]


def replay_all(api, from_seq=1, prefix=None, limit=1000, max_rounds=100000):
    """Page through replay until next_seq > last_seq; return the items."""
    items = []
    seq = from_seq
    for _ in range(max_rounds):
        req = dict(from_seq=seq, limit=limit)
        if prefix is not None:
            req["prefix"] = prefix
        r = api.call("replay", **req)
        if not r.get("ok"):
            raise TestFailure("replay failed: %r" % (r,))
        items += r["items"]
        if r["next_seq"] <= seq and r["next_seq"] <= r["last_seq"]:
            raise TestFailure("replay did not advance: from_seq %d -> %r"
                              % (seq, {k: v for k, v in r.items()
                                       if k != "items"}))
        seq = r["next_seq"]
        if seq > r["last_seq"]:
            return items
    raise TestFailure("replay did not finish")


def with_defaults(typ, ev, received_at=None):
    """What the daemon stores for ev: occurred_at and, for attache,
    priority filled in when left out."""
    out = dict(ev)
    if "occurred_at" not in out and received_at is not None:
        out["occurred_at"] = received_at
    if typ == "attache" and "priority" not in out:
        out["priority"] = "info"
    return out


def same_typed(a, b):
    """Deep equality that also tells str from bytes, int from float and
    bool from int, and list order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_typed(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_typed(x, y) for x, y in zip(a, b))
    return a == b


class Collector:
    """A SUB socket read in a thread until stopped: keeps every
    notification as (topic, body) and the heartbeats apart."""

    def __init__(self, t, d, *prefixes, keep_bodies=True):
        import threading
        self.sock = CTX.socket(zmq.SUB)
        self.sock.setsockopt(zmq.RCVHWM, 0)
        self.sock.setsockopt(zmq.LINGER, 0)
        for p in prefixes or ("",):
            self.sock.setsockopt(zmq.SUBSCRIBE, p.encode())
        self.sock.connect(d.notify)
        self.keep = keep_bodies
        self.notes = []
        self.raw = []
        self.heartbeats = []
        self.count = 0
        self.errors = []
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        t.collectors = getattr(t, "collectors", []) + [self]

    def _run(self):
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        try:
            while not self._stop:
                if not poller.poll(100):
                    continue
                while True:
                    try:
                        frames = self.sock.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    if frames[0] == b"_sys.heartbeat":
                        self.heartbeats.append(unpack(frames[1]))
                        continue
                    self.count += 1
                    if self.keep:
                        self.raw.append(frames)
        except Exception as e:  # reported by stop()
            self.errors.append(repr(e))
        finally:
            self.sock.close(0)

    def decoded(self):
        """Every notification so far as (topic, body)."""
        out = []
        for frames in list(self.raw):
            if len(frames) != 2:
                raise TestFailure("notification with %d frames" % len(frames))
            out.append((frames[0].decode(), unpack(frames[1])))
        return out

    def stop(self):
        self._stop = True
        self.thread.join(10)
        if self.errors:
            raise TestFailure("subscriber thread: %s" % self.errors)


def conf(**sections):
    """INI text for wartad: conf(store={"max_events": 5}, notify=...).
    The HTTP listener is always turned off so that daemons started side by
    side by one test (or by tests and a developer's own daemon) do not
    fight over its default port."""
    sections.setdefault("http", {})
    sections["http"].setdefault("listen", "")
    out = []
    for name, keys in sections.items():
        out.append("[%s]" % name)
        for k, v in keys.items():
            if v is True:
                v = "yes"
            elif v is False:
                v = "no"
            out.append("%s = %s" % (k, v))
        out.append("")
    return "\n".join(out)


def nested(levels):
    """levels arrays inside each other, the innermost empty: adding it to
    an event (level 1) makes the event 1 + levels deep."""
    v = []
    for _ in range(levels - 1):
        v = [v]
    return v
