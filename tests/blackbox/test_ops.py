"""Operations (issue 6): log lines under journald and on a terminal, -v,
and /healthz failing while a commit is stuck."""
import http.client
import json
import os
import re
import signal
import subprocess
import time

from harness import (ROOT, BUILD, TestFailure, free_port, meeting, pack,
                     publish_ok, wait_for)

WARTAD = os.path.join(ROOT, BUILD, "wartad")
JOURNAL_LINE = re.compile(r"^<[0-7]>\S")
TERMINAL_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (error|warn |info |debug) \S")


def _journal_env(path):
    """JOURNAL_STREAM naming the file at path, as systemd sets it for the
    stream it gives a service's stderr."""
    st = os.stat(path)
    return {"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)}


def _exercise(t, d):
    """Make the daemon log at every level it can: info at start, debug for
    a commit, a warning for a reject whose topic holds line breaks, info on
    SIGHUP and SIGTERM; return its stderr lines."""
    api = t.api(d)
    publish_ok(api, "meeting", meeting(id="log-1"))
    pub = t.pub(d)
    forged = b"meeting\n<0>forged\r\n2026-01-01 00:00:00.000 error forged"
    pub.send_multipart([forged, pack(meeting())])
    wait_for(lambda: api.call("stats")["rejected"]["topic"] > 0,
             what="the reject")
    d.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "SIGHUP: configuration reloaded" in d.stderr(),
             what="the reload")
    if d.stop() != 0:
        raise TestFailure("wartad exited %s" % d.proc.returncode)
    lines = d.stderr().splitlines()
    # The topic's pieces stay on the line that logs the reject.
    pieces = [ln for ln in lines if "forged" in ln]
    if len(pieces) != 1 or "meet" not in pieces[0] or \
            pieces[0].count("forged") != 2:
        raise TestFailure("the forged topic was logged as %r" % pieces)
    return lines


def test_journal_lines_carry_priority(t):
    """With JOURNAL_STREAM naming its stderr, every line wartad writes
    starts with its syslog priority <N>, and a topic holding line breaks
    cannot start a line of its own."""
    d = t.daemon(start=False, args=["-v"])
    open(d.log_path, "ab").close()
    d.env = _journal_env(d.log_path)
    d.start()
    lines = _exercise(t, d)
    bad = [ln for ln in lines if not JOURNAL_LINE.match(ln)]
    if bad or not lines:
        raise TestFailure("lines without <N>: %r" % bad)
    for prio in ("<7>", "<6>", "<4>"):
        if not any(ln.startswith(prio) for ln in lines):
            raise TestFailure("no %s line in %r" % (prio, lines))


def test_terminal_lines_have_time_and_level(t):
    """Without JOURNAL_STREAM every line starts with the local time to the
    millisecond and the level; the line breaks of a topic are blanked."""
    d = t.daemon(start=False, args=["-v"])
    d.env = {"JOURNAL_STREAM": ""}
    d.start()
    lines = _exercise(t, d)
    bad = [ln for ln in lines if not TERMINAL_LINE.match(ln)]
    if bad or not lines:
        raise TestFailure("lines without time and level: %r" % bad)
    for level in ("debug", "info ", "warn "):
        if not any(ln[24:29] == level for ln in lines):
            raise TestFailure("no %s line in %r" % (level, lines))


def test_journal_stream_of_another_file_is_ignored(t):
    """A JOURNAL_STREAM inherited from elsewhere (it names another file)
    leaves the readable format on, as systemd.exec(5) asks."""
    d = t.daemon(start=False)
    other = os.path.join(t.base, "other")
    open(other, "w").close()
    d.env = _journal_env(other)
    d.start()
    d.stop()
    lines = d.stderr().splitlines()
    if not lines or not all(TERMINAL_LINE.match(ln) for ln in lines):
        raise TestFailure("expected time and level: %r" % lines)


def test_config_error_under_journal_is_priority_3(t):
    """A bad flag under journald is logged as <3>, an error, not as an
    unprefixed line journald would file as info."""
    err = os.path.join(t.base, "err")
    with open(err, "wb") as f:
        env = dict(os.environ, **_journal_env(err))
        rc = subprocess.run([WARTAD, "--ingest", "bogus://x"], stderr=f,
                            stdout=subprocess.DEVNULL, env=env,
                            timeout=30).returncode
    with open(err) as f:
        lines = f.read().splitlines()
    if rc != 78 or len(lines) != 1 or not lines[0].startswith("<3>") or \
            "--ingest" not in lines[0]:
        raise TestFailure("exit %d, stderr %r" % (rc, lines))


def test_v_raises_verbosity(t):
    """No debug lines at the default level; -v adds them; --log-level warn
    -v logs info but still no debug."""
    seen = {}
    for args in ([], ["-v"], ["--log-level", "warn", "-v"]):
        d = t.daemon(args=args)
        publish_ok(t.api(d), "meeting", meeting(id="v-1"))
        d.stop()
        text = d.stderr()
        seen[" ".join(args)] = (" debug " in text, " info " in text)
    want = {"": (False, True), "-v": (True, True),
            "--log-level warn -v": (False, True)}
    if seen != want:
        raise TestFailure("(debug, info) lines per flags: %r, expected %r" %
                          (seen, want))


def _healthz(port):
    """(status, body as JSON) of GET /healthz."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        c.request("GET", "/healthz")
        r = c.getresponse()
        return r.status, json.loads(r.read())
    finally:
        c.close()


def test_healthz_503_while_a_commit_is_stuck(t):
    """While another process holds the store's LMDB write lock, a commit
    waits with the writer; after 10 s /healthz answers 503 "stuck" (the
    loop still answers), and 200 again once the commit went through."""
    port = free_port()
    d = t.daemon(config="[http]\nlisten = 127.0.0.1:%d\n" % port)
    # mdb_load takes the write lock after the header, then waits for data.
    hold = subprocess.Popen(["mdb_load", d.data], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        hold.stdin.write(b"VERSION=3\nformat=bytevalue\ntype=btree\n"
                         b"HEADER=END\n")
        hold.stdin.flush()
        time.sleep(1)
        if hold.poll() is not None:
            raise TestFailure("mdb_load exited %d" % hold.returncode)
        api = t.api(d, dealer=True)
        api.send({"op": "publish", "topic": "meeting",
                  "event": meeting(id="stuck-1")})
        status, doc = _healthz(port)
        if status != 200 or doc["status"] != "ok":
            raise TestFailure("/healthz at once: %d %r" % (status, doc))
        status, doc = wait_for(lambda: (lambda r: r if r[0] == 503 else
                                        None)(_healthz(port)),
                               timeout=30, what="/healthz 503",
                               interval=0.5)
        if doc["status"] != "stuck" or doc["writable"] is not False:
            raise TestFailure("/healthz while stuck: %r" % doc)
    finally:
        hold.kill()
        hold.wait()
    r = api.recv()
    if not r.get("ok"):
        raise TestFailure("publish after the lock went: %r" % r)
    status, doc = _healthz(port)
    if status != 200 or doc["status"] != "ok":
        raise TestFailure("/healthz after: %d %r" % (status, doc))
