#!/usr/bin/env python3
"""Hostile wire tests: real daemons on loopback attacked by el_hostile, an
admitted site that speaks the protocol badly on purpose (garbage frames,
frames before Hello, a Hello with 100000 heads, over-long Entries frames,
Credit of 2^64-1, rounds of malformed frames, more connections than
EL_NODE_LINKS_MAX). The malformed scenario also checks what the daemon's
status says afterwards: every frame counted as refused, by reason, for the
attacker and in total, and the log saying so once per reason per 10 s
window, with a summary line, not once per frame.

Setup (tests/integration/run.py's Net): a broker, site A, and site B which
listens for direct peers and lists the attacker as a peer. Each scenario is
run against the broker and against B; afterwards both must still answer on
their control socket, A's new entries must still reach everyone, and every
daemon must stop cleanly on SIGTERM (exit 0: under ASan, no leak).

The join scenario (with --cli: the broker's join endpoint, which any
stranger can reach) makes an invite with the real CLI, attacks the endpoint
without a valid invite, then redeems the invite.

  hostile.py --node BIN --broker BIN --ctl BIN --hostile BIN [--cli BIN]
             [--scenario S]... [--keep]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import run  # noqa: E402  (Net, Daemon, wait_for, ...)

SCENARIOS = ["before-hello", "garbage", "heads", "limits", "malformed", "oversize", "flood",
             "flood-junk", "join"]


def refused(st, hkey):
    """(the attacker's malformed frames, every daemon's malformed frames, sessions
    ended for malformed frames) in status @st."""
    peer = sum(p.get("frames_refused_by_reason", {}).get("malformed", 0) for p in st["peers"]
               if p["key"] == hkey and not p["outbound"])
    sync = st["sync"]
    return (peer, sync["frames_refused_by_reason"].get("malformed", 0),
            sync["ended_by_reason"].get("malformed", 0))


def check_malformed(target, hkey, before, log_from, out, seconds):
    """What the malformed scenario must have left in @target's status and log."""
    sent = json.loads(out.splitlines()[0])
    after = refused(target.status(), hkey)
    want = (sent["malformed_frames"], sent["malformed_frames"], sent["errors"])
    got = tuple(a - b for a, b in zip(after, before))
    run.expect(sent["malformed_frames"] >= 6 and got == want,
               "%s counted (attacker, total, sessions ended) = %r malformed, sent %r"
               % (target.name, got, want))
    # logged once per reason per 10 s window (an earlier scenario may have
    # opened this window already), then one summary line: not per frame
    fpr = re.escape(hkey[:8])
    pattern = r"event=session_ended peer=%s .*reason=malformed" % fpr
    # the counters above are read from the daemon; its log file may lag them
    run.wait_for("%s's log of a malformed session" % target.name,
                 lambda: re.search(pattern, target.log_text()))
    lines = re.findall(pattern, target.log_text()[log_from:])
    windows = int(seconds // 10) + 2
    run.expect(len(lines) <= windows and re.search(pattern, target.log_text()),
               "%s logged %d session_ended lines for %d malformed frames in %.0f s"
               % (target.name, len(lines), sent["malformed_frames"], seconds))
    run.wait_for("%s's summary of the refusals it did not log" % target.name,
                 lambda: re.search(r"event=refusals_suppressed peer=%s count=[1-9]" % fpr,
                                   target.log_text()[log_from:]))
    if not target.net.args.cli:
        return
    # the operator sees the same: entrelab status, JSON and table
    cli = [target.net.args.cli, "--node", target.dir]
    doc = json.loads(subprocess.run(cli + ["--json", "status"], capture_output=True, text=True,
                                    check=True, timeout=60).stdout)
    rows = [p for p in doc["peers"] if p["key"] == hkey and not p["outbound"]]
    run.expect(len(rows) == 1 and rows[0]["frames_refused_by_reason"].get("malformed") == after[0]
               and rows[0]["refused"] >= after[0]
               and doc["sync"]["frames_refused_by_reason"].get("malformed") == after[1]
               and doc["sync"]["ended_by_reason"].get("malformed") == after[2],
               "entrelab --json status at %s: %r, %r" % (target.name, rows, doc["sync"]))
    table = subprocess.run(cli + ["status"], capture_output=True, text=True, check=True,
                           timeout=60).stdout
    run.expect(re.search(r"^Frames refused:\s+%d\s*$" % doc["sync"]["frames_refused"], table, re.M)
               and re.search(r"\sframes\s+malformed\s+%d\s*$" % after[0], table, re.M),
               "entrelab status at %s does not show the refused frames:\n%s"
               % (target.name, table))


def attack(net, hostile_key, target, server_key, endpoint, scenario):
    t0 = time.monotonic()
    hkey = run.key_file_id(hostile_key)
    st0 = target.status()
    before = refused(st0, hkey)
    log_from = len(target.log_text())
    out = subprocess.run([net.args.hostile, hostile_key, server_key, endpoint, net.broker.key,
                          scenario], capture_output=True, text=True, timeout=300)
    run.expect(out.returncode == 0, "%s vs %s: exit %d: %s" % (scenario, target.name,
                                                              out.returncode, out.stderr.strip()))
    if scenario == "malformed":
        check_malformed(target, hkey, before, log_from, out.stdout, time.monotonic() - t0)
    if scenario == "oversize":
        # libzmq 4.3 closes the connection and reports a plain disconnect: that
        # is where a frame over ZMQ_MAXMSGSIZE shows
        run.wait_for("%s counting the connection closed for the oversized frame" % target.name,
                     lambda: target.status()["sync"]["disconnects"] > st0["sync"]["disconnects"])
    # still up and serving its control socket
    st = target.status()
    print("  %-13s vs %-6s ok (%.1f s; dropped %d, rejected %d, disconnects %d)"
          % (scenario, target.name, time.monotonic() - t0, st["sync"].get("frames_dropped", 0),
             st["sync"].get("rejected", 0), st["sync"].get("disconnects", 0)))


def attack_join(net, args):
    """A stranger at the join endpoint; then the invite's holder joins."""
    j_port = run.free_port()
    out = subprocess.run([args.cli, "--node", net.broker.dir, "--json", "invite", "--name", "new",
                          "--join-listen", "tcp://127.0.0.1:%d" % j_port,
                          "--endpoint", "tcp://127.0.0.1:%d" % net.broker_port],
                         capture_output=True, text=True, timeout=60)
    run.expect(out.returncode == 0, "entrelab invite: %s" % out.stderr.strip())
    token = json.loads(out.stdout)["token"]
    new_key = os.path.join(net.tmp, "newsite.key")
    new_id = subprocess.run([args.ctl, "keygen", new_key], capture_output=True, text=True,
                            check=True).stdout.strip()
    t0 = time.monotonic()
    out = subprocess.run([args.hostile, new_key, net.broker.key, "tcp://127.0.0.1:%d" % j_port,
                          net.broker.key, "join", token], capture_output=True, text=True,
                         timeout=300)
    run.expect(out.returncode == 0, "join vs broker: exit %d: %s" % (out.returncode,
                                                                   out.stderr.strip()))
    run.wait_for("the new site's Site entry at the broker",
                 lambda: net.broker.ctl("get", "site", net.broker.key, new_id, check=False))
    print("  %-13s vs %-6s ok (%.1f s)" % ("join", "broker", time.monotonic() - t0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--node", required=True)
    ap.add_argument("--broker", required=True)
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--hostile", required=True)
    ap.add_argument("--cli", help="the entrelab CLI, for the join scenario")
    ap.add_argument("--scenario", action="append", choices=SCENARIOS)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.forge = None
    if not sys.platform.startswith("linux"):
        print("skip: needs Linux (signalfd, ipc://)")
        return 77
    def body(net):
        hkey_path = os.path.join(net.tmp, "hostile.key")
        hkey = subprocess.run([args.ctl, "keygen", hkey_path], capture_output=True, text=True,
                              check=True).stdout.strip()
        b_port = run.free_port()
        a = net.node("A")
        b = net.node("B", extra=["--listen", "tcp://127.0.0.1:%d" % b_port, "--peer", hkey])
        net.start_all()
        a.ctl("write", "event", "before", 5)
        run.wait_converged(net.daemons)
        net.broker.ctl("admit", hkey, "hostile")
        run.wait_for("the attacker's admission at B",
                     lambda: b.status()["store"]["entries"] >= net.broker.status()["store"]["entries"])
        targets = [(net.broker, "tcp://127.0.0.1:%d" % net.broker_port),
                   (b, "tcp://127.0.0.1:%d" % b_port)]
        for scenario in args.scenario or SCENARIOS:
            if scenario == "join":
                if args.cli:
                    attack_join(net, args)
                continue
            for target, endpoint in targets:
                attack(net, hkey_path, target, target.key, endpoint, scenario)
        # replication still works, and nothing of the attacker's junk was stored
        a.ctl("write", "event", "after", 5)
        heads = run.wait_converged(net.daemons)
        run.expect(hkey not in heads, "the attacker's entries were stored: %r" % heads.get(hkey))

    return run.el_it.run_net(run.Net(args), "hostile wire", body, args.keep)


if __name__ == "__main__":
    sys.exit(main())
