"""Black-box fault tests (docs/RELIABILITY.md): a full disk and a full
map, a subscriber that stops reading, and a thousand clients that vanish
mid-request."""
import os
import subprocess

import zmq

from harness import (CTX, Collector, Skip, TestFailure, conf,
                     expect_error, meeting, pack, publish_ok, replay_all,
                     same_typed, sized, stats, wait_for)

# Under ASan the allocator's quarantine holds freed memory (256 MB by
# default), which would read as growth; keep it small where RSS is measured.
ASAN_SMALL = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:"
              "quarantine_size_mb=4:thread_local_quarantine_size_kb=64"}


def _proc_status(d, key):
    """A /proc/PID/status value in kB (RssAnon: the daemon's own memory,
    not the LMDB file mapped into it)."""
    with open("/proc/%d/status" % d.proc.pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise TestFailure("no %s in /proc/%d/status" % (key, d.proc.pid))


def _nfds(d):
    return len(os.listdir("/proc/%d/fd" % d.proc.pid))


def _fill_until_unavailable(api, make, limit=5000):
    """Publish make(i) until the daemon answers unavailable; returns the
    acked seqs and their events, and the failure reply."""
    acked = {}
    for i in range(limit):
        ev = make(i)
        r = api.call("publish", topic="meeting", event=ev)
        if r.get("ok"):
            acked[r["seq"]] = ev
            continue
        expect_error(r, "unavailable")
        return acked, r
    raise TestFailure("%d events fitted; the store never filled" % limit)


def _check_all_served(api, acked):
    """Every acked event is served by replay, identical."""
    items = replay_all(api, limit=1000)
    got = {it["seq"]: it["event"] for it in items}
    lost = [s for s in acked if s not in got or not same_typed(got[s],
                                                              acked[s])]
    if lost or len(got) != len(acked):
        raise TestFailure("%d acked events lost or changed (e.g. %r); store "
                          "has %d, acked %d" % (len(lost), lost[:3], len(got),
                                                len(acked)))


def test_disk_full_tmpfs(t):
    """The store on a 4 MiB tmpfs filled up by a filler file: writes answer
    unavailable with a detail naming the cause, reads keep working, nothing
    acknowledged is lost; after the filler is deleted writes resume with
    the next seq, and everything survives a restart."""
    mnt = os.path.join(t.base, "fs")
    os.makedirs(mnt)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt],
                       capture_output=True)
    if p.returncode != 0:
        raise Skip("cannot mount a tmpfs here (%s); the full map case is "
                   "test_map_full_resumes_with_larger_map"
                   % p.stderr.decode().strip())
    d = None
    try:
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:
            f.write(b"\0" * (3 << 20))      # leave about 1 MiB
        d = t.daemon(config=conf(store={"map_size_mb": 64}),
                     data=os.path.join(mnt, "data"))
        api = t.api(d)
        acked, r = _fill_until_unavailable(
            api, lambda i: meeting(id="m%d" % i, occurred_at=i,
                                   notes="x" * 4000))
        if not acked:
            raise TestFailure("nothing fitted before the disk was full")
        if "space" not in r["detail"].lower():
            raise TestFailure("detail does not name the cause: %r" % r)
        st = stats(api)
        if st["writable"] is not False:
            raise TestFailure("stats.writable after a full disk: %r" % st)
        first = min(acked)
        g = api.call("get", type="meeting", id=acked[first]["id"])
        if not g.get("ok") or not same_typed(g["event"], acked[first]):
            raise TestFailure("get on a full disk: %r" % g)
        _check_all_served(api, acked)

        os.unlink(filler)
        last = max(acked)
        seq = publish_ok(api, "meeting", meeting(id="after", occurred_at=1))
        if seq != last + 1:
            raise TestFailure("first seq after space returned: %d, want %d"
                              % (seq, last + 1))
        acked[seq] = meeting(id="after", occurred_at=1)
        if stats(api)["writable"] is not True:
            raise TestFailure("stats.writable after space returned")
        api.close()
        if d.stop() != 0:
            raise TestFailure("SIGTERM exit status:\n" + d.stderr())
        d.start()
        _check_all_served(t.api(d), acked)
        print("figures: disk full after %d events of 4 kB on a 4 MiB tmpfs; "
              "writes resumed at seq %d" % (len(acked) - 1, seq))
    finally:
        if d is not None:
            d.kill()
        for s in t.socks:
            s.close(0)
        t.socks = []
        subprocess.run(["umount", "-l", mnt])


def test_map_full_resumes_with_larger_map(t):
    """A 1 MiB map that fills answers unavailable while reads go on; after a
    restart with map_size_mb = 4 every acknowledged event is there and
    writes resume with the next seq (space returns for a map by raising
    map_size_mb, or max_map_size_mb for growth, and restarting)."""
    d = t.daemon(config=conf(store={"map_size_mb": 1}))
    api = t.api(d)
    acked, _ = _fill_until_unavailable(
        api, lambda i: sized(meeting(id="m%d" % i, occurred_at=i), 20000))
    _check_all_served(api, acked)
    api.close()
    if d.stop() != 0:
        raise TestFailure("SIGTERM exit status:\n" + d.stderr())
    d.config = conf(store={"map_size_mb": 4})
    d.start()
    api = t.api(d)
    _check_all_served(api, acked)
    ev = sized(meeting(id="after", occurred_at=1), 20000)
    if publish_ok(api, "meeting", ev) != max(acked) + 1:
        raise TestFailure("writes did not resume with the next seq")


def _drain(sock):
    """Read everything queued on sock (waiting briefly for more); the count."""
    n = 0
    while sock.poll(500):
        while True:
            try:
                sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            n += 1
    return n


def test_stopped_subscriber_memory_bounded(t):
    """A subscriber that stops reading while 100,000 events of about 600
    bytes are published: the daemon's own memory (RssAnon) grows by less
    than half the notifications it could not deliver (notify hwm = 1000),
    the subscriber misses them, stats.notify_overflows counts the overflow
    (and counts again when it has caught up and overflows anew), and a
    reading subscriber alongside still gets most events."""
    N = 100000
    d = t.daemon(config=conf(notify={"hwm": 1000},
                             store={"batch_max": 1024}), env=ASAN_SMALL)
    stuck = CTX.socket(zmq.SUB)
    stuck.setsockopt(zmq.RCVHWM, 100)
    stuck.setsockopt(zmq.LINGER, 0)
    stuck.setsockopt(zmq.SUBSCRIBE, b"meeting.")  # not "": XPUB reports
    #                                               one subscription per topic
    stuck.connect(d.notify)
    t.socks.append(stuck)
    col = Collector(t, d, keep_bodies=False)
    t.wait_subscribers(d, 2)
    api = t.api(d)
    pub = t.pub(d)
    body = pack(meeting(id="warm", notes="w" * 400))

    def push(n, base):
        # In steps of 5000, so that the ingest queue (hwm 1,000,000) never
        # holds more than a step: it is not what is measured.
        for done in range(0, n, 5000):
            for i in range(5000):
                pub.send_multipart([b"meeting", body])
            wait_for(lambda: stats(api)["stored"] >= base + done + 5000,
                     timeout=120, what="%d stored" % (base + done + 5000))

    push(20000, 0)              # reach steady state: batches, queues
    before = _proc_status(d, "RssAnon")
    push(N, 20000)
    after = _proc_status(d, "RssAnon")
    undelivered = N * len(body)
    growth = (after - before) * 1024
    # Unbounded, it would grow by more than the undelivered bytes (+83 MB
    # with hwm = 0); ASan's allocator adds some MB of its own.
    if growth > undelivered // 2:
        raise TestFailure("RssAnon grew by %d kB while %d kB of notifications "
                          "went undelivered" % (growth // 1024,
                                                undelivered // 1024))
    overflows = stats(api)["notify_overflows"]
    if overflows < 1:
        raise TestFailure("stats.notify_overflows did not count the stopped "
                          "subscriber's overflow")
    got = _drain(stuck)
    if got > 20000:
        raise TestFailure("the stopped subscriber was sent %d of %d: its "
                          "queue is not bounded" % (got, N + 20000))
    push(5000, N + 20000)       # it reads no more: a second overflow
    wait_for(lambda: stats(api)["notify_overflows"] > overflows, timeout=30,
             what="a second overflow counted")
    # Bursts of a whole batch can overflow even a reading subscriber's
    # 1000-message queue, but a subscriber that reads must get most: a
    # notify that stopped for everyone at the first full queue gets ~0.
    wait_for(lambda: col.count >= (N + 25000) // 2, timeout=120,
             what="the reading subscriber got most events (%d)" % col.count)
    print("figures: stopped subscriber, %d events: RssAnon %d -> %d kB, "
          "it was sent %d, notify_overflows %d, reading subscriber got %d "
          "of %d" % (N, before, after, got, stats(api)["notify_overflows"],
                     col.count, N + 25000))


def test_thousand_vanishing_clients(t):
    """1,000 clients connect and vanish mid-request (REQ and DEALER sending
    then closing with linger 0, SUBs subscribing then closing, sockets
    closing before sending): afterwards the daemon holds no more
    descriptors than before, its own memory (RssAnon) has not grown by
    more than a generous 32 MiB (32 kB a client: a gross leak; small ones
    are for ASan and valgrind), and it still answers."""
    d = t.daemon(config=conf(), env=ASAN_SMALL)
    api = t.api(d)

    def storm(n):
        for i in range(n):
            kind = i % 4
            if kind == 3:
                s = CTX.socket(zmq.SUB)
                s.setsockopt(zmq.SUBSCRIBE, b"meeting.")
                s.connect(d.notify)
            else:
                s = CTX.socket(zmq.REQ if kind == 0 else zmq.DEALER)
                # Half of them let the request out before the socket goes
                # (close returns at once; the reply finds no one), half
                # drop it with linger 0 wherever it is.
                s.setsockopt(zmq.LINGER, 2000 if i % 8 < 4 else 0)
                s.connect(d.api_ep)
                if kind == 0:
                    s.send(pack({"op": "publish", "topic": "meeting",
                                 "event": meeting(id="v%d" % i)}))
                elif kind == 1:
                    s.send_multipart([b"", pack({"op": "replay",
                                                 "limit": 10})])
            s.close()           # with the socket's own linger
        wait_for(lambda: stats(api)["subscribers"] == 0, timeout=60,
                 what="subscriptions gone")

    stats(api)                  # its connection is up (accepted) ...
    fds0 = _nfds(d)             # ... and counted here
    storm(1000)                 # warm up: allocator pools, queues
    wait_for(lambda: _nfds(d) <= fds0, timeout=60,
             what="descriptors back to %d after the warm-up" % fds0)
    rss0 = _proc_status(d, "RssAnon")
    received0 = stats(api)["received"]
    storm(1000)
    # The publishes sent with linger reach the daemon, which answers no one.
    wait_for(lambda: stats(api)["received"] >= received0 + 125, timeout=60,
             what="the lingering publishes received")
    wait_for(lambda: _nfds(d) <= fds0, timeout=60,
             what="descriptors back to %d (now %d)" % (fds0, _nfds(d)))
    rss1 = _proc_status(d, "RssAnon")
    if rss1 - rss0 > 32 * 1024:
        raise TestFailure("RssAnon grew from %d to %d kB" % (rss0, rss1))
    if not api.call("ping").get("ok"):
        raise TestFailure("ping after the storm")
    print("figures: 1000 vanishing clients: fds %d -> %d, RssAnon %d -> %d "
          "kB, api_dropped %d" % (fds0, _nfds(d), rss0, rss1,
                                 stats(api)["api_dropped"]))
