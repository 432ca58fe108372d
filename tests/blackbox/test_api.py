"""Black-box tests of the api socket (issue 3): every op and every error
code over REQ and DEALER, acknowledged publish, dedupe, get/list/replay
semantics, concurrency, a full map and retention (PROTOCOL.md sections 5,
6 and 10)."""
import threading

import zmq

from harness import (Api, TestFailure, attache, conf, expect_error,
                     meeting, pack, publish_ok, recv_note, rejected,
                     replay_all, same_typed, sized, stats, training, unpack,
                     wait_for)

TYPES = {"meeting": meeting, "training": training, "attache": attache}


def _d(t, **sections):
    return t.daemon(config=conf(**sections))


def _ok(r, what="reply"):
    if r.get("ok") is not True:
        raise TestFailure("%s not ok: %r" % (what, r))
    return r


# ---- ops -------------------------------------------------------------------

def test_ping(t):
    """ping answers ok with version, last_seq and uptime_s."""
    d = _d(t)
    api = t.api(d)
    r = _ok(api.call("ping"))
    if r.get("last_seq") != 0 or type(r.get("uptime_s")) is not int or \
            r["uptime_s"] < 0 or "version" not in r:
        raise TestFailure("ping %r" % r)
    publish_ok(api, "meeting", meeting())
    if api.call("ping")["last_seq"] != 1:
        raise TestFailure("ping last_seq after one publish")


def test_ping_over_dealer(t):
    """A DEALER client sending ["", request] gets ["", reply]."""
    d = _d(t)
    api = t.api(d, dealer=True)
    api.sock.send_multipart([b"", pack({"op": "ping"})])
    frames = api.sock.recv_multipart()
    if len(frames) != 2 or frames[0] != b"" or not unpack(frames[1]).get("ok"):
        raise TestFailure("DEALER reply frames %r" % frames)


def test_publish_acks_seq(t):
    """publish answers {ok, seq, duplicate: false}; seqs count up across
    types and each published event is notified."""
    d = _d(t)
    sub = t.sub(d)
    t.wait_subscribers(d, 1)
    api = t.api(d)
    for i, (typ, mk) in enumerate(TYPES.items(), 1):
        r = _ok(api.call("publish", topic=typ, event=mk()))
        if r.get("seq") != i or r.get("duplicate") is not False:
            raise TestFailure("publish %s: %r" % (typ, r))
        topic, body, _ = recv_note(sub)
        if body["seq"] != i or not topic.startswith(typ + "."):
            raise TestFailure("notified %r %r" % (topic, body))


def test_publish_visible_at_once(t):
    """The ack comes after commit: the moment publish answers, another
    client's get and replay see the event."""
    d = _d(t)
    a, b = t.api(d), t.api(d)
    for i in range(40):
        ev = meeting(id="m-%d" % i, occurred_at=i)
        seq = publish_ok(a, "meeting", ev)
        g = b.call("get", type="meeting", id="m-%d" % i)
        if not g.get("ok") or g["seq"] != seq or not same_typed(g["event"], ev):
            raise TestFailure("get right after ack of seq %d: %r" % (seq, g))
        r = b.call("replay", from_seq=seq, limit=1)
        if not r.get("ok") or [it["seq"] for it in r["items"]] != [seq]:
            raise TestFailure("replay right after ack of seq %d: %r" % (seq, r))


def test_get_latest_and_history(t):
    """get answers the latest event of (type, id) and its seqs oldest
    first; the same id under another type is a different entity."""
    d = _d(t)
    api = t.api(d)
    s1 = publish_ok(api, "meeting", meeting(id="x", action="scheduled"))
    publish_ok(api, "meeting", meeting(id="other"))
    publish_ok(api, "training", training(id="x"))
    s4 = publish_ok(api, "meeting", meeting(id="x", action="updated",
                                            title="Renamed"))
    last = meeting(id="x", action="postponed", starts_at=1767312000000,
                   occurred_at=7)
    s5 = publish_ok(api, "meeting", last)
    r = _ok(api.call("get", type="meeting", id="x"))
    if r["seq"] != s5 or r["history"] != [s1, s4, s5] or \
            not same_typed(r["event"], last):
        raise TestFailure("get %r" % r)
    r = _ok(api.call("get", type="training", id="x"))
    if r["history"] != [3]:
        raise TestFailure("training x history %r" % r["history"])


def test_get_not_found(t):
    """get of an unknown entity answers not_found."""
    d = _d(t)
    api = t.api(d)
    publish_ok(api, "meeting", meeting(id="m-1"))
    expect_error(api.call("get", type="meeting", id="nope"), "not_found")
    expect_error(api.call("get", type="training", id="m-1"), "not_found")


def _list_fixture(api):
    """Entities with distinct times; returns {id: seq of latest}."""
    seqs = {}
    evs = [
        ("meeting", meeting(id="m-b", country="CH", starts_at=200)),
        ("meeting", meeting(id="m-a", country="KR", starts_at=100)),
        ("meeting", meeting(id="m-c", country="CH", starts_at=300)),
        ("meeting", meeting(id="m-tie", country="CH", starts_at=200)),
        ("meeting", meeting(id="m-d", country="CH", starts_at=999)),
        # m-d moves: the latest event decides its time.
        ("meeting", meeting(id="m-d", action="postponed", country="CH",
                            starts_at=400)),
        ("training", training(id="t-a", starts_at=150)),
        ("attache", attache(id="a-eff", effective_at=500, occurred_at=1)),
        ("attache", attache(id="a-occ", occurred_at=250)),
    ]
    for typ, ev in evs:
        seqs[ev["id"]] = publish_ok(api, typ, ev)
    return seqs


def _ids(r):
    _ok(r, "list")
    return [it["event"]["id"] for it in r["items"]]


def test_list_sorted_by_time_then_seq(t):
    """list of a type is sorted by starts_at then seq, one item (the latest
    notification body) per entity."""
    d = _d(t)
    api = t.api(d)
    seqs = _list_fixture(api)
    r = api.call("list", type="meeting")
    if _ids(r) != ["m-a", "m-b", "m-tie", "m-c", "m-d"]:
        raise TestFailure("list meeting %r" % _ids(r))
    it = r["items"][-1]
    if set(it) != {"seq", "received_at", "topic", "event"} or \
            it["seq"] != seqs["m-d"] or it["topic"] != "meeting.CH.postponed":
        raise TestFailure("list item %r" % it)


def test_list_filters_country(t):
    """list country=CH leaves out other countries."""
    d = _d(t)
    api = t.api(d)
    _list_fixture(api)
    got = _ids(api.call("list", type="meeting", country="CH"))
    if got != ["m-b", "m-tie", "m-c", "m-d"]:
        raise TestFailure("list CH %r" % got)


def test_list_from_to_inclusive(t):
    """from and to are inclusive bounds on starts_at."""
    d = _d(t)
    api = t.api(d)
    _list_fixture(api)
    got = _ids(api.call("list", type="meeting", **{"from": 200, "to": 300}))
    if got != ["m-b", "m-tie", "m-c"]:
        raise TestFailure("list from 200 to 300 %r" % got)
    got = _ids(api.call("list", type="meeting", **{"from": 999}))
    if got != []:
        raise TestFailure("list from 999 (old time of m-d) %r" % got)


def test_list_attache_effective_at_else_occurred_at(t):
    """attache is listed by effective_at, falling back on occurred_at."""
    d = _d(t)
    api = t.api(d)
    _list_fixture(api)
    got = _ids(api.call("list", type="attache"))
    if got != ["a-occ", "a-eff"]:
        raise TestFailure("list attache %r" % got)
    got = _ids(api.call("list", type="attache", **{"from": 250, "to": 499}))
    if got != ["a-occ"]:
        raise TestFailure("list attache 250..499 %r" % got)


def test_list_limit_keeps_earliest(t):
    """limit keeps the earliest by time."""
    d = _d(t)
    api = t.api(d)
    _list_fixture(api)
    got = _ids(api.call("list", type="meeting", limit=2))
    if got != ["m-a", "m-b"]:
        raise TestFailure("list limit 2 %r" % got)


def test_list_limit_default_100_max_1000(t):
    """list returns 100 items by default and at most 1000 (a larger limit
    is lowered, not an error)."""
    d = _d(t)
    pub = t.pub(d)
    api = t.api(d)
    for i in range(1100):
        pub.send_multipart([b"training", pack(training(id="t%d" % i,
                                                       starts_at=i))])
    wait_for(lambda: stats(api)["stored"] >= 1100, what="1100 stored")
    r = _ok(api.call("list", type="training"))
    if len(r["items"]) != 100:
        raise TestFailure("default list gave %d items" % len(r["items"]))
    r = _ok(api.call("list", type="training", limit=5000))
    ids = [it["event"]["id"] for it in r["items"]]
    if ids != ["t%d" % i for i in range(1000)]:
        raise TestFailure("list limit 5000 gave %d items" % len(ids))


def test_replay_empty_store(t):
    """replay on an empty store: no items, first_seq 1, last_seq 0, and
    next_seq the effective from_seq."""
    d = _d(t)
    api = t.api(d)
    r = _ok(api.call("replay"))
    if r["items"] != [] or r["first_seq"] != 1 or r["last_seq"] != 0 or \
            r["next_seq"] != 1:
        raise TestFailure("replay on empty store %r" % r)


def test_replay_from_zero_and_beyond(t):
    """from_seq 0 means first_seq; from_seq past last_seq scans nothing and
    returns next_seq = from_seq."""
    d = _d(t)
    api = t.api(d)
    for i in range(5):
        publish_ok(api, "meeting", meeting(id="m%d" % i))
    r = _ok(api.call("replay", from_seq=0))
    if [it["seq"] for it in r["items"]] != [1, 2, 3, 4, 5] or \
            r["next_seq"] != 6 or r["first_seq"] != 1 or r["last_seq"] != 5:
        raise TestFailure("replay from 0 %r" % {k: v for k, v in r.items()
                                                  if k != "items"})
    r = _ok(api.call("replay", from_seq=9))
    if r["items"] != [] or r["next_seq"] != 9:
        raise TestFailure("replay from 9 %r" % r)


def test_replay_pagination_with_prefix(t):
    """Paging replay with a prefix through 10,000 events returns exactly
    the matching ones in ascending seq, next_seq always advancing."""
    N = 10000
    d = _d(t)
    pub = t.pub(d)
    api = t.api(d)
    want = []
    for i in range(N):
        if i % 7 == 0:
            typ, ev = "attache", attache(id="a%d" % i, country="KR")
        elif i % 7 == 1:
            typ, ev = "attache", attache(id="a%d" % i, country="KW")
        else:
            typ, ev = "meeting", meeting(id="m%d" % i)
        pub.send_multipart([typ.encode(), pack(ev)])
        if i % 7 == 0:
            want.append(i + 1)
    wait_for(lambda: stats(api)["stored"] >= N, timeout=60, interval=0.1,
             what="%d stored" % N)
    items = replay_all(api, prefix="attache.KR.", limit=10)
    got = [it["seq"] for it in items]
    if got != want:
        raise TestFailure("replay attache.KR. gave %d seqs, want %d; "
                          "first difference at %r" % (
                              len(got), len(want),
                              next((i for i, (a, b) in enumerate(zip(got, want))
                                    if a != b), min(len(got), len(want)))))
    if any(not it["topic"].startswith("attache.KR.") for it in items):
        raise TestFailure("replay returned other topics")
    # A full page ends right after its last item.
    r = _ok(api.call("replay", from_seq=1, prefix="attache.KR.", limit=3))
    if [it["seq"] for it in r["items"]] != want[:3] or \
            r["next_seq"] != want[2] + 1:
        raise TestFailure("page of 3: seqs %r next_seq %r" % (
            [it["seq"] for it in r["items"]], r["next_seq"]))


def test_replay_limit_capped_at_10000(t):
    """limit above 10000 is lowered to 10000; the default is 1000."""
    N = 10050
    d = _d(t)
    pub = t.pub(d)
    api = t.api(d)
    for i in range(N):
        pub.send_multipart([b"meeting", pack(meeting(id="m%d" % i))])
    wait_for(lambda: stats(api)["stored"] >= N, timeout=60, interval=0.1,
             what="%d stored" % N)
    r = _ok(api.call("replay"))
    if len(r["items"]) != 1000 or r["next_seq"] != 1001:
        raise TestFailure("default replay: %d items, next_seq %r"
                          % (len(r["items"]), r["next_seq"]))
    api.sock.setsockopt(zmq.RCVTIMEO, 60000)
    r = _ok(api.call("replay", limit=50000))
    if len(r["items"]) != 10000 or r["next_seq"] != 10001 or \
            r["last_seq"] != N:
        raise TestFailure("replay limit 50000: %d items, next_seq %r"
                          % (len(r["items"]), r["next_seq"]))


def test_stats_fields(t):
    """stats has every key of section 5 with the right types; received
    counts api publishes."""
    d = _d(t)
    api = t.api(d)
    publish_ok(api, "meeting", meeting())
    r = stats(api)
    for k in ("received", "stored", "duplicates", "last_seq", "subscribers",
              "db_bytes", "map_bytes"):
        if type(r.get(k)) is not int:
            raise TestFailure("stats.%s = %r" % (k, r.get(k)))
    if not isinstance(r.get("rejected"), dict):
        raise TestFailure("stats.rejected = %r" % r.get("rejected"))
    if (r["received"], r["stored"], r["duplicates"], r["last_seq"]) != \
            (1, 1, 0, 1):
        raise TestFailure("stats after one publish %r" % r)


def test_stats_subscribers(t):
    """subscribers counts distinct subscriptions as XPUB reports them: two
    SUBs on meeting. plus one on attache. are 2; closing the attache. one
    leaves 1."""
    d = _d(t)
    api = t.api(d)
    s1 = t.sub(d, "meeting.", "attache.")
    t.sub(d, "meeting.")
    wait_for(lambda: stats(api)["subscribers"] == 2, what="2 subscribers")
    s1.close(0)
    wait_for(lambda: stats(api)["subscribers"] == 1, what="1 subscriber")


def test_rejects_op_paging(t):
    """rejects pages with from/limit: default 100 items, at most 1000."""
    d = _d(t)
    pub = t.pub(d)
    api = t.api(d)
    for i in range(1100):
        pub.send_multipart([b"meeting", b"\xc1"])
    wait_for(lambda: rejected(api, "msgpack") >= 1100, what="1100 rejects")
    r = _ok(api.call("rejects"))
    if [it["n"] for it in r["items"]] != list(range(1, 101)):
        raise TestFailure("default rejects: %d items" % len(r["items"]))
    r = _ok(api.call("rejects", **{"from": 50, "limit": 5000}))
    if [it["n"] for it in r["items"]] != list(range(50, 1050)):
        raise TestFailure("rejects from 50 limit 5000: %d items"
                          % len(r["items"]))


# ---- errors ----------------------------------------------------------------

BAD_REQUESTS = [
    ("not msgpack", b"\xc1\xc1", None),
    ("truncated msgpack", pack({"op": "ping"})[:-1], None),
    ("not a map", pack(["ping"]), None),
    ("no op", pack({}), "op"),
    ("op not a string", pack({"op": 5}), "op"),
    ("unknown op", pack({"op": "frobnicate"}), "frobnicate"),
    ("unknown request key", pack({"op": "ping", "bogus": 1}), "bogus"),
    ("unknown key in get", pack({"op": "get", "type": "meeting", "id": "m",
                                 "colour": 1}), "colour"),
    ("id not a string", pack({"op": "get", "type": "meeting", "id": 5}), "id"),
    ("limit not an int", pack({"op": "list", "type": "meeting",
                               "limit": "10"}), "limit"),
    ("list limit 0", pack({"op": "list", "type": "meeting", "limit": 0}),
     "limit"),
    ("replay limit 0", pack({"op": "replay", "limit": 0}), "limit"),
    ("replay limit negative", pack({"op": "replay", "limit": -3}), "limit"),
    ("rejects limit 0", pack({"op": "rejects", "limit": 0}), "limit"),
    ("negative from_seq", pack({"op": "replay", "from_seq": -1}), "from_seq"),
    ("from_seq a float", pack({"op": "replay", "from_seq": 1.0}), "from_seq"),
    ("prefix not a string", pack({"op": "replay", "prefix": 1}), "prefix"),
    ("unknown type in get", pack({"op": "get", "type": "conference",
                                  "id": "m"}), "type"),
    ("unknown type in list", pack({"op": "list", "type": "conference"}),
     "type"),
    ("list from not an int", pack({"op": "list", "type": "meeting",
                                   "from": "yesterday"}), "from"),
    ("publish topic not a string", pack({"op": "publish", "topic": 1,
                                         "event": meeting()}), "topic"),
]


def _bad_request_test(name, raw, field):
    def f(t):
        d = _d(t)
        for dealer in (False, True):
            api = t.api(d, dealer=dealer)
            expect_error(api.call(raw), "bad_request", field)
        # The daemon carries on.
        _ok(t.api(d).call("ping"))
    f.__doc__ = "bad_request for %s, over REQ and DEALER." % name
    return f


for _i, (_name, _raw, _field) in enumerate(BAD_REQUESTS):
    globals()["test_bad_request_%02d_%s" % (_i, _name.replace(" ", "_"))] = \
        _bad_request_test(_name, _raw, _field)


def test_invalid_event(t):
    """publish of an event that breaks section 4 answers invalid naming the
    field; it is counted under rejected.schema but not kept in rejects,
    and not stored."""
    d = _d(t)
    api = t.api(d)
    ev = meeting()
    del ev["title"]
    expect_error(api.call("publish", topic="meeting", event=ev), "invalid",
                 "title")
    expect_error(api.call("publish", topic="meeting",
                          event=meeting(country="kr")), "invalid", "country")
    st = stats(api)
    if (st.get("rejected") or {}).get("schema") != 2 or st["stored"] != 0:
        raise TestFailure("stats after 2 invalid publishes %r" % st)
    if api.call("rejects")["items"] != []:
        raise TestFailure("api rejects kept in the rejects store")


def test_invalid_event_not_a_map(t):
    """publish with an event that is not a map answers invalid."""
    d = _d(t)
    api = t.api(d)
    expect_error(api.call("publish", topic="meeting", event=[1, 2]), "invalid")
    expect_error(api.call("publish", topic="meeting", event="x"), "invalid")


def test_invalid_unknown_topic(t):
    """publish to an unknown topic answers invalid."""
    d = _d(t)
    api = t.api(d)
    expect_error(api.call("publish", topic="meetings", event=meeting()),
                 "invalid")
    expect_error(api.call("publish", topic="conference", event=meeting()),
                 "invalid")


def test_too_large_request(t):
    """A request frame over max_event_bytes + 1024 answers too_large."""
    d = _d(t, ingest={"max_event_bytes": 2048})
    api = t.api(d)
    r = api.call("publish", topic="meeting", event=sized(meeting(), 3500))
    expect_error(r, "too_large")
    _ok(api.call("ping"))


def test_too_large_event_in_small_request(t):
    """An event over max_event_bytes inside a request within the frame
    limit answers too_large; exactly max_event_bytes is accepted."""
    d = _d(t, ingest={"max_event_bytes": 2048})
    api = t.api(d)
    expect_error(api.call("publish", topic="meeting",
                          event=sized(meeting(id="big"), 2049)), "too_large")
    publish_ok(api, "meeting", sized(meeting(id="fits"), 2048))
    if rejected(api, "too_large") != 1:
        raise TestFailure("stats.rejected %r" % stats(api)["rejected"])


def test_unavailable_when_map_full(t):
    """With map_size_mb = 1, publishing big events ends in unavailable
    (never a crash or another error); reads keep working, and an ingest
    event is counted under rejected.unavailable."""
    d = _d(t, store={"map_size_mb": 1})
    api = t.api(d)
    seqs = []
    for i in range(300):
        r = api.call("publish", topic="meeting",
                     event=sized(meeting(id="big%d" % i), 60000))
        if r.get("ok"):
            seqs.append(r["seq"])
            continue
        expect_error(r, "unavailable")
        break
    else:
        raise TestFailure("300 events of 60 kB fit in a 1 MiB map")
    if not seqs:
        raise TestFailure("not even one event fitted")
    if not d.alive():
        raise TestFailure("daemon died")
    _ok(api.call("ping"))
    g = _ok(api.call("get", type="meeting", id="big0"))
    if g["seq"] != seqs[0]:
        raise TestFailure("get after full: %r" % g["seq"])
    items = replay_all(api, limit=5)
    if [it["seq"] for it in items] != seqs:
        raise TestFailure("replay after full: %r" % [it["seq"] for it in items])
    _ok(api.call("list", type="meeting"))
    st = stats(api)
    if st["stored"] != len(seqs):
        raise TestFailure("stats after full %r" % st)
    pub = t.pub(d)
    pub.send_multipart([b"meeting", pack(sized(meeting(id="in"), 60000))])
    wait_for(lambda: rejected(api, "unavailable") >= 1,
             what="ingest event counted under unavailable")
    _ok(api.call("ping"))


# ---- DEALER pipelining, dedupe, concurrency --------------------------------

def test_dealer_many_outstanding_in_order(t):
    """A DEALER with 300 requests outstanding (publish, get, ping mixed)
    gets 300 replies in request order."""
    d = _d(t)
    api = t.api(d, dealer=True)
    reqs = []
    for i in range(100):
        reqs.append(("publish", dict(op="publish", topic="meeting",
                                     event=meeting(id="m%d" % i))))
        reqs.append(("get", dict(op="get", type="meeting", id="m%d" % i)))
        reqs.append(("ping", dict(op="ping")))
    for _, r in reqs:
        api.send(r)
    for i, (op, _) in enumerate(reqs):
        r = _ok(api.recv(), "reply %d (%s)" % (i, op))
        k = i // 3
        if op == "publish" and r.get("seq") != k + 1:
            raise TestFailure("reply %d: publish seq %r, want %d"
                              % (i, r.get("seq"), k + 1))
        if op == "get" and (r.get("event", {}).get("id") != "m%d" % k
                            or r.get("seq") != k + 1):
            raise TestFailure("reply %d: get %r" % (i, r))
        if op == "ping" and "version" not in r:
            raise TestFailure("reply %d: expected ping, got %r" % (i, r))


def test_dedupe_msg_id(t):
    """A second publish with a stored msg_id answers ok, duplicate: true
    with the first seq; it is counted in stats.duplicates, not stored, not
    notified."""
    d = _d(t)
    sub = t.sub(d)
    t.wait_subscribers(d, 1)
    api = t.api(d)
    first = _ok(api.call("publish", topic="meeting",
                         event=meeting(id="m-1", msg_id="k1")))
    again = _ok(api.call("publish", topic="meeting",
                         event=meeting(id="m-1", action="updated",
                                       msg_id="k1")))
    if again.get("seq") != first["seq"] or again.get("duplicate") is not True:
        raise TestFailure("duplicate publish %r (first %r)" % (again, first))
    other = _ok(api.call("publish", topic="training",
                         event=training(msg_id="k1")))
    if other.get("seq") != first["seq"] or other.get("duplicate") is not True:
        raise TestFailure("msg_id is global across types: %r" % other)
    publish_ok(api, "meeting", meeting(id="m-2"))
    notes = [recv_note(sub)[1]["seq"] for _ in range(2)]
    if notes != [1, 2]:
        raise TestFailure("notified %r" % notes)
    st = stats(api)
    if st["duplicates"] != 2 or st["stored"] != 2:
        raise TestFailure("stats %r" % st)
    if _ok(api.call("get", type="meeting", id="m-1"))["event"]["action"] \
            != "scheduled":
        raise TestFailure("duplicate overwrote the entity")


def test_dedupe_checked_after_validation(t):
    """An invalid event with a stored msg_id is invalid, not a duplicate."""
    d = _d(t)
    api = t.api(d)
    publish_ok(api, "meeting", meeting(msg_id="k1"))
    expect_error(api.call("publish", topic="meeting",
                          event=meeting(msg_id="k1", kind="none")), "invalid")


def test_dedupe_across_restart(t):
    """msg_id dedupe survives a restart."""
    d = _d(t)
    api = t.api(d)
    seq = publish_ok(api, "attache", attache(msg_id="persist"))
    publish_ok(api, "attache", attache(id="a-2"))
    api.close()
    if d.stop() != 0:
        raise TestFailure("SIGTERM exit status")
    d.start()
    api = t.api(d)
    r = _ok(api.call("publish", topic="attache", event=attache(msg_id="persist")))
    if r.get("seq") != seq or r.get("duplicate") is not True:
        raise TestFailure("after restart: %r" % r)
    if stats(api)["duplicates"] != 1:
        raise TestFailure("duplicates not counted after restart")


def test_20_concurrent_clients(t):
    """20 clients in threads, each with its own socket, mixing get, list and
    replay while events stream in, all get answers."""
    d = _d(t)
    pub = t.pub(d)
    errors = []
    done = []

    def client(k):
        api = Api(d.api_ep, dealer=(k % 2 == 1), timeout_ms=30000)
        try:
            for i in range(30):
                op = i % 3
                if op == 0:
                    r = api.call("get", type="meeting", id="m%d" % (k * 30 + i))
                    if not r.get("ok") and r.get("error") != "not_found":
                        errors.append((k, i, r))
                elif op == 1:
                    r = api.call("list", type="meeting", country="CH", limit=50)
                    if not r.get("ok"):
                        errors.append((k, i, r))
                else:
                    r = api.call("replay", from_seq=i * 50, limit=100)
                    if not r.get("ok"):
                        errors.append((k, i, r))
            done.append(k)
        except Exception as e:
            errors.append((k, "exception", repr(e)))
        finally:
            api.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(20)]
    for th in threads:
        th.start()
    for i in range(5000):
        pub.send_multipart([b"meeting", pack(meeting(id="m%d" % i))])
    for th in threads:
        th.join(120)
    if errors or len(done) != 20:
        raise TestFailure("%d of 20 clients finished; errors %r"
                          % (len(done), errors[:5]))


# ---- retention -------------------------------------------------------------

def _retention(t, n=200, keep=50):
    """n events (the first with msg_id mid-0, entity K at seqs 1 and n)
    into a daemon with max_events = keep; wait until retention acts."""
    d = _d(t, store={"max_events": keep})
    pub = t.pub(d)
    api = t.api(d)
    pub.send_multipart([b"meeting", pack(meeting(id="K", msg_id="mid-0"))])
    for i in range(1, n - 1):
        pub.send_multipart([b"meeting", pack(meeting(id="e%d" % i,
                                                     starts_at=i))])
    pub.send_multipart([b"meeting", pack(meeting(id="K", action="updated"))])
    wait_for(lambda: stats(api)["last_seq"] >= n, what="%d events" % n)
    wait_for(lambda: stats(api)["stored"] <= keep,
             what="retention down to %d events" % keep)
    return d, api


def test_retention_replay_starts_at_first_seq(t):
    """With max_events = 50, after 200 events the oldest are removed and
    replay from 1 starts at first_seq; what is kept is the newest tail."""
    d, api = _retention(t)
    st = stats(api)
    r = _ok(api.call("replay", from_seq=1, limit=1000))
    seqs = [it["seq"] for it in r["items"]]
    if r["last_seq"] != 200 or not seqs or seqs[0] != r["first_seq"] or \
            seqs != list(range(r["first_seq"], 201)) or \
            len(seqs) != st["stored"] or r["first_seq"] < 151:
        raise TestFailure("replay after retention: first_seq %r, seqs %r..%r "
                          "(%d), stored %r" % (r["first_seq"], seqs[:1],
                                               seqs[-1:], len(seqs),
                                               st["stored"]))


def test_retention_get_removed_entity_not_found(t):
    """get of an entity whose events were all removed answers not_found,
    and list leaves it out."""
    d, api = _retention(t)
    expect_error(api.call("get", type="meeting", id="e1"), "not_found")
    ids = [it["event"]["id"] for it in
           _ok(api.call("list", type="meeting", limit=1000))["items"]]
    if "e1" in ids or len(ids) > 50:
        raise TestFailure("list after retention has %d items, e1 in: %s"
                          % (len(ids), "e1" in ids))


def test_retention_history_lists_only_stored(t):
    """history lists only seqs still stored."""
    d, api = _retention(t)
    r = _ok(api.call("get", type="meeting", id="K"))
    if r["history"] != [200] or r["seq"] != 200:
        raise TestFailure("get K after retention %r" % r)


def test_retention_removed_msg_id_no_longer_dedupes(t):
    """A removed event's msg_id no longer dedupes."""
    d, api = _retention(t)
    r = _ok(api.call("publish", topic="meeting",
                     event=meeting(id="K2", msg_id="mid-0")))
    if r.get("duplicate") is not False or r.get("seq") != 201:
        raise TestFailure("publish with a removed msg_id %r" % r)
