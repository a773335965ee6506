#!/usr/bin/env python3
"""Integration tests of running sites: real entrelab-broker / entrelab-node
processes on loopback, set up and driven through the real CLI (the Net and
Site helpers of test_cli.py), each case in its own temp dir with free ports.
Waits are bounded (el_it.WAIT_S) and nothing is asserted on timing.

  test_ops.py --case NAME --cli BIN --node BIN --broker BIN [--ctl BIN] [--keep]
Cases: refused_then_admitted, hub_behind, reload, typed_keys, import_columns, notify,
revoked_history.
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from el_it import check, free_port, wait_for  # noqa: E402
from test_cli import Site, event_uids, heads, run_case, start_network, table_rows  # noqa: E402


def broker_row(net, site):
    """The status row of @site's link to its broker (JSON)."""
    rows = [p for p in net.cli_ok(site, "status", json_out=True)["peers"]
            if p["role"] == "broker"]
    check(len(rows) == 1, "%s has %d broker rows" % (site.name, len(rows)))
    return rows[0]


def check_auth_agree(net, site):
    """The status header's auth failures and the peer rows' sum agree, in
    JSON and in the text table. @return that count."""
    st = net.cli_ok(site, "status", json_out=True)
    rows_sum = sum(p["auth_failures"] for p in st["peers"])
    check(st["sync"]["auth_failures"] == rows_sum,
          "header says %d auth failures, the rows %d" % (st["sync"]["auth_failures"], rows_sum))
    text = net.cli_ok(site, "status")
    m = re.search(r"^Auth failures:\s+(\d+)$", text, re.M)
    check(m, "no Auth failures line in\n" + text)
    peers = table_rows(text.split("\n\n")[1])
    table_sum = sum(int(p["AUTH FAILURES"]) for p in peers)
    # the daemon keeps knocking between the two calls: compare within one text
    check(int(m.group(1)) == table_sum, "text header %s, rows %d" % (m.group(1), table_sum))
    return int(m.group(1))


def case_refused_then_admitted(net):
    """A site started before its broker, then before its admission, connects
    by itself once admitted: status says why it is down at each step."""
    late = net.add("late", admit=False)
    late.start()
    row = wait_for("broker unreachable at late", lambda: (lambda r: r if r["down_reason"]
                   == "broker unreachable" else None)(broker_row(net, late)))
    check(not row["connected"] and row["state"] == "down", "unreachable row %s" % row)
    net.hub.start()
    net.cli_ok(net.hub, "event", "add", "--uid", "ev-hub", "--summary", "Assemblée",
               "--start", "2027-06-01 18:00")
    row = wait_for("late refused by the broker", lambda: (lambda r: r if r["down_reason"]
                   == "not admitted by the broker" else None)(broker_row(net, late)))
    check(row["auth_failures"] >= 1 and not row["connected"], "refused row %s" % row)
    text = net.cli_ok(late, "status")
    peers = table_rows(text.split("\n\n")[1])
    check([p["WHY DOWN"] for p in peers if p["ROLE"] == "broker"]
          == ["not admitted by the broker"], "status table %s" % peers)
    # it knocks again by itself (libzmq alone never would after a ZAP refusal)
    wait_for("late knocks again", lambda: late.log_text().count("reason=refused_by_peer") >= 2)
    check(check_auth_agree(net, late) >= 2, "auth failures counted at late")
    check(net.cli_ok(late, "status", json_out=True)["admitted"] is False, "late admitted early")

    net.cli_ok(net.hub, "admit", late.key, "--name", "late")
    wait_for("late admitted, without a restart", lambda: net.cli_ok(
        late, "status", json_out=True)["admitted"])
    wait_for("the hub's event at late", lambda: "ev-hub" in event_uids(net, late))
    net.cli_ok(late, "event", "add", "--uid", "ev-late", "--summary", "Portes ouvertes",
               "--start", "2027-06-02 10:00")
    wait_for("late's event at the hub", lambda: "ev-late" in event_uids(net, net.hub))
    row = broker_row(net, late)
    check(row["connected"] and row["down_reason"] == "", "admitted row %s" % row)
    check(late.proc.poll() is None, "late exited")
    check(len(re.findall(r"\bstarted\b.*role=node", late.log_text())) == 1,
          "late started more than once")
    check_auth_agree(net, late)

    # revoked: the link says so, and stays down
    net.cli_ok(net.hub, "revoke", "late")
    row = wait_for("late sees it is revoked", lambda: (lambda r: r if r["down_reason"]
                   == "revoked" else None)(broker_row(net, late)))
    check(not row["connected"], "revoked row %s" % row)
    time.sleep(0.5)
    check(broker_row(net, late)["down_reason"] == "revoked", "revoked, then not")


def site_row(net, at, key):
    """The status row at @at for the inbound site @key, or None."""
    rows = [p for p in net.cli_ok(at, "status", json_out=True)["peers"]
            if p["key"] == key and not p["outbound"]]
    check(len(rows) <= 1, "%d rows for one site: %s" % (len(rows), rows))
    return rows[0] if rows else None


def case_hub_behind(net):
    """The hub's status says how many entries wait for a site that stopped,
    from what the site held when it left (kept across a hub restart), and
    says unknown for an admitted site never seen."""
    n = start_network(net, ["a", "b"])
    a, b = n["a"], n["b"]
    never = net.add("never")                   # admitted, never started
    net.cli_ok(a, "event", "add", "--uid", "ev-0", "--summary", "Avant",
               "--start", "2027-06-01 18:00")
    wait_for("b holds all the hub holds", lambda: (lambda r: r and r["connected"]
             and r["behind"] == 0 and "ev-0" in event_uids(net, b))(site_row(net, net.hub, b.key)))
    b.stop()
    row = wait_for("b gone at the hub", lambda: (lambda r: r if r and not r["connected"]
                   else None)(site_row(net, net.hub, b.key)))
    check(row["behind"] == 0, "nothing new yet, b's row says %s" % row)
    for i in (1, 2, 3):
        net.cli_ok(a, "event", "add", "--uid", "ev-%d" % i, "--summary", "Après %d" % i,
                   "--start", "2027-06-0%d 18:00" % (i + 1))
    wait_for("a's events at the hub", lambda: {"ev-1", "ev-2", "ev-3"} <= set(
        event_uids(net, net.hub)))
    row = site_row(net, net.hub, b.key)
    check(row["behind"] == 3 and [(o["origin"], o["behind"]) for o in row["behind_by_origin"]]
          == [(a.key, 3)], "stopped b: %s" % row)
    row = site_row(net, net.hub, never.key)
    check(row["behind"] is None and not row["connected"]
          and row["down_reason"] == "never connected", "never-seen site: %s" % row)
    text = net.cli_ok(net.hub, "status")
    peers = {p["PEER"]: p for p in table_rows(text.split("\n\n")[1])}
    check(peers["b"]["BEHIND"] == "3" and peers["never"]["BEHIND"] == "unknown",
          "status table %s" % peers)
    # what b held is kept across a restart of the hub
    net.hub.stop()
    net.hub.start()
    check(site_row(net, net.hub, b.key)["behind"] == 3, "after a hub restart: %s"
          % site_row(net, net.hub, b.key))
    net.cli_ok(net.hub, "event", "add", "--uid", "ev-hub", "--summary", "Du hub",
               "--start", "2027-06-09 18:00")
    row = site_row(net, net.hub, b.key)
    check(row["behind"] == 4 and sorted(o["behind"] for o in row["behind_by_origin"]) == [1, 3],
          "one more at the hub: %s" % row)
    # b comes back and catches up
    b.start()
    wait_for("b caught up", lambda: (lambda r: r and r["connected"] and r["behind"] == 0
                                     and "ev-hub" in event_uids(net, b))(
        site_row(net, net.hub, b.key)))


def set_conf(site, key, value):
    """Set @key in @site's config file (drop it when @value is None), as an
    operator would edit it."""
    with open(site.conf) as f:
        lines = [l for l in f.read().splitlines() if not re.match(r"%s\s*=" % key, l)]
    if value is not None:
        lines.append("%s = %s" % (key, value))
    with open(site.conf, "w") as f:
        f.write("\n".join(lines) + "\n")


def hup(site, want):
    """SIGHUP @site; wait for the log line of that reload (the first one after
    the signal holding @want). @return the log text from that line on."""
    mark = len(site.log_text())
    site.proc.send_signal(signal.SIGHUP)

    def seen():
        text = site.log_text()[mark:]
        m = re.search(r"^.*%s.*$" % want, text, re.M)
        return text[m.start():] if m else None
    return wait_for("%s logs %s" % (site.name, want), seen)


def case_reload(net):
    """SIGHUP reads the config file again: the log level and the peers change
    live; a file that does not load changes nothing and the daemon runs on."""
    a = net.add("a", admit=False)
    b = net.add("b", admit=False)
    port = free_port()
    set_conf(b, "listen", "tcp://127.0.0.1:%d" % port)
    set_conf(b, "peer", a.key)                      # b admits a as a direct peer
    net.hub.start()
    for s in (a, b):
        net.cli_ok(net.hub, "admit", s.key, "--name", s.name)
        s.start()
    for s in (a, b):
        wait_for("%s admitted" % s.name, lambda s=s: net.cli_ok(s, "status", json_out=True)["admitted"])
    check("debug event=" not in a.log_text(), "debug lines at log_level=info")

    def activity(uid):
        net.cli_ok(net.hub, "event", "add", "--uid", uid, "--summary", uid,
                   "--start", "2027-06-01 18:00")
        wait_for("%s at a" % uid, lambda: uid in event_uids(net, a))

    # the log level
    set_conf(a, "log_level", "debug")
    after = hup(a, "event=config_reloaded")
    check(re.search(r"event=config_reloaded changed=log_level log_level=debug peers=0 "
                    r"needs_restart=none", after), "reload line: %s" % after.splitlines()[0])
    activity("ev-debug")
    check("debug event=" in a.log_text()[len(a.log_text()) - len(after):],
          "no debug line after the reload")

    # a peer added, then removed
    set_conf(a, "peer", "%s@tcp://127.0.0.1:%d" % (b.key, port))
    after = hup(a, "event=config_reloaded")
    check("changed=peers_added" in after.splitlines()[0], "peer added: %s" % after.splitlines()[0])

    def peer_rows():
        return [p for p in net.cli_ok(a, "status", json_out=True)["peers"] if p["role"] == "peer"]
    wait_for("a's link to b", lambda: [(p["key"], p["connected"]) for p in peer_rows()]
             == [(b.key, True)])
    wait_for("b sees a", lambda: any(p["key"] == a.key and p["connected"] and not p["outbound"]
                                     for p in net.cli_ok(b, "status", json_out=True)["peers"]))
    set_conf(a, "peer", None)
    after = hup(a, "event=config_reloaded")
    check("changed=peers_removed" in after.splitlines()[0], "peer removed: %s"
          % after.splitlines()[0])
    check(peer_rows() == [], "a still has a peer row: %s" % peer_rows())

    # a file that does not load: nothing changes, the daemon runs on
    with open(a.conf) as f:
        good = f.read()
    with open(a.conf, "a") as f:
        f.write("this line is not a setting\n")
    after = hup(a, "event=config_reload_failed")
    check(re.search(r"event=config_reload_failed reason=.*line \d+", after.splitlines()[0]),
          "failure line: %s" % after.splitlines()[0])
    check(a.proc.poll() is None, "a died on a broken config")
    # (the CLI itself refuses that file: ask the daemon through el_testctl)
    held = sum(heads(net, a).values())
    net.cli_ok(net.hub, "event", "add", "--uid", "ev-after-broken", "--summary", "x",
               "--start", "2027-06-01 18:00")
    wait_for("the hub's event at a", lambda: sum(heads(net, a).values()) > held)
    check("debug event=entries_applied" in a.log_text()[len(a.log_text()) - len(after):],
          "the old log level was not kept")
    # back to a good file: info again; a setting that needs a restart says so
    with open(a.conf, "w") as f:
        f.write(good)
    set_conf(a, "log_level", "info")
    set_conf(a, "heartbeat_ivl_ms", "700")
    after = hup(a, "event=config_reloaded")
    check(re.search(r"changed=log_level log_level=info .*needs_restart=heartbeat",
                    after.splitlines()[0]), "reload line: %s" % after.splitlines()[0])
    activity("ev-info-again")
    check("debug event=" not in a.log_text()[len(a.log_text()) - len(after):],
          "debug lines after going back to info")
    # the broker reloads too (its own flags read again)
    after = hup(net.hub, "event=config_reloaded")
    check("changed=none" in after.splitlines()[0], "broker reload: %s" % after.splitlines()[0])
    check(net.hub.try_status() is not None, "the broker stopped answering")


B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def checked_form(key):
    """The checked text of a 43-character key, computed here from the
    formula of core/el_keytext.h."""
    s = sum((2 * i + 3) * B64URL.index(c) for i, c in enumerate(key)) % 4096
    c = (4096 - s) % 4096
    return key + B64URL[c >> 6] + B64URL[c & 63]


def swap_typo(key, i=10):
    """@key with characters i and i+1 swapped (or, when equal, i changed)."""
    k = list(key)
    if k[i] == k[i + 1]:
        k[i] = "B" if k[i] == "A" else "A"
    else:
        k[i], k[i + 1] = k[i + 1], k[i]
    return "".join(k)


def case_typed_keys(net):
    """Keys people type carry two check characters: a swap or a wrong
    character is refused, naming the setting; the older form is accepted with
    a note; the checked form is what the CLI prints for people."""
    hub_checked = checked_form(net.hub.key)
    text = net.cli_ok(None, "init", os.path.join(net.tmp, "probe"), "--broker", "--listen",
                      "tcp://127.0.0.1:1")
    m = re.search(r"^broker key: (\S+)$", text, re.M)
    check(m and len(m.group(1)) == 45 and checked_form(m.group(1)[:43]) == m.group(1),
          "init prints the checked form: %r" % text)

    where = os.path.join(net.tmp, "typo")
    for bad in (swap_typo(hub_checked), hub_checked[:30] + ("x" if hub_checked[30] != "x" else "y")
                + hub_checked[31:]):
        rc, out, err = net.cli(None, "init", where, "--connect", "tcp://127.0.0.1:1",
                               "--broker-key", bad)
        check(rc == 2 and "--broker-key" in err and "check characters do not match" in err
              and len(err.strip().splitlines()) == 1, "init with %s: %d %r" % (bad, rc, err))
        check(not os.path.exists(where), "a refused init left %s" % where)
    rc, out, err = net.cli(None, "init", where, "--connect", "tcp://127.0.0.1:1",
                           "--broker-key", hub_checked)
    check(rc == 0 and "note" not in err, "init with the checked key: %d %r" % (rc, err))
    older = os.path.join(net.tmp, "older")
    rc, out, err = net.cli(None, "init", older, "--connect", "tcp://127.0.0.1:1",
                           "--broker-key", net.hub.key)
    check(rc == 0 and "note: --broker-key" in err and hub_checked in err,
          "init with the older form: %d %r" % (rc, err))

    # the daemon names the setting too
    site = Site(net, "s")
    conf = open(site.conf).read()
    with open(site.conf, "w") as f:
        f.write(conf.replace(net.hub.key, swap_typo(hub_checked)))
    out = subprocess.run([net.args.node, "--config", site.conf], capture_output=True, text=True,
                         timeout=60)
    check(out.returncode == 2 and "broker_key" in out.stderr
          and "check characters do not match" in out.stderr, "node with a typo in broker_key: "
          "%d %r" % (out.returncode, out.stderr))
    with open(site.conf, "w") as f:
        f.write(conf)
    out = subprocess.run([net.args.node, "--config", site.conf, "--peer",
                          swap_typo(hub_checked, 20) + "@tcp://127.0.0.1:1"],
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 2 and "--peer" in out.stderr
          and "check characters do not match" in out.stderr, "node with a typo in --peer: "
          "%d %r" % (out.returncode, out.stderr))

    # admit and revoke on the broker: its own flags, then the CLI
    out = subprocess.run([net.args.broker, "--state-dir", net.hub.dir, "--admit",
                          swap_typo(checked_form(site.key), 30), "--name", "s"],
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 2 and "--admit" in out.stderr and "swapped" in out.stderr,
          "entrelab-broker --admit with a typo: %d %r" % (out.returncode, out.stderr))
    net.hub.start()
    site_checked = net.cli_ok(None, "init", os.path.join(net.tmp, "s2"), "--connect",
                              "tcp://127.0.0.1:1", "--broker-key", hub_checked,
                              json_out=True)["key_checked"]
    rc, _, err = net.cli(net.hub, "admit", swap_typo(site_checked, 40), "--name", "s2")
    check(rc == 2 and "admit" in err and "swapped" in err, "admit typo: %d %r" % (rc, err))
    check(net.cli_ok(net.hub, "sites", json_out=True)["sites"] == [], "a typo admitted a site")
    rc, out, err = net.cli(net.hub, "admit", site_checked, "--name", "s2")
    check(rc == 0 and site_checked in out and "note" not in err, "admit: %d %r %r" % (rc, out, err))
    rc, out, err = net.cli(net.hub, "admit", site.key, "--name", "s")
    check(rc == 0 and "note: admit" in err, "admit, older form: %d %r" % (rc, err))
    rc, _, err = net.cli(net.hub, "revoke", swap_typo(site_checked, 0))
    check(rc == 2 and "revoke" in err and "check characters" in err, "revoke typo: %d %r"
          % (rc, err))
    check([x["status"] for x in net.cli_ok(net.hub, "sites", json_out=True)["sites"]]
          == ["active", "active"], "a typo revoked a site")
    rc, out, err = net.cli(net.hub, "revoke", site_checked)
    check(rc == 0 and site_checked in out, "revoke: %d %r" % (rc, out))
    text = net.cli_ok(net.hub, "status")
    check(re.search(r"^Site:\s+%s$" % re.escape(hub_checked), text, re.M),
          "status shows the checked form: %s" % text.splitlines()[0])


def case_import_columns(net):
    """An equipment CSV without the columns that decide who may use a machine
    is refused, naming them, unless --defaults: then the machines import with
    the defaults of `equipment add` (bookable by the network, no training)."""
    from test_import import expect_refused, write
    n = start_network(net, ["a", "b"])
    a, b = n["a"], n["b"]
    bare = write(net, "bare.csv", "name,category\nTour,lathe\nLaser,laser_cutter\n")
    expect_refused(net, a, ["equipment", "import", bare],
                   r"bare\.csv:1: the header has no required_training, bookable_by columns: "
                   r".*--defaults")
    half = write(net, "half.csv", "name;category;required_training\nTour;lathe;lathe\n")
    expect_refused(net, a, ["equipment", "import", half],
                   r"half\.csv:1: the header has no bookable_by column:")
    check(net.cli_ok(a, "equipment", "list", json_out=True)["equipment"] == [],
          "a refused file imported something")
    labs = write(net, "labs.json", '[{"name": "L", "url": "https://www.fablabs.io/labs/l", '
                                   '"capabilities": "laser"}]')
    expect_refused(net, a, ["equipment", "import", labs, "--defaults"], "--defaults")
    r = net.cli_ok(a, "equipment", "import", bare, "--defaults", json_out=True)
    check((r["new"], r["skipped"]) == (2, 0), "import --defaults: %s" % r)
    net.cli_ok(a, "equipment", "add", "--id", "by-hand", "--name", "A la main",
               "--category", "lathe")
    wait_for("the machines at b", lambda: len(net.cli_ok(b, "equipment", "list",
                                                          json_out=True)["equipment"]) == 3)
    eq = {e["key"]: e for e in net.cli_ok(b, "equipment", "list", json_out=True)["equipment"]}
    for k in ("tour", "laser"):
        check((eq[k]["bookable_by"], eq[k]["required_training"])
              == (eq["by-hand"]["bookable_by"], eq["by-hand"]["required_training"])
              == ("network", ""), "defaults of %s: %s vs equipment add %s" % (k, eq[k],
                                                                              eq["by-hand"]))


def case_notify(net):
    """Type=notify: each daemon tells the service manager (the sd_notify
    protocol, a datagram socket in NOTIFY_SOCKET) READY=1 once it serves,
    RELOADING=1 then READY=1 around a SIGHUP reload, STOPPING=1 on SIGTERM."""
    path = os.path.join(net.tmp, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)
    os.environ["NOTIFY_SOCKET"] = path       # the daemons the harness spawns inherit it
    try:
        for site in (net.hub, net.add("a", admit=False)):
            site.start()                     # returns once its control socket answers
            got = sock.recv(4096).decode()
            check("READY=1" in got.split("\n"), "%s: first message %r" % (site.name, got))
            site.proc.send_signal(signal.SIGHUP)
            got = [sock.recv(4096).decode() for _ in range(2)]
            check("RELOADING=1" in got[0].split("\n") and "READY=1" in got[1].split("\n"),
                  "%s: around a reload %r" % (site.name, got))
            site.stop()
            got = sock.recv(4096).decode()
            check("STOPPING=1" in got.split("\n"), "%s: at SIGTERM %r" % (site.name, got))
    finally:
        del os.environ["NOTIFY_SOCKET"]
        sock.close()


def case_revoked_history(net):
    """A revoked site keeps, on every site, what it wrote while admitted —
    also on a site that joins after the revocation — and nothing later."""
    N = 5
    n = start_network(net, ["a", "b"])
    a, b = n["a"], n["b"]
    for i in range(N):
        net.cli_ok(a, "event", "add", "--uid", "a-%d" % i, "--summary", "écrit avant",
                   "--start", "2027-06-0%d 10:00" % (i + 1))
    written = {"a-%d" % i for i in range(N)}
    wait_for("a's events at b", lambda: written <= set(event_uids(net, b)))
    # a writes once more while the broker is away: the broker never holds it
    net.hub.stop()
    net.cli_ok(a, "event", "add", "--uid", "a-late", "--summary", "écrit après",
               "--start", "2027-07-01 10:00")
    a.stop()
    net.hub.start()
    net.cli_ok(net.hub, "revoke", "a")
    # c joins after the revocation
    c = net.add("c", admit=False)
    net.cli_ok(net.hub, "admit", c.key, "--name", "c")
    c.start()
    wait_for("c admitted", lambda: net.cli_ok(c, "status", json_out=True)["admitted"])
    wait_for("a's events at c", lambda: written <= set(event_uids(net, c)))
    sync = net.cli_ok(c, "status", json_out=True)["sync"]
    check(sync["rejected_by_reason"].get("revoked", 0) == 0,
          "c refused a's earlier entries: %s" % sync["rejected_by_reason"])
    # a comes back: refused at the handshake, its later entry reaches nobody
    failures = net.cli_ok(net.hub, "status", json_out=True)["sync"]["auth_failures"]
    a.start()
    wait_for("a refused by the broker", lambda: net.cli_ok(
        net.hub, "status", json_out=True)["sync"]["auth_failures"] > failures)
    net.cli_ok(b, "event", "add", "--uid", "b-marker", "--summary", "témoin",
               "--start", "2027-08-01 10:00")
    wait_for("b's marker at c", lambda: "b-marker" in event_uids(net, c))
    for s in (net.hub, b, c):
        uids = set(event_uids(net, s))
        check(written <= uids and "a-late" not in uids,
              "%s holds %s" % (s.name, sorted(u for u in uids if u.startswith("a-"))))


CASES = {"refused_then_admitted": case_refused_then_admitted, "hub_behind": case_hub_behind,
         "reload": case_reload, "typed_keys": case_typed_keys,
         "import_columns": case_import_columns, "notify": case_notify,
         "revoked_history": case_revoked_history}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--cli", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--broker", required=True)
    ap.add_argument("--ctl", help="el_testctl (optional)")
    ap.add_argument("--keep", action="store_true")
    return run_case(ap.parse_args(), CASES)


if __name__ == "__main__":
    sys.exit(main())
