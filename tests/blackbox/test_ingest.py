"""Black-box tests of the ingest path (issue 2): producers PUB [topic, body]
to the daemon's SUB; it validates, stores and notifies on the XPUB, and
keeps every rejected message in the rejects store (PROTOCOL.md sections 2,
3, 4, 7 and 10)."""
import re
import time

import zmq

from harness import (Collector, Raw, TestFailure, attache, conf, meeting,
                     nested, now_ms, pack, raw_map, recv_note, rejected,
                     replay_all, same_typed, sized, stats, training, unpack,
                     wait_for, with_defaults)

def _setup(t, config=None):
    """A daemon, a subscriber to everything that the daemon already counts,
    a publisher past the slow joiner, and an api client."""
    d = t.daemon(config=config if config is not None else conf())
    sub = t.sub(d)
    t.wait_subscribers(d, 1)
    pub = t.pub(d)
    api = t.api(d)
    return d, sub, pub, api


def _check_note(topic, body, typ, ev, seq):
    """A notification for ev of type typ, numbered seq (section 3)."""
    want_topic = "%s.%s.%s" % (typ, ev["country"], ev["action"])
    if topic != want_topic:
        raise TestFailure("notify topic %r, want %r" % (topic, want_topic))
    if set(body) != {"seq", "received_at", "topic", "event"}:
        raise TestFailure("notify body keys %r" % sorted(body))
    if body["seq"] != seq or body["topic"] != want_topic:
        raise TestFailure("notify body seq/topic %r/%r, want %r/%r"
                          % (body["seq"], body["topic"], seq, want_topic))
    if type(body["received_at"]) is not int:
        raise TestFailure("received_at %r is not an int" % body["received_at"])
    want = with_defaults(typ, ev, body["received_at"])
    got = dict(body["event"])
    if "occurred_at" not in ev:
        # The default is the time the daemon received the event, which is
        # also what received_at says; allow them to be read separately.
        oa = got.get("occurred_at")
        if type(oa) is not int or abs(oa - body["received_at"]) > 1000:
            raise TestFailure("occurred_at default %r, received_at %r"
                              % (oa, body["received_at"]))
        got["occurred_at"] = want["occurred_at"]
    if not same_typed(got, want):
        raise TestFailure("notified event differs from what was sent:\n"
                          "got  %r\nwant %r" % (body["event"], want))


def _roundtrip(t, typ, ev):
    d, sub, pub, api = _setup(t)
    pub.send_multipart([typ.encode(), pack(ev)])
    topic, body, _ = recv_note(sub)
    _check_note(topic, body, typ, ev, 1)
    # The store holds what was notified.
    items = replay_all(api)
    if len(items) != 1 or not same_typed(items[0], body):
        raise TestFailure("replay %r != notification %r" % (items, body))


def test_roundtrip_meeting(t):
    """A meeting with every optional key goes ingest -> notify on
    meeting.<country>.<action> with every key, value and type kept and
    occurred_at filled in."""
    _roundtrip(t, "meeting", meeting(
        id="ilo-2026:bilateral.CH", action="scheduled", country="CH",
        city="Geneva", venue="Palais des Nations",
        counterparts=["Swiss State Secretariat for Migration", "ILO"],
        ends_at=1767232800000, agenda=["skills", "placement"],
        delegation=["Director of International Cooperation"],
        notes="Ketenagakerjaan \u2014 bilateral", msg_id="mid-1",
        source="kemnaker-web", x_flag=True, x_ratio=0.25, x_blob=b"\x00\x01",
        x_list=[1, "two", None], x_neg=-5))


def test_roundtrip_training(t):
    """A training with seats, participants and audience round-trips, with
    occurred_at as sent kept (not defaulted)."""
    _roundtrip(t, "training", training(
        id="jica-neg-2026", action="opened", country="JP", city="Tokyo",
        venue="JICA Tokyo", provider="JICA", format="simulation",
        starts_at=1767225600000, ends_at=1767484800000, seats=30,
        participants=30, audience=["Biro KLN", "KBRI Tokyo"],
        occurred_at=1767000000000))


def test_roundtrip_attache_default_priority(t):
    """An attache event without priority is notified with priority "info"
    added; contact (map str -> str) and effective_at kept."""
    _roundtrip(t, "attache", attache(
        id="post-seoul-1", action="contact_changed", country="KR",
        city="Seoul", effective_at=1767225600000,
        contact={"phone": "+82 2 000", "email": "atnaker@kbri.kr"}))


def test_roundtrip_attache_urgent_report(t):
    """An attache report with priority urgent and a message keeps its
    priority (the default does not overwrite it)."""
    _roundtrip(t, "attache", attache(
        id="post-riyadh", action="report", country="SA", post="KBRI Riyadh",
        person="Siti Rahma", role="head_of_division", priority="urgent",
        message="Workers stranded at the border need consular help."))


def test_x_values_pass_byte_for_byte(t):
    """x_ values are opaque: a non-minimal MessagePack encoding (uint32 for
    5, str8 for a 3-byte string, map16 of one int8 pair, float32) comes out
    of notify and replay byte for byte."""
    d, sub, pub, api = _setup(t)
    weird = [
        ("x_u32", b"\xce\x00\x00\x00\x05"),
        ("x_str8", b"\xd9\x03abc"),
        ("x_map16", b"\xde\x00\x01\xa1k\xd0\x01"),
        ("x_f32", b"\xca\x3f\xc0\x00\x00"),
        ("x_arr16", b"\xdc\x00\x02\xcc\x01\xc3"),
    ]
    ev = meeting()
    pairs = list(ev.items()) + [(k, Raw(v)) for k, v in weird]
    pub.send_multipart([b"meeting", raw_map(pairs)])
    topic, body, raw = recv_note(sub)
    bad = [k for k, v in weird if pack(k) + v not in raw]
    if bad:
        raise TestFailure("notification re-encoded %s: %r" % (bad, raw))
    api.send(dict(op="replay", from_seq=1))
    rraw = api.sock.recv()
    bad = [k for k, v in weird if pack(k) + v not in rraw]
    if bad:
        raise TestFailure("replay re-encoded %s: %r" % (bad, rraw))


def test_seq_counts_across_types(t):
    """seq is 1, 2, 3, ... across all types, in the order received."""
    d, sub, pub, api = _setup(t)
    evs = [("meeting", meeting(id="m-1")), ("training", training(id="t-1")),
           ("attache", attache(id="a-1")), ("meeting", meeting(id="m-2")),
           ("attache", attache(id="a-2", action="departed"))]
    for typ, ev in evs:
        pub.send_multipart([typ.encode(), pack(ev)])
    for i, (typ, ev) in enumerate(evs, 1):
        topic, body, _ = recv_note(sub)
        _check_note(topic, body, typ, ev, i)


# ---- rejects ---------------------------------------------------------------

def _expect_reject(t, frames, reason, config=None, topic=None, body=None):
    """Send one bad message; it is counted under reason and nothing else,
    kept in the rejects store as item 1 with the right fields, not
    notified, and a valid event after it is stored and notified as seq 1."""
    d, sub, pub, api = _setup(t, config)
    pub.send_multipart(frames)
    wait_for(lambda: stats(api)["received"] >= 1, what="message received")
    st = stats(api)
    counts = {k: v for k, v in (st.get("rejected") or {}).items() if v}
    if counts != {reason: 1}:
        raise TestFailure("stats.rejected %r, want {%r: 1}"
                          % (st.get("rejected"), reason))
    if st["stored"] != 0 or st["last_seq"] != 0:
        raise TestFailure("rejected message stored: %r" % st)
    r = api.call("rejects")
    if not r.get("ok") or len(r["items"]) != 1:
        raise TestFailure("rejects: %r" % (r,))
    it = r["items"][0]
    want_keys = {"n", "received_at", "topic", "reason", "detail", "size",
                 "body"}
    if set(it) != want_keys:
        raise TestFailure("reject item keys %r, want %r"
                          % (sorted(it), sorted(want_keys)))
    if topic is None:
        topic = frames[0].decode("utf-8", "replace")
    if body is None:
        body = frames[1][:4096] if len(frames) > 1 else b""
    want = {"n": 1, "topic": topic, "reason": reason,
            "size": sum(len(f) for f in frames), "body": body}
    diff = {k: (it[k], v) for k, v in want.items()
            if not same_typed(it[k], v)}
    if diff:
        raise TestFailure("reject item fields (got, want): %r" % diff)
    if type(it["received_at"]) is not int or not isinstance(it["detail"], str) \
            or not it["detail"]:
        raise TestFailure("reject item received_at/detail: %r" % it)
    # Not notified, and the daemon carries on.
    ev = meeting(id="after")
    pub.send_multipart([b"meeting", pack(ev)])
    tp, nb, _ = recv_note(sub)
    _check_note(tp, nb, "meeting", ev, 1)
    return it


def test_reject_frames_one(t):
    """A one-frame message is rejected as frames (topic = that frame,
    body empty)."""
    _expect_reject(t, [b"meeting"], "frames")


def test_reject_frames_three(t):
    """A three-frame message, even with a valid event as its second frame,
    is rejected as frames; size counts all frames."""
    _expect_reject(t, [b"meeting", pack(meeting()), b"extra"], "frames")


def test_reject_topic_prefix_match(t):
    """`meetings` passes the SUB's prefix filter but is not a topic."""
    _expect_reject(t, [b"meetings", pack(meeting())], "topic")


def test_reject_topic_trailing_nul(t):
    """`meeting\\0` is not byte-for-byte `meeting`."""
    _expect_reject(t, [b"meeting\x00", pack(meeting())], "topic",
                   topic="meeting\x00")


def test_reject_topic_invalid_utf8_replaced(t):
    """A topic with invalid UTF-8 is rejected and kept with the bad bytes
    replaced (U+FFFD)."""
    _expect_reject(t, [b"attache\xff", pack(attache())], "topic",
                   topic="attache\ufffd")


def test_reject_too_large(t):
    """A body one byte over max_event_bytes is too_large."""
    _expect_reject(t, [b"meeting", pack(sized(meeting(), 1025))],
                   "too_large", config=conf(ingest={"max_event_bytes": 1024}))


def test_reject_body_kept_first_4096_bytes(t):
    """The rejects store keeps only the first 4096 bytes of a big body."""
    big = pack(sized(meeting(), 6000))
    _expect_reject(t, [b"meeting", big], "too_large",
                   config=conf(ingest={"max_event_bytes": 4096}),
                   body=big[:4096])


def test_body_at_max_event_bytes_accepted(t):
    """A valid body of exactly max_event_bytes is stored (only *over* the
    limit is too_large)."""
    d, sub, pub, api = _setup(t, conf(ingest={"max_event_bytes": 1024}))
    ev = sized(meeting(), 1024)
    pub.send_multipart([b"meeting", pack(ev)])
    topic, body, _ = recv_note(sub)
    _check_note(topic, body, "meeting", ev, 1)


def test_reject_msgpack_garbage(t):
    """Bytes that are not MessagePack (0xc1 is never used) are msgpack."""
    _expect_reject(t, [b"meeting", b"\xc1\xc1garbage"], "msgpack")


def test_reject_msgpack_truncated(t):
    """A map cut short is msgpack."""
    _expect_reject(t, [b"training", pack(training())[:-3]], "msgpack")


def test_reject_msgpack_trailing_bytes(t):
    """A valid event followed by one more byte is msgpack."""
    _expect_reject(t, [b"attache", pack(attache()) + b"\xc0"], "msgpack")


def test_reject_msgpack_depth_17(t):
    """Nesting 17 deep (the event map is level 1) is msgpack, even inside
    an opaque x_ value."""
    _expect_reject(t, [b"meeting", pack(meeting(x_deep=nested(16)))],
                   "msgpack")


def test_depth_16_accepted(t):
    """Nesting exactly 16 deep is allowed and passed through."""
    d, sub, pub, api = _setup(t)
    ev = meeting(x_deep=nested(15))
    pub.send_multipart([b"meeting", pack(ev)])
    topic, body, _ = recv_note(sub)
    _check_note(topic, body, "meeting", ev, 1)


def test_reject_not_map_array(t):
    """An array body is not_map."""
    _expect_reject(t, [b"meeting", pack([1, 2, 3])], "not_map")


def test_reject_not_map_int(t):
    """An integer body is not_map."""
    _expect_reject(t, [b"training", pack(42)], "not_map")


def test_reject_order_topic_before_msgpack(t):
    """Checks run in section 10's order: a bad topic with a garbage body is
    topic, not msgpack."""
    _expect_reject(t, [b"meetingz", b"\xc1"], "topic")


SCHEMA_CASES = [
    # (name, topic, body bytes, field the detail should name)
    ("missing title", "meeting",
     pack({k: v for k, v in meeting().items() if k != "title"}), "title"),
    ("unknown key", "meeting", pack(meeting(colour="red")), "colour"),
    ("lower-case country", "meeting", pack(meeting(country="kr")), "country"),
    ("country UK", "attache", pack(attache(country="UK")), "country"),
    ("country XX", "training", pack(training(country="XX")), "country"),
    ("country EU", "meeting", pack(meeting(country="EU")), "country"),
    ("nil optional value", "meeting", pack(meeting(city=None)), "city"),
    ("float time", "meeting", pack(meeting(starts_at=1767225600000.0)),
     "starts_at"),
    ("bool as int", "training", pack(training(seats=True)), "seats"),
    ("uint64 beyond int64", "meeting", pack(meeting(occurred_at=2 ** 63)),
     "occurred_at"),
    ("negative uint", "training", pack(training(seats=-1)), "seats"),
    ("unknown action", "meeting", pack(meeting(action="exploded")), "action"),
    ("action of another type", "attache", pack(attache(action="scheduled")),
     "action"),
    ("unknown kind", "meeting", pack(meeting(kind="trilateral")), "kind"),
    ("invalid UTF-8", "meeting",
     raw_map([(k, v) for k, v in meeting().items() if k != "title"]
             + [("title", Raw(b"\xa3a\xff\xfe"))]), "title"),
    ("bin instead of str", "meeting", pack(meeting(title=b"binary")), "title"),
    ("non-string key", "meeting",
     raw_map(list(meeting().items()) + [(Raw(b"\x07"), 1)]), None),
    ("bare x_", "meeting", pack(meeting(x_=1)), "x_"),
    ("33 x_ keys", "meeting",
     pack(meeting(**{"x_%d" % i: i for i in range(33)})), None),
    ("ends before start", "meeting",
     pack(meeting(starts_at=2000, ends_at=1999)), "ends_at"),
    ("participants over seats", "training",
     pack(training(seats=10, participants=11)), "participants"),
    ("report without message", "attache", pack(attache(action="report")),
     "message"),
    ("id with a space", "meeting", pack(meeting(id="a b")), "id"),
    ("id of 65 bytes", "meeting", pack(meeting(id="i" * 65)), "id"),
    ("empty id", "meeting", pack(meeting(id="")), "id"),
    ("title of 257 bytes", "meeting", pack(meeting(title="t" * 257)),
     "title"),
    ("no counterparts", "meeting", pack(meeting(counterparts=[])),
     "counterparts"),
    ("33 counterparts", "meeting",
     pack(meeting(counterparts=["c%d" % i for i in range(33)])),
     "counterparts"),
    ("empty msg_id", "meeting", pack(meeting(msg_id="")), "msg_id"),
    ("unknown role", "attache", pack(attache(role="ambassador")), "role"),
    ("priority not an enum", "attache", pack(attache(priority="high")),
     "priority"),
    ("contact value not str", "attache", pack(attache(contact={"phone": 1})),
     "contact"),
    ("string over 1024 bytes", "meeting", pack(meeting(city="c" * 1025)),
     "city"),
    ("meeting key on training", "training", pack(training(kind="bilateral")),
     "kind"),
]


def test_reject_schema_cases(t):
    """Representative breaks of section 4/10 are each rejected as schema,
    kept in order in the rejects store with a detail naming the field, and
    never notified."""
    d, sub, pub, api = _setup(t)
    for name, topic, body, field in SCHEMA_CASES:
        pub.send_multipart([topic.encode(), body])
    n = len(SCHEMA_CASES)
    wait_for(lambda: stats(api)["received"] >= n, what="%d received" % n)
    problems = []
    st = stats(api)
    counts = {k: v for k, v in (st.get("rejected") or {}).items() if v}
    items = api.call("rejects", limit=1000)["items"]
    by_n = {it["n"]: it for it in items}
    for i, (name, topic, body, field) in enumerate(SCHEMA_CASES, 1):
        it = by_n.get(i)
        if it is None:
            problems.append("%s: no reject item %d" % (name, i))
            continue
        if it["reason"] != "schema":
            problems.append("%s: reason %r (%s)" % (name, it["reason"],
                                                   it.get("detail")))
        elif field and field not in it.get("detail", ""):
            problems.append("%s: detail %r does not name %r"
                            % (name, it.get("detail"), field))
        if it.get("body") != body:
            problems.append("%s: body not kept as sent" % name)
    if counts.get("schema") != n:
        problems.append("stats.rejected %r, want schema: %d" % (counts, n))
    if st["stored"] != 0:
        stored = replay_all(api)
        problems.append("stored %d of them: %r" % (
            st["stored"], [it["event"].get("id") for it in stored]))
    ev = meeting(id="after")
    pub.send_multipart([b"meeting", pack(ev)])
    tp, nb, _ = recv_note(sub)
    if nb["event"].get("id") != "after":
        problems.append("notified a rejected event: %r" % (nb,))
    if problems:
        raise TestFailure("schema rejects:\n  " + "\n  ".join(problems))


BOUNDARY_CASES = [
    ("meeting", meeting(id="m-title", title="t" * 256)),
    ("meeting", meeting(id="A-z.0_9:-" + "x" * 55)),  # 64 bytes, every class
    ("meeting", meeting(id="m-cp", counterparts=["c%d" % i for i in range(32)])),
    ("meeting", meeting(id="m-x", **{"x_%d" % i: i for i in range(32)})),
    ("meeting", meeting(id="m-same", starts_at=5, ends_at=5)),
    ("meeting", meeting(id="m-int64", occurred_at=2 ** 63 - 1)),
    ("meeting", meeting(id="m-neg", occurred_at=-1)),
    ("meeting", meeting(id="m-notes", notes="n" * 8192, msg_id="k" * 128)),
    ("meeting", meeting(id="m-utf8", title="Pertemuan \u00e9\u4e2d\U0001F600")),
    ("training", training(id="t-full", seats=0, participants=0)),
    ("attache", attache(id="a-r", action="report", message="m" * 8192)),
    ("attache", attache(id="a-c", contact={})),
]


def test_schema_boundaries_accepted(t):
    """Values exactly at the limits are valid: each is stored and notified
    unchanged (guards against off-by-one rejects)."""
    d, sub, pub, api = _setup(t)
    for typ, ev in BOUNDARY_CASES:
        pub.send_multipart([typ.encode(), pack(ev)])
    n = len(BOUNDARY_CASES)
    wait_for(lambda: stats(api)["received"] >= n, what="%d received" % n)
    st = stats(api)
    if st["stored"] != n:
        items = api.call("rejects", limit=1000)["items"]
        raise TestFailure("valid boundary events rejected: %r" % [
            (it["reason"], it["detail"]) for it in items])
    for i, (typ, ev) in enumerate(BOUNDARY_CASES, 1):
        topic, body, _ = recv_note(sub)
        _check_note(topic, body, typ, ev, i)


def test_rejects_numbered_contiguously(t):
    """Rejects of mixed reasons are numbered n = 1, 2, 3, ... in the order
    received, each with its own reason; rejects from/limit pages them."""
    d, sub, pub, api = _setup(t)
    bad = [([b"meeting"], "frames"), ([b"meetings", b"x"], "topic"),
           ([b"meeting", b"\xc1"], "msgpack"), ([b"meeting", pack(7)], "not_map"),
           ([b"meeting", pack({"id": 1})], "schema")] * 3
    for frames, _ in bad:
        pub.send_multipart(frames)
    wait_for(lambda: stats(api)["received"] >= len(bad), what="received")
    items = api.call("rejects", limit=1000)["items"]
    got = [(it["n"], it["reason"]) for it in items]
    want = [(i, r) for i, (_, r) in enumerate(bad, 1)]
    if got != want:
        raise TestFailure("rejects %r, want %r" % (got, want))
    page = api.call("rejects", **{"from": 4, "limit": 3})["items"]
    if [it["n"] for it in page] != [4, 5, 6]:
        raise TestFailure("rejects from 4 limit 3: %r"
                          % [it["n"] for it in page])
    st = stats(api)["rejected"]
    for reason in ("frames", "topic", "msgpack", "not_map", "schema"):
        if st.get(reason) != 3:
            raise TestFailure("stats.rejected %r" % st)


def test_max_rejects_trims_oldest(t):
    """With max_rejects = 5, after 12 rejects only n 8..12 are kept."""
    d, sub, pub, api = _setup(t, conf(store={"max_rejects": 5}))
    for i in range(12):
        pub.send_multipart([b"meeting", b"\xc1%d" % i])
    wait_for(lambda: rejected(api, "msgpack") >= 12, what="12 rejects")
    wait_for(lambda: [it["n"] for it in api.call("rejects")["items"]]
             == [8, 9, 10, 11, 12], what="rejects trimmed to n 8..12")
    items = api.call("rejects")["items"]
    if items[0]["body"] != b"\xc17":
        raise TestFailure("wrong item kept as n 8: %r" % items[0])


def test_max_rejects_zero_keeps_none(t):
    """max_rejects = 0 keeps no rejects, but still counts them."""
    d, sub, pub, api = _setup(t, conf(store={"max_rejects": 0}))
    for i in range(3):
        pub.send_multipart([b"meeting", b"\xc1"])
    wait_for(lambda: rejected(api, "msgpack") >= 3, what="3 rejects")
    wait_for(lambda: api.call("rejects")["items"] == [],
             what="no rejects kept")


def test_ingest_duplicate_msg_id_not_stored(t):
    """A second ingest event with a stored msg_id is counted in
    stats.duplicates, not stored, not notified, and not a reject."""
    d, sub, pub, api = _setup(t)
    pub.send_multipart([b"meeting", pack(meeting(id="m-1", msg_id="same"))])
    pub.send_multipart([b"meeting", pack(meeting(id="m-2", msg_id="same"))])
    pub.send_multipart([b"training", pack(training(id="t-1", msg_id="same"))])
    pub.send_multipart([b"meeting", pack(meeting(id="m-3"))])
    seqs = [recv_note(sub)[1] for _ in range(2)]
    if [(b["seq"], b["event"]["id"]) for b in seqs] != [(1, "m-1"), (2, "m-3")]:
        raise TestFailure("notified %r" % [(b["seq"], b["event"]["id"])
                                           for b in seqs])
    st = stats(api)
    if st["duplicates"] != 2 or st["stored"] != 2 or \
            any((st.get("rejected") or {}).values()):
        raise TestFailure("stats %r" % st)


def test_heartbeat(t):
    """With heartbeat_ms small, _sys.heartbeat {last_seq, time} arrives
    repeatedly and last_seq follows the store."""
    d = t.daemon(config=conf(notify={"heartbeat_ms": 100}))
    sub = t.sub(d, "_sys.")
    api = t.api(d)
    topic, body, _ = recv_note(sub, skip_heartbeats=False)
    if topic != "_sys.heartbeat" or set(body) != {"last_seq", "time"}:
        raise TestFailure("heartbeat %r %r" % (topic, body))
    if body["last_seq"] != 0 or type(body["time"]) is not int or \
            abs(body["time"] - now_ms()) > 600000:
        raise TestFailure("heartbeat body %r" % (body,))
    for i in range(3):
        r = api.call("publish", topic="meeting", event=meeting(id="m%d" % i))
        assert r.get("ok"), r
    for _ in range(200):
        topic, body, _ = recv_note(sub, skip_heartbeats=False)
        if topic == "_sys.heartbeat" and body["last_seq"] == 3:
            return
    raise TestFailure("no heartbeat with last_seq 3; last %r" % (body,))


def test_burst_100k_stored_and_notified(t):
    """100,000 valid events sent as fast as possible on one PUB are all
    stored (stored = last_seq = 100000) and all 100,000 notified, in seq
    order, to a subscriber that keeps up."""
    N = 100000
    d = t.daemon(config=conf(notify={"hwm": 1000000}))
    col = Collector(t, d)
    t.wait_subscribers(d, 1)
    pub = t.pub(d)
    api = t.api(d)
    kinds = [(b"meeting", meeting), (b"training", training),
             (b"attache", attache)]
    msgs = []
    for i in range(N):
        topic, mk = kinds[i % 3]
        msgs.append([topic, pack(mk(id="e%d" % i, occurred_at=i))])
    for m in msgs:
        pub.send_multipart(m)
    try:
        wait_for(lambda: stats(api)["received"] >= N, timeout=150,
                 interval=0.25, what="%d received" % N)
    except TestFailure as e:
        raise TestFailure("%s; %s" % (e, _stall_facts(t, d, api, pub, col)))
    wait_for(lambda: stats(api)["stored"] >= N, timeout=60, interval=0.25,
             what="%d stored" % N)
    st = stats(api)
    if st["stored"] != N or st["last_seq"] != N or \
            any((st.get("rejected") or {}).values()):
        raise TestFailure("after the burst: %r" % st)
    wait_for(lambda: col.count >= N, timeout=60, interval=0.25,
             what="%d notifications (have %d)" % (N, col.count))
    col.stop()
    if col.count != N:
        raise TestFailure("%d notifications, want %d" % (col.count, N))
    seqs = [unpack(f[1])["seq"] for f in col.raw]
    if seqs != list(range(1, N + 1)):
        bad = next(i for i, s in enumerate(seqs) if s != i + 1)
        raise TestFailure("notification %d has seq %d" % (bad, seqs[bad]))


def _stall_facts(t, d, api, pub, col):
    """What a stalled api looks like from outside, for the report."""
    facts = ["daemon alive: %s" % d.alive(),
             "notifications received: %d" % col.count]
    try:
        def cpu():
            with open("/proc/%d/stat" % d.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])
        c0 = cpu()
        time.sleep(1)
        facts.append("daemon CPU over 1 s: %d%%" % (cpu() - c0))
    except (OSError, ValueError, IndexError):
        pass
    fresh = t.api(d, timeout_ms=3000)
    try:
        fresh.call("ping")
        facts.append("a fresh client's ping is answered")
    except zmq.Again:
        facts.append("a fresh client's ping is not answered either")
    pub.send_multipart([b"meeting", pack(meeting(id="poke"))])
    api.sock.setsockopt(zmq.RCVTIMEO, 3000)
    try:
        r = api.recv()
        facts.append("one more ingest event released the pending stats reply "
                     "(received=%s)" % r.get("received"))
    except zmq.Again:
        facts.append("one more ingest event did not release it")
    return "; ".join(facts)


def test_api_answers_during_ingest_bursts(t):
    """The api keeps answering while ingest is busy: during each of 8
    bursts of 20,000 events (notified to a subscriber) stats is asked at
    once and must be answered, as must a fresh client's ping (guards
    against api requests left unread until more ingest arrives)."""
    d = t.daemon(config=conf())
    col = Collector(t, d, keep_bodies=False)
    t.wait_subscribers(d, 1)
    pub = t.pub(d)
    api = t.api(d)
    total = 0
    kinds = [(b"meeting", meeting), (b"training", training),
             (b"attache", attache)]
    for rnd in range(8):
        for i in range(20000):
            topic, mk = kinds[i % 3]
            pub.send_multipart([topic, pack(mk(id="b%d.%d" % (rnd, i)))])
        total += 20000
        try:
            wait_for(lambda: stats(api)["stored"] >= total, interval=0.05,
                     what="%d stored" % total)
        except TestFailure as e:
            raise TestFailure("burst %d: %s; %s" % (rnd, e,
                                                    _stall_facts(t, d, api, pub, col)))
        fresh = t.api(d)
        if not fresh.call("ping").get("ok"):
            raise TestFailure("ping after burst %d" % rnd)
    wait_for(lambda: col.count >= total, what="%d notified" % total)


def test_reject_logging_rate_limited(t):
    """2,000 rejects of one reason are logged at most one line per second
    for that reason, followed by a line saying how many were not logged."""
    d, sub, pub, api = _setup(t)
    start = time.monotonic()
    for i in range(2000):
        pub.send_multipart([b"meeting", b"\xc1"])
    wait_for(lambda: rejected(api, "msgpack") >= 2000, what="2000 rejects")
    # The summary comes once the second is over; another reject after it
    # gives a daemon that only summarises on the next reject its chance.
    time.sleep(1.5)
    pub.send_multipart([b"meeting", b"\xc1"])
    wait_for(lambda: rejected(api, "msgpack") >= 2001, what="2001 rejects")
    seconds = time.monotonic() - start
    lines = [ln for ln in d.stderr().splitlines() if "msgpack" in ln]
    if len(lines) > 2 * (seconds + 2):
        raise TestFailure("%d log lines about msgpack rejects in %.0f s"
                          % (len(lines), seconds))
    counts = [int(n) for ln in d.stderr().splitlines()
              for n in re.findall(r"\b\d+\b", ln.split(" ", 2)[-1])]
    if not any(n >= 1000 for n in counts):
        raise TestFailure("no line says how many rejects were not logged:\n"
                          + d.stderr()[-2000:])
