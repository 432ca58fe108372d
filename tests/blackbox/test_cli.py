"""Black-box tests of the command-line client build/warta against the real
wartad over real ZeroMQ: every subcommand's output and exit status, JSON
parsed by a real JSON parser, bulk loads, exactly-once --follow across
restarts, and every bad-usage path.  The client speaks only PROTOCOL.md,
so these also prove the contract from the outside."""
import base64
import json
import os
import signal
import stat
import subprocess

import msgpack
import zmq
import zmq.utils.z85

import harness
from harness import TestFailure, attache, meeting, pack, publish_ok, training, wait_for

WARTA = os.path.join(harness.ROOT, harness.BUILD, "warta")

EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_UNAVAILABLE = 69


def clean_env(**extra):
    """The environment without WARTA_* settings, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARTA_")}
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


def run(args, input=None, env=None, timeout=120):
    """Run warta with args; return the CompletedProcess (text)."""
    return subprocess.run([WARTA] + list(args), input=input,
                          capture_output=True, text=True, timeout=timeout,
                          env=env if env is not None else clean_env())


def eps(d):
    """Endpoint flags for daemon d."""
    return ["--api", d.api_ep, "--notify", d.notify, "--ingest", d.ingest]


def cli(d, *args, **kw):
    """Run warta against daemon d."""
    return run(eps(d) + list(args), **kw)


def expect(p, code, what=""):
    """Assert the exit status of a finished warta."""
    if p.returncode != code:
        raise TestFailure("%s: expected exit %d, got %d\nstdout: %s\nstderr: %s"
                          % (what or " ".join(p.args[1:]), code, p.returncode,
                             p.stdout[-2000:], p.stderr[-2000:]))


def ndjson(text):
    """Parse NDJSON output with a real JSON parser."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class Bg:
    """A warta running in the background, stdout to a file."""

    def __init__(self, t, args, name="bg"):
        self.dir = "warta %s" % " ".join(args[6:])  # named in failure reports
        self.out_path = os.path.join(t.base, "%s.%d.out" % (name, id(self)))
        self.err_path = self.out_path[:-4] + ".err"
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([WARTA] + list(args), stdout=self.out,
                                     stderr=self.err, env=clean_env())
        t.daemons.append(self)   # so Ctx.close() kills it if a test fails

    def lines(self):
        with open(self.out_path) as f:
            return f.read().splitlines()

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def wait_lines(self, n, what="output"):
        wait_for(lambda: len(self.lines()) >= n, timeout=60,
                 what="%d lines of %s (have %d; stderr: %s)"
                 % (n, what, len(self.lines()), self.stderr()[-500:]))
        return self.lines()

    def stop(self, sig=signal.SIGTERM):
        """Signal it and return its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(60)
        self.out.close()
        self.err.close()
        return rc

    def wait(self):
        rc = self.proc.wait(120)
        self.out.close()
        self.err.close()
        return rc

    kill = stop     # what Ctx.close() calls on daemons


# ---------------------------------------------------------------------------
# Help and bad usage (no daemon needed).

def test_help_lists_every_command(t):
    # guards: `warta --help` says everything: every subcommand and the
    # global options, on stdout, exit 0.
    p = run(["--help"])
    expect(p, 0)
    for word in ("pub", "sub", "get", "ls", "replay", "stats", "rejects",
                 "ping", "keygen", "--api", "--notify", "--ingest",
                 "WARTA_API", "--timeout"):
        if word not in p.stdout:
            raise TestFailure("--help does not mention %s:\n%s" % (word, p.stdout))


def test_each_command_has_help(t):
    # guards: `warta CMD --help` (and `warta help CMD`) explain each command
    # and exit 0.
    for cmd in ("pub", "sub", "get", "ls", "replay", "stats", "rejects",
                "ping", "keygen"):
        for args in ([cmd, "--help"], [cmd, "-h"], ["help", cmd]):
            p = run(args)
            expect(p, 0)
            if ("usage: warta " + cmd) not in p.stdout:
                raise TestFailure("%r: no usage line:\n%s" % (args, p.stdout))


# Every bad-usage path: (arguments, what the one-line hint must mention).
BAD_USAGE = [
    ([], "missing command"),
    (["frobnicate"], "unknown command"),
    (["--bogus", "ping"], "--bogus"),
    (["ping", "--bogus"], "--bogus"),
    (["ping", "extra"], "extra"),
    (["ping", "--json=yes"], "--json"),
    (["--api"], "--api needs a value"),
    (["--timeout", "0", "ping"], "--timeout"),
    (["--timeout", "soon", "ping"], "--timeout"),
    (["--timeout", "-1", "ping"], "--timeout"),
    (["help", "frobnicate"], "unknown command"),
    (["pub"], "missing TYPE"),
    (["pub", "meeting", "a.json", "b.json"], "b.json"),
    (["pub", "meeting", "f.json", "--id", "m-1"], "not both"),
    (["pub", "meeting", "--seats", "many"], "--seats"),
    (["pub", "meeting", "--starts-at", "next tuesday"], "--starts-at"),
    (["pub", "meeting", "--starts-at", "2026-13-01T00:00"], "--starts-at"),
    (["pub", "meeting", "--title", "a", "--title", "b"], "twice"),
    (["pub", "attache", "--contact", "no-equals-sign"], "--contact"),
    (["pub", "meeting", "--window", "0"], "--window"),
    (["pub", "meeting", "--id"], "--id needs a value"),
    (["pub", "-", "--id", "x"], "TYPE -"),
    (["sub", "--from", "zero"], "--from"),
    (["sub", "--from", "0"], "--from"),
    (["sub", "--count", "0"], "--count"),
    (["sub", "--cursor"], "--cursor needs a value"),
    (["sub", "--follow=1"], "--follow"),
    (["get"], "missing TYPE"),
    (["get", "meeting"], "missing ID"),
    (["get", "meeting", "m-1", "m-2"], "m-2"),
    (["ls"], "missing TYPE"),
    (["ls", "meeting", "training"], "training"),
    (["ls", "meeting", "--limit", "0"], "--limit"),
    (["ls", "meeting", "--limit", "1001"], "--limit"),
    (["ls", "meeting", "--from", "yesterday"], "--from"),
    (["replay", "--limit", "x"], "--limit"),
    (["replay", "--from", "-3"], "--from"),
    (["stats", "now"], "now"),
    (["rejects", "--from", "0"], "--from"),
    (["rejects", "--limit", "none"], "--limit"),
    (["keygen", "--out", ""], "--out"),
    (["keygen", "extra"], "extra"),
    (["--server-key", "/nonexistent/server.pub", "ping"], "--server-key"),
    (["--key", "/nonexistent/me", "ping"], "--key"),
]


def test_bad_usage_exits_64_with_one_line(t):
    # guards: every bad-usage path exits 64 with exactly one line on stderr
    # that names the problem, prints nothing on stdout, and never touches
    # a daemon (no endpoint is reachable here).
    for args, hint in BAD_USAGE:
        p = run(["--api", "ipc:///nonexistent/api", "--timeout", "1"] + args
                if args and args[0] not in ("--api", "--timeout") else args)
        expect(p, EX_USAGE, "warta %s" % " ".join(args))
        lines = p.stderr.strip().splitlines()
        if len(lines) != 1:
            raise TestFailure("warta %s: want one line on stderr, got:\n%s"
                              % (" ".join(args), p.stderr))
        if hint not in lines[0]:
            raise TestFailure("warta %s: hint %r does not mention %r"
                              % (" ".join(args), lines[0], hint))
        if p.stdout:
            raise TestFailure("warta %s: printed on stdout: %r"
                              % (" ".join(args), p.stdout))


def test_usage_hint_shows_the_commands_usage(t):
    # guards: the one-line hint of a command's misuse carries its usage line.
    p = run(["get", "meeting"])
    expect(p, EX_USAGE)
    if "usage: warta get TYPE ID" not in p.stderr:
        raise TestFailure("no usage in hint: %r" % p.stderr)


# ---------------------------------------------------------------------------
# Unreachable daemon.

def test_unreachable_daemon_exits_69_naming_the_endpoint(t):
    # guards: with no daemon, each command that needs one gives up after the
    # bounded wait, exits 69 and names the endpoint it tried.
    base = "ipc://%s/nobody" % t.base
    cases = [
        (["ping"], base + "-api"),
        (["get", "meeting", "m-1"], base + "-api"),
        (["ls", "meeting"], base + "-api"),
        (["replay"], base + "-api"),
        (["stats"], base + "-api"),
        (["rejects"], base + "-api"),
        (["sub"], base + "-notify"),
        (["sub", "--from", "1"], base + "-api"),
        (["pub", "meeting", "--id", "m-1"], base + "-api"),
        (["pub", "meeting", "--no-ack", "--id", "m-1"], base + "-ingest"),
    ]
    for args, ep in cases:
        p = run(["--api", base + "-api", "--notify", base + "-notify",
                 "--ingest", base + "-ingest", "--timeout", "0.5"] + args)
        expect(p, EX_UNAVAILABLE, "warta %s" % " ".join(args))
        if ep not in p.stderr:
            raise TestFailure("warta %s: stderr does not name %s: %r"
                              % (" ".join(args), ep, p.stderr))


def test_endpoints_come_from_the_environment(t):
    # guards: WARTA_API / WARTA_NOTIFY / WARTA_INGEST stand in for the flags.
    d = t.daemon()
    p = run(["ping", "--json"], env=clean_env(WARTA_API=d.api_ep))
    expect(p, 0)
    if "last_seq" not in json.loads(p.stdout):
        raise TestFailure(p.stdout)
    p = run(["ping"], env=clean_env(WARTA_API="ipc://%s/none" % t.base,
                                   WARTA_TIMEOUT="0.5"))
    expect(p, EX_UNAVAILABLE)


def test_global_options_after_the_command(t):
    # guards: `warta ping --api EP` works as well as `warta --api EP ping`.
    d = t.daemon()
    expect(run(["ping", "--api", d.api_ep]), 0)
    expect(run(["ping", "--api=" + d.api_ep]), 0)


# ---------------------------------------------------------------------------
# ping, stats, rejects

def test_ping_human_and_json(t):
    # guards: ping prints the daemon's version and last seq for people, and
    # the reply map (without ok) as JSON for programs.
    d = t.daemon()
    publish_ok(t.api(d), "meeting", meeting())
    p = cli(d, "ping")
    expect(p, 0)
    if "last seq 1" not in p.stdout:
        raise TestFailure(p.stdout)
    j = json.loads(cli(d, "ping", "--json").stdout)
    if j.get("last_seq") != 1 or "version" not in j or "uptime_s" not in j \
            or "ok" in j:
        raise TestFailure(j)


def test_stats_human_and_json(t):
    # guards: stats shows the counters as a table and as one JSON object
    # whose numbers are JSON integers.
    d = t.daemon()
    publish_ok(t.api(d), "meeting", meeting())
    p = cli(d, "stats")
    expect(p, 0)
    for word in ("received", "stored", "rejected", "last_seq"):
        if word not in p.stdout:
            raise TestFailure("stats does not show %s:\n%s" % (word, p.stdout))
    j = json.loads(cli(d, "stats", "--json").stdout)
    if j["stored"] != 1 or not isinstance(j["stored"], int) \
            or not isinstance(j["rejected"], dict):
        raise TestFailure(j)


def test_rejects_table_and_json_with_body(t):
    # guards: rejects lists what the daemon refused on ingest; --json gives
    # one object per line with the kept body as base64 (binary is never
    # forced into a JSON string).
    d = t.daemon()
    pub = t.pub(d)
    body = pack(meeting(country="XX"))
    pub.send_multipart([b"meeting", body])
    pub.send_multipart([b"meeting", b"\xc1 not msgpack"])
    api = t.api(d)
    wait_for(lambda: sum(api.call("stats")["rejected"].values()) >= 2,
             what="two rejects")
    p = cli(d, "rejects")
    expect(p, 0)
    if "schema" not in p.stdout or "msgpack" not in p.stdout:
        raise TestFailure(p.stdout)
    items = ndjson(cli(d, "rejects", "--json").stdout)
    if [i["n"] for i in items] != [1, 2]:
        raise TestFailure(items)
    if items[0]["reason"] != "schema" or "country" not in items[0]["detail"]:
        raise TestFailure(items[0])
    if base64.b64decode(items[0]["body_base64"]) != body:
        raise TestFailure("body_base64 does not round-trip")
    items = ndjson(cli(d, "rejects", "--json", "--from", "2").stdout)
    if [i["n"] for i in items] != [2]:
        raise TestFailure(items)


# ---------------------------------------------------------------------------
# pub

def test_pub_from_flags_types_the_fields(t):
    # guards: `warta pub TYPE --key value…` builds the event: ISO 8601 times
    # become Unix ms integers, seats an integer, lists split on commas,
    # --contact a map, everything else strings; it prints the seq.
    d = t.daemon()
    p = cli(d, "pub", "training", "--id", "koica-2026", "--action", "announced",
            "--country", "KR", "--title", "Labour negotiation course",
            "--provider", "KOICA", "--format", "course",
            "--starts-at", "2026-03-04T09:00:00+07:00",
            "--ends_at", "1772676000000", "--seats", "30",
            "--audience", "KBRI Seoul, Biro KLN\\, Jakarta",
            "--audience", "KDEI Taipei")
    expect(p, 0)
    if p.stdout.strip() != "1":
        raise TestFailure("want seq 1, got %r" % p.stdout)
    r = t.api(d).call("get", type="training", id="koica-2026")
    ev = r["event"]
    if ev["starts_at"] != 1772589600000 or ev["ends_at"] != 1772676000000 \
            or ev["seats"] != 30:
        raise TestFailure(ev)
    if ev["audience"] != ["KBRI Seoul", "Biro KLN, Jakarta", "KDEI Taipei"]:
        raise TestFailure(ev["audience"])
    p = cli(d, "pub", "attache", "--id", "a-kr", "--action", "contact_changed",
            "--country", "KR", "--person", "Budi Santoso", "--role", "attache",
            "--post", "KBRI Seoul", "--contact", "phone=+82-2-000",
            "--contact", "email=naker@kbri.kr")
    expect(p, 0)
    ev = t.api(d).call("get", type="attache", id="a-kr")["event"]
    if ev["contact"] != {"phone": "+82-2-000", "email": "naker@kbri.kr"}:
        raise TestFailure(ev)


def test_pub_json_keeps_integers_utf8_and_floats(t):
    # guards: JSON -> MessagePack through jansson: 3 stays an integer, 2.5
    # a float, UTF-8 byte for byte, key order kept; x_ keys pass through.
    d = t.daemon()
    ev = meeting(id="m-utf8", title="Rapat bilateral — 서울 · Ñ 🇮🇩",
                 x_score=2.5, x_count=3, x_nested={"a": [1, "b", None]})
    p = cli(d, "pub", "meeting", input=json.dumps(ev, ensure_ascii=False))
    expect(p, 0)
    raw = t.api(d).call("get", type="meeting", id="m-utf8")["event"]
    if raw["title"] != ev["title"]:
        raise TestFailure("UTF-8 changed: %r" % raw["title"])
    if type(raw["x_score"]) is not float or type(raw["x_count"]) is not int \
            or raw["starts_at"] != ev["starts_at"] \
            or raw["x_nested"] != ev["x_nested"]:
        raise TestFailure(raw)
    if list(raw)[:3] != ["id", "action", "country"]:
        raise TestFailure("key order changed: %r" % list(raw))


def test_pub_pretty_json_file(t):
    # guards: one event spread over several lines (pretty JSON in a FILE)
    # is read as one event.
    d = t.daemon()
    path = os.path.join(t.base, "event.json")
    with open(path, "w") as f:
        json.dump(attache(), f, indent=2)
    p = cli(d, "pub", "attache", path)
    expect(p, 0)
    if p.stdout.strip() != "1":
        raise TestFailure(p.stdout)


def test_pub_invalid_shows_field_detail_and_exits_65(t):
    # guards: an event the daemon refuses exits 65 and shows the daemon's
    # field-level detail.
    d = t.daemon()
    ev = meeting()
    del ev["counterparts"]
    p = cli(d, "pub", "meeting", input=json.dumps(ev))
    expect(p, EX_DATAERR)
    if "counterparts" not in p.stderr or p.stdout:
        raise TestFailure("stderr %r stdout %r" % (p.stderr, p.stdout))
    p = cli(d, "pub", "meeting", "--id", "m-1", "--action", "scheduled",
            "--country", "kr")
    expect(p, EX_DATAERR)
    if "country" not in p.stderr:
        raise TestFailure(p.stderr)


def test_pub_bad_json_names_the_line(t):
    # guards: input that is not JSON (or not an object, or not UTF-8) exits
    # 65 naming the line; the good lines around it are still published.
    d = t.daemon()
    lines = [json.dumps(meeting(id="m-1")), '{"id": "m-2",,}', "42",
             json.dumps(meeting(id="m-3"))]
    p = cli(d, "pub", "meeting", input="\n".join(lines) + "\n")
    expect(p, EX_DATAERR)
    if "line 2" not in p.stderr or "line 3" not in p.stderr:
        raise TestFailure(p.stderr)
    if p.stdout.split() != ["1", "2"]:
        raise TestFailure(p.stdout)
    p = subprocess.run([WARTA] + eps(d) + ["pub", "meeting"],
                       input=b"\xff\xfe{}\n", capture_output=True,
                       env=clean_env(), timeout=60)
    expect(p, EX_DATAERR, "pub of non-UTF-8 bytes")
    if b"line 1" not in p.stderr:
        raise TestFailure(p.stderr)


def test_pub_empty_input_exits_65(t):
    # guards: no event at all in the input is an error, not a silent success.
    d = t.daemon()
    expect(cli(d, "pub", "meeting", input="\n  \n"), EX_DATAERR)


def test_pub_missing_file_exits_66(t):
    # guards: a FILE that does not exist is reported by name (exit 66).
    d = t.daemon()
    p = cli(d, "pub", "meeting", os.path.join(t.base, "nope.ndjson"))
    expect(p, EX_NOINPUT)
    if "nope.ndjson" not in p.stderr:
        raise TestFailure(p.stderr)


def test_pub_duplicate_msg_id(t):
    # guards: a second event with a stored msg_id prints the first event's
    # seq, and --json marks it duplicate.
    d = t.daemon()
    ev = json.dumps(meeting(msg_id="sim-001"))
    p1 = cli(d, "pub", "meeting", "--json", input=ev)
    p2 = cli(d, "pub", "meeting", "--json", input=ev)
    expect(p1, 0)
    expect(p2, 0)
    a, b = json.loads(p1.stdout), json.loads(p2.stdout)
    if a["seq"] != b["seq"] or a["duplicate"] or not b["duplicate"]:
        raise TestFailure((a, b))


def test_pub_no_ack_goes_through_ingest(t):
    # guards: --no-ack sends on the ingest socket: nothing on stdout, exit 0,
    # and the event is stored; an invalid one lands in the rejects.
    d = t.daemon()
    p = cli(d, "pub", "meeting", "--no-ack", input=json.dumps(meeting(id="na")))
    expect(p, 0)
    if p.stdout:
        raise TestFailure(p.stdout)
    api = t.api(d)
    wait_for(lambda: api.call("get", type="meeting", id="na").get("ok"),
             what="the --no-ack event")
    p = cli(d, "pub", "meeting", "--no-ack", input=json.dumps(meeting(country="XX")))
    expect(p, 0)
    wait_for(lambda: api.call("rejects").get("items"), what="a reject")


def test_pub_bulk_10000_from_ndjson(t):
    # guards: a bulk load of 10,000 events from an NDJSON file prints one
    # seq per event, in input order, all stored.
    d = t.daemon()
    path = os.path.join(t.base, "bulk.ndjson")
    with open(path, "w") as f:
        for i in range(10000):
            f.write(json.dumps(training(id="t-%05d" % i, seats=20 + i % 10,
                                        starts_at=1767225600000 + i)) + "\n")
    p = cli(d, "pub", "training", path)
    expect(p, 0)
    seqs = [int(s) for s in p.stdout.split()]
    if seqs != list(range(1, 10001)):
        raise TestFailure("seqs: %d printed, first %r last %r"
                          % (len(seqs), seqs[:3], seqs[-3:]))
    if t.api(d).call("stats")["stored"] != 10000:
        raise TestFailure("not all stored")
    r = t.api(d).call("get", type="training", id="t-09999")
    if r["seq"] != 10000 or r["event"]["seats"] != 29:
        raise TestFailure(r)


def test_pub_bulk_reports_each_invalid_line_and_goes_on(t):
    # guards: in a bulk load, an invalid event is reported with its line
    # number and the daemon's detail, the rest are stored, and the exit
    # status says something was invalid.
    d = t.daemon()
    lines = []
    for i in range(100):
        ev = meeting(id="m-%d" % i)
        if i == 41:
            ev["kind"] = "trilateral"
        lines.append(json.dumps(ev))
    p = cli(d, "pub", "meeting", "--json", input="\n".join(lines))
    expect(p, EX_DATAERR)
    if "line 42" not in p.stderr or "kind" not in p.stderr:
        raise TestFailure(p.stderr)
    out = ndjson(p.stdout)
    bad = [o for o in out if not o["ok"]]
    if len(out) != 100 or len(bad) != 1 or bad[0]["line"] != 42 \
            or bad[0]["error"] != "invalid":
        raise TestFailure(bad)
    if t.api(d).call("stats")["stored"] != 99:
        raise TestFailure("want 99 stored")


def test_pub_type_dash_republishes_sub_json(t):
    # guards: `warta replay --json | warta pub -` copies events from one
    # daemon to another unchanged: every value with the same MessagePack type.
    d1 = t.daemon()
    d2 = t.daemon()
    api1 = t.api(d1)
    sent = [meeting(id="m-1", x_ratio=0.25), training(seats=25, participants=20),
            attache(priority="urgent", message="Evakuasi — 대피", action="report")]
    for ev, ty in zip(sent, ("meeting", "training", "attache")):
        publish_ok(api1, ty, ev)
    dump = cli(d1, "replay", "--json")
    expect(dump, 0)
    p = cli(d2, "pub", "-", input=dump.stdout)
    expect(p, 0)
    api2 = t.api(d2)
    for ty, id in (("meeting", "m-1"), ("training", "t-1"), ("attache", "a-1")):
        a = api1.call("get", type=ty, id=id)["event"]
        b = api2.call("get", type=ty, id=id)["event"]
        if pack(a) != pack(b):
            raise TestFailure("%s %s changed: %r vs %r" % (ty, id, a, b))


# ---------------------------------------------------------------------------
# get, ls, replay

def test_get_human_and_json(t):
    # guards: get shows the latest state with its seq and history as a table,
    # and {seq, event, history} as JSON.
    d = t.daemon()
    api = t.api(d)
    publish_ok(api, "meeting", meeting(id="ch-1"))
    publish_ok(api, "meeting", meeting(id="other"))
    publish_ok(api, "meeting", meeting(id="ch-1", action="postponed",
                                       title="Swiss-Indonesian JWG"))
    p = cli(d, "get", "meeting", "ch-1")
    expect(p, 0)
    if "seq 3" not in p.stdout or "Swiss-Indonesian JWG" not in p.stdout \
            or "postponed" not in p.stdout:
        raise TestFailure(p.stdout)
    j = json.loads(cli(d, "get", "meeting", "ch-1", "--json").stdout)
    if j["seq"] != 3 or j["history"] != [1, 3] or j["event"]["action"] != "postponed":
        raise TestFailure(j)


def test_get_not_found_exits_1(t):
    # guards: an unknown entity is "not found" (exit 1), distinct from
    # usage (64) and unreachable (69).
    d = t.daemon()
    p = cli(d, "get", "meeting", "nope")
    expect(p, 1)
    if "not found" not in p.stderr:
        raise TestFailure(p.stderr)


def test_get_unknown_type_is_a_usage_error(t):
    # guards: the daemon's bad_request (unknown type) exits 64 with its
    # detail.
    d = t.daemon()
    p = cli(d, "get", "meetings", "m-1")
    expect(p, EX_USAGE)
    if "bad_request" not in p.stderr:
        raise TestFailure(p.stderr)


def test_get_json_refuses_binary(t):
    # guards: a binary x_ value cannot be shown as JSON: --json exits 65
    # naming the key, while the table shows its size.
    d = t.daemon()
    publish_ok(t.api(d), "meeting", meeting(x_blob=b"\x00\x01\x02"))
    p = cli(d, "get", "meeting", "m-1", "--json")
    expect(p, EX_DATAERR)
    if "x_blob" not in p.stderr or "binary" not in p.stderr:
        raise TestFailure(p.stderr)
    p = cli(d, "get", "meeting", "m-1")
    expect(p, 0)
    if "<3 bytes>" not in p.stdout:
        raise TestFailure(p.stdout)


def test_ls_table_and_json(t):
    # guards: ls lists each entity once by its latest event, sorted by
    # starts_at, filtered by --country, as a table and as NDJSON.
    d = t.daemon()
    api = t.api(d)
    publish_ok(api, "meeting", meeting(id="late", starts_at=1800000000000))
    publish_ok(api, "meeting", meeting(id="early", starts_at=1700000000000,
                                       country="US", title="ILAB dialogue"))
    publish_ok(api, "meeting", meeting(id="late", action="postponed",
                                       starts_at=1800000000000))
    p = cli(d, "ls", "meeting")
    expect(p, 0)
    rows = p.stdout.splitlines()
    if len(rows) != 3 or "early" not in rows[1] or "late" not in rows[2] \
            or "postponed" not in rows[2]:
        raise TestFailure(p.stdout)
    items = ndjson(cli(d, "ls", "meeting", "--json").stdout)
    if [i["event"]["id"] for i in items] != ["early", "late"]:
        raise TestFailure(items)
    items = ndjson(cli(d, "ls", "meeting", "--country", "US", "--json").stdout)
    if [i["event"]["id"] for i in items] != ["early"]:
        raise TestFailure(items)
    items = ndjson(cli(d, "ls", "meeting", "--json",
                       "--from", "2025-01-01T00:00:00Z").stdout)
    if [i["event"]["id"] for i in items] != ["late"]:
        raise TestFailure(items)


def test_replay_prefix_from_limit(t):
    # guards: replay prints stored events in seq order, paging past the
    # daemon's page size, filtered by prefix, --from and --limit.
    d = t.daemon()
    api = t.api(d)
    for i in range(1205):
        publish_ok(api, "attache" if i % 2 else "meeting",
                   attache(id="a-%d" % i) if i % 2 else meeting(id="m-%d" % i))
    items = ndjson(cli(d, "replay", "--json").stdout)
    if [i["seq"] for i in items] != list(range(1, 1206)):
        raise TestFailure("replay gave %d items" % len(items))
    items = ndjson(cli(d, "replay", "attache.KR.", "--json").stdout)
    if [i["seq"] for i in items] != list(range(2, 1206, 2)):
        raise TestFailure("prefix replay gave %d items" % len(items))
    items = ndjson(cli(d, "replay", "--from", "1000", "--limit", "3",
                       "--json").stdout)
    if [i["seq"] for i in items] != [1000, 1001, 1002]:
        raise TestFailure(items)
    p = cli(d, "replay", "--from", "1204", "--type", "meeting")
    expect(p, 0)
    if len(p.stdout.splitlines()) != 1 or "#1205" not in p.stdout:
        raise TestFailure(p.stdout)


# ---------------------------------------------------------------------------
# sub

def test_sub_json_is_ndjson(t):
    # guards: sub --json prints one JSON object per line, {seq, received_at,
    # topic, event}, parsed here by a real JSON parser; no heartbeats.
    d = t.daemon()
    bg = Bg(t, eps(d) + ["sub", "--json", "--count", "3"])
    t.wait_subscribers(d, 1)
    api = t.api(d)
    publish_ok(api, "meeting", meeting())
    publish_ok(api, "training", training(title="Negosiasi internasional — Batam"))
    publish_ok(api, "attache", attache())
    if bg.wait() != 0:
        raise TestFailure(bg.stderr())
    objs = [json.loads(line) for line in bg.lines()]
    if [o["seq"] for o in objs] != [1, 2, 3]:
        raise TestFailure(objs)
    if objs[0]["topic"] != "meeting.CH.scheduled" or \
            objs[1]["event"]["title"] != "Negosiasi internasional — Batam" or \
            not isinstance(objs[2]["received_at"], int) or \
            objs[2]["event"]["priority"] != "info":
        raise TestFailure(objs)


def test_sub_human_marks_urgent(t):
    # guards: the human line carries type, country, action, id and the
    # person, and marks an urgent attaché notice with "!".
    d = t.daemon()
    bg = Bg(t, eps(d) + ["sub", "--count", "2"])
    t.wait_subscribers(d, 1)
    api = t.api(d)
    publish_ok(api, "attache", attache(action="report", priority="urgent",
                                       message="Kebakaran asrama pekerja"))
    publish_ok(api, "meeting", meeting())
    if bg.wait() != 0:
        raise TestFailure(bg.stderr())
    urgent, plain = bg.lines()
    for word in ("attache", "KR", "report", "a-1", "Budi Santoso",
                 "KBRI Seoul", "Kebakaran", "#1"):
        if word not in urgent:
            raise TestFailure("%r not in %r" % (word, urgent))
    if " ! " not in urgent or " ! " in plain or "CH" not in plain:
        raise TestFailure((urgent, plain))


def test_sub_prefix_and_filters(t):
    # guards: PREFIX arguments and --type/--country/--action filters pass
    # only matching notifications.
    d = t.daemon()
    bg1 = Bg(t, eps(d) + ["sub", "attache.KR.", "--json", "--count", "2"])
    bg2 = Bg(t, eps(d) + ["sub", "--type", "attache", "--country", "SA,KR",
                          "--action", "arrived", "--json", "--count", "2"])
    t.wait_subscribers(d, 3)  # attache.KR., _sys.heartbeat, attache.
    api = t.api(d)
    publish_ok(api, "meeting", meeting(country="KR"))
    publish_ok(api, "attache", attache(country="SA", post="KJRI Jeddah"))
    publish_ok(api, "attache", attache(action="departed"))
    publish_ok(api, "attache", attache())
    for bg, want in ((bg1, [3, 4]), (bg2, [2, 4])):
        if bg.wait() != 0:
            raise TestFailure(bg.stderr())
        got = [json.loads(line)["seq"] for line in bg.lines()]
        if got != want:
            raise TestFailure("want %r got %r" % (want, got))


def test_sub_from_catches_up_then_goes_live(t):
    # guards: --from SEQ replays history first, then goes live, with no
    # duplicate at the seam.
    d = t.daemon()
    api = t.api(d)
    for i in range(5):
        publish_ok(api, "meeting", meeting(id="m-%d" % i))
    bg = Bg(t, eps(d) + ["sub", "--from", "3", "--json", "--count", "6"])
    bg.wait_lines(3, "replayed events")
    for i in range(3):
        publish_ok(api, "meeting", meeting(id="n-%d" % i))
    if bg.wait() != 0:
        raise TestFailure(bg.stderr())
    if [json.loads(x)["seq"] for x in bg.lines()] != list(range(3, 9)):
        raise TestFailure(bg.lines())


def test_sub_without_daemon_exits_69(t):
    # guards: a plain sub that hears nothing, not even a heartbeat, within
    # the timeout exits 69 naming the notify endpoint.
    ep = "ipc://%s/none" % t.base
    p = run(["--notify", ep, "--timeout", "0.5", "sub"])
    expect(p, EX_UNAVAILABLE)
    if ep not in p.stderr:
        raise TestFailure(p.stderr)


def test_sub_stops_cleanly_on_sigterm(t):
    # guards: SIGTERM ends sub with status 0.
    d = t.daemon()
    bg = Bg(t, eps(d) + ["sub"])
    t.wait_subscribers(d, 1)
    if bg.stop() != 0:
        raise TestFailure(bg.stderr())


def test_sub_follow_exactly_once_across_restarts(t):
    # guards: sub --follow receives every event exactly once, in order,
    # across a daemon restart (events published while it reconnects come
    # by replay) and a client restart (events published while it is down
    # come from its cursor file).
    d = t.daemon()
    api = t.api(d)
    cursor = os.path.join(t.base, "cursor")
    n = [0]

    def publish(k):
        a = t.api(d)
        for _ in range(k):
            n[0] += 1
            publish_ok(a, "meeting", meeting(id="m-%d" % n[0]))
        a.close()

    publish(5)                                  # history: 1..5
    args = eps(d) + ["sub", "--follow", "--cursor", cursor, "--json"]
    bg1 = Bg(t, args + ["--from", "1"], "run1")
    bg1.wait_lines(5, "history")
    publish(5)                                  # live: 6..10
    bg1.wait_lines(10, "live events")

    api.close()
    if d.stop() != 0:
        raise TestFailure("daemon did not stop cleanly")
    d.start()
    publish(5)                                  # after restart: 11..15
    bg1.wait_lines(15, "events after the daemon restart")
    publish(5)                                  # 16..20
    bg1.wait_lines(20, "more live events")
    if bg1.stop() != 0:
        raise TestFailure(bg1.stderr())
    with open(cursor) as f:
        if f.read().strip() != "20":
            raise TestFailure("cursor file does not say 20")

    publish(5)                                  # while the client is down
    d.kill()                                    # and a hard daemon restart
    d.start()
    bg2 = Bg(t, args, "run2")
    bg2.wait_lines(5, "catch-up after the client restart")
    publish(5)                                  # live again: 26..30
    bg2.wait_lines(10, "live events after the client restart")
    if bg2.stop() != 0:
        raise TestFailure(bg2.stderr())

    seqs = [json.loads(x)["seq"] for x in bg1.lines() + bg2.lines()]
    if seqs != list(range(1, 31)):
        raise TestFailure("not exactly once: %r" % seqs)
    ids = [json.loads(x)["event"]["id"] for x in bg1.lines() + bg2.lines()]
    if ids != ["m-%d" % i for i in range(1, 31)]:
        raise TestFailure(ids)


def test_sub_follow_with_filter_keeps_cursor_past_others(t):
    # guards: a filtered follower's cursor moves past events of other topics,
    # so a restart neither repeats nor misses matching ones.
    d = t.daemon()
    api = t.api(d)
    cursor = os.path.join(t.base, "cursor")
    args = eps(d) + ["sub", "attache.", "--follow", "--cursor", cursor,
                     "--json", "--from", "1"]
    publish_ok(api, "meeting", meeting())
    publish_ok(api, "attache", attache(id="a-1"))
    bg1 = Bg(t, args, "run1")
    bg1.wait_lines(1)
    publish_ok(api, "meeting", meeting(id="m-2"))
    publish_ok(api, "attache", attache(id="a-2"))
    bg1.wait_lines(2)
    bg1.stop()
    publish_ok(api, "training", training())
    publish_ok(api, "attache", attache(id="a-3"))
    bg2 = Bg(t, args[:-2], "run2")
    bg2.wait_lines(1)
    bg2.stop()
    seqs = [json.loads(x)["seq"] for x in bg1.lines() + bg2.lines()]
    if seqs != [2, 4, 6]:
        raise TestFailure(seqs)


def test_sub_follow_cursor_is_locked(t):
    # guards: two followers cannot share one cursor file.
    d = t.daemon()
    cursor = os.path.join(t.base, "cursor")
    bg = Bg(t, eps(d) + ["sub", "--cursor", cursor])
    wait_for(lambda: os.path.exists(cursor), what="the cursor file")
    p = cli(d, "sub", "--cursor", cursor)
    expect(p, 1)
    if "in use" not in p.stderr:
        raise TestFailure(p.stderr)
    bg.stop()


# ---------------------------------------------------------------------------
# keygen

def test_keygen_writes_a_curve_pair(t):
    # guards: keygen --out writes BASENAME.key (secret, mode 0600) and
    # BASENAME.pub, prints the public key, and refuses to overwrite.
    base = os.path.join(t.base, "kbri-seoul")
    p = run(["keygen", "--out", base])
    expect(p, 0)
    pub = p.stdout.strip()
    with open(base + ".pub") as f:
        if f.read().strip() != pub:
            raise TestFailure("printed key is not the .pub")
    with open(base + ".key") as f:
        sec = f.read().strip()
    if len(pub) != 40 or len(sec) != 40:
        raise TestFailure((pub, sec))
    if zmq.curve_public(sec.encode()) != pub.encode():
        raise TestFailure("public key does not match the secret key")
    if stat.S_IMODE(os.stat(base + ".key").st_mode) != 0o600:
        raise TestFailure("secret key is not mode 0600")
    zmq.utils.z85.decode(pub)
    expect(run(["keygen", "--out", base]), 1)
    expect(run(["keygen", "--out", base, "--force"]), 0)
    p = run(["keygen"])
    expect(p, 0)
    words = p.stdout.split()
    if words[0] != "public" or words[2] != "secret":
        raise TestFailure(p.stdout)


def test_msgpack_types_survive_sub_json(t):
    # guards: MessagePack -> JSON keeps integers as JSON integers (not
    # 1.0), negative numbers, floats and nested x_ values.
    d = t.daemon()
    bg = Bg(t, eps(d) + ["sub", "--json", "--count", "1"])
    t.wait_subscribers(d, 1)
    publish_ok(t.api(d), "meeting", meeting(x_n=-5, x_f=1.5, x_big=2**62,
                                            x_list=[1, [2, {"k": True}]]))
    if bg.wait() != 0:
        raise TestFailure(bg.stderr())
    line = bg.lines()[0]
    ev = json.loads(line)["event"]
    if ev["x_n"] != -5 or ev["x_f"] != 1.5 or ev["x_big"] != 2**62 \
            or ev["x_list"] != [1, [2, {"k": True}]]:
        raise TestFailure(ev)
    if '"starts_at":1767225600000' not in line:
        raise TestFailure("integer not printed as an integer: " + line)


def test_sub_says_on_stderr_when_it_loses_and_regains_the_daemon(t):
    # guards: a follower reports a silent daemon on stderr, reconnects by
    # itself when it comes back, says so, and still misses nothing.
    d = t.daemon()
    bg = Bg(t, eps(d) + ["--timeout", "0.5", "sub", "--json", "--from", "1"])
    publish_ok(t.api(d), "meeting", meeting(id="before"))
    bg.wait_lines(1)
    if d.stop() != 0:
        raise TestFailure("daemon did not stop cleanly")
    wait_for(lambda: "no message from" in bg.stderr(), timeout=60,
             what="a report of the silence")
    d.start()
    api = t.api(d)
    publish_ok(api, "meeting", meeting(id="after"))
    bg.wait_lines(2)
    wait_for(lambda: "again" in bg.stderr(), timeout=60,
             what="a report of the reconnection")
    if bg.stop() != 0:
        raise TestFailure(bg.stderr())
    if [json.loads(x)["event"]["id"] for x in bg.lines()] != ["before", "after"]:
        raise TestFailure(bg.lines())


def test_curve_keys_reach_a_curve_server(t):
    # guards: --server-key and --key make the client a CURVE client (checked
    # against a CURVE ROUTER standing in for the daemon); a wrong server key
    # gets no answer (69) rather than a plaintext fallback.
    import threading
    server_pub, server_sec = zmq.curve_keypair()
    ep = "ipc://%s/curve-api" % t.base
    sock = harness.CTX.socket(zmq.ROUTER)
    sock.setsockopt(zmq.CURVE_SERVER, 1)
    sock.setsockopt(zmq.CURVE_SECRETKEY, server_sec)
    sock.setsockopt(zmq.LINGER, 0)
    sock.bind(ep)
    t.socks.append(sock)
    done = threading.Event()

    def serve():
        while not done.is_set():
            if sock.poll(100):
                frames = sock.recv_multipart()
                reply = {"ok": True, "version": "curve-test", "last_seq": 7,
                         "uptime_s": 1}
                sock.send_multipart(frames[:-1] + [pack(reply)])

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        base = os.path.join(t.base, "kdei-taipei")
        expect(run(["keygen", "--out", base]), 0)
        spath = os.path.join(t.base, "server.pub")
        with open(spath, "w") as f:
            f.write(server_pub.decode() + "\n")
        p = run(["--api", ep, "--server-key", spath, "--key", base, "ping",
                 "--json"])
        expect(p, 0)
        if json.loads(p.stdout)["last_seq"] != 7:
            raise TestFailure(p.stdout)
        p = run(["ping"], env=clean_env(WARTA_API=ep, WARTA_KEY=base,
                                       WARTA_SERVER_KEY=server_pub.decode()))
        expect(p, 0)
        wrong, _ = zmq.curve_keypair()
        p = run(["--api", ep, "--timeout", "0.5", "--server-key",
                 wrong.decode(), "--key", base, "ping"])
        expect(p, EX_UNAVAILABLE)
    finally:
        done.set()
        th.join()
