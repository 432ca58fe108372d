"""Run the black-box suite: every test_* function of every
tests/blackbox/test_*.py module, each with a fresh harness.Ctx.

    python3 tests/blackbox/run.py [--build DIR] [NAME-SUBSTRING...]

Prints one line per test and ends with "blackbox: N passed, N failed".
"""
import argparse
import importlib
import os
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

TEST_TIMEOUT = int(os.environ.get("WARTA_TEST_TIMEOUT", "300"))


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout("test ran over %d s" % TEST_TIMEOUT)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    os.environ["WARTA_BUILD"] = args.build
    import harness

    tests = []
    for fn in sorted(os.listdir(HERE)):
        if fn.startswith("test_") and fn.endswith(".py"):
            mod = importlib.import_module(fn[:-3])
            for name in dir(mod):
                f = getattr(mod, name)
                if name.startswith("test_") and callable(f):
                    full = "%s.%s" % (fn[:-3], name)
                    if not args.names or any(n in full for n in args.names):
                        tests.append((full, f, f.__code__.co_firstlineno))
    tests.sort(key=lambda x: (x[0].split(".")[0], x[2]))

    signal.signal(signal.SIGALRM, on_alarm)
    passed = failed = skipped = 0
    for full, f, _ in tests:
        t = harness.Ctx()
        t0 = time.monotonic()
        signal.alarm(TEST_TIMEOUT)
        skip = None
        try:
            f(t)
            ok = True
        except harness.Skip as e:
            ok, skip = True, str(e)
        except BaseException as e:  # noqa: B902 — report everything
            ok = False
            err = traceback.format_exc()
            if isinstance(e, KeyboardInterrupt):
                raise
        finally:
            signal.alarm(0)
        if not ok:
            for d in t.daemons:
                err += "--- %s stderr (last 3000 bytes):\n%s\n" % (
                    d.dir, d.stderr()[-3000:])
        # Cleanup can fail a test too: under valgrind it reads the reports.
        try:
            t.close()
        except Exception as e:  # noqa: B902 — a failed cleanup fails the test
            if ok:
                ok, skip, err = False, None, str(e)
            else:
                err += str(e)
        dt = time.monotonic() - t0
        if skip is not None:
            skipped += 1
            print("skip %s (%.1fs): %s" % (full, dt, skip), flush=True)
        elif ok:
            passed += 1
            print("ok   %s (%.1fs)" % (full, dt), flush=True)
        else:
            failed += 1
            print("FAIL %s (%.1fs)\n%s" % (full, dt, err), flush=True)
    print("blackbox: %d passed, %d failed%s" % (
        passed, failed, ", %d skipped" % skipped if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
