"""`make install` and what it installs (issue 6): the tree under DESTDIR with
its modes, a unit whose ExecStart= is the installed wartad, the example
configuration (accepted by `wartad -n`, every key the daemon knows, with the
daemon's defaults), the unit clean for `systemd-analyze verify` with an
exposure of at most 2.0, man pages that render without warnings and name
every flag, and a sandbox that allows what wartad does (traced with
strace)."""
import filecmp
import http.client
import os
import re
import shutil
import signal
import stat
import subprocess

import zmq

from harness import (BUILD, CTX, ROOT, VALGRIND, Api, TestFailure,
                     free_port, meeting, pack, publish_ok, wait_for)
from test_http_v1 import Receiver

WARTAD = os.path.join(ROOT, BUILD, "wartad")
WARTA = os.path.join(ROOT, BUILD, "warta")
UNIT = "usr/lib/systemd/system/wartad.service"
MAX_EXPOSURE = 2.0

# Every file `make install DESTDIR=... PREFIX=/usr` lays out, and its mode.
TREE = {
    "usr/sbin/wartad": 0o755,
    "usr/bin/warta": 0o755,
    "usr/share/man/man1/warta.1": 0o644,
    "usr/share/man/man5/wartad.conf.5": 0o644,
    "usr/share/man/man8/wartad.8": 0o644,
    UNIT: 0o644,
    "usr/lib/sysusers.d/warta.conf": 0o644,
    "usr/lib/tmpfiles.d/warta.conf": 0o644,
    "usr/share/doc/warta/README.md": 0o644,
    "usr/share/doc/warta/PROTOCOL.md": 0o644,
    "usr/share/doc/warta/CLIENT.md": 0o644,
    "usr/share/doc/warta/DECISIONS.md": 0o644,
    "usr/share/doc/warta/wartad.conf.example": 0o644,
    "etc/warta/wartad.conf": 0o644,
}
MAN_PAGES = [p for p in TREE if "/man/" in p]


def _make(t, target, dest, **var):
    """Run `make TARGET DESTDIR=dest VAR=...` in the checkout, for the
    binaries of this build; return its output."""
    env = dict(os.environ)
    for k in ("PREFIX", "DESTDIR", "SYSCONFDIR", "BINDIR", "SBINDIR",
              "MANDIR", "DOCDIR", "SYSTEMDUNITDIR", "SYSUSERSDIR",
              "TMPFILESDIR", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(k, None)
    argv = ["make", "-s", "-C", ROOT, target, "DESTDIR=" + dest,
            "BUILD=" + BUILD]
    if BUILD.rstrip("/").endswith("san"):
        argv.append("SANITIZE=1")
    argv += ["%s=%s" % kv for kv in var.items()]
    p = subprocess.run(argv, capture_output=True, env=env, timeout=300)
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    if p.returncode != 0:
        raise TestFailure("%s exited %d:\n%s" % (" ".join(argv),
                                                 p.returncode, out))
    return out


def _install(t, name="dest", **var):
    """`make install` into a fresh DESTDIR (PREFIX=/usr unless given)."""
    dest = os.path.join(t.base, name)
    var.setdefault("PREFIX", "/usr")
    if var["PREFIX"] is None:
        del var["PREFIX"]
    _make(t, "install", dest, **var)
    return dest


def _files(dest):
    """Every file below dest, as paths relative to it."""
    out = set()
    for d, _, names in os.walk(dest):
        for n in names:
            out.add(os.path.relpath(os.path.join(d, n), dest))
    return out


def _unit(dest, path=UNIT):
    """The installed unit's [Service] settings: {key: [values]}."""
    keys = {}
    with open(os.path.join(dest, path)) as f:
        for ln in f:
            ln = ln.strip()
            if ln and not ln.startswith(("#", ";", "[")) and "=" in ln:
                k, v = ln.split("=", 1)
                keys.setdefault(k, []).append(v)
    return keys


def _tool(name):
    """The path of a tool, or fail saying which package .ci/deps lacks."""
    path = shutil.which(name)
    if path is None:
        raise TestFailure("%s is missing: .ci/deps installs it" % name)
    return path


def test_install_lays_out_the_tree(t):
    """make install DESTDIR=... PREFIX=/usr installs exactly the expected
    files with their modes, and the binaries are the ones built."""
    dest = _install(t)
    got = _files(dest)
    if got != set(TREE):
        raise TestFailure("installed tree: missing %s, unexpected %s" %
                          (sorted(set(TREE) - got), sorted(got - set(TREE))))
    for path, mode in TREE.items():
        m = stat.S_IMODE(os.stat(os.path.join(dest, path)).st_mode)
        if m != mode:
            raise TestFailure("%s: mode %o, expected %o" % (path, m, mode))
    for path, built in (("usr/sbin/wartad", WARTAD),
                        ("usr/bin/warta", WARTA)):
        if not filecmp.cmp(os.path.join(dest, path), built, shallow=False):
            raise TestFailure("%s is not %s" % (path, built))


def test_unit_execstart_is_the_installed_binary(t):
    """The installed unit's ExecStart= names wartad where PREFIX put it,
    with the installed configuration and the StateDirectory= store; no
    template placeholder is left."""
    for prefix in ("/usr", "/opt/warta"):
        dest = _install(t, name="d" + prefix.replace("/", "_"),
                        PREFIX=prefix)
        unit = prefix.lstrip("/") + "/lib/systemd/system/wartad.service"
        with open(os.path.join(dest, unit)) as f:
            if re.search(r"@[A-Z]+@", f.read()):
                raise TestFailure("%s keeps a template placeholder" % unit)
        keys = _unit(dest, unit)
        argv = keys["ExecStart"][0].split()
        if argv != [prefix + "/sbin/wartad", "-c", "/etc/warta/wartad.conf",
                    "--data", "/var/lib/warta"]:
            raise TestFailure("PREFIX=%s: ExecStart=%s" % (prefix, argv))
        binary = os.path.join(dest, argv[0].lstrip("/"))
        if not os.access(binary, os.X_OK):
            raise TestFailure("ExecStart %s is not installed" % argv[0])
        if not os.path.isfile(os.path.join(dest, argv[2].lstrip("/"))):
            raise TestFailure("-c %s is not installed" % argv[2])
        if keys.get("StateDirectory") != ["warta"] or \
                keys.get("ConfigurationDirectory") != ["warta"]:
            raise TestFailure("State/ConfigurationDirectory: %r" % keys)


def test_default_prefix_is_usr_local(t):
    """Without PREFIX, binaries, unit and snippets go below /usr/local
    (searched by systemd), the configuration still to /etc/warta."""
    dest = _install(t, PREFIX=None)
    for path in ("usr/local/sbin/wartad", "usr/local/bin/warta",
                 "usr/local/lib/systemd/system/wartad.service",
                 "usr/local/lib/sysusers.d/warta.conf",
                 "usr/local/lib/tmpfiles.d/warta.conf",
                 "usr/local/share/man/man8/wartad.8",
                 "etc/warta/wartad.conf"):
        if not os.path.isfile(os.path.join(dest, path)):
            raise TestFailure("%s not installed; tree: %s" %
                              (path, sorted(_files(dest))))
    keys = _unit(dest, "usr/local/lib/systemd/system/wartad.service")
    if not keys["ExecStart"][0].startswith("/usr/local/sbin/wartad "):
        raise TestFailure("ExecStart=%s" % keys["ExecStart"][0])


def test_install_keeps_an_existing_config(t):
    """An operator's /etc/warta/wartad.conf survives a reinstall; the new
    example is in the doc directory."""
    dest = os.path.join(t.base, "dest")
    conf = os.path.join(dest, "etc/warta/wartad.conf")
    os.makedirs(os.path.dirname(conf))
    with open(conf, "w") as f:
        f.write("[log]\nlevel = debug\n")
    _install(t)
    with open(conf) as f:
        if f.read() != "[log]\nlevel = debug\n":
            raise TestFailure("make install replaced %s" % conf)
    example = os.path.join(dest, "usr/share/doc/warta/wartad.conf.example")
    if not filecmp.cmp(example, os.path.join(ROOT, "etc/wartad.conf"),
                       shallow=False):
        raise TestFailure("%s is not etc/wartad.conf" % example)


def test_uninstall_keeps_only_the_config(t):
    """make uninstall removes every installed file but the configuration."""
    dest = _install(t)
    _make(t, "uninstall", dest, PREFIX="/usr")
    left = _files(dest)
    if left != {"etc/warta/wartad.conf"}:
        raise TestFailure("after uninstall: %s" % sorted(left))


def test_sysusers_and_tmpfiles_match_the_unit(t):
    """The sysusers.d snippet creates the unit's User=, and the tmpfiles.d
    snippet its StateDirectory= owned by that user with StateDirectoryMode=;
    both parse for systemd-sysusers/systemd-tmpfiles."""
    dest = _install(t)
    keys = _unit(dest)
    user, group = keys["User"][0], keys["Group"][0]
    with open(os.path.join(dest, "usr/lib/sysusers.d/warta.conf")) as f:
        users = [ln.split() for ln in f if ln.strip() and ln[0] != "#"]
    if [u[:2] for u in users] != [["u", user]] or group != user:
        raise TestFailure("sysusers %r for User=%s Group=%s" %
                          (users, user, group))
    with open(os.path.join(dest, "usr/lib/tmpfiles.d/warta.conf")) as f:
        lines = [ln.split() for ln in f if ln.strip() and ln[0] != "#"]
    want = ["d", "/var/lib/" + keys["StateDirectory"][0],
            keys["StateDirectoryMode"][0], user, group]
    if [ln[:5] for ln in lines] != [want]:
        raise TestFailure("tmpfiles %r, expected %r" % (lines, want))
    # --root and --dry-run keep it off this machine's users.
    p = subprocess.run([_tool("systemd-sysusers"), "--root=" + dest,
                        "--dry-run",
                        os.path.join(dest, "usr/lib/sysusers.d/warta.conf")],
                       capture_output=True, timeout=60)
    if p.returncode != 0:
        raise TestFailure("systemd-sysusers: %s" % p.stderr.decode())


def _config_keys():
    """(section, key) -> field of the daemon's key table in config.c, plus
    the [webhook NAME] keys."""
    with open(os.path.join(ROOT, "daemon/config.c")) as f:
        src = f.read()
    keys = {(s, k): fld for s, k, fld in re.findall(
        r'\{ "(\w+)", "(\w+)",\s*CONFIG_\w+,\s*CONFIG_OFF\((\w+)\)', src)}
    for k in re.findall(r'strcmp\(name, "(\w+)"\) == 0', src):
        keys[("webhook", k)] = None
    if len(keys) < 20:
        raise TestFailure("read only %d keys from config.c" % len(keys))
    return keys, src


def _config_defaults(src):
    """field -> default as the file would write it, from config_defaults();
    fields it leaves zeroed are ""."""
    body = src[src.index("config_defaults(struct config *cfg)\n{"):]
    body = body[:body.index("\n}\n")]
    out = {}
    for fld, v in re.findall(r"cfg->(\w+) = (.+);", body):
        m = re.match(r'xstrdup\("(.*)"\)$', v)
        if m:
            v = m.group(1)
        elif v.startswith("xcalloc"):
            v = ""
        elif v in ("true", "false"):
            v = "yes" if v == "true" else "no"
        elif v.startswith("LOG_LVL_"):
            v = v[8:].lower()
        out[fld] = v
    return out


def _example_keys(path):
    """(section, key) -> value of every commented-out key line of the
    example; a [webhook NAME] section counts as "webhook"."""
    out, section, prev = {}, None, ""
    with open(path) as f:
        for ln in f:
            ln = ln.rstrip("\n")
            m = re.match(r"^#?\[(\w+)[^\]]*\]$", ln)
            if m:
                section = m.group(1)
            m = re.match(r"^#(\w+) = ?(.*)$", ln)
            if m:
                if not prev.startswith("# "):
                    raise TestFailure("%s: %r has no explanation above it" %
                                      (path, ln))
                out[(section, m.group(1))] = m.group(2)
            prev = ln
    return out


def test_example_config_has_every_key_with_its_default(t):
    """The installed example shows every key of config.c's table and every
    webhook key, each commented out under a line explaining it, with the
    default config_defaults() gives it."""
    dest = _install(t)
    known, src = _config_keys()
    shown = _example_keys(os.path.join(dest, "etc/warta/wartad.conf"))
    if set(shown) != set(known):
        raise TestFailure("example config: missing %s, unknown %s" % (
            sorted(set(known) - set(shown)), sorted(set(shown) - set(known))))
    defaults = _config_defaults(src)
    for key, fld in known.items():
        if fld is None:
            continue
        if shown[key] != defaults.get(fld, ""):
            raise TestFailure("[%s] %s: example says %r, the default is %r" %
                              (key[0], key[1], shown[key],
                               defaults.get(fld, "")))


def test_example_config_is_accepted(t):
    """`wartad -n -c` accepts the installed example as it is and with every
    key line (and the webhook section) uncommented."""
    dest = _install(t)
    conf = os.path.join(dest, "etc/warta/wartad.conf")
    with open(conf) as f:
        text = f.read()
    live = os.path.join(t.base, "uncommented.conf")
    with open(live, "w") as f:
        f.write(re.sub(r"^#(\w+ =|\[webhook)", r"\1", text, flags=re.M))
    for path in (conf, live):
        p = subprocess.run([os.path.join(dest, "usr/sbin/wartad"), "-n", "-c",
                            path], capture_output=True, timeout=30)
        if p.returncode != 0 or b"configuration OK" not in p.stdout:
            raise TestFailure("wartad -n -c %s: %d %s" % (
                path, p.returncode, p.stderr.decode("utf-8", "replace")))


def _verifiable_unit(t, dest):
    """The installed unit, its ExecStart= binary moved into DESTDIR (it is
    not installed on this machine); every other line as installed."""
    d = os.path.join(t.base, "verify")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "wartad.service")
    with open(os.path.join(dest, UNIT)) as f:
        text = f.read()
    text = text.replace("ExecStart=/usr/sbin/wartad",
                        "ExecStart=%s/usr/sbin/wartad" % dest)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_unit_verify_clean(t):
    """systemd-analyze verify reports nothing on the installed unit (its
    Documentation= man pages found in DESTDIR)."""
    tool = _tool("systemd-analyze")
    dest = _install(t)
    env = dict(os.environ, MANPATH=os.path.join(dest, "usr/share/man"),
               SYSTEMD_LOG_LEVEL="notice")
    p = subprocess.run([tool, "verify", _verifiable_unit(t, dest)],
                       capture_output=True, env=env, timeout=120)
    out = (p.stdout + p.stderr).decode("utf-8", "replace").strip()
    if p.returncode != 0 or out:
        raise TestFailure("systemd-analyze verify: %d\n%s" %
                          (p.returncode, out))


def test_unit_exposure_at_most_2(t):
    """systemd-analyze security --offline=yes rates the installed unit at
    an exposure of 2.0 or lower (the README gives the figure)."""
    tool = _tool("systemd-analyze")
    dest = _install(t)
    p = subprocess.run([tool, "security", "--offline=yes", "--no-pager",
                        os.path.join(dest, UNIT)], capture_output=True,
                       timeout=120)
    out = p.stdout.decode("utf-8", "replace")
    m = re.search(r"Overall exposure level for wartad\.service: ([0-9.]+)",
                  out)
    if m is None:
        raise TestFailure("no exposure level in:\n%s%s" %
                          (out, p.stderr.decode("utf-8", "replace")))
    if float(m.group(1)) > MAX_EXPOSURE:
        raise TestFailure("exposure %s > %.1f:\n%s" %
                          (m.group(1), MAX_EXPOSURE, out))
    with open(os.path.join(ROOT, "README.md")) as f:
        if "exposure %s" % m.group(1) not in f.read():
            raise TestFailure("README.md does not give the exposure %s" %
                              m.group(1))


def test_man_pages_render_without_warnings(t):
    """Every installed man page formats with man -l and groff -ww without a
    single warning."""
    _tool("groff")
    _tool("man")
    dest = _install(t)
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    for page in MAN_PAGES:
        path = os.path.join(dest, page)
        for argv in (["groff", "-man", "-Tutf8", "-ww", "-z", path],
                     ["man", "--warnings", "-E", "UTF-8", "-l", path]):
            p = subprocess.run(argv, capture_output=True, env=env,
                               timeout=60)
            if p.returncode != 0 or p.stderr.strip():
                raise TestFailure("%s: %d %s" % (" ".join(argv), p.returncode,
                                                 p.stderr.decode()))
            if argv[0] == "man" and b"NAME" not in p.stdout:
                raise TestFailure("%s rendered nothing" % page)


def _rendered(path):
    """A man page as man formats it, wide."""
    p = subprocess.run(["man", "-l", path], capture_output=True, timeout=60,
                       env=dict(os.environ, MANWIDTH="200", LC_ALL="C.UTF-8"))
    return p.stdout.decode("utf-8", "replace")


def _help_words(argv):
    """What a --help prints."""
    p = subprocess.run(argv, capture_output=True, timeout=30)
    return p.stdout.decode("utf-8", "replace")


def test_man_pages_name_every_flag(t):
    """wartad(8) names every flag of `wartad --help`; warta(1) every
    command and global option of `warta --help` and every option of each
    command's --help."""
    _tool("man")
    dest = _install(t)
    page = _rendered(os.path.join(dest, "usr/share/man/man8/wartad.8"))
    flags = set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)",
                           _help_words([WARTAD, "--help"])))
    missing = sorted(f for f in flags if f not in page)
    if len(flags) < 10 or missing:
        raise TestFailure("wartad(8) lacks %s (of %s)" % (missing, flags))

    page = _rendered(os.path.join(dest, "usr/share/man/man1/warta.1"))
    top = _help_words([WARTA, "--help"])
    cmds = re.findall(r"^  ([a-z]+) ", top[top.index("Commands:"):], re.M)
    words = set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", top))
    for c in cmds:
        if c != "help":
            words |= set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)",
                                    _help_words([WARTA, c, "--help"])))
    missing = sorted(w for w in words if w not in page)
    missing += sorted(c for c in cmds if not re.search(
        r"^\s+%s\b" % c, page, re.M))
    if len(cmds) < 8 or missing:
        raise TestFailure("warta(1) lacks %s (commands %s)" % (missing, cmds))


def _syscall_groups():
    """{"@group": [members]} from systemd-analyze syscall-filter."""
    p = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"],
                       capture_output=True, timeout=60)
    groups, cur = {}, None
    for ln in p.stdout.decode().splitlines():
        if ln.startswith("@"):
            cur = groups.setdefault(ln.strip(), [])
        elif cur is not None and ln.startswith("    ") and \
                not ln.strip().startswith("#"):
            cur.append(ln.strip())
    return groups


def _expand(names, groups):
    """System call names, groups expanded."""
    out = set()
    for n in names:
        if n.startswith("@"):
            out |= _expand(groups[n], groups)
        else:
            out.add(n)
    return out


def _allowed_syscalls(keys):
    """The unit's SystemCallFilter= lines, in order, as one allowed set."""
    groups = _syscall_groups()
    allowed = set()
    for v in keys["SystemCallFilter"]:
        if v.startswith("~"):
            allowed -= _expand(v[1:].split(), groups)
        else:
            allowed |= _expand(v.split(), groups)
    return allowed


def test_sandbox_allows_what_wartad_does(t):
    """Under strace, wartad starting on tcp:// and ipc:// endpoints, taking
    events on ingest and the api, posting them to a webhook, answering
    HTTP, reloading on SIGHUP and stopping on SIGTERM makes only system
    calls the unit's SystemCallFilter= allows, opens only sockets of its
    RestrictAddressFamilies=, and never asks for memory both writable and
    executable (MemoryDenyWriteExecute=).  Guards the two ways the sandbox
    broke wartad: libzmq's netlink socket and its sched_setscheduler."""
    if BUILD.rstrip("/").endswith("san"):
        return  # the sanitizers' runtime makes calls wartad itself does not
    if VALGRIND:
        return  # strace would see valgrind's JIT, not wartad
    strace = _tool("strace")
    _tool("systemd-analyze")
    keys = _unit(_install(t))
    allowed = _allowed_syscalls(keys)
    families = set(keys["RestrictAddressFamilies"][0].split())

    d = t.daemon(start=False)
    port, tcp = free_port(), free_port()
    rcv = Receiver("s3cret")
    d.config = ("[http]\nlisten = 127.0.0.1:%d\n[webhook sbx]\n"
                "url = http://127.0.0.1:%d/hook\nsecret = s3cret\n" %
                (port, rcv.port))
    trace = os.path.join(t.base, "strace.txt")
    argv = d.argv()
    argv[argv.index("--ingest") + 1] = "tcp://127.0.0.1:%d" % tcp
    d.proc = subprocess.Popen([strace, "-f", "-qq", "-o", trace] + argv,
                              stdout=subprocess.DEVNULL,
                              stderr=open(d.log_path, "ab"))
    d.wait_ready()
    with open("/proc/%d/task/%d/children" % (d.proc.pid, d.proc.pid)) as f:
        wartad = int(f.read().split()[0])
    api = Api(d.api_ep)
    publish_ok(api, "meeting", meeting(id="sbx-1"))
    pub = CTX.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.connect("tcp://127.0.0.1:%d" % tcp)
    wait_for(lambda: (pub.send_multipart([b"meeting", pack(meeting(
        id="sbx-2"))]) or api.call("stats")["stored"] >= 2), what="ingest")
    pub.close(0)
    wait_for(lambda: len(rcv.seqs()) >= 2, what="the webhook's posts")
    rcv.close()
    for path in ("/metrics", "/v1/stats", "/healthz"):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        c.request("GET", path)
        c.getresponse().read()
        c.close()
    os.kill(wartad, signal.SIGHUP)
    wait_for(lambda: "SIGHUP: configuration reloaded" in d.stderr(),
             what="reload")
    api.close()
    os.kill(wartad, signal.SIGTERM)
    # strace exits with its tracee's status.
    if d.proc.wait(60) != 0:
        raise TestFailure("wartad under strace exited %d:\n%s" %
                          (d.proc.returncode, d.stderr()))

    bad_calls, bad_sockets, wx = set(), set(), []
    with open(trace) as f:
        for ln in f:
            m = re.match(r"^\d+\s+(?:<\.\.\. )?(\w+)[( ]", ln)
            if m is None or ln.split(None, 1)[1].startswith("+++") or \
                    ln.split(None, 1)[1].startswith("---"):
                continue
            name = m.group(1)
            if name not in allowed:
                bad_calls.add(name)
            if name == "socket":
                fam = re.match(r"^\d+\s+socket\((\w+)", ln)
                if fam and fam.group(1) not in families:
                    bad_sockets.add(fam.group(1))
            if name in ("mmap", "mprotect", "pkey_mprotect"):
                exe = "PROT_EXEC" in ln
                if exe and (name != "mmap" or "PROT_WRITE" in ln):
                    wx.append(ln.strip())
    if bad_calls or bad_sockets or wx:
        raise TestFailure("the unit's sandbox would refuse: system calls %s,"
                          " socket families %s, W+X mappings %s" %
                          (sorted(bad_calls), sorted(bad_sockets), wx[:5]))
