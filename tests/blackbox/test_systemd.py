"""systemd integration: the sd_notify protocol seen from a NOTIFY_SOCKET the
test owns (issue 6): READY=1 once the sockets answer, WATCHDOG=1 from the
loop, RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM, STATUS=
with live counters."""
import os
import signal
import socket

from harness import publish_ok, meeting, TestFailure


class NotifySocket:
    """A datagram socket standing in for systemd's notify socket."""

    def __init__(self, t):
        self.path = os.path.join(t.base, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(20)
        self.seen = []

    def wait(self, field):
        """Read messages until one carries field (e.g. "READY=1");
        return that message's lines."""
        while True:
            try:
                data = self.sock.recv(4096).decode()
            except socket.timeout:
                raise TestFailure("no %s from wartad; saw %r" % (field, self.seen))
            lines = data.split("\n")
            self.seen.append(lines)
            if any(l == field or l.startswith(field) for l in lines):
                return lines

    def close(self):
        self.sock.close()


def test_ready_after_sockets_answer(t):
    """READY=1 comes once the store is open and every socket is bound: by
    then the api answers ping."""
    ns = NotifySocket(t)
    d = t.daemon(start=False, env={"NOTIFY_SOCKET": ns.path})
    d.start(wait=False)
    ns.wait("READY=1")
    api = t.api(d)
    assert api.call("ping")["ok"] is True
    ns.close()


def test_watchdog_from_the_loop(t):
    """With WATCHDOG_USEC set, the loop sends WATCHDOG=1 on its own."""
    ns = NotifySocket(t)
    d = t.daemon(start=False, env={"NOTIFY_SOCKET": ns.path,
                                   "WATCHDOG_USEC": "200000"})
    d.start(wait=False)
    ns.wait("READY=1")
    ns.wait("WATCHDOG=1")
    ns.wait("WATCHDOG=1")
    ns.close()


def test_status_carries_counters(t):
    """STATUS= says the last seq and the subscribers."""
    ns = NotifySocket(t)
    d = t.daemon(start=False, env={"NOTIFY_SOCKET": ns.path})
    d.start()
    publish_ok(t.api(d), "meeting", meeting())
    while True:
        lines = ns.wait("STATUS=")
        status = [l for l in lines if l.startswith("STATUS=")][0]
        if "last seq 1," in status:
            break
    assert "subscribers" in status, status
    ns.close()


def test_sighup_reloads_and_keeps_connections(t):
    """SIGHUP: RELOADING=1, then READY=1; a connected client goes on being
    served on the same socket, and a new log level takes effect."""
    ns = NotifySocket(t)
    d = t.daemon(start=False, env={"NOTIFY_SOCKET": ns.path},
                 config="[log]\nlevel = info\n")
    d.start()
    ns.wait("READY=1")
    api = t.api(d)
    publish_ok(api, "meeting", meeting(id="before"))
    with open(os.path.join(d.dir, "wartad.conf"), "w") as f:
        f.write("[log]\nlevel = debug\n[http]\nlisten =\n")
    d.proc.send_signal(signal.SIGHUP)
    lines = ns.wait("RELOADING=1")
    assert any(l.startswith("MONOTONIC_USEC=") for l in lines), lines
    ns.wait("READY=1")
    publish_ok(api, "meeting", meeting(id="after"))
    assert "log level debug" in d.stderr()
    ns.close()


def test_sighup_with_bad_config_keeps_running(t):
    """A broken file on SIGHUP is reported and the old configuration
    stays; the daemon keeps serving."""
    ns = NotifySocket(t)
    d = t.daemon(start=False, env={"NOTIFY_SOCKET": ns.path},
                 config="[log]\nlevel = info\n")
    d.start()
    ns.wait("READY=1")
    with open(os.path.join(d.dir, "wartad.conf"), "w") as f:
        f.write("[log]\nlevel = loud\n")
    d.proc.send_signal(signal.SIGHUP)
    ns.wait("RELOADING=1")
    ns.wait("READY=1")
    assert "not reloaded" in d.stderr()
    assert t.api(d).call("ping")["ok"] is True
    ns.close()


def test_stopping_on_sigterm(t):
    """SIGTERM: STOPPING=1, then exit 0."""
    ns = NotifySocket(t)
    d = t.daemon(start=False, env={"NOTIFY_SOCKET": ns.path})
    d.start()
    ns.wait("READY=1")
    d.proc.send_signal(signal.SIGTERM)
    ns.wait("STOPPING=1")
    assert d.stop() == 0
    ns.close()
