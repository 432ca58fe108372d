"""Black-box tests of durability across restarts, SIGTERM and kill -9
(PROTOCOL.md sections 3, 6, 9 and 10): acknowledged and notified events
survive, seq numbering continues, one daemon per store."""
import random
import signal
import threading
import time

import zmq

from harness import (Api, Collector, TestFailure, attache, conf, meeting,
                     pack, publish_ok, replay_all, same_typed, stats,
                     training, unpack, wait_for)


def _d(t, **sections):
    return t.daemon(config=conf(**sections))


def test_sigterm_exits_0(t):
    """SIGTERM on an idle daemon exits 0."""
    d = _d(t)
    if d.stop(signal.SIGTERM) != 0:
        raise TestFailure("exit status not 0:\n" + d.stderr())


def test_sigint_exits_0(t):
    """SIGINT exits 0 like SIGTERM."""
    d = _d(t)
    if d.stop(signal.SIGINT) != 0:
        raise TestFailure("exit status not 0:\n" + d.stderr())


def test_restart_continues_seq(t):
    """After a restart the store is intact and numbering continues at
    last_seq + 1."""
    d = _d(t)
    api = t.api(d)
    sent = {}
    for i in range(5):
        ev = training(id="t%d" % i, occurred_at=i)
        sent[publish_ok(api, "training", ev)] = ev
    api.close()
    if d.stop() != 0:
        raise TestFailure("SIGTERM exit status")
    d.start()
    api = t.api(d)
    if api.call("ping")["last_seq"] != 5:
        raise TestFailure("last_seq after restart")
    items = replay_all(api)
    if [it["seq"] for it in items] != [1, 2, 3, 4, 5] or \
            any(not same_typed(it["event"], sent[it["seq"]]) for it in items):
        raise TestFailure("store after restart %r" % items)
    if publish_ok(api, "meeting", meeting()) != 6:
        raise TestFailure("seq after restart is not 6")


def test_rejects_kept_across_restart(t):
    """Rejects stay numbered contiguously from 1 across a restart, and the
    old items are kept."""
    d = _d(t)
    pub = t.pub(d)
    api = t.api(d)
    for i in range(3):
        pub.send_multipart([b"meeting", b"\xc1%d" % i])
    wait_for(lambda: len(api.call("rejects")["items"]) == 3, what="3 rejects")
    api.close()
    if d.stop() != 0:
        raise TestFailure("SIGTERM exit status")
    d.start()
    pub = t.pub(d)
    api = t.api(d)
    for i in range(3, 5):
        pub.send_multipart([b"meeting", b"\xc1%d" % i])
    wait_for(lambda: len(api.call("rejects")["items"]) >= 5, what="5 rejects")
    items = api.call("rejects")["items"]
    got = [(it["n"], it["body"]) for it in items]
    want = [(i + 1, b"\xc1%d" % i) for i in range(5)]
    if got != want:
        raise TestFailure("rejects after restart %r" % got)


def test_second_daemon_same_store_exits_74(t):
    """A second daemon on a data dir held by a running daemon exits 74 and
    leaves the first one working."""
    d1 = _d(t)
    api = t.api(d1)
    publish_ok(api, "meeting", meeting())
    d2 = t.daemon(start=False, config=conf(), data=d1.data)
    rc, err = d2.run(timeout=20)
    if rc != 74:
        raise TestFailure("second daemon exited %r, want 74:\n%s" % (rc, err))
    if publish_ok(api, "meeting", meeting(id="m-2")) != 2:
        raise TestFailure("first daemon disturbed")


def test_sigterm_in_flight_keeps_notified(t):
    """SIGTERM while a burst is being ingested: exit 0, and after restart
    every event a subscriber saw notified is in the store, identical, with
    the store's seqs contiguous; numbering continues."""
    N = 30000
    d = _d(t)
    col = Collector(t, d)
    t.wait_subscribers(d, 1)
    pub = t.pub(d)
    for i in range(N):
        pub.send_multipart([b"meeting", pack(meeting(id="m%d" % i,
                                                     occurred_at=i))])
    wait_for(lambda: col.count >= 200, timeout=60, what="first notifications")
    rc = d.stop(signal.SIGTERM)
    # What the publisher still queues must not reach the restarted daemon
    # (a slow daemon, e.g. under valgrind, leaves much of the burst here).
    pub.close(0)
    col.stop()
    if rc != 0:
        raise TestFailure("exit status %r after SIGTERM" % rc)
    seen = {}
    for frames in col.raw:
        b = unpack(frames[1])
        seen[b["seq"]] = b
    d.start()
    api = t.api(d)
    items = replay_all(api, limit=10000)
    stored = {it["seq"]: it for it in items}
    seqs = [it["seq"] for it in items]
    if seqs != list(range(1, len(seqs) + 1)):
        raise TestFailure("stored seqs not contiguous from 1")
    missing = sorted(set(seen) - set(stored))
    if missing:
        raise TestFailure("%d notified events missing after restart, e.g. %r"
                          % (len(missing), missing[:5]))
    diff = [s for s in seen if not same_typed(seen[s], stored[s])]
    if diff:
        raise TestFailure("stored differs from notified for seqs %r" % diff[:5])
    last = len(seqs)
    if publish_ok(api, "meeting", meeting(id="after")) != last + 1:
        raise TestFailure("numbering does not continue after %d" % last)


def test_kill9_after_ack(t):
    """An acknowledged publish survives kill -9 straight after the ack."""
    d = _d(t)
    api = t.api(d)
    ev = attache(id="a-k9", occurred_at=1, priority="info")
    seq = publish_ok(api, "attache", ev)
    d.kill()
    d.start()
    api = t.api(d)
    r = api.call("get", type="attache", id="a-k9")
    if not r.get("ok") or r["seq"] != seq or not same_typed(r["event"], ev):
        raise TestFailure("after kill -9: %r" % r)


def test_kill9_torture(t):
    """A DEALER keeps 32 publishes outstanding while the daemon is killed
    with SIGKILL at random moments five times, restarting on the same data
    dir: every acked seq is stored with an identical event, every notified
    one as notified, stored seqs are contiguous, and numbering continues
    after the last stored seq."""
    d = _d(t)
    col = Collector(t, d)
    t.wait_subscribers(d, 1)
    rng = random.Random(20260101)
    acked = {}
    n = kills = 0
    for rnd in range(6):
        api = Api(d.api_ep, dealer=True)
        api.sock.setsockopt(zmq.SNDTIMEO, 1000)
        last = api.call("ping")["last_seq"]
        if acked and last < max(acked):
            raise TestFailure("round %d: last_seq %d below acked seq %d"
                              % (rnd, last, max(acked)))
        outstanding = []
        first = True
        kill_at = None if rnd == 5 else time.monotonic() + rng.uniform(0.2, 1.2)
        stop_at = time.monotonic() + 1.0 if rnd == 5 else None
        while True:
            if kill_at is not None and time.monotonic() >= kill_at:
                d.kill()
                kills += 1
                break
            if stop_at is not None and time.monotonic() >= stop_at:
                break
            try:
                while len(outstanding) < 32:
                    typ, mk = (("meeting", meeting), ("training", training),
                               ("attache", attache))[n % 3]
                    ev = mk(id="e%d" % n, occurred_at=n, msg_id="k%d" % n)
                    if typ == "attache":
                        ev["priority"] = "info"
                    n += 1
                    api.send(dict(op="publish", topic=typ, event=ev))
                    outstanding.append(ev)
            except zmq.Again:
                pass
            if not api.sock.poll(100):
                continue
            r = api.recv()
            ev = outstanding.pop(0)
            if not r.get("ok") or r.get("duplicate") is not False:
                raise TestFailure("round %d: publish %r" % (rnd, r))
            seq = r["seq"]
            if first and seq != last + 1:
                raise TestFailure("round %d: first seq %d after restart with "
                                  "last_seq %d" % (rnd, seq, last))
            first = False
            if seq in acked:
                raise TestFailure("seq %d acked twice" % seq)
            acked[seq] = ev
        api.close()
        if rnd < 5:
            d.start()
    if len(acked) < 100:
        raise TestFailure("only %d acks in six rounds" % len(acked))
    api = t.api(d)
    items = replay_all(api, limit=10000)
    seqs = [it["seq"] for it in items]
    if seqs != list(range(1, len(seqs) + 1)):
        raise TestFailure("stored seqs not contiguous from 1")
    stored = {it["seq"]: it["event"] for it in items}
    lost = [s for s in acked if s not in stored]
    if lost:
        raise TestFailure("%d acked seqs lost, e.g. %r" % (len(lost), lost[:5]))
    bad = [s for s in acked if not same_typed(stored[s], acked[s])]
    if bad:
        raise TestFailure("acked seq %d stored as %r, acked event %r"
                          % (bad[0], stored[bad[0]], acked[bad[0]]))
    ids = [e["id"] for e in stored.values()]
    if len(set(ids)) != len(ids):
        raise TestFailure("an event was stored twice")
    # Notified means committed too (sections 3 and 6).
    col.stop()
    full = {it["seq"]: it for it in items}
    for topic, body in col.decoded():
        if body["seq"] not in full or not same_typed(full[body["seq"]], body):
            raise TestFailure("notified seq %d not stored as notified"
                              % body["seq"])
    print("figures: kill -9 torture: %d kills survived, %d acked publishes "
          "all stored, %d notified all stored" % (kills, len(acked),
                                                  len(col.raw)))


def test_late_subscriber_catches_up_across_restart(t):
    """A late subscriber that subscribes, replays from its last seq + 1,
    drops live duplicates and replays again on a gap or a heartbeat ahead
    of it ends with exactly the stored events, across a daemon restart."""
    d = _d(t, notify={"heartbeat_ms": 100})
    pub = t.pub(d)
    api = t.api(d)
    for i in range(500):
        pub.send_multipart([b"meeting", pack(meeting(id="early%d" % i))])
    wait_for(lambda: stats(api)["stored"] >= 500, what="500 stored")

    state = {"last": 0, "got": [], "dups": 0, "replays": 0, "error": None,
             "stop": False}
    sub = t.sub(d)
    t.wait_subscribers(d, 1)

    def client():
        capi = [Api(d.api_ep, timeout_ms=2000)]

        def call_replay(from_seq):
            deadline = time.monotonic() + 60
            while True:
                try:
                    return capi[0].call("replay", from_seq=from_seq, limit=500)
                except zmq.Again:
                    capi[0].close()
                    capi[0] = Api(d.api_ep, timeout_ms=2000)
                    if time.monotonic() > deadline:
                        raise

        def catch_up():
            state["replays"] += 1
            while True:
                r = call_replay(state["last"] + 1)
                for it in r["items"]:
                    take(it)
                if r["next_seq"] > r["last_seq"]:
                    return

        def take(body):
            if body["seq"] <= state["last"]:
                state["dups"] += 1
                return
            if body["seq"] != state["last"] + 1:
                catch_up()
                if body["seq"] <= state["last"]:
                    state["dups"] += 1
                    return
            state["got"].append(body)
            state["last"] = body["seq"]

        try:
            catch_up()
            while not state["stop"]:
                if not sub.poll(100):
                    continue
                topic, body = sub.recv_multipart()
                body = unpack(body)
                if topic == b"_sys.heartbeat":
                    if body["last_seq"] > state["last"]:
                        catch_up()
                else:
                    take(body)
        except Exception as e:
            state["error"] = repr(e)
        finally:
            capi[0].close()

    th = threading.Thread(target=client, daemon=True)
    th.start()
    for i in range(1500):
        pub.send_multipart([b"training", pack(training(id="mid%d" % i))])
    wait_for(lambda: stats(api)["stored"] >= 2000, what="2000 stored")
    api.close()
    if d.stop() != 0:
        raise TestFailure("SIGTERM exit status")
    d.start()
    pub2 = t.pub(d)
    for i in range(1500):
        pub2.send_multipart([b"attache", pack(attache(id="late%d" % i))])
    api = t.api(d)
    wait_for(lambda: stats(api)["stored"] >= 3500, what="3500 stored")
    final = replay_all(api, limit=5000)
    wait_for(lambda: state["last"] >= len(final) or state["error"],
             timeout=60, what="subscriber caught up (at %d)" % state["last"])
    state["stop"] = True
    th.join(10)
    if state["error"]:
        raise TestFailure("client: %s" % state["error"])
    got = state["got"]
    if [b["seq"] for b in got] != list(range(1, len(final) + 1)):
        raise TestFailure("client saw %d events, store has %d"
                          % (len(got), len(final)))
    bad = [b["seq"] for b, f in zip(got, final) if not same_typed(b, f)]
    if bad:
        raise TestFailure("client's copies differ at seqs %r" % bad[:5])


def test_counters_after_restart(t):
    """After a restart stored and last_seq come from the store while
    received, duplicates and rejected count from the new start."""
    d = _d(t)
    api = t.api(d)
    pub = t.pub(d)
    publish_ok(api, "meeting", meeting(msg_id="k"))
    publish_ok(api, "meeting", meeting(msg_id="k"))
    pub.send_multipart([b"meeting", b"\xc1"])
    wait_for(lambda: stats(api)["received"] >= 3, what="3 received")
    api.close()
    if d.stop() != 0:
        raise TestFailure("SIGTERM exit status")
    d.start()
    st = stats(t.api(d))
    if st["stored"] != 1 or st["last_seq"] != 1 or st["received"] != 0 or \
            st["duplicates"] != 0 or any((st.get("rejected") or {}).values()):
        raise TestFailure("stats after restart %r" % st)
