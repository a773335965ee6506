"""Process helpers shared by the integration tests (run.py, test_cli.py,
test_import.py): bounded waits, free loopback ports, daemon start and clean
stop. Nothing here asserts on timing: a bound only turns a hang into a failure.
"""
import shutil
import signal
import socket
import subprocess
import time

WAIT_S = 90          # upper bound of any wait (a hang fails the case, never a slow run)
POLL_S = 0.1
EXIT_S = 30          # how long a stopping daemon may take before the case fails


class Failure(Exception):
    pass


class Skip(Exception):
    """A case that cannot run here (exit 77, with the reason)."""


def run_net(net, what, body, keep, release=None):
    """Run @body(net) on a fresh @net and stop every daemon cleanly (SIGTERM,
    exit 0); print "<what>: passed", "skip: <reason>" or "<what>: FAILED:
    <reason>" with the daemons' last log lines; always kill what is left,
    call @release() (mounts, proxies) and remove the temp dir (kept with
    @keep, or after a failure).
    @return 0 passed, 1 failed, 77 skipped (@body raised Skip)."""
    ok, rc = False, 1
    try:
        note = body(net)
        net.stop_all()
        ok, rc = True, 0
        print("%s: passed%s" % (what, " (%s)" % note if note else ""))
    except Skip as e:
        print("skip: %s" % e)
        rc = 77
    except Exception as e:  # any failure: report it with the daemons' logs
        print("%s: FAILED: %s" % (what, e))
        net.kill_all()
        net.dump_logs()
    finally:
        net.kill_all()
        if release:
            release()
        net.cleanup(keep or (not ok and rc != 77))
    return rc


def check(cond, what):
    if not cond:
        raise Failure(what)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, pred, timeout=WAIT_S):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
            if last:
                return last
        except Failure as e:
            last = str(e)
        time.sleep(POLL_S)
    raise Failure("timed out waiting for %s (last: %s)" % (what, last))


def spawn(argv, log):
    """Start @argv with stdout and stderr appended to the file @log."""
    with open(log, "a") as logf:
        return subprocess.Popen(argv, stdout=logf, stderr=logf, stdin=subprocess.DEVNULL)


def check_alive(proc, name, log):
    """Raise Failure when @proc (may be None) has exited."""
    if proc and proc.poll() is not None:
        raise Failure("%s died with %d (see %s)" % (name, proc.returncode, log))


def stop(proc, name, log):
    """SIGTERM @proc; it must exit 0 within EXIT_S. @return seconds it took."""
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(EXIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise Failure("%s did not stop within %d s of SIGTERM" % (name, EXIT_S))
    if rc != 0:
        raise Failure("%s exited with %d after SIGTERM (see %s)" % (name, rc, log))
    return time.monotonic() - t0


def kill(proc):
    """SIGKILL @proc (may be None) and reap it."""
    if proc:
        proc.kill()
        proc.wait()


def stop_each(daemons):
    """Call .stop() on each of @daemons (all of them), then raise one Failure
    naming every one that did not stop cleanly."""
    errors = []
    for d in daemons:
        try:
            d.stop()
        except Failure as e:
            errors.append(str(e))
    if errors:
        raise Failure("; ".join(errors))


def dump_log(name, path, n_lines):
    """Print the last @n_lines of the log file @path, if it can be read."""
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return
    print("---- %s (%s), last lines" % (name, path))
    for line in lines[-n_lines:]:
        print("  " + line)


def cleanup(tmp, keep):
    if keep:
        print("kept", tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
