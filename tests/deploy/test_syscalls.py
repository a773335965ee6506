#!/usr/bin/env python3
"""The units' system call filter, checked without systemd: a broker (with its
web endpoint) and a node run under strace through a short life (start,
admission, sync, a write, web requests, a reload, a stop), and every system
call they make must be in what the units allow: SystemCallFilter=
@system-service minus @privileged, as `systemd-analyze syscall-filter`
defines those groups on this machine.

    test_syscalls.py --cli entrelab --node entrelab-node --broker entrelab-broker
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def groups():
    """{"@group": set of names (calls and @subgroups)} from systemd-analyze."""
    out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True,
                         text=True, check=True).stdout
    got, cur = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            cur = got.setdefault(line.strip(), set())
        elif cur is not None and line.strip() and not line.strip().startswith("#"):
            cur.add(line.strip())
    return got


def expand(name, g, seen=None):
    seen = seen if seen is not None else set()
    if not name.startswith("@"):
        return {name}
    if name in seen:
        return set()
    seen.add(name)
    calls = set()
    for m in g.get(name, ()):
        calls |= expand(m, g, seen)
    return calls


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(what, fn, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if fn():
                return
        except (OSError, ValueError, subprocess.SubprocessError):
            pass
        time.sleep(0.1)
    raise SystemExit("FAIL: timed out waiting for %s" % what)


def main():
    ap = argparse.ArgumentParser()
    for a in ("--cli", "--node", "--broker"):
        ap.add_argument(a, required=True)
    ap.add_argument("--sanitized", action="store_true",
                    help="a sanitizer build: its runtime makes calls of its own")
    args = ap.parse_args()
    if args.sanitized:
        print("SKIP: a sanitizer build's runtime makes system calls the daemons do not "
              "(the normal build runs this test)")
        return 77
    for tool in ("strace", "systemd-analyze"):
        if not shutil.which(tool):
            print("SKIP: %s is not installed" % tool)
            return 77
    g = groups()
    allowed = expand("@system-service", g) - expand("@privileged", g)
    if len(allowed) < 50:
        print("SKIP: systemd-analyze gave no usable @system-service group")
        return 77
    tmp = tempfile.mkdtemp(prefix="el-syscalls-")
    procs = []
    try:
        def cli(*a, node=None):
            argv = [args.cli] + (["--node", node] if node else []) + list(a)
            r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                raise SystemExit("FAIL: entrelab %s: %s" % (" ".join(a), r.stderr))
            return r.stdout

        port, http = free_port(), free_port()
        hub, site = os.path.join(tmp, "hub"), os.path.join(tmp, "site")
        key = json.loads(cli("--json", "init", hub, "--broker", "--listen",
                             "tcp://127.0.0.1:%d" % port, "--http", "127.0.0.1:%d" % http))
        skey = json.loads(cli("--json", "init", site, "--connect", "tcp://127.0.0.1:%d" % port,
                              "--broker-key", key["key_checked"]))

        def start(binary, conf, name):
            trace = os.path.join(tmp, name + ".trace")
            p = subprocess.Popen(["strace", "-f", "-qq", "-o", trace, binary, "--config", conf],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(p)
            return p, trace

        hp, htrace = start(args.broker, os.path.join(hub, "entrelab.conf"), "hub")
        wait("the broker", lambda: subprocess.run([args.cli, "--node", hub, "status"],
                                                   capture_output=True).returncode == 0)
        cli("admit", skey["key_checked"], "--name", "site", node=hub)
        sp, strace_site = start(args.node, os.path.join(site, "entrelab.conf"), "site")
        def admitted():
            r = subprocess.run([args.cli, "--node", site, "--json", "status"],
                               capture_output=True, text=True)
            return r.returncode == 0 and json.loads(r.stdout)["admitted"]
        wait("the site admitted", admitted)
        cli("event", "add", "--uid", "ev1", "--summary", "Atelier", "--start",
            "2027-06-01 18:00", "--duration", "1h", node=site)
        wait("the event at the hub", lambda: "ev1" in subprocess.run(
            [args.cli, "--node", hub, "event", "list", "--all"], capture_output=True,
            text=True).stdout)
        for path in ("/", "/agenda.ics", "/api/events", "/metrics"):
            urllib.request.urlopen("http://127.0.0.1:%d%s" % (http, path), timeout=10).read()
        def daemon_pid(p):
            """The traced daemon: strace's child (signals go to it, not to strace)."""
            with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
                return int(f.read().split()[0])
        for p in (hp, sp):
            os.kill(daemon_pid(p), signal.SIGHUP)
        time.sleep(1)
        for p in (sp, hp):
            os.kill(daemon_pid(p), signal.SIGTERM)
            p.wait(timeout=30)
        used = set()
        for trace in (htrace, strace_site):
            with open(trace, errors="replace") as f:
                for line in f:
                    m = re.match(r"^\d+\s+([a-z0-9_]+)\(", line)
                    if m:
                        used.add(m.group(1))
        # the filter holds from exec on: every call counts, execve included
        denied = sorted(used - allowed)
        print("system calls made: %d, all within @system-service minus @privileged: %s"
              % (len(used), "yes" if not denied else "no"))
        if denied:
            print("FAIL: calls the units' SystemCallFilter would refuse: %s" % denied)
            return 1
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
