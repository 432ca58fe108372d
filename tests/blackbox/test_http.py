"""Black-box tests of the HTTP listener (issue 6): /healthz, /metrics in
the Prometheus text format 0.0.4 agreeing with the api's stats op, 404 and
405, HTTP off by default in the harness, and exit 69 when the listen
address is taken (PROTOCOL.md sections 9 and 10)."""
import http.client
import json
import re
import socket

from harness import (TestFailure, attache, expect_error, meeting, pack,
                     publish_ok, sized, stats, training, wait_for)
from harness import free_port as _free_port

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
                    r'(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"'
                    r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*)?\})?'
                    r' (\S+)$')
HISTOGRAM = "warta_commit_duration_seconds"


def _http_daemon(t):
    """A daemon with HTTP on a free loopback port; returns (daemon, port)."""
    port = _free_port()
    d = t.daemon(config="[http]\nlisten = 127.0.0.1:%d\n" % port)
    return d, port


def _request(port, path, method="GET"):
    """(status, headers dict with lower-case names, body bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def _parse_metrics(text):
    """Parse the exposition text strictly: every sample line is
    `name{labels} value` or `name value`, every metric family has # HELP
    and # TYPE before its samples.  Returns (samples, types) with samples
    {(name, frozenset(labels)): float}."""
    helps, types, samples = set(), {}, {}
    for ln in text.splitlines():
        if ln == "":
            continue
        if ln.startswith("#"):
            parts = ln.split(" ", 3)
            if len(parts) < 4 or parts[1] not in ("HELP", "TYPE"):
                raise TestFailure("bad comment line %r" % ln)
            if parts[1] == "HELP":
                helps.add(parts[2])
            else:
                types[parts[2]] = parts[3]
            continue
        m = SAMPLE.match(ln)
        if m is None:
            raise TestFailure("bad sample line %r" % ln)
        name, labels, value = m.group(1), m.group(3), m.group(5)
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[:-len(suffix)] in types and \
                    types[name[:-len(suffix)]] == "histogram":
                family = name[:-len(suffix)]
        if family not in helps or family not in types:
            raise TestFailure("%s has a sample before its HELP and TYPE"
                              % name)
        lab = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"',
                                   labels or ""))
        if (name, lab) in samples:
            raise TestFailure("sample %s%s twice" % (name, sorted(lab)))
        samples[(name, lab)] = float(value)
    return samples, types


def _metrics(port):
    status, headers, body = _request(port, "/metrics")
    if status != 200:
        raise TestFailure("/metrics status %d: %r" % (status, body))
    return _parse_metrics(body.decode("utf-8"))


def _get(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    if key not in samples:
        raise TestFailure("no sample %s%r" % (name, labels))
    return samples[key]


def test_healthz_ok_json(t):
    """GET /healthz answers 200 with {"status": "ok", "writable": true,
    "last_seq": N} as JSON, last_seq following the store."""
    d, port = _http_daemon(t)
    publish_ok(t.api(d), "meeting", meeting())
    status, headers, body = _request(port, "/healthz")
    if status != 200 or "application/json" not in headers.get(
            "content-type", ""):
        raise TestFailure("/healthz %d %r: %r" % (status, headers, body))
    doc = json.loads(body)
    if doc != {"status": "ok", "writable": True, "last_seq": 1}:
        raise TestFailure("/healthz body %r" % doc)


def test_healthz_503_when_store_full(t):
    """/healthz answers 503 with status "unwritable" once the store has
    refused a write for lack of space, while it still answers at all."""
    port = _free_port()
    d = t.daemon(config="[store]\nmap_size_mb = 1\n[http]\n"
                 "listen = 127.0.0.1:%d\n" % port)
    api = t.api(d)
    for i in range(300):
        r = api.call("publish", topic="meeting",
                     event=sized(meeting(id="big%d" % i), 60000))
        if not r.get("ok"):
            expect_error(r, "unavailable")
            break
    else:
        raise TestFailure("300 events of 60 kB fit in a 1 MiB map")
    status, _, body = _request(port, "/healthz")
    doc = json.loads(body)
    if status != 503 or doc.get("status") != "unwritable" or \
            doc.get("writable") is not False:
        raise TestFailure("/healthz on a full store: %d %r" % (status, doc))


def test_metrics_format(t):
    """/metrics is text format 0.0.4: the content type, a HELP and TYPE
    for every metric family, and only well-formed sample lines."""
    d, port = _http_daemon(t)
    status, headers, body = _request(port, "/metrics")
    if status != 200:
        raise TestFailure("/metrics status %d" % status)
    if not headers.get("content-type", "").startswith(
            "text/plain; version=0.0.4"):
        raise TestFailure("content type %r" % headers.get("content-type"))
    samples, types = _parse_metrics(body.decode("utf-8"))
    want = {
        "warta_up": "gauge", "warta_received_total": "counter",
        "warta_stored_events": "gauge", "warta_stored_total": "counter",
        "warta_duplicates_total": "counter",
        "warta_rejected_total": "counter", "warta_notified_total": "counter",
        "warta_commits_total": "counter", HISTOGRAM: "histogram",
        "warta_subscribers": "gauge", "warta_db_bytes": "gauge",
        "warta_map_bytes": "gauge", "warta_last_seq": "gauge",
        "warta_first_seq": "gauge", "warta_api_dropped_total": "counter",
        "warta_corrupt_records_total": "counter",
        "warta_notify_overflows_total": "counter",
        "warta_uptime_seconds": "gauge"}
    wrong = {k: (types.get(k), v) for k, v in want.items()
             if types.get(k) != v}
    if wrong:
        raise TestFailure("metric types (got, want): %r" % wrong)
    if _get(samples, "warta_up") != 1:
        raise TestFailure("warta_up is not 1")


def test_metrics_histogram_cumulative(t):
    """The commit latency histogram's buckets are cumulative, ascending in
    le, end in +Inf, and +Inf equals _count."""
    d, port = _http_daemon(t)
    api = t.api(d)
    for i in range(5):
        publish_ok(api, "meeting", meeting(id="m-%d" % i))
    samples, _ = _metrics(port)
    buckets = sorted(((float(dict(lab)["le"]), v) for (name, lab), v
                      in samples.items() if name == HISTOGRAM + "_bucket"),
                     key=lambda x: x[0])
    if not buckets or buckets[-1][0] != float("inf"):
        raise TestFailure("buckets do not end in +Inf: %r" % buckets)
    counts = [v for _, v in buckets]
    if counts != sorted(counts):
        raise TestFailure("buckets are not cumulative: %r" % buckets)
    count = _get(samples, HISTOGRAM + "_count")
    if counts[-1] != count or count < 1:
        raise TestFailure("+Inf %r, _count %r" % (counts[-1], count))
    if _get(samples, HISTOGRAM + "_sum") < 0:
        raise TestFailure("negative _sum")


def test_metrics_match_stats(t):
    """After publishes, a duplicate and ingest rejects, /metrics counts
    what the api's stats op counts: received, stored, duplicates, every
    rejected reason, subscribers, seqs and store sizes."""
    d, port = _http_daemon(t)
    sub = t.sub(d)
    t.wait_subscribers(d, 1)
    api = t.api(d)
    pub = t.pub(d)
    publish_ok(api, "meeting", meeting(id="m-1", msg_id="k1"))
    publish_ok(api, "training", training())
    publish_ok(api, "meeting", meeting(id="m-1", msg_id="k1"))
    bad = [[b"meeting"], [b"meeting", b"\xc1"], [b"meeting", pack(7)],
           [b"meeting", pack({"id": "m-x"})]]
    for frames in bad:
        pub.send_multipart(frames)
    wait_for(lambda: stats(api)["received"] >= 3 + len(bad),
             what="rejects received")
    st = stats(api)
    samples, _ = _metrics(port)
    pairs = {
        "warta_received_total": st["received"],
        "warta_stored_events": st["stored"],
        "warta_duplicates_total": st["duplicates"],
        "warta_subscribers": st["subscribers"],
        "warta_last_seq": st["last_seq"],
        "warta_first_seq": st["first_seq"],
        "warta_db_bytes": st["db_bytes"],
        "warta_map_bytes": st["map_bytes"],
        "warta_notified_total": st["notified"],
        "warta_commits_total": st["commits"],
        "warta_api_dropped_total": st["api_dropped"],
        "warta_corrupt_records_total": st["corrupt"],
        "warta_notify_overflows_total": st["notify_overflows"],
    }
    diff = {k: (_get(samples, k), v) for k, v in pairs.items()
            if _get(samples, k) != v}
    for reason, v in st["rejected"].items():
        got = _get(samples, "warta_rejected_total", reason=reason)
        if got != v:
            diff["rejected " + reason] = (got, v)
    if diff:
        raise TestFailure("metrics vs stats (metrics, stats): %r" % diff)
    if (st["stored"], st["duplicates"], st["subscribers"]) != (2, 1, 1) or \
            sum(st["rejected"].values()) != len(bad):
        raise TestFailure("unexpected stats %r" % st)


def test_metrics_stored_per_type(t):
    """warta_stored_total{type=...} counts events stored per type since
    start, one series per type, duplicates not counted."""
    d, port = _http_daemon(t)
    api = t.api(d)
    for i in range(3):
        publish_ok(api, "meeting", meeting(id="m-%d" % i))
    publish_ok(api, "training", training())
    publish_ok(api, "training", training(msg_id="dup"))
    publish_ok(api, "training", training(msg_id="dup"))
    samples, _ = _metrics(port)
    got = {dict(lab)["type"]: v for (name, lab), v in samples.items()
           if name == "warta_stored_total"}
    if got != {"meeting": 3, "training": 2, "attache": 0}:
        raise TestFailure("stored per type %r" % got)
    publish_ok(api, "attache", attache())
    samples, _ = _metrics(port)
    if _get(samples, "warta_stored_total", type="attache") != 1:
        raise TestFailure("attache not counted")


def test_unknown_path_404(t):
    """A path that no route serves answers 404 (/ is the live page)."""
    d, port = _http_daemon(t)
    for path in ("/x", "/nope", "/healthz/x", "/metricsx"):
        status, _, _ = _request(port, path)
        if status != 404:
            raise TestFailure("%s answered %d, want 404" % (path, status))


def test_post_405(t):
    """POST (or PUT, DELETE) on a known path answers 405 with an Allow
    header; HEAD answers like GET without a body."""
    d, port = _http_daemon(t)
    for method in ("POST", "PUT", "DELETE"):
        status, headers, _ = _request(port, "/metrics", method)
        if status != 405 or "GET" not in headers.get("allow", ""):
            raise TestFailure("%s /metrics: %d %r" % (method, status,
                                                      headers))
    status, _, body = _request(port, "/healthz", "HEAD")
    if status != 200 or body != b"":
        raise TestFailure("HEAD /healthz: %d %r" % (status, body))


def test_http_off_by_default_in_harness(t):
    """The harness turns HTTP off, so test daemons never bind the default
    127.0.0.1:7404, and the daemon says it is off."""
    d = t.daemon()
    err = d.stderr()
    if "http: off" not in err or "http: listening" in err:
        raise TestFailure("HTTP not off by default:\n%s" % err)


def test_listen_taken_exits_69(t):
    """A listen address that another socket holds exits 69 naming it."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        d = t.daemon(start=False,
                     config="[http]\nlisten = 127.0.0.1:%d\n" % port)
        rc, err = d.run(timeout=30)
    finally:
        holder.close()
    if rc != 69 or "127.0.0.1:%d" % port not in err:
        raise TestFailure("exit %r, want 69 naming the address:\n%s"
                          % (rc, err))
