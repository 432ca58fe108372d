"""Black-box tests of wartad as a process: the config file, flags, -n,
exit statuses and the endpoint log lines (PROTOCOL.md sections 9 and 10)."""
import os
import re

import zmq

from harness import (BUILD, CTX, ROOT, TestFailure, conf, meeting, pack,
                     publish_ok, sized, stats, wait_for)

WARTAD = os.path.join(ROOT, BUILD, "wartad")


def _write(d, text, name="wartad.conf"):
    path = os.path.join(d.dir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def _expect_78(t, text, line, key, extra=()):
    """wartad -c FILE with this text exits 78 and names file, line, key."""
    d = t.daemon(start=False)
    path = _write(d, text)
    argv = [WARTAD, "--data", d.data, "--ingest", d.ingest, "--notify",
            d.notify, "--api", d.api_ep, "-c", path] + list(extra)
    rc, err = d.run(argv=argv, timeout=15)
    if rc != 78:
        raise TestFailure("exit %r, want 78:\n%s" % (rc, err))
    missing = [w for w in ("wartad.conf", str(line), key) if w not in err]
    if missing:
        raise TestFailure("stderr does not name %r:\n%s" % (missing, err))
    if not re.search(r"\b%d\b" % line, err):
        raise TestFailure("stderr does not name line %d:\n%s" % (line, err))


def test_check_only_valid_exits_0(t):
    """-n with a valid config checks it and exits 0 without serving."""
    d = t.daemon(start=False, config=conf(store={"max_events": 10}))
    rc, err = d.run(["-n"], timeout=15)
    if rc != 0:
        raise TestFailure("-n exit %r:\n%s" % (rc, err))


def test_check_only_bad_exits_78(t):
    """-n with a bad config exits 78."""
    d = t.daemon(start=False, config="[store]\nmax_events = lots\n")
    rc, err = d.run(["-n"], timeout=15)
    if rc != 78:
        raise TestFailure("-n on a bad config exit %r:\n%s" % (rc, err))


def test_every_documented_key_accepted(t):
    """Every section and key of section 10 (bar security and webhooks),
    with comments and each boolean spelling, passes -n."""
    text = """# a comment
; another comment
[store]
map_size_mb = 64
max_map_size_mb = 0
sync = yes
max_events = 0
max_age_days = 0
max_rejects = 10000
batch_max = 100

[ingest]
connect =
max_event_bytes = 65536
curve = no
hwm = 1000

[notify]
heartbeat_ms = 1000
hwm = 1000

[api]

[http]
listen =

[security]
allow_plaintext = false

[log]
level = debug
"""
    d = t.daemon(start=False, config=text)
    rc, err = d.run(["-n"], timeout=15)
    if rc != 0:
        raise TestFailure("-n on a full valid config exit %r:\n%s" % (rc, err))
    for spelling in ("yes", "no", "true", "false", "1", "0"):
        d2 = t.daemon(start=False, config=conf(store={"sync": spelling}))
        rc, err = d2.run(["-n"], timeout=15)
        if rc != 0:
            raise TestFailure("sync = %s rejected (%r):\n%s"
                              % (spelling, rc, err))


def test_unknown_key_exits_78(t):
    """An unknown key exits 78 naming file, line and key."""
    _expect_78(t, "[store]\nmax_events = 5\nbogus_key = 1\n", 3, "bogus_key")


def test_unknown_section_exits_78(t):
    """An unknown section exits 78 naming it."""
    _expect_78(t, "[store]\nsync = no\n\n[bogus_section]\nx = 1\n", 4,
               "bogus_section")


def test_bad_number_exits_78(t):
    """A non-numeric value exits 78 naming line and key."""
    _expect_78(t, "[store]\nmap_size_mb = lots\n", 2, "map_size_mb")


def test_bad_boolean_exits_78(t):
    """A boolean that is none of yes/no/true/false/1/0 exits 78."""
    _expect_78(t, "[store]\n\nsync = maybe\n", 3, "sync")


def test_bad_log_level_in_file_exits_78(t):
    """[log] level must be error, warn, info or debug."""
    _expect_78(t, "[log]\nlevel = chatty\n", 2, "level")


def test_key_before_section_exits_78(t):
    """A key before any section is an error."""
    _expect_78(t, "sync = no\n[store]\n", 1, "sync")


def test_malformed_endpoint_in_file_exits_78(t):
    """A malformed bind endpoint in the file is a config error (78)."""
    d = t.daemon(start=False)
    path = _write(d, "[http]\nlisten =\n[api]\nbind = nonsense:/x\n")
    rc, err = d.run(argv=[WARTAD, "--data", d.data, "-c", path, "-n"],
                    timeout=15)
    if rc != 78 or "bind" not in err:
        raise TestFailure("exit %r, want 78 naming bind:\n%s" % (rc, err))


def test_missing_config_file_exits_78(t):
    """-c with a file that does not exist exits 78 naming it."""
    d = t.daemon(start=False)
    rc, err = d.run(["-c", os.path.join(d.dir, "nope.conf")], timeout=15)
    if rc != 78 or "nope.conf" not in err:
        raise TestFailure("exit %r, want 78 naming nope.conf:\n%s" % (rc, err))


def test_bad_endpoint_flag_exits_78(t):
    """A malformed endpoint flag exits 78 naming the flag."""
    d = t.daemon(start=False, config=conf())
    argv = [WARTAD, "--data", d.data, "--ingest", d.ingest, "--notify",
            d.notify, "--api", "nonsense", "-c",
            _write(d, conf())]
    rc, err = d.run(argv=argv, timeout=15)
    if rc != 78 or "api" not in err:
        raise TestFailure("exit %r, want 78 naming --api:\n%s" % (rc, err))


def test_unknown_flag_exits_78(t):
    """An unknown flag exits 78 naming it."""
    d = t.daemon(start=False, config=conf())
    rc, err = d.run(["--frobnicate"], timeout=15)
    if rc != 78 or "frobnicate" not in err:
        raise TestFailure("exit %r, want 78:\n%s" % (rc, err))


def test_bad_log_level_flag_exits_78(t):
    """--log-level chatty exits 78 naming the flag."""
    d = t.daemon(start=False, config=conf())
    rc, err = d.run(["--log-level", "chatty"], timeout=15)
    if rc != 78 or "log-level" not in err:
        raise TestFailure("exit %r, want 78 naming --log-level:\n%s"
                          % (rc, err))


def test_verbose_flag_accepted(t):
    """-v (repeatable) is accepted."""
    d = t.daemon(start=False, config=conf())
    rc, err = d.run(["-v", "-v", "-n"], timeout=15)
    if rc != 0:
        raise TestFailure("-v -v -n exit %r:\n%s" % (rc, err))


def test_endpoint_in_use_exits_69(t):
    """An endpoint that another socket already holds exits 69."""
    holder = CTX.socket(zmq.ROUTER)
    holder.setsockopt(zmq.LINGER, 0)
    t.socks.append(holder)
    port = holder.bind_to_random_port("tcp://127.0.0.1")
    d = t.daemon(start=False, config=conf())
    argv = d.argv()
    argv[argv.index("--api") + 1] = "tcp://127.0.0.1:%d" % port
    rc, err = d.run(argv=argv, timeout=15)
    if rc != 69:
        raise TestFailure("exit %r, want 69:\n%s" % (rc, err))


def test_logs_each_bound_endpoint(t):
    """stderr has a line per bound endpoint naming the socket and the
    endpoint."""
    d = t.daemon(config=conf())
    err = d.stderr()
    for name, ep in (("ingest", d.ingest), ("notify", d.notify),
                     ("api", d.api_ep)):
        if not any(name in ln and ep in ln for ln in err.splitlines()):
            raise TestFailure("no log line naming %s and %s:\n%s"
                              % (name, ep, err))


def test_config_file_endpoints_used(t):
    """Without endpoint flags the daemon binds what [ingest]/[notify]/[api]
    bind say."""
    d = t.daemon(start=False)
    path = _write(d, conf(ingest={"bind": d.ingest}, notify={"bind": d.notify},
                          api={"bind": d.api_ep}))
    d.argv = lambda: [WARTAD, "--data", d.data, "-c", path]
    d.start()
    pub = t.pub(d)
    api = t.api(d)
    pub.send_multipart([b"meeting", pack(meeting())])
    wait_for(lambda: stats(api)["stored"] == 1, what="event via file's ingest")


def test_flag_wins_over_file(t):
    """--api wins over [api] bind in the file."""
    d = t.daemon(start=False)
    other = "ipc://%s/fileapi" % d.dir
    d.config = conf(api={"bind": other})
    d.start()
    publish_ok(t.api(d), "meeting", meeting())
    if os.path.exists(other[len("ipc://"):]):
        raise TestFailure("the file's endpoint was bound as well")


def test_flag_equals_form(t):
    """--flag=value works like --flag value."""
    d = t.daemon(start=False, config=conf())
    argv = [WARTAD, "--data=" + d.data, "--ingest=" + d.ingest,
            "--notify=" + d.notify, "--api=" + d.api_ep, "--log-level=debug",
            "-c", _write(d, conf())]
    d.argv = lambda: argv
    d.start()
    publish_ok(t.api(d), "meeting", meeting())


def test_data_dir_created(t):
    """--data names a directory that is created if missing."""
    d = t.daemon(start=False, config=conf())
    d.data = os.path.join(d.dir, "newstore")
    d.start()
    publish_ok(t.api(d), "meeting", meeting())
    if not os.path.isdir(d.data):
        raise TestFailure("data dir not created")


def test_data_dir_unusable_exits_74(t):
    """A --data that is a regular file cannot be opened: exit 74."""
    d = t.daemon(start=False, config=conf())
    with open(os.path.join(d.dir, "plainfile"), "w") as f:
        f.write("not a store\n")
    d.data = os.path.join(d.dir, "plainfile")
    rc, err = d.run(timeout=15)
    if rc != 74:
        raise TestFailure("exit %r, want 74:\n%s" % (rc, err))


def test_max_event_bytes_from_file(t):
    """[ingest] max_event_bytes from the file applies to api publishes."""
    d = t.daemon(config=conf(ingest={"max_event_bytes": 1500}))
    api = t.api(d)
    r = api.call("publish", topic="meeting", event=sized(meeting(), 1501))
    if r.get("error") != "too_large":
        raise TestFailure("publish of 1501 bytes with limit 1500: %r" % r)
