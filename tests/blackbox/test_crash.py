"""Black-box crash-safety tests (docs/RELIABILITY.md): a crash between
commit and publish, a torn or truncated data file, and a damaged record.
The kill -9 torture is in test_durability.py."""
import os
import random
import shutil
import signal
import time

import zmq

from harness import (Api, Collector, TestFailure, conf, expect_error, meeting,
                     publish_ok, replay_all, same_typed, stats)


def _ok(r):
    if not r.get("ok"):
        raise TestFailure("not ok: %r" % (r,))
    return r


def test_crash_after_commit_before_notify(t):
    """With the test-only fault point WARTA_FAULT=after_commit the daemon
    dies (_exit 1) just after a batch's transaction commits, before it is
    notified or acknowledged: the publisher gets no ack, the subscriber no
    notification, and the restarted daemon serves the event by get and
    replay with the same seq, then numbering continues."""
    d = t.daemon(start=False, config=conf(),
                 env={"WARTA_FAULT": "after_commit"})
    d.valgrind_leaks = False    # it will die: no leak check for this run
    d.start()
    col = Collector(t, d)
    t.wait_subscribers(d, 1)
    api = Api(d.api_ep, timeout_ms=5000)
    ev = meeting(id="m-commit", occurred_at=1)
    api.send(dict(op="publish", topic="meeting", event=ev))
    rc = d.wait_exit()
    try:
        r = api.sock.recv(zmq.NOBLOCK)
        raise TestFailure("the publish was acknowledged: %r" % (r,))
    except zmq.Again:
        pass
    api.close()
    if rc != 1 or "WARTA_FAULT=after_commit" not in d.stderr():
        raise TestFailure("fault point did not fire (exit %r):\n%s"
                          % (rc, d.stderr()))
    col.stop()
    if col.count != 0:
        raise TestFailure("notified before the crash: %r" % col.decoded())
    if any(hb["last_seq"] != 0 for hb in col.heartbeats):
        raise TestFailure("a heartbeat announced the event: %r"
                          % col.heartbeats)

    d.env = None
    d.valgrind_leaks = True
    d.start()
    api = t.api(d)
    g = _ok(api.call("get", type="meeting", id="m-commit"))
    if g["seq"] != 1 or not same_typed(g["event"], ev):
        raise TestFailure("after restart get %r" % g)
    items = replay_all(api)
    if [it["seq"] for it in items] != [1] or \
            not same_typed(items[0]["event"], ev):
        raise TestFailure("after restart replay %r" % items)
    if publish_ok(api, "meeting", meeting(id="m-next")) != 2:
        raise TestFailure("numbering does not continue at 2")


def _store_with_events(t, n=300):
    """A stopped daemon whose store holds n events of about 1 kB; returns
    (daemon, events by seq)."""
    d = t.daemon(config=conf())
    api = t.api(d)
    sent = {}
    for i in range(n):
        ev = meeting(id="m%d" % i, occurred_at=i, notes="n" * 1000)
        sent[publish_ok(api, "meeting", ev)] = ev
    api.close()
    if d.stop() != 0:
        raise TestFailure("SIGTERM exit status:\n" + d.stderr())
    return d, sent


def _copy_store(t, d, name):
    dst = os.path.join(t.base, name)
    shutil.copytree(d.data, dst)
    return dst


def _refuses(t, data, what):
    """Start a daemon on data: it must exit 74 (never crash, never serve)
    with a message naming data.mdb and what to do."""
    d = t.daemon(start=False, config=conf(), data=data)
    rc, err = d.run(timeout=60)
    if rc != 74:
        raise TestFailure("%s: exit %r, want 74:\n%s" % (what, rc, err))
    if "data.mdb" not in err or not ("restore" in err or "move" in err):
        raise TestFailure("%s: the message does not name data.mdb and what "
                          "to do:\n%s" % (what, err))
    return err


def test_truncated_data_file_refuses_start(t):
    """A copy of a store whose data.mdb is cut at several points (empty,
    inside the first and the second meta page, just after them, half way,
    one page short, one byte short) makes the daemon refuse to start with
    exit 74 and a message naming the file and what to do; the uncut copy
    still starts and serves every event."""
    d, sent = _store_with_events(t)
    size = os.path.getsize(os.path.join(d.data, "data.mdb"))
    cuts = [0, 100, 4096 + 50, 8192, size // 2, size - 4096, size - 1]
    for i, cut in enumerate(cuts):
        data = _copy_store(t, d, "cut%d" % i)
        with open(os.path.join(data, "data.mdb"), "r+b") as f:
            f.truncate(cut)
        _refuses(t, data, "cut at %d of %d bytes" % (cut, size))
    good = t.daemon(config=conf(), data=_copy_store(t, d, "uncut"))
    items = replay_all(t.api(good))
    if {it["seq"]: it["event"] for it in items} != sent:
        raise TestFailure("the uncut copy does not serve every event")
    print("figures: truncated data file refused at %d cut points of a "
          "%d-byte store" % (len(cuts), size))


def test_garbage_meta_pages_refuse_start(t):
    """Random bytes over both LMDB meta pages (the first 8 kB of
    data.mdb): exit 74 naming the file, never a crash."""
    d, _ = _store_with_events(t, n=20)
    rng = random.Random(8)
    thrown = 0
    for i in range(3):
        data = _copy_store(t, d, "junk%d" % i)
        junk = bytes(rng.getrandbits(8) for _ in range(8192))
        with open(os.path.join(data, "data.mdb"), "r+b") as f:
            f.write(junk)
        thrown += len(junk)
        _refuses(t, data, "garbage meta pages, try %d" % i)
    print("figures: %d bytes of garbage over meta pages refused" % thrown)


def test_corrupt_record_detected_on_read(t):
    """One byte flipped inside a stored event (found in data.mdb by a
    unique marker) is detected on read: get and replay over it answer
    unavailable with a detail, stats.corrupt counts it, the log names it,
    and every other record is still served."""
    marker = b"CORRUPT-ME-7f3a9c41"
    d = t.daemon(config=conf())
    api = t.api(d)
    evs = [meeting(id="m-a", occurred_at=1),
           meeting(id="m-b", occurred_at=2, title=marker.decode()),
           meeting(id="m-c", occurred_at=3)]
    for ev in evs:
        publish_ok(api, "meeting", ev)
    api.close()
    if d.stop() != 0:
        raise TestFailure("SIGTERM exit status")
    path = os.path.join(d.data, "data.mdb")
    with open(path, "rb") as f:
        data = bytearray(f.read())
    hits = []
    at = data.find(marker)
    while at != -1:
        hits.append(at)
        at = data.find(marker, at + 1)
    if not hits:
        raise TestFailure("marker not found in data.mdb")
    for at in hits:
        data[at + 3] ^= 0x01        # 'R' -> 'S': still valid MessagePack
    with open(path, "wb") as f:
        f.write(data)

    d.start()
    api = t.api(d)
    r = api.call("get", type="meeting", id="m-b")
    expect_error(r, "unavailable")
    if "checksum" not in r["detail"] and "damaged" not in r["detail"]:
        raise TestFailure("detail does not say the store is damaged: %r" % r)
    expect_error(api.call("replay", from_seq=1), "unavailable")
    if stats(api)["corrupt"] < 1:
        raise TestFailure("stats.corrupt did not count it: %r" % stats(api))
    if "event 2" not in d.stderr() or "data.mdb" not in d.stderr():
        raise TestFailure("the log does not name the record:\n" + d.stderr())
    for seq, ev in ((1, evs[0]), (3, evs[2])):
        g = _ok(api.call("get", type="meeting", id=ev["id"]))
        if g["seq"] != seq or not same_typed(g["event"], ev):
            raise TestFailure("other record %r: %r" % (ev["id"], g))
    items = _ok(api.call("replay", from_seq=3))["items"]
    if [it["seq"] for it in items] != [3]:
        raise TestFailure("replay after the damaged record: %r" % items)
    if publish_ok(api, "meeting", meeting(id="m-d")) != 4:
        raise TestFailure("writes do not go on")


def test_second_sigterm_during_shutdown_exits_0(t):
    """A second SIGTERM while the daemon is already stopping (a user
    pressing Ctrl-C twice, a supervisor repeating itself) must not kill its
    teardown: exit 0 every time, at ten different moments of the
    shutdown.  (The signal events are freed on the way out, which used to
    restore the default action.)"""
    d = t.daemon(start=False, config=conf())
    for i in range(10):
        d.start()
        publish_ok(t.api(d), "meeting", meeting(id="m%d" % i))
        d.proc.send_signal(signal.SIGTERM)
        time.sleep(0.003 * i)
        if d.proc.poll() is None:
            d.proc.send_signal(signal.SIGTERM)
        rc = d.wait_exit()
        if rc != 0:
            raise TestFailure("round %d: exit %r after two SIGTERMs:\n%s"
                              % (i, rc, d.stderr()[-2000:]))


def _index_answers(api, n):
    """get and list answer for the n meetings m-0 .. m-(n-1), each stored
    twice (the second time in KR, starts_at i), and a msg_id dedupes."""
    for i in (0, n // 2, n - 1):
        g = _ok(api.call("get", type="meeting", id="m-%d" % i))
        if g["event"]["country"] != "KR" or len(g["history"]) != 2:
            raise TestFailure("get m-%d after restart: %r" % (i, g))
    lst = _ok(api.call("list", type="meeting", country="KR", limit=1000))
    got = [it["event"]["id"] for it in lst["items"]]
    if got != ["m-%d" % i for i in range(n)]:
        raise TestFailure("list after restart: %d items, %r..." %
                          (len(got), got[:5]))
    r = _ok(api.call("publish", topic="meeting",
                     event=meeting(id="again", msg_id="k-3")))
    if not r["duplicate"]:
        raise TestFailure("msg_id k-3 no longer dedupes: %r" % r)


def _fill_twice(api, n):
    for i in range(n):
        publish_ok(api, "meeting", meeting(id="m-%d" % i, msg_id="k-%d" % i))
    for i in range(n):
        publish_ok(api, "meeting", meeting(id="m-%d" % i, country="KR",
                                           starts_at=i))


def test_index_rebuilt_after_power_loss(t):
    """The indexes (data/index) are written without fsync, so after a power
    loss they are built again from the log: a state file left "open" by
    another boot of the kernel makes the restarted daemon drop and rebuild
    them, and get, list and msg_id dedupe answer as before."""
    d = t.daemon(config=conf())
    api = t.api(d)
    _fill_twice(api, 200)
    api.close()
    d.kill()
    state = os.path.join(d.data, "index", "state")
    with open(state) as f:
        if not f.read().startswith("open "):
            raise TestFailure("index state while running is not 'open'")
    with open(state, "w") as f:
        f.write("open 00000000-0000-0000-0000-another-boot\n")
    d.start()
    if "building the index again: the system went down with it open" \
            not in d.stderr():
        raise TestFailure("no rebuild logged:\n" + d.stderr())
    _index_answers(t.api(d), 200)

    # A torn file: its meta pages overwritten; it is rebuilt all the same.
    d.kill()
    with open(os.path.join(d.data, "index", "data.mdb"), "r+b") as f:
        f.write(b"\xff" * 8192)
    d.start()
    if "building the index again: it is damaged" not in d.stderr():
        raise TestFailure("damaged index not rebuilt:\n" + d.stderr())
    _index_answers(t.api(d), 200)


def test_index_failure_then_catch_up(t):
    """While the indexes cannot be written (WARTA_FAULT=index_commit: every
    index commit fails as on a full disk, the log's succeed), publishes are
    stored and acknowledged, stats.indexed_seq shows the lag, get finds the
    events in the log, a msg_id still dedupes and list answers unavailable
    naming the lag; restarted without the fault (after kill -9: the index
    is kept, not rebuilt) the start-up catches the indexes up and list
    answers; a clean stop then leaves index/state "clean"."""
    d = t.daemon(config=conf(), env={"WARTA_FAULT": "index_commit"})
    api = t.api(d)
    publish_ok(api, "meeting", meeting(id="m-a", msg_id="k-a"))
    publish_ok(api, "meeting", meeting(id="m-b", country="KR", starts_at=5))
    st = stats(api)
    if st["last_seq"] != 2 or st["indexed_seq"] != 0:
        raise TestFailure("stats while the index fails: %r" % st)
    g = _ok(api.call("get", type="meeting", id="m-b"))
    if g["seq"] != 2 or g["history"] != [2]:
        raise TestFailure("get from the log's tail: %r" % g)
    r = _ok(api.call("publish", topic="meeting",
                     event=meeting(id="m-c", msg_id="k-a")))
    if not r["duplicate"] or r["seq"] != 1:
        raise TestFailure("msg_id not deduped while unindexed: %r" % r)
    r = api.call("list", type="meeting")
    if r.get("error") != "unavailable" or "2 events behind" not in \
            r.get("detail", ""):
        raise TestFailure("list while the index fails: %r" % r)
    if "cannot write the indexes" not in d.stderr():
        raise TestFailure("index failure not logged:\n" + d.stderr())
    d.kill()
    d.env = None
    d.start()
    if "building the index again" in d.stderr() or \
            "indexing 2 events" not in d.stderr():
        raise TestFailure("start-up did not catch up:\n" + d.stderr())
    api = t.api(d)
    if stats(api)["indexed_seq"] != 2:
        raise TestFailure("indexed_seq after restart: %r" % stats(api))
    lst = _ok(api.call("list", type="meeting"))
    if [it["seq"] for it in lst["items"]] != [2, 1]:
        raise TestFailure("list after the catch-up: %r" % lst)
    if d.stop() != 0:
        raise TestFailure("SIGTERM exit status:\n" + d.stderr())
    with open(os.path.join(d.data, "index", "state")) as f:
        if not f.read().startswith("clean "):
            raise TestFailure("index state after a clean stop is not "
                              "'clean'")
