"""Black-box tests of CURVE and per-key roles (PROTOCOL.md section 8), with
real CURVE handshakes against the daemon's ZAP handler: who is admitted
on which socket, what each role may do on the api, SIGHUP reloads of the
clients file, the plaintext rule, and the warta CLI as a CURVE client."""
import os
import signal
import subprocess

import zmq

import harness
from harness import (CTX, TestFailure, conf, expect_error, meeting, pack,
                     publish_ok, recv_note, replay_all, stats, wait_for)
from test_http import _free_port

WARTA = os.path.join(harness.ROOT, harness.BUILD, "warta")
NOTHING_MS = 1500       # how long "receives nothing" is watched for

ROLES = {"sub": "subscriber", "pub": "publisher", "adm": "admin"}


class Keys:
    """A server key pair and client key pairs, written where the daemon
    reads them; keys[name] is the (server public, public, secret) triple
    harness.curve_client takes."""

    def __init__(self, t, roles=ROLES):
        self.dir = os.path.join(t.base, "keys")
        os.makedirs(self.dir, exist_ok=True)
        self.server_pub, self.server_sec = zmq.curve_keypair()
        self.secret_file = self._write("server.key", self.server_sec, 0o600)
        self.public_file = self._write("server.pub", self.server_pub, 0o644)
        self.clients_file = os.path.join(self.dir, "clients")
        self.pairs = {}
        for name in roles:
            self.pairs[name] = zmq.curve_keypair()
        self.write_clients(roles)

    def _write(self, name, key, mode):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(key + b"\n")
        os.chmod(path, mode)
        return path

    def __getitem__(self, name):
        if name not in self.pairs:
            self.pairs[name] = zmq.curve_keypair()
        pub, sec = self.pairs[name]
        return (self.server_pub, pub, sec)

    def line(self, name, role):
        return "%s %s %s" % (self[name][1].decode(), role, name)

    def write_clients(self, roles, extra=""):
        """Write the clients file: one line per name -> role, then extra."""
        text = "# warta clients\n\n"
        text += "".join(self.line(n, r) + "\n" for n, r in roles.items())
        with open(self.clients_file, "w") as f:
            f.write(text + extra)

    def security(self):
        return {"secret_key_file": self.secret_file,
                "public_key_file": self.public_file,
                "clients_file": self.clients_file}


def _curve_daemon(t, ingest_curve=False, roles=ROLES, **sections):
    """A running daemon with CURVE on (ingest too with ingest_curve);
    returns (daemon, keys).  It is pinged ready with the admin key."""
    keys = Keys(t, roles)
    if ingest_curve:
        sections.setdefault("ingest", {})["curve"] = True
    d = t.daemon(config=conf(security=keys.security(), **sections),
                 curve=keys["adm"])
    return d, keys


def _nothing(sock):
    """Assert sock receives nothing within NOTHING_MS."""
    if sock.poll(NOTHING_MS, zmq.POLLIN):
        raise TestFailure("received %r" % (sock.recv_multipart(),))


def _no_answer(d, curve):
    """Assert the api never answers a ping from a client with curve
    keys (None: plaintext) within NOTHING_MS."""
    api = harness.Api(d.api_ep, timeout_ms=NOTHING_MS, curve=curve)
    try:
        r = api.call("ping")
        raise TestFailure("the api answered %r" % (r,))
    except zmq.Again:
        pass
    finally:
        api.close()


def _wait_subscribed(admin, n):
    wait_for(lambda: stats(admin)["subscribers"] >= n,
             what="%d subscribers" % n)


def _hup_and_wait(d, text):
    """SIGHUP d, then wait until its log has one more line holding text."""
    before = d.stderr().count(text)
    d.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: d.stderr().count(text) > before,
             what="%r in the log after SIGHUP" % text)


def _stop_clean(d):
    """SIGTERM d, which must exit 0 (under ASan: having leaked nothing)."""
    rc = d.stop()
    if rc != 0:
        raise TestFailure("exit %r after SIGTERM:\n%s" % (rc, d.stderr()))


def _start_on_any_address(d):
    """Start d with its api bound to 0.0.0.0 on a free port; it is pinged
    ready over loopback."""
    port = _free_port()
    d.api_ep = "tcp://0.0.0.0:%d" % port
    d.start(wait=False)
    d.api_ep = "tcp://127.0.0.1:%d" % port
    d.wait_ready()
    return "tcp://0.0.0.0:%d" % port


def test_admitted_subscriber_receives_notifications(t):
    # guards: a listed subscriber key completes the CURVE handshake on
    # notify and receives what a publisher key publishes over the api.
    d, keys = _curve_daemon(t)
    admin = t.api(d, curve=keys["adm"])
    sub = t.sub(d, curve=keys["sub"])
    _wait_subscribed(admin, 1)
    seq = publish_ok(t.api(d, curve=keys["pub"]), "meeting", meeting())
    topic, body, _ = recv_note(sub)
    if topic != "meeting.CH.scheduled" or body["seq"] != seq:
        raise TestFailure("got %r %r" % (topic, body))


def test_unknown_key_api_never_answers(t):
    # guards: a key not in the clients file fails the handshake, so the
    # api never sees (or answers) its request; the refusal is counted.
    d, keys = _curve_daemon(t)
    _no_answer(d, keys["stranger"])
    admin = t.api(d, curve=keys["adm"])
    if stats(admin)["auth_refused"] < 1:
        raise TestFailure("refusal not counted: %r" % stats(admin))


def test_unknown_key_subscriber_receives_nothing(t):
    # guards: an unknown key on notify gets no notification, while a
    # listed one connected alongside gets it (so one was sent).
    d, keys = _curve_daemon(t)
    admin = t.api(d, curve=keys["adm"])
    good = t.sub(d, curve=keys["sub"])
    bad = t.sub(d, curve=keys["stranger"])
    _wait_subscribed(admin, 1)
    publish_ok(t.api(d, curve=keys["pub"]), "meeting", meeting())
    recv_note(good)
    _nothing(bad)


def test_plain_client_gets_nothing_under_curve(t):
    # guards: with CURVE on, a plaintext SUB gets no notification and a
    # plaintext REQ no reply; a CURVE subscriber gets the same event.
    d, keys = _curve_daemon(t)
    admin = t.api(d, curve=keys["adm"])
    good = t.sub(d, curve=keys["sub"])
    plain = t.sub(d)
    _wait_subscribed(admin, 1)
    publish_ok(t.api(d, curve=keys["pub"]), "meeting", meeting())
    recv_note(good)
    _nothing(plain)
    _no_answer(d, None)


def test_subscriber_forbidden_to_publish(t):
    # guards: publish needs publisher; a subscriber key gets forbidden
    # naming the op and the role, and nothing is stored.
    d, keys = _curve_daemon(t)
    r = t.api(d, curve=keys["sub"]).call("publish", topic="meeting",
                                         event=meeting())
    expect_error(r, "forbidden", "publish")
    if "publisher" not in r["detail"]:
        raise TestFailure("detail does not name the role: %r" % r)
    if stats(t.api(d, curve=keys["adm"]))["stored"] != 0:
        raise TestFailure("a forbidden publish was stored")


def test_subscriber_may_read(t):
    # guards: ping, get, list and replay need only a listed key.
    d, keys = _curve_daemon(t)
    publish_ok(t.api(d, curve=keys["pub"]), "meeting", meeting())
    sub = t.api(d, curve=keys["sub"])
    for op, kw in (("ping", {}), ("get", {"type": "meeting", "id": "m-1"}),
                   ("list", {"type": "meeting"}), ("replay", {})):
        r = sub.call(op, **kw)
        if not r.get("ok"):
            raise TestFailure("%s as subscriber: %r" % (op, r))


def test_stats_and_rejects_need_admin(t):
    # guards: stats and rejects answer forbidden naming admin to a
    # subscriber and to a publisher.
    d, keys = _curve_daemon(t)
    for who in ("sub", "pub"):
        api = t.api(d, curve=keys[who])
        for op in ("stats", "rejects"):
            r = api.call(op)
            expect_error(r, "forbidden", op)
            if "admin" not in r["detail"]:
                raise TestFailure("detail does not name admin: %r" % r)


def test_admin_gets_stats_and_rejects(t):
    # guards: an admin key reads stats (with auth_refused) and rejects.
    d, keys = _curve_daemon(t)
    admin = t.api(d, curve=keys["adm"])
    s = stats(admin)
    if "auth_refused" not in s:
        raise TestFailure("stats lacks auth_refused: %r" % s)
    r = admin.call("rejects")
    if not r.get("ok"):
        raise TestFailure("rejects as admin: %r" % r)


def test_publisher_and_admin_may_publish(t):
    # guards: a publisher key publishes; admin includes publisher.
    d, keys = _curve_daemon(t)
    s1 = publish_ok(t.api(d, curve=keys["pub"]), "meeting", meeting())
    s2 = publish_ok(t.api(d, curve=keys["adm"]), "meeting",
                    meeting(id="m-2"))
    if s2 != s1 + 1:
        raise TestFailure("seqs %d, %d" % (s1, s2))


def test_removed_key_refused_after_sighup(t):
    # guards: SIGHUP reloads the clients file; a removed key is refused on
    # its next handshake, while its connection made before keeps working.
    d, keys = _curve_daemon(t)
    before = t.api(d, curve=keys["sub"])
    if not before.call("ping").get("ok"):
        raise TestFailure("subscriber ping failed")
    keys.write_clients({"pub": "publisher", "adm": "admin"})
    _hup_and_wait(d, "clients file %s reloaded" % keys.clients_file)
    _no_answer(d, keys["sub"])
    if not before.call("ping").get("ok"):
        raise TestFailure("the connection admitted before the reload was "
                          "dropped")
    _stop_clean(d)


def test_added_key_admitted_after_sighup(t):
    # guards: a key added to the clients file is admitted after SIGHUP
    # (and not before).
    d, keys = _curve_daemon(t)
    _no_answer(d, keys["late"])
    keys.write_clients(dict(ROLES, late="subscriber"))
    _hup_and_wait(d, "clients file %s reloaded" % keys.clients_file)
    if not t.api(d, curve=keys["late"]).call("ping").get("ok"):
        raise TestFailure("added key not admitted")


def test_malformed_clients_file_on_sighup_keeps_old(t):
    # guards: a clients file that does not parse is not loaded on SIGHUP:
    # the log names its line, the keys in use stay admitted and the new
    # file's keys are not.
    d, keys = _curve_daemon(t)
    keys.write_clients({"late": "subscriber"},
                       extra="%s superuser bob\n" % keys["bob"][1].decode())
    _hup_and_wait(d, "clients file not reloaded")
    log = d.stderr()
    if "line 4" not in log or "superuser" not in log:
        raise TestFailure("the log does not say which line:\n" + log[-2000:])
    if not t.api(d, curve=keys["sub"]).call("ping").get("ok"):
        raise TestFailure("a key of the old file is no longer admitted")
    _no_answer(d, keys["late"])
    _stop_clean(d)


def test_refusal_logged_with_key_prefix(t):
    # guards: a refused handshake is logged with the key's first
    # characters and the socket it tried.
    d, keys = _curve_daemon(t)
    _no_answer(d, keys["stranger"])
    prefix = keys["stranger"][1].decode()[:8]
    wait_for(lambda: prefix in d.stderr(), what="refusal in the log")
    line = [ln for ln in d.stderr().splitlines() if prefix in ln][0]
    if "api" not in line or "refused" not in line:
        raise TestFailure("log line %r" % line)
    if keys["stranger"][1].decode() in d.stderr():
        raise TestFailure("the whole key was logged")


def test_ingest_curve_admits_publishers_only(t):
    # guards: with [ingest] curve = yes, a publisher key's events on
    # ingest are stored; a subscriber key and a plaintext producer never
    # get the daemon's subscriptions, so nothing of theirs is stored.
    d, keys = _curve_daemon(t, ingest_curve=True)
    admin = t.api(d, curve=keys["adm"])
    for curve in (keys["sub"], None):
        bad = t.pub(d, wait=False, curve=curve)
        if bad.poll(NOTHING_MS, zmq.POLLIN):
            raise TestFailure("refused producer got %r" % bad.recv())
        bad.send_multipart([b"meeting", pack(meeting(id="bad"))])
    good = t.pub(d, curve=keys["pub"])
    good.send_multipart([b"meeting", pack(meeting(id="good"))])
    wait_for(lambda: stats(admin)["stored"] >= 1, what="the event stored")
    ids = [it["event"]["id"] for it in replay_all(admin)]
    if ids != ["good"]:
        raise TestFailure("stored %r" % ids)
    if stats(admin)["auth_refused"] < 1:
        raise TestFailure("ingest refusal not counted")


def test_ingest_without_curve_stays_plain(t):
    # guards: with CURVE on but [ingest] curve = no, plaintext producers
    # still reach ingest (on a local endpoint).
    d, keys = _curve_daemon(t)
    admin = t.api(d, curve=keys["adm"])
    t.pub(d).send_multipart([b"meeting", pack(meeting())])
    wait_for(lambda: stats(admin)["stored"] >= 1, what="the event stored")


def test_non_loopback_bind_without_curve_exits_78(t):
    # guards: without CURVE, a non-loopback bind (api, notify, ingest),
    # an [ingest] connect to a remote host, or a non-loopback HTTP listen
    # exits 78 naming the socket, the endpoint and allow_plaintext.
    cases = [
        ("api", ["--api", "tcp://0.0.0.0:%d" % _free_port()], ""),
        ("notify", ["--notify", "tcp://*:%d" % _free_port()], ""),
        ("ingest", ["--ingest", "tcp://192.0.2.1:%d" % _free_port()], ""),
        ("ingest connect", [], "[ingest]\nconnect = tcp://192.0.2.7:7400\n"),
        ("http", [], "[http]\nlisten = 0.0.0.0:%d\n" % _free_port()),
    ]
    for what, args, text in cases:
        d = t.daemon(start=False, config=text, args=args)
        rc, err = d.run(timeout=15)
        if rc != 78 or what + ":" not in err or "allow_plaintext" not in err:
            raise TestFailure("%s: exit %r:\n%s" % (what, rc, err))


def test_loopback_binds_need_no_curve(t):
    # guards: 127.0.0.0/8, [::1] and localhost are loopback: -n passes.
    for ep in ("tcp://127.0.0.2:7403", "tcp://[::1]:7403",
               "tcp://localhost:7403"):
        d = t.daemon(start=False, args=["--api", ep])
        rc, err = d.run(["-n"], timeout=15)
        if rc != 0:
            raise TestFailure("%s: exit %r:\n%s" % (ep, rc, err))


def test_allow_plaintext_binds_and_warns(t):
    # guards: allow_plaintext = yes lets the api bind a non-loopback
    # address; the daemon serves it and logs a warning naming it.
    d = t.daemon(start=False, config=conf(security={"allow_plaintext": True}))
    ep = _start_on_any_address(d)
    log = d.stderr()
    if ep not in log or "plaintext" not in log:
        raise TestFailure("no warning:\n" + log)


def test_curve_daemon_binds_non_loopback(t):
    # guards: with CURVE on, notify and api may bind any address (no
    # allow_plaintext needed) and a listed key is served there.
    keys = Keys(t)
    d = t.daemon(start=False, config=conf(security=keys.security()),
                 curve=keys["adm"])
    _start_on_any_address(d)


def _expect_78(t, keys, what, name=None):
    """A daemon on keys' [security] exits 78 naming what (and -n too)."""
    d = t.daemon(start=False, config=conf(security=keys.security()))
    for extra in ((), ("-n",)):
        rc, err = d.run(list(extra), timeout=15)
        if rc != 78 or what not in err:
            raise TestFailure("exit %r, want 78 naming %r:\n%s"
                              % (rc, what, err))


def test_secret_key_readable_by_others_exits_78(t):
    # guards: a secret key file group or others may read is refused.
    keys = Keys(t)
    os.chmod(keys.secret_file, 0o640)
    _expect_78(t, keys, keys.secret_file)


def test_bad_key_files_exit_78(t):
    # guards: a missing or malformed secret key, a malformed public key,
    # or a public key that is not the secret's exits 78 naming the file.
    keys = Keys(t)
    os.unlink(keys.secret_file)
    _expect_78(t, keys, keys.secret_file)
    keys._write("server.key", b"not a key", 0o600)
    _expect_78(t, keys, keys.secret_file)
    keys._write("server.key", keys.server_sec, 0o600)
    keys._write("server.pub", keys.server_sec[:39] + b"~", 0o644)
    _expect_78(t, keys, keys.public_file)
    keys._write("server.pub", zmq.curve_keypair()[0], 0o644)
    _expect_78(t, keys, keys.public_file)


def test_bad_clients_file_at_start_exits_78(t):
    # guards: a clients file that does not parse stops the start with 78
    # naming the file and the line; so does a missing one.
    keys = Keys(t)
    keys.write_clients(ROLES, extra="%s admin\n" % keys["x"][1].decode())
    _expect_78(t, keys, "line 6")
    _expect_78(t, keys, keys.clients_file)
    os.unlink(keys.clients_file)
    _expect_78(t, keys, keys.clients_file)


def test_hash_without_space_is_not_a_comment(t):
    # guards: only '#' alone or '# ' starts a comment (Z85 keys may hold
    # '#'), so '#note' is a malformed line, named with a hint.
    keys = Keys(t)
    keys.write_clients(ROLES, extra="#\n# fine\n#note\n")
    _expect_78(t, keys, "line 8")
    d = t.daemon(start=False, config=conf(security=keys.security()))
    rc, err = d.run(timeout=15)
    if "'# '" not in err:
        raise TestFailure("no hint about '# ':\n" + err)


def _warta(args, env=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("WARTA_")}
    e.update(env or {})
    return subprocess.run([WARTA] + args, capture_output=True, text=True,
                          timeout=60, env=e)


def test_cli_against_curve_daemon(t):
    # guards: keys made by `warta keygen` are read by the daemon (server
    # pair) and by the CLI (client pair); the CLI reaches the CURVE daemon
    # with --server-key/--key or WARTA_SERVER_KEY/WARTA_KEY (a basename, a
    # secret key file or the secret key), and a subscriber's `warta stats`
    # exits 77 (forbidden).
    keys = Keys(t, roles={})
    kd = os.path.join(t.base, "keygen")
    os.makedirs(kd)
    for name in ("server", "alice", "bob"):
        p = _warta(["keygen", "--out", os.path.join(kd, name)])
        if p.returncode != 0:
            raise TestFailure("keygen: %s" % p.stderr)
    os.replace(os.path.join(kd, "server.key"), keys.secret_file)
    os.replace(os.path.join(kd, "server.pub"), keys.public_file)
    pub = {n: open(os.path.join(kd, n + ".pub")).read().split()[0]
           for n in ("alice", "bob")}
    with open(keys.clients_file, "w") as f:
        f.write("%s admin alice\n%s subscriber bob\n" % (pub["alice"],
                                                         pub["bob"]))
    server_pub = open(keys.public_file).read().split()[0].encode()
    alice_sec = open(os.path.join(kd, "alice.key")).read().split()[0]
    d = t.daemon(config=conf(security=keys.security()),
                 curve=(server_pub, pub["alice"].encode(), alice_sec.encode()))
    base = ["--api", d.api_ep, "--timeout", "10"]
    p = _warta(base + ["--server-key", keys.public_file, "--key",
                       os.path.join(kd, "alice"), "stats", "--json"])
    if p.returncode != 0 or "auth_refused" not in p.stdout:
        raise TestFailure("admin stats: %d %s %s" % (p.returncode, p.stdout,
                                                     p.stderr))
    env = {"WARTA_SERVER_KEY": server_pub.decode(),
           "WARTA_KEY": os.path.join(kd, "bob")}
    p = _warta(base + ["ping"], env=env)
    if p.returncode != 0:
        raise TestFailure("subscriber ping: %d %s" % (p.returncode, p.stderr))
    p = _warta(base + ["stats"], env=env)
    if p.returncode != 77 or "admin" not in p.stderr:
        raise TestFailure("subscriber stats: %d %s %s" % (p.returncode,
                                                          p.stdout, p.stderr))
    # --key also takes the secret key file, WARTA_KEY the secret key
    # itself; the public key is derived from it.
    p = _warta(base + ["--server-key", keys.public_file, "--key",
                       os.path.join(kd, "alice.key"), "rejects"])
    if p.returncode != 0:
        raise TestFailure("--key FILE.key: %d %s" % (p.returncode, p.stderr))
    bob_sec = open(os.path.join(kd, "bob.key")).read().split()[0]
    p = _warta(base + ["ping"], env=dict(env, WARTA_KEY=bob_sec))
    if p.returncode != 0:
        raise TestFailure("literal WARTA_KEY: %d %s" % (p.returncode,
                                                        p.stderr))


def test_refusals_in_metrics(t):
    # guards: /metrics counts refused handshakes as
    # warta_auth_refused_total, agreeing with stats.auth_refused.
    import http.client
    port = _free_port()
    d, keys = _curve_daemon(t, http={"listen": "127.0.0.1:%d" % port})
    _no_answer(d, keys["stranger"])
    n = stats(t.api(d, curve=keys["adm"]))["auth_refused"]
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    lines = [ln for ln in text.splitlines()
             if ln.startswith("warta_auth_refused_total ")]
    if n < 1 or len(lines) != 1 or int(lines[0].split()[1]) < n:
        raise TestFailure("stats %d, metrics %r" % (n, lines))


def test_start_logs_curve_state(t):
    # guards: the log says at start that CURVE is on, with the server's
    # public key and the number of client keys; and says it is off
    # otherwise.
    d, keys = _curve_daemon(t)
    log = d.stderr()
    if keys.server_pub.decode() not in log or "3 client keys" not in log:
        raise TestFailure("no CURVE line:\n" + log)
    plain = t.daemon()
    if "CURVE is off" not in plain.stderr():
        raise TestFailure("no CURVE-off line:\n" + plain.stderr())


def test_refusal_log_is_rate_limited(t):
    # guards: refusals are logged at most once a second, then a line says
    # how many were not, while stats counts every one.
    import time
    d, keys = _curve_daemon(t)
    admin = t.api(d, curve=keys["adm"])
    t0 = time.monotonic()
    for i in range(20):
        t.api(d, curve=keys["stranger%d" % i]).send({"op": "ping"})
    wait_for(lambda: stats(admin)["auth_refused"] >= 20,
             what="20 refusals counted")
    elapsed = time.monotonic() - t0
    lines = d.stderr().count("auth: refused a connection")
    if lines < 1 or lines > elapsed + 2:
        raise TestFailure("%d refusal lines in %.1fs" % (lines, elapsed))
    wait_for(lambda: "more refused connections not logged" in d.stderr(),
             what="the count of refusals not logged")


def test_ingest_curve_connect_upstream_is_a_curve_client(t):
    # guards: with [ingest] curve = yes, an [ingest] connect upstream is
    # authenticated too: a binding PUB that is a CURVE client with a
    # publisher key delivers; one with a subscriber key never gets the
    # daemon's subscriptions.
    keys = Keys(t)
    ups = {}
    for who in ("pub", "sub"):
        s = CTX.socket(zmq.XPUB)
        s.setsockopt(zmq.LINGER, 0)
        harness.curve_client(s, keys[who])
        ep = "ipc://%s/up-%s" % (t.base, who)
        s.bind(ep)
        t.socks.append(s)
        ups[who] = (s, ep)
    d = t.daemon(config=conf(security=keys.security(), ingest={
        "curve": True, "connect": "%s %s" % (ups["pub"][1], ups["sub"][1])}),
        curve=keys["adm"])
    good, bad = ups["pub"][0], ups["sub"][0]
    good.setsockopt(zmq.RCVTIMEO, 20000)
    if good.recv()[:1] != b"\x01":
        raise TestFailure("no subscription from the daemon")
    good.send_multipart([b"meeting", pack(meeting(id="up"))])
    admin = t.api(d, curve=keys["adm"])
    wait_for(lambda: stats(admin)["stored"] >= 1, what="the event stored")
    if bad.poll(NOTHING_MS, zmq.POLLIN):
        raise TestFailure("a subscriber-key upstream got %r" % bad.recv())


def test_writable_clients_file_warns(t):
    # guards: a clients file group or others may write is used, with a
    # warning naming it.
    keys = Keys(t)
    os.chmod(keys.clients_file, 0o666)
    d = t.daemon(config=conf(security=keys.security()), curve=keys["adm"])
    if "clients file %s is mode 0666" % keys.clients_file not in d.stderr():
        raise TestFailure("no warning:\n" + d.stderr())
