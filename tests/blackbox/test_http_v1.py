"""Black-box tests of HTTP for systems that do not speak ZeroMQ (issue 9):
SSE streams resumed with Last-Event-ID, the /v1/ JSON endpoints against
the api, POST publishes, webhooks with retries, signatures and a durable
cursor, and the live page in headless Chromium."""
import hashlib
import hmac
import http.client
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time

from harness import (TestFailure, attache, meeting, pack, publish_ok, stats,
                     training, wait_for)
from test_http import _free_port


def _http_daemon(t, extra=""):
    """A daemon with HTTP on a free loopback port; returns (daemon, port)."""
    port = _free_port()
    d = t.daemon(config="[http]\nlisten = 127.0.0.1:%d\n%s" % (port, extra))
    return d, port


def _request(port, path, method="GET", body=None, headers=None):
    """(status, headers with lower-case names, body bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def _get_json(port, path):
    status, headers, body = _request(port, path)
    if "application/json" not in headers.get("content-type", ""):
        raise TestFailure("%s: content type %r" % (path, headers))
    return status, json.loads(body)


def _post(port, typ, doc, raw=None):
    """POST /v1/events/TYPE; (status, JSON reply)."""
    body = raw if raw is not None else json.dumps(doc).encode()
    status, headers, out = _request(port, "/v1/events/" + typ, "POST", body,
                                    {"Content-Type": "application/json"})
    return status, json.loads(out)


class Stream:
    """An SSE client read in a thread: keeps every event as a dict
    {id, event, data} and counts comment lines."""

    def __init__(self, port, query="", last_event_id=None):
        self.events = []
        self.comments = []
        self.closed = False
        self.lock = threading.Lock()
        self.conn = http.client.HTTPConnection("127.0.0.1", port,
                                               timeout=60)
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.conn.request("GET", "/v1/stream" + query, headers=headers)
        self.resp = self.conn.getresponse()
        if self.resp.status != 200:
            raise TestFailure("stream status %d: %r" %
                              (self.resp.status, self.resp.read()))
        ctype = self.resp.getheader("Content-Type", "")
        if not ctype.startswith("text/event-stream"):
            raise TestFailure("stream content type %r" % ctype)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        cur = {}
        try:
            while True:
                ln = self.resp.readline()
                if not ln:
                    break
                ln = ln.decode("utf-8").rstrip("\n")
                if ln == "":
                    if "data" in cur:
                        with self.lock:
                            self.events.append(cur)
                    cur = {}
                elif ln.startswith(":"):
                    with self.lock:
                        self.comments.append(ln)
                else:
                    k, _, v = ln.partition(":")
                    v = v[1:] if v.startswith(" ") else v
                    cur[k] = json.loads(v) if k == "data" else v
        except Exception:  # noqa: B902 — closed under the reader: the end
            pass
        self.closed = True

    def seqs(self):
        with self.lock:
            return [int(e["id"]) for e in self.events]

    def wait_seq(self, seq, what="the stream"):
        wait_for(lambda: seq in self.seqs(), timeout=60,
                 what="seq %d on %s (got up to %r)" %
                 (seq, what, (self.seqs() or [None])[-1]))

    def close(self):
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass
        self.conn.close()


def _publish_mix(api, n, start=0):
    """Publish n events of the three types; return their seqs."""
    seqs = []
    for i in range(start, start + n):
        kind = i % 3
        if kind == 0:
            ev = ("meeting", meeting(id="m-%d" % i, country="CH"))
        elif kind == 1:
            ev = ("training", training(id="t-%d" % i))
        else:
            ev = ("attache", attache(id="a-%d" % i, message="notice %d" % i))
        seqs.append(publish_ok(api, *ev))
    return seqs


def _exactly(got, want, what):
    if got != want:
        dup = sorted({s for s in got if got.count(s) > 1})
        missing = sorted(set(want) - set(got))
        raise TestFailure("%s: %d seqs, want %d; duplicates %r, missing %r"
                          % (what, len(got), len(want), dup[:10],
                             missing[:10]))


def test_sse_live_event_as_json(t):
    """A live stream gives each committed event as id = seq, event = the
    notify topic, data = the notification body as JSON, equal to what the
    api's replay holds for it."""
    d, port = _http_daemon(t)
    api = t.api(d)
    st = Stream(port)
    wait_for(lambda: st.comments, what="the stream's first comment")
    seq = publish_ok(api, "attache", attache(priority="urgent",
                                             message="Passport desk closed"))
    st.wait_seq(seq)
    ev = st.events[0]
    item = api.call("replay", from_seq=seq, limit=1)["items"][0]
    if ev["event"] != "attache.KR.arrived" or ev["data"] != item:
        raise TestFailure("event %r, replay item %r" % (ev, item))
    st.close()


def test_sse_prefix_filters(t):
    """?prefix= keeps only notifications whose topic starts with it."""
    d, port = _http_daemon(t)
    api = t.api(d)
    st = Stream(port, "?prefix=attache.KR.")
    wait_for(lambda: st.comments, what="the stream's first comment")
    publish_ok(api, "meeting", meeting())
    publish_ok(api, "attache", attache(country="JP", post="KBRI Tokyo"))
    last = publish_ok(api, "attache", attache(id="a-2"))
    st.wait_seq(last)
    if st.seqs() != [last]:
        raise TestFailure("prefix stream got %r, want [%d]" %
                          (st.seqs(), last))
    st.close()


def test_sse_untyped(t):
    """?typed=0 leaves out the event: lines (a browser's EventSource then
    hands every event to onmessage); id: and data: stay."""
    d, port = _http_daemon(t)
    api = t.api(d)
    st = Stream(port, "?typed=0")
    wait_for(lambda: st.comments, what="the stream's first comment")
    seq = publish_ok(api, "meeting", meeting())
    st.wait_seq(seq)
    ev = st.events[0]
    if "event" in ev or ev["data"]["seq"] != seq:
        raise TestFailure("untyped event %r" % ev)
    st.close()


def test_sse_heartbeat_comment(t):
    """A quiet stream carries ": hb" comment lines, so that proxies do not
    close it."""
    d, port = _http_daemon(t)
    st = Stream(port)
    wait_for(lambda: ": hb" in st.comments, timeout=20,
             what="a heartbeat comment")
    st.close()


def test_sse_resume_across_restart(t):
    """A stream resumed with Last-Event-ID after a daemon restart gets
    every event after that id exactly once: the missed ones from the
    store, in chunks, then live ones, including events published while it
    catches up.  The stop itself ends the open stream cleanly."""
    d, port = _http_daemon(t)
    api = t.api(d)
    first = _publish_mix(api, 30)
    st = Stream(port, last_event_id=0)
    st.wait_seq(first[-1])
    more = _publish_mix(api, 10, 30)
    st.wait_seq(more[-1])
    _exactly(st.seqs(), first + more, "first stream")
    seen = st.seqs()[-1]
    # The daemon stops cleanly with the stream open, and ends it.
    if d.stop() != 0:
        raise TestFailure("daemon did not stop cleanly")
    wait_for(lambda: st.closed, what="the stream to end at the stop")
    st.close()

    d.start()
    api = t.api(d)
    # Enough missed events for several catch-up chunks (2048 per turn).
    pub = t.pub(d)
    for i in range(5000):
        pub.send_multipart([b"meeting", pack(meeting(id="bulk-%d" % i))])
    wait_for(lambda: stats(api)["last_seq"] >= seen + 5000, timeout=60,
             what="5000 ingested events")
    missed = list(range(seen + 1, seen + 5001))
    st2 = Stream(port, last_event_id=seen)
    # Live events while it catches up.
    live = _publish_mix(api, 20, 100)
    st2.wait_seq(live[-1], "the resumed stream")
    _exactly(st2.seqs(), missed + live, "resumed stream")
    st2.close()


def test_sse_query_last_event_id(t):
    """?last_event_id= resumes like the header, and the header wins over it
    (a reconnecting browser sends the header on the page's original URL)."""
    d, port = _http_daemon(t)
    api = t.api(d)
    seqs = _publish_mix(api, 6)
    st = Stream(port, "?last_event_id=%d" % seqs[1])
    st.wait_seq(seqs[-1])
    _exactly(st.seqs(), seqs[2:], "query resume")
    st.close()
    st = Stream(port, "?last_event_id=%d" % seqs[1], last_event_id=seqs[3])
    st.wait_seq(seqs[-1])
    _exactly(st.seqs(), seqs[4:], "header over query")
    st.close()


def test_sse_slow_reader_cut_off(t):
    """A stream whose reader stops reading is cut off once its unsent
    output passes the bound, and counted, instead of growing the daemon's
    memory; other clients are still served."""
    d, port = _http_daemon(t)
    api = t.api(d)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /v1/stream HTTP/1.1\r\nHost: x\r\n\r\n")
    wait_for(lambda: "warta_sse_streams 1" in _request(
        port, "/metrics")[2].decode(), what="the stream to open")
    pub = t.pub(d)
    notes = "n" * 8000
    # Rounds of 4 MB until the kernel's buffers and the bound are full.
    for r in range(40):
        for i in range(500):
            pub.send_multipart([b"meeting", pack(meeting(
                id="m-%d-%d" % (r, i), notes=notes))])
        try:
            wait_for(lambda: stats(api).get("sse_cut_off", 0) >= 1,
                     timeout=2, what="the slow stream to be cut off")
            break
        except TestFailure:
            if r == 39:
                raise
    wait_for(lambda: "warta_sse_streams 0" in _request(
        port, "/metrics")[2].decode(), what="the stream to be closed")
    samples = _request(port, "/metrics")[2].decode()
    if "warta_sse_cut_off_total 1" not in samples:
        raise TestFailure("/metrics does not count the cut-off stream")
    s.close()
    status, doc = _get_json(port, "/healthz")
    if status != 200:
        raise TestFailure("daemon unhealthy after the cut-off: %r" % doc)


def test_sse_bad_last_event_id(t):
    """A Last-Event-ID that is not a seq answers 400 as JSON."""
    d, port = _http_daemon(t)
    status, headers, body = _request(port, "/v1/stream",
                                     headers={"Last-Event-ID": "abc"})
    if status != 400 or json.loads(body).get("error") != "bad_request":
        raise TestFailure("bad Last-Event-ID: %d %r" % (status, body))


def _strip_ok(r):
    return {k: v for k, v in r.items() if k != "ok"}


def test_json_replay_matches_api(t):
    """GET /v1/events pages exactly like the api's replay: the same items,
    next_seq, last_seq and first_seq for from_seq, prefix and limit."""
    d, port = _http_daemon(t)
    api = t.api(d)
    _publish_mix(api, 12)
    for q, req in [("", {}), ("?from_seq=4&limit=3", dict(from_seq=4,
                                                            limit=3)),
                   ("?prefix=attache.&limit=2", dict(prefix="attache.",
                                                     limit=2)),
                   ("?from_seq=0", dict(from_seq=0)),
                   ("?from_seq=100", dict(from_seq=100)),
                   ("?limit=20000", dict(limit=20000))]:
        status, doc = _get_json(port, "/v1/events" + q)
        want = _strip_ok(api.call("replay", **req))
        if status != 200 or doc != want:
            raise TestFailure("/v1/events%s: %d %r, api %r" %
                              (q, status, doc, want))
    status, doc = _get_json(port, "/v1/events?limit=0")
    if status != 400 or doc["error"] != "bad_request" or \
            "limit" not in doc["detail"]:
        raise TestFailure("limit=0: %d %r" % (status, doc))
    status, doc = _get_json(port, "/v1/events?from_seq=x")
    if status != 400 or "from_seq" not in doc["detail"]:
        raise TestFailure("from_seq=x: %d %r" % (status, doc))
    status, doc = _get_json(port, "/v1/events?bogus=1")
    if status != 400 or "bogus" not in doc["detail"]:
        raise TestFailure("unknown key: %d %r" % (status, doc))


def test_json_get_and_list_match_api(t):
    """GET /v1/entities/{type}/{id} is the api's get and
    /v1/entities/{type}?country=&from=&to=&limit= its list; not_found is
    404 and an unknown type 400, with the api's detail."""
    d, port = _http_daemon(t)
    api = t.api(d)
    publish_ok(api, "meeting", meeting(id="m-1", starts_at=1000))
    publish_ok(api, "meeting", meeting(id="m-1", action="postponed",
                                       starts_at=5000))
    publish_ok(api, "meeting", meeting(id="m-2", country="KR",
                                       starts_at=3000))
    publish_ok(api, "meeting", meeting(id="m-3", starts_at=4000))
    status, doc = _get_json(port, "/v1/entities/meeting/m-1")
    want = _strip_ok(api.call("get", type="meeting", id="m-1"))
    if status != 200 or doc != want:
        raise TestFailure("get: %d %r, api %r" % (status, doc, want))
    for q, req in [("", {}), ("?country=CH", dict(country="CH")),
                   ("?from=3000&to=4500", {"from": 3000, "to": 4500}),
                   ("?limit=1", dict(limit=1))]:
        status, doc = _get_json(port, "/v1/entities/meeting" + q)
        want = _strip_ok(api.call("list", type="meeting", **req))
        if status != 200 or doc != want:
            raise TestFailure("list%s: %d %r, api %r" % (q, status, doc,
                                                          want))
    status, doc = _get_json(port, "/v1/entities/meeting/nope")
    want = api.call("get", type="meeting", id="nope")
    if status != 404 or doc != {"error": want["error"],
                                "detail": want["detail"]}:
        raise TestFailure("not found: %d %r, api %r" % (status, doc, want))
    status, doc = _get_json(port, "/v1/entities/bogus?country=CH")
    if status != 400 or doc["error"] != "bad_request":
        raise TestFailure("unknown type: %d %r" % (status, doc))


def test_json_stats_match_api(t):
    """GET /v1/stats has the api's stats keys and counters."""
    d, port = _http_daemon(t)
    api = t.api(d)
    _publish_mix(api, 4)
    want = _strip_ok(stats(api))
    status, doc = _get_json(port, "/v1/stats")
    if status != 200 or set(doc) != set(want):
        raise TestFailure("stats keys %r, api %r" % (sorted(doc),
                                                     sorted(want)))
    for k in ("received", "stored", "last_seq", "first_seq", "rejected",
              "duplicates", "webhooks", "sse_cut_off"):
        if doc[k] != want[k]:
            raise TestFailure("stats %s: %r, api %r" % (k, doc[k], want[k]))


def test_json_unrepresentable_value(t):
    """An event whose x_ value has no JSON form (binary) is still served:
    that value is null and "unrepresentable" names it, the rest intact."""
    d, port = _http_daemon(t)
    api = t.api(d)
    seq = publish_ok(api, "meeting", meeting(x_blob=b"\x00\x01"))
    status, doc = _get_json(port, "/v1/events")
    item = doc["items"][0]
    if status != 200 or item["seq"] != seq or item["event"] is not None or \
            "event.x_blob" not in item.get("unrepresentable", ""):
        raise TestFailure("binary x_ value: %d %r" % (status, doc))


def test_post_created_and_duplicate(t):
    """POST /v1/events/{type} answers 201 {seq, duplicate: false} after
    the commit (the event is then readable and notified); the same msg_id
    again answers 200 {seq of the first, duplicate: true}."""
    d, port = _http_daemon(t)
    api = t.api(d)
    sub = t.sub(d, "meeting.")
    t.wait_subscribers(d, 1)
    ev = meeting(id="m-9", msg_id="http-1")
    status, doc = _post(port, "meeting", ev)
    if status != 201 or doc != {"seq": 1, "duplicate": False}:
        raise TestFailure("POST: %d %r" % (status, doc))
    got = api.call("get", type="meeting", id="m-9")
    if not got.get("ok") or got["event"]["title"] != ev["title"]:
        raise TestFailure("posted event not stored: %r" % got)
    topic = sub.recv_multipart()[0]
    if topic != b"meeting.CH.scheduled":
        raise TestFailure("notified %r" % topic)
    status, doc = _post(port, "meeting", ev)
    if status != 200 or doc != {"seq": 1, "duplicate": True}:
        raise TestFailure("duplicate POST: %d %r" % (status, doc))
    if stats(api)["duplicates"] != 1:
        raise TestFailure("duplicate not counted")


def test_post_invalid_422_bad_json_400_too_large_413(t):
    """An invalid event answers 422 with the field in the detail (counted
    as a schema reject), bad JSON 400, an event over max_event_bytes 413,
    and an unknown type 422, all as {error, detail}."""
    d, port = _http_daemon(t)
    api = t.api(d)
    status, doc = _post(port, "meeting", meeting(country="XX"))
    if status != 422 or doc["error"] != "invalid" or \
            "country" not in doc["detail"]:
        raise TestFailure("invalid: %d %r" % (status, doc))
    if stats(api)["rejected"]["schema"] != 1:
        raise TestFailure("invalid POST not counted under schema")
    status, doc = _post(port, "meeting", None, raw=b'{"id": ')
    if status != 400 or doc["error"] != "bad_request":
        raise TestFailure("bad JSON: %d %r" % (status, doc))
    status, doc = _post(port, "meeting", meeting(notes="n" * 70000))
    if status != 413 or doc["error"] != "too_large":
        raise TestFailure("too large: %d %r" % (status, doc))
    status, doc = _post(port, "meetings", meeting())
    if status != 422 or "topic" not in doc["detail"]:
        raise TestFailure("unknown type: %d %r" % (status, doc))
    if stats(api)["last_seq"] != 0:
        raise TestFailure("a refused POST was stored")


def test_post_503_when_store_full(t):
    """POST answers 503 unavailable when the store is full."""
    d, port = _http_daemon(t, "[store]\nmap_size_mb = 1\n")
    for i in range(300):
        status, doc = _post(port, "meeting", meeting(id="big%d" % i,
                                                     notes="n" * 8000,
                                                     x_pad="p" * 50000))
        if status != 201:
            break
    else:
        raise TestFailure("300 events of 58 kB fit in a 1 MiB map")
    if status != 503 or doc["error"] != "unavailable":
        raise TestFailure("full store: %d %r" % (status, doc))


class Receiver:
    """A webhook receiver on loopback: answers 500 to the first `fail`
    posts (and to every post while `down`), then 204; keeps what it
    accepted as (seq, topic, body dict) and every signature check."""

    def __init__(self, secret, fail=0, port=0, tls=None):
        self.secret = secret.encode()
        self.fail = fail
        self.down = False
        self.accepted = []
        self.attempts = 0
        self.bad = []
        self.lock = threading.Lock()
        rcv = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                sig = self.headers.get("X-Warta-Signature", "")
                want = "sha256=" + hmac.new(rcv.secret, body,
                                            hashlib.sha256).hexdigest()
                with rcv.lock:
                    rcv.attempts += 1
                    if not hmac.compare_digest(sig, want):
                        rcv.bad.append(sig)
                    ok = not rcv.down and rcv.attempts > rcv.fail
                    if ok:
                        doc = json.loads(body)
                        rcv.accepted.append(
                            (int(self.headers["X-Warta-Seq"]),
                             self.headers["X-Warta-Topic"], doc))
                self.send_response(204 if ok else 500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.srv.socket = ctx.wrap_socket(self.srv.socket,
                                              server_side=True)
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever,
                                       daemon=True)
        self.thread.start()

    def seqs(self):
        with self.lock:
            return [a[0] for a in self.accepted]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def _hook_conf(port, rcv_port, prefix="attache.", scheme="http",
               host="127.0.0.1"):
    return ("[http]\nlisten = 127.0.0.1:%d\n[webhook notices]\n"
            "url = %s://%s:%d/hook?via=warta\nprefix = %s\n"
            "secret = s3cr3t\n" % (port, scheme, host, rcv_port, prefix))


def test_webhook_retries_in_order_signed(t):
    """A receiver that fails the first posts gets, after retries with
    backoff, every matching event exactly once, in seq order, each signed
    with HMAC-SHA256 of its body; stats and /metrics show the cursor, a lag
    of 0, the failures and the deliveries."""
    rcv = Receiver("s3cr3t", fail=3)
    try:
        port = _free_port()
        d = t.daemon(config=_hook_conf(port, rcv.port))
        api = t.api(d)
        seqs = _publish_mix(api, 15)
        want = [s for i, s in enumerate(seqs) if i % 3 == 2]
        wait_for(lambda: rcv.seqs() == want or len(rcv.seqs()) > len(want),
                 timeout=60, what="deliveries %r" % want)
        _exactly(rcv.seqs(), want, "webhook deliveries")
        if rcv.bad:
            raise TestFailure("bad signatures: %r" % rcv.bad[:3])
        for seq, topic, doc in rcv.accepted:
            item = api.call("replay", from_seq=seq, limit=1)["items"][0]
            if doc != item or topic != item["topic"]:
                raise TestFailure("delivered %r, stored %r" % (doc, item))
        wh = wait_for(lambda: (lambda w: w if w["cursor"] == seqs[-1]
                               else None)(stats(api)["webhooks"]["notices"]),
                      what="the cursor to pass the last event")
        if wh["lag"] != 0 or wh["failures"] < 3 or \
                wh["delivered"] != len(want):
            raise TestFailure("stats webhooks %r" % wh)
        m = _request(port, "/metrics")[2].decode()
        for line in ('warta_webhook_cursor{name="notices"} %d' % seqs[-1],
                     'warta_webhook_lag{name="notices"} 0',
                     'warta_webhook_delivered_total{name="notices"} %d'
                     % len(want)):
            if line not in m:
                raise TestFailure("/metrics lacks %r" % line)
    finally:
        rcv.close()


def test_webhook_resumes_after_restart(t):
    """Events the receiver did not accept before a restart are delivered
    after it, from the cursor saved in the store: every event once, in
    order, across the restart."""
    rcv = Receiver("s3cr3t")
    try:
        port = _free_port()
        d = t.daemon(config=_hook_conf(port, rcv.port, prefix=""))
        api = t.api(d)
        before = _publish_mix(api, 4)
        wait_for(lambda: rcv.seqs() == before, timeout=60,
                 what="the first deliveries")
        rcv.down = True
        pending = _publish_mix(api, 3, 4)
        wait_for(lambda: stats(api)["webhooks"]["notices"]["failures"] >= 1,
                 what="a failed delivery")
        if d.stop() != 0:
            raise TestFailure("daemon did not stop cleanly")
        rcv.down = False
        d.start()
        api = t.api(d)
        after = _publish_mix(api, 2, 7)
        want = before + pending + after
        wait_for(lambda: len(rcv.seqs()) >= len(want), timeout=60,
                 what="deliveries after the restart")
        time.sleep(0.5)   # anything sent twice would arrive by now
        _exactly(rcv.seqs(), want, "deliveries across the restart")
        wait_for(lambda: stats(api)["webhooks"]["notices"]["cursor"] ==
                 want[-1], what="the cursor at the last event")
    finally:
        rcv.close()


def test_webhook_connect_refused_then_up(t):
    """While nothing listens at the url (connection refused) deliveries
    are retried with backoff; once the receiver listens it gets every
    event once, in order."""
    hport = _free_port()
    port = _free_port()
    d = t.daemon(config=_hook_conf(port, hport, prefix=""))
    api = t.api(d)
    seqs = _publish_mix(api, 3)
    wait_for(lambda: stats(api)["webhooks"]["notices"]["failures"] >= 2,
             what="refused deliveries")
    rcv = Receiver("s3cr3t", port=hport)
    try:
        wait_for(lambda: len(rcv.seqs()) >= len(seqs), timeout=60,
                 what="deliveries once the receiver listens")
        _exactly(rcv.seqs(), seqs, "deliveries after refusals")
        wait_for(lambda: stats(api)["webhooks"]["notices"]["lag"] == 0,
                 what="a lag of 0")
    finally:
        rcv.close()


def _cert(t, name, cn="localhost"):
    """A self-signed certificate for localhost and 127.0.0.1: (cert, key)
    paths."""
    cert = os.path.join(t.base, name + ".pem")
    key = os.path.join(t.base, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=" + cn, "-addext",
                    "subjectAltName=DNS:%s,IP:127.0.0.1" % cn],
                   check=True, capture_output=True)
    return cert, key


def test_webhook_https_verified(t):
    """An https:// webhook delivers over TLS to a receiver whose
    certificate the trust store holds (SSL_CERT_FILE), by host name and by
    IP address, every event once, in order, signed."""
    cert, key = _cert(t, "rcv")
    rcv = Receiver("s3cr3t", tls=(cert, key))
    try:
        for host in ("localhost", "127.0.0.1"):
            port = _free_port()
            d = t.daemon(config=_hook_conf(port, rcv.port, prefix="",
                                           scheme="https", host=host),
                         env={"SSL_CERT_FILE": cert})
            api = t.api(d)
            seqs = _publish_mix(api, 4)
            wait_for(lambda: len(rcv.seqs()) >= len(seqs), timeout=60,
                     what="deliveries over TLS to %s" % host)
            _exactly(rcv.seqs(), seqs, "TLS deliveries to %s" % host)
            if rcv.bad:
                raise TestFailure("bad signatures over TLS")
            d.stop()
            with rcv.lock:
                rcv.accepted.clear()
    finally:
        rcv.close()


def test_webhook_https_untrusted_refused(t):
    """A receiver whose certificate is not trusted, or is for another
    name, is never sent an event: each attempt fails verification, is
    retried, and the log says why."""
    cert, key = _cert(t, "rcv")
    other, _ = _cert(t, "other", cn="other.example")
    wrong, wrong_key = _cert(t, "wrong", cn="wrong.example")
    for trust, served, why in ((other, (cert, key), "not trusted"),
                               (wrong, (wrong, wrong_key), "not trusted")):
        rcv = Receiver("s3cr3t", tls=served)
        try:
            port = _free_port()
            d = t.daemon(config=_hook_conf(port, rcv.port, prefix="",
                                           scheme="https", host="localhost"),
                         env={"SSL_CERT_FILE": trust})
            api = t.api(d)
            _publish_mix(api, 2)
            wait_for(lambda: stats(api)["webhooks"]["notices"]["failures"]
                     >= 2, timeout=60, what="refused TLS deliveries")
            if rcv.attempts or rcv.seqs():
                raise TestFailure("an untrusted receiver was sent %d posts"
                                  % rcv.attempts)
            if why not in d.stderr():
                raise TestFailure("the log does not say why:\n%s"
                                  % d.stderr())
            d.stop()
        finally:
            rcv.close()


def test_page_served(t):
    """GET / serves the live page as HTML with a viewport for phones."""
    d, port = _http_daemon(t)
    status, headers, body = _request(port, "/")
    if status != 200 or not headers["content-type"].startswith("text/html"):
        raise TestFailure("/: %d %r" % (status, headers))
    if b'name="viewport"' not in body or b"EventSource" not in body:
        raise TestFailure("/ is not the live page")


def _chromium():
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    return None


def test_page_shows_event_published_after_load(t):
    """The live page in headless Chromium shows an attache notice
    published after it opened (over SSE), highlighted as urgent, and the
    upcoming meetings it loaded from /v1/entities."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    d, port = _http_daemon(t)
    api = t.api(d)
    publish_ok(api, "meeting", meeting(id="m-page", title="Labour MoU talks",
                                       starts_at=4102444800000))
    profile = os.path.join(t.base, "chromium")
    opts = webdriver.ChromeOptions()
    opts.binary_location = _chromium() or "chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu",
              "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--disable-dev-shm-usage",
              "--user-data-dir=" + profile):
        opts.add_argument(a)
    drv = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    browser = webdriver.Chrome(service=Service(drv), options=opts)
    try:
        browser.set_page_load_timeout(30)
        browser.get("http://127.0.0.1:%d/" % port)
        wait_for(lambda: browser.find_element(By.ID, "status").text
                 .startswith("live"), timeout=30, what="the page to go live")
        wait_for(lambda: "Labour MoU talks" in browser.find_element(
            By.ID, "meetings").text, timeout=30,
            what="the loaded meeting on the page")
        text = "<b>Embassy hotline</b> changed"
        publish_ok(api, "attache", attache(priority="urgent", message=text))

        def shown():
            for el in browser.find_elements(By.CSS_SELECTOR,
                                            "#notices .urgent"):
                if text in el.text:
                    return el
            return None
        wait_for(shown, timeout=30, what="the urgent notice on the page")
        if browser.find_elements(By.CSS_SELECTOR, "#notices b"):
            raise TestFailure("event text was parsed as HTML")
    finally:
        browser.quit()
