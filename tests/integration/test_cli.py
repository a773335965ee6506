#!/usr/bin/env python3
"""Integration tests of the `entrelab` command line.

Real entrelab-broker / entrelab-node processes on loopback, set up and driven
only through the real CLI (`entrelab init`, `admit`, `invite`, `join`, ...),
each case in its own temp dir with free ports. Waits poll the CLI's own
output; nothing is asserted on timing. Daemons must stop cleanly on SIGTERM.

  test_cli.py --case NAME --cli BIN --node BIN --broker BIN [--keep]
Cases: bookings, erasure, invite, sharing, json_table, bad_input.
"""
import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import el_it  # noqa: E402
from el_it import Failure, check, free_port, wait_for  # noqa: E402


# a year that is always ahead: bookings refuse past slots
NY = str(time.gmtime().tm_year + 1)


class Site:
    """One daemon's state dir, made by `entrelab init`, and its process."""

    def __init__(self, net, name, broker=False, joined=False, timezone=None, extra=()):
        self.net = net
        self.name = name
        self.broker = broker
        self.dir = os.path.join(net.tmp, name)
        self.log = os.path.join(net.tmp, name + ".log")
        self.log_mark = 0           # where the log of the current run starts
        self.proc = None
        fast = ["--set", "reconnect_ivl_ms=100", "--set", "reconnect_ivl_max_ms=1000",
                "--set", "heartbeat_ivl_ms=500", "--set", "heartbeat_timeout_ms=3000",
                "--set", "durable=false", "--set", "log_level=info"]
        if timezone:
            fast += ["--timezone", timezone]
        if broker:
            self.port = free_port()
            args = ["init", self.dir, "--broker", "--listen",
                    "tcp://127.0.0.1:%d" % self.port] + fast
        elif joined:
            args = ["init", self.dir] + fast
        else:
            args = ["init", self.dir, "--connect", "tcp://127.0.0.1:%d" % net.hub.port,
                    "--broker-key", net.hub.key] + fast
        out = net.cli_ok(None, *(args + list(extra)), json_out=True)
        self.key = out["key"]
        self.conf = out["config"]

    def start(self):
        binary = self.net.args.broker if self.broker else self.net.args.node
        self.log_mark = os.path.getsize(self.log) if os.path.exists(self.log) else 0
        self.proc = el_it.spawn([binary, "--config", self.conf], self.log)
        wait_for("%s control socket" % self.name, lambda: self.try_status() is not None)

    def try_status(self):
        el_it.check_alive(self.proc, self.name, self.log)
        rc, out, _ = self.net.cli(self, "status", "--json")
        return json.loads(out) if rc == 0 else None

    def stop(self):
        if not self.proc:
            return
        try:
            el_it.stop(self.proc, self.name, self.log)
        finally:
            self.proc = None        # exited, or killed and reaped

    def kill(self):
        el_it.kill(self.proc)
        self.proc = None

    def data(self):
        with open(os.path.join(self.dir, "data.mdb"), "rb") as f:
            return f.read()

    def log_text(self):
        """The log of the current run (the file is appended to across restarts)."""
        with open(self.log, errors="replace") as f:
            f.seek(self.log_mark)
            return f.read()


class Net:
    def __init__(self, args, hub_extra=()):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="entrelab-cli-")
        self.sites = []
        self.hub = None
        self.hub = self.add("hub", broker=True, extra=hub_extra)

    def add(self, name, broker=False, joined=False, admit=True, kind=None, timezone=None,
            extra=()):
        s = Site(self, name, broker=broker, joined=joined, timezone=timezone, extra=extra)
        self.sites.append(s)
        if not broker and not joined and admit:
            extra = ["--kind", kind] if kind else []
            self.cli_ok(self.hub, "admit", s.key, "--name", name, *extra)
        return s

    def cli(self, site, *args, env=None):
        argv = [self.args.cli]
        if site is not None:
            argv += ["--node", site.dir]
        argv += [str(a) for a in args]
        e = dict(os.environ)
        e.pop("ENTRELAB_NODE", None)
        e["TZ"] = "Europe/Paris"
        if env:
            e.update(env)
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=e)
        return out.returncode, out.stdout, out.stderr

    def cli_ok(self, site, *args, json_out=False):
        if json_out:
            args = args + ("--json",)
        rc, out, err = self.cli(site, *args)
        if rc != 0:
            raise Failure("entrelab %s: exit %d: %s" % (" ".join(map(str, args)), rc, err.strip()))
        return json.loads(out) if json_out else out

    def stop_all(self):
        el_it.stop_each(reversed(self.sites))

    def kill_all(self):
        for s in self.sites:
            s.kill()

    def dump_logs(self):
        for s in self.sites:
            el_it.dump_log(s.name, s.log, 30)

    def cleanup(self, keep):
        el_it.cleanup(self.tmp, keep)


def bookings_of(net, site):
    return net.cli_ok(site, "bookings", "list", json_out=True)["bookings"]


def entries_held(net, site):
    st = net.cli_ok(site, "status", json_out=True)
    return st["store"]["entries"], st["store"]["origins"]


def heads(net, s):
    """{origin: seq} that site @s holds (el_testctl heads)."""
    check(net.args.ctl, "this case needs --ctl (el_testctl)")
    out = subprocess.run([net.args.ctl, "ipc://%s/control.sock" % s.dir, "heads"],
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, "heads of %s: %s" % (s.name, out.stderr))
    return {k: v["seq"] for k, v in json.loads(out.stdout).items()}


def window(net, s, *args):
    """(returncode, {"keys", "pages"} or None, stderr) of el_testctl window at @s."""
    check(net.args.ctl, "this case needs --ctl (el_testctl)")
    out = subprocess.run([net.args.ctl, "ipc://%s/control.sock" % s.dir, "window"]
                         + [str(x) for x in args], capture_output=True, text=True, timeout=60)
    doc = json.loads(out.stdout) if out.returncode == 0 else None
    return out.returncode, doc, out.stderr


def event_uids(net, site):
    return [e["uid"] for e in net.cli_ok(site, "event", "list", "--all", json_out=True)["events"]]


def wait_answered(net, sites, request_ids):
    """Every site holds an answer for every request id; returns {id: row} of the first site."""
    def done():
        rows = None
        for s in sites:
            got = {b["id"]: b for b in bookings_of(net, s)}
            if any(got.get(i, {}).get("status", "pending") == "pending" for i in request_ids):
                return None
            if rows is None:
                rows = got
            for i in request_ids:
                if (got[i]["status"], got[i]["reason"]) != (rows[i]["status"], rows[i]["reason"]):
                    raise Failure("sites disagree on %s" % i)
        return rows
    return wait_for("answers to %s on every site" % ", ".join(request_ids), done)


def start_network(net, names, central=None, zones=None):
    """@zones: {name: time zone} of sites not in the CLI's TZ (Europe/Paris)."""
    nodes = {}
    for n in names:
        nodes[n] = net.add(n, admit=False, timezone=(zones or {}).get(n))
    net.hub.start()
    for n, s in nodes.items():
        net.cli_ok(net.hub, "admit", s.key, "--name", n,
                   *(["--kind", "central"] if n == central else []))
    for s in nodes.values():
        s.start()
    for s in nodes.values():
        wait_for("%s admitted" % s.name, lambda s=s: net.cli_ok(s, "status", json_out=True)["admitted"])
    return nodes


# ------------------------------------------------------------ cases

def case_bookings(net):
    # slots next year: the owner declines slots in the past
    Y = str(time.gmtime().tm_year + 1)
    n = start_network(net, ["central", "village1", "village2"], central="central")
    c, v1, v2 = n["central"], n["village1"], n["village2"]
    net.cli_ok(c, "equipment", "add", "--id", "tour", "--name", "Tour Cazeneuve",
               "--category", "lathe", "--training", "lathe")
    net.cli_ok(c, "equipment", "add", "--id", "fraiseuse", "--name", "Fraiseuse",
               "--category", "cnc_mill", "--status", "maintenance")
    for s in (v1, v2):
        wait_for("equipment at %s" % s.name, lambda s=s: len(net.cli_ok(
            s, "equipment", "list", json_out=True)["equipment"]) == 2)
        net.cli_ok(s, "member", "add", "--id", "m-" + s.name, "--name", "Member " + s.name,
                   "--training", "lathe", *(["--sharing", "network"] if s is v2 else []))
    net.cli_ok(v1, "member", "add", "--id", "m-novice", "--name", "Novice")

    # two sites request overlapping slots on the same machine at the same moment
    procs = []
    for s, start, end in ((v1, Y + "-03-02 09:00", Y + "-03-02 12:00"),
                          (v2, Y + "-03-02 11:00", Y + "-03-02 13:00")):
        procs.append(subprocess.Popen(
            [net.args.cli, "--node", s.dir, "--json", "book", "tour", "--from", start,
             "--to", end, "--member", "m-" + s.name], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=dict(os.environ, TZ="Europe/Paris")))
    ids = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        check(p.returncode == 0, "book failed: %s" % err)
        ids.append(json.loads(out)["id"])
    rows = wait_answered(net, [net.hub, c, v1, v2], ids)
    statuses = sorted(rows[i]["status"] for i in ids)
    check(statuses == ["confirmed", "declined"], "overlap: got %s" % statuses)
    declined = [rows[i] for i in ids if rows[i]["status"] == "declined"][0]
    check(declined["reason"] == "slot overlaps a confirmed booking",
          "overlap reason: %r" % declined["reason"])

    # maintenance: declined with the reason
    r1 = net.cli_ok(v1, "book", "fraiseuse", "--from", Y + "-03-03 09:00", "--to",
                    Y + "-03-03 10:00", "--member", "m-village1", json_out=True)["id"]
    rows = wait_answered(net, [net.hub, c, v1, v2], [r1])
    check((rows[r1]["status"], rows[r1]["reason"]) == ("declined", "equipment in maintenance"),
          "maintenance: %s" % rows[r1])
    # what the owner would decline for certain is refused before any request
    # is written: an untrained member (or none named), a machine bookable by
    # its owner's site only; the owner itself books that one
    net.cli_ok(c, "equipment", "add", "--id", "imprimante", "--name", "Imprimante 3D",
               "--category", "3d_printer", "--bookable-by", "site")
    wait_for("imprimante at village1", lambda: len(net.cli_ok(
        v1, "equipment", "list", json_out=True)["equipment"]) == 3)
    before = len(bookings_of(net, v1))
    for eq, member, want in (
            ("tour", ["--member", "m-novice"],
             "member 'm-novice' lacks the training 'lathe' that 'tour' requires"),
            ("tour", [], "'tour' requires the training 'lathe': name a member who holds it"),
            ("imprimante", ["--member", "m-village1"],
             "'imprimante' is bookable by its owner's own site only")):
        rc, out, err = net.cli(v1, "book", eq, "--from", Y + "-03-04 09:00", "--to",
                               Y + "-03-04 10:00", *member)
        check(rc == 2 and want in err and len(err.strip().splitlines()) == 1,
              "book %s %s: %d %r" % (eq, member, rc, err))
    check(len(bookings_of(net, v1)) == before, "a refused book wrote a request")
    own = net.cli_ok(c, "book", "imprimante", "--from", Y + "-03-04 09:00", "--to",
                     Y + "-03-04 10:00", "--wait", "30", json_out=True)
    check(own["status"] == "confirmed", "the owner's own booking: %s" % own)

    # past slots and expired memberships are refused by the requester's CLI
    net.cli_ok(v1, "member", "add", "--id", "m-old", "--name", "Ancien", "--training", "lathe",
               "--valid-until", "2020-01-01")
    net.cli_ok(v1, "member", "add", "--id", "m-leaving", "--name", "Partant", "--training",
               "lathe", "--valid-until", Y + "-03-10")
    for args, want in (
            (["--from", "2020-01-12 09:00", "--to", "2020-01-12 10:00"], "the slot is in the past"),
            (["--from", Y + "-08-01 10:00", "--to", Y + "-08-01 11:00", "--member", "m-old"],
             "membership ended"),
            (["--from", Y + "-08-01 10:00", "--to", Y + "-08-01 11:00", "--member", "m-leaving"],
             "membership ends before the slot")):
        rc, out, err = net.cli(v1, "book", "tour", *args)
        check(rc == 2 and want in err and len(err.strip().splitlines()) == 1,
              "book %s: %d %r" % (" ".join(args), rc, err))

    # a request made while the owner is offline is answered when it returns;
    # one whose slot is over by then is declined as in the past. That one is
    # written as the CLI writes a request (el_testctl book) for a slot that
    # ended a minute ago, which the CLI itself refuses to send
    c.stop()
    r3 = net.cli_ok(v2, "book", "tour", "--from", Y + "-03-05 09:00", "--to",
                    Y + "-03-05 10:00", "--member", "m-village2", json_out=True)
    check(r3["status"] == "pending", "owner offline, yet %s" % r3)
    check(net.args.ctl, "the bookings case needs --ctl (el_testctl)")
    now_us = int(time.time() * 1e6)
    late_key = "r-late-%d" % os.getpid()
    out = subprocess.run([net.args.ctl, "ipc://%s/control.sock" % v2.dir, "book", late_key,
                          c.key, "tour", str(now_us - 3600 * 10**6), str(now_us - 60 * 10**6),
                          "m-village2", "lathe"], capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, "el_testctl book: %s" % out.stderr.strip())
    r_late = "%s:%s" % (v2.key, late_key)
    wait_for("requests at the broker", lambda: {r3["id"], r_late} <= {
        b["id"] for b in bookings_of(net, net.hub)})
    c.start()
    rows = wait_answered(net, [net.hub, c, v1, v2], [r3["id"], r_late])
    check(rows[r3["id"]]["status"] == "confirmed", "offline owner: %s" % rows[r3["id"]])
    check((rows[r_late]["status"], rows[r_late]["reason"]) == ("declined", "slot in the past"),
          "late request: %s" % rows[r_late])
    # the requester withdraws it: the owner cancels, every site sees it
    rc, _, err = net.cli(v1, "bookings", "withdraw", r3["id"])
    check(rc == 2 and "another site" in err, "withdraw by another site: %d %r" % (rc, err))
    net.cli_ok(v2, "bookings", "withdraw", r3["id"])
    for s in (net.hub, c, v1, v2):
        wait_for("cancel at %s" % s.name, lambda s=s: [
            (b["status"], b["reason"]) for b in bookings_of(net, s) if b["id"] == r3["id"]]
            == [("cancelled", "request withdrawn")])

    # manual policy: requests wait for the coordinator
    pol = net.cli_ok(c, "bookings", "policy", "manual", json_out=True)
    check(pol["policy"] == "manual", "policy %s" % pol)
    r4 = net.cli_ok(v1, "book", "tour", "--from", Y + "-03-06 09:00", "--to",
                    Y + "-03-06 10:00", "--member", "m-village1", json_out=True)["id"]
    wait_for("request at the owner", lambda: any(b["id"] == r4 for b in bookings_of(net, c)))
    # an entry the owner writes now comes after any answer it gave r4 on
    # receiving it: once v1 holds that entry, it would hold the answer too
    net.cli_ok(c, "event", "add", "--uid", "ev-after-r4", "--summary", "Après r4",
               "--start", Y + "-03-06 18:00")
    wait_for("the owner's next entry at v1", lambda: "ev-after-r4" in event_uids(net, v1))
    for s in (c, v1):
        check([b for b in bookings_of(net, s) if b["id"] == r4][0]["status"] == "pending",
              "manual policy answered by itself (seen at %s)" % s.name)
    rc, _, err = net.cli(v1, "bookings", "confirm", r4)
    check(rc != 0 and "another site" in err, "a non-owner confirmed: %d %s" % (rc, err))
    net.cli_ok(c, "bookings", "decline", r4, "--reason", "closed that day")
    rows = wait_answered(net, [net.hub, c, v1, v2], [r4])
    check((rows[r4]["status"], rows[r4]["reason"]) == ("declined", "closed that day"),
          "manual decline: %s" % rows[r4])
    # an untrained member's request (written as an older CLI would, which
    # did not check): confirming it by hand needs --force and says why
    novice_key = "r-novice-%d" % os.getpid()
    start_us = int(time.time() * 1e6) + 400 * 24 * 3600 * 10**6
    out = subprocess.run([net.args.ctl, "ipc://%s/control.sock" % v1.dir, "book", novice_key,
                          c.key, "tour", str(start_us), str(start_us + 3600 * 10**6),
                          "m-novice"], capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, "el_testctl book: %s" % out.stderr.strip())
    r_novice = "%s:%s" % (v1.key, novice_key)
    wait_for("novice request at the owner",
             lambda: any(b["id"] == r_novice for b in bookings_of(net, c)))
    rc, _, err = net.cli(c, "bookings", "confirm", r_novice)
    check(rc != 0 and "member 'm-novice' lacks the required training 'lathe'" in err
          and "--force" in err, "confirm untrained: %d %r" % (rc, err))
    check([b["status"] for b in bookings_of(net, c) if b["id"] == r_novice] == ["pending"],
          "a refused confirm answered the request")
    net.cli_ok(c, "bookings", "confirm", r_novice, "--force")
    rows = wait_answered(net, [c, v1], [r_novice])
    check(rows[r_novice]["status"] == "confirmed", "forced confirm: %s" % rows[r_novice])
    # switching back to auto answers what waits
    r5 = net.cli_ok(v2, "book", "tour", "--from", Y + "-03-07 09:00", "--to",
                    Y + "-03-07 10:00", "--member", "m-village2", json_out=True)["id"]
    wait_for("request at the owner", lambda: any(b["id"] == r5 for b in bookings_of(net, c)))
    pol = net.cli_ok(c, "bookings", "policy", "auto", json_out=True)
    check(pol["answered"] == 1, "switching to auto answered %s" % pol)
    rows = wait_answered(net, [v2], [r5])
    check(rows[r5]["status"] == "confirmed", "auto again: %s" % rows[r5])

    # the owner sees who asks: the member's name where their site shares it
    # (v2 shares m-village2 with the network, v1 keeps m-village1 to itself)
    # and the trainings the request attests
    wait_for("m-village2 at the owner", lambda: any(
        m.get("name") == "Member village2" for m in net.cli_ok(
            c, "member", "list", json_out=True)["members"]))
    at_c = {b["id"]: b for b in bookings_of(net, c)}
    check((at_c[r5]["member"], at_c[r5]["member_name"], at_c[r5]["member_trainings"]) ==
          ("m-village2", "Member village2", ["lathe"]), "shared member: %s" % at_c[r5])
    check((at_c[r4]["member_name"], at_c[r4]["member_trainings"]) == ("", ["lathe"]),
          "member kept to its site: %s" % at_c[r4])
    check((at_c[r_novice]["member"], at_c[r_novice]["member_name"],
           at_c[r_novice]["member_trainings"]) == ("m-novice", "", []),
          "untrained member: %s" % at_c[r_novice])
    at_v1 = {b["id"]: b for b in bookings_of(net, v1)}
    check(at_v1[r4]["member_name"] == "Member village1", "own member: %s" % at_v1[r4])
    rc, out, err = net.cli(c, "bookings", "list", "--equipment", "tour")
    line = [l for l in out.splitlines() if r5.split(":")[1] in l]
    check(rc == 0 and "NAME" in out and "TRAININGS" in out and len(line) == 1
          and "Member village2" in line[0] and "lathe" in line[0],
          "bookings list table: %d %r" % (rc, out))


def case_erasure(net):
    n = start_network(net, ["a", "b", "c"])
    a, b, c = n["a"], n["b"], n["c"]
    secret = "Zéphyrine Quintabelle-%d" % os.getpid()
    needle = secret.encode()
    net.cli_ok(a, "member", "add", "--id", "m-z", "--name", secret, "--training", "lathe",
               "--sharing", "network")
    net.cli_ok(a, "member", "add", "--id", "m-keep", "--name", "Kept Member", "--sharing",
               "network")
    net.cli_ok(a, "member", "add", "--id", "m-private", "--name", "Private Member")
    net.cli_ok(b, "event", "add", "--uid", "ev-b", "--summary", "Portes ouvertes",
               "--start", "2027-04-01 10:00", "--end", "2027-04-01 18:00")
    net.cli_ok(a, "equipment", "add", "--id", "imp", "--name", "Imprimante", "--category",
               "3d_printer")
    everyone = [net.hub, a, b, c]
    for s in everyone:
        wait_for("member at %s" % s.name, lambda s=s: len(net.cli_ok(
            s, "member", "list", json_out=True)["members"]) == (3 if s is a else 2))
        check(needle in s.data(), "%s does not hold the name before erasure" % s.name)
    c.stop()                                       # c is offline during the erasure
    net.cli_ok(a, "member", "remove", "m-z")
    for s in (net.hub, a, b):
        wait_for("erasure at %s" % s.name, lambda s=s: needle not in s.data())
    check(needle in c.data(), "offline c lost the name before it came back")
    c.start()
    wait_for("erasure at c after its return", lambda: needle not in c.data())
    for s in everyone:
        members = net.cli_ok(s, "member", "list", json_out=True)["members"]
        want = ["m-keep", "m-private"] if s is a else ["m-keep"]    # `site` level stays home
        check([m["key"] for m in members] == want, "%s members: %s" % (s.name, members))
    # every other record still verifies: a new site catches up the whole log,
    # stubs included, and every site holds the same heads and records
    d = net.add("d")
    d.start()
    totals = {}
    for s in everyone + [d]:
        wait_for("%s caught up" % s.name, lambda s=s: entries_held(net, s) == entries_held(net, a))
        totals[s.name] = entries_held(net, s)
        ev = net.cli_ok(s, "event", "list", "--all", json_out=True)["events"]
        eq = net.cli_ok(s, "equipment", "list", json_out=True)["equipment"]
        check([e["uid"] for e in ev] == ["ev-b"] and [e["key"] for e in eq] == ["imp"],
              "%s records: %s %s" % (s.name, ev, eq))
    check(needle not in d.data(), "the new site received the erased name")
    # the stores hold personal data: owner-only files, also after a compaction
    for s in everyone + [d]:
        mode = os.stat(os.path.join(s.dir, "data.mdb")).st_mode & 0o777
        check(mode == 0o600, "%s data.mdb mode %o" % (s.name, mode))


def case_sharing(net):
    """Sharing levels hold on the wire: a `site` member's payload never leaves
    its home site (others hold its stub), `network` members replicate, and
    lowering a level erases the wider copies. Every chain still verifies."""
    n = start_network(net, ["a", "b", "c"])
    a, b, c = n["a"], n["b"], n["c"]
    tag = os.getpid()
    private = ("Privée Sitelevel-%d" % tag, "private-%d@example.org" % tag)
    shared = ("Partagée Netlevel-%d" % tag, "shared-%d@example.org" % tag)
    later = ("Narrowed Later-%d" % tag, "narrowed-%d@example.org" % tag)
    net.cli_ok(a, "member", "add", "--id", "m-private", "--name", private[0], "--contact",
               private[1])                                        # default: site
    net.cli_ok(a, "member", "add", "--id", "m-shared", "--name", shared[0], "--contact",
               shared[1], "--sharing", "network")
    net.cli_ok(a, "member", "add", "--id", "m-later", "--name", later[0], "--contact",
               later[1], "--sharing", "network")
    net.cli_ok(b, "event", "add", "--uid", "ev-b", "--summary", "Portes ouvertes",
               "--start", "2027-04-01 10:00", "--end", "2027-04-01 18:00")
    everyone = [net.hub, a, b, c]
    for s in everyone:
        wait_for("%s caught up" % s.name, lambda s=s: entries_held(net, s) == entries_held(net, a)
                 and entries_held(net, s) == entries_held(net, b))
    for s in everyone:
        data = s.data()
        for text in shared + later:
            check(text.encode() in data, "%s lacks the network-level %r" % (s.name, text))
        for text in private:
            check((text.encode() in data) == (s is a), "%s: site-level %r %s" % (
                s.name, text, "missing at home" if s is a else "left its home site"))
    # c starts later and catches up from the broker: stubs only for the private member
    d = net.add("d")
    d.start()
    wait_for("d caught up", lambda: entries_held(net, d) == entries_held(net, a))
    check(private[0].encode() not in d.data() and shared[0].encode() in d.data(),
          "catch-up of a new site")
    # lowering a level erases the copies beyond it
    doc = net.cli_ok(a, "member", "update", "m-later", "--sharing", "site", json_out=True)
    check(doc["narrowed"] is True, "narrowed %s" % doc)
    for s in everyone + [d]:
        if s is a:
            continue
        wait_for("narrowing at %s" % s.name, lambda s=s: later[0].encode() not in s.data()
                 and later[1].encode() not in s.data())
    check(later[0].encode() in a.data(), "the home site lost the narrowed member")
    members_a = [m["key"] for m in net.cli_ok(a, "member", "list", json_out=True)["members"]]
    check(sorted(members_a) == ["m-later", "m-private", "m-shared"], "a: %s" % members_a)
    for s in (b, c, d):
        got = [m["key"] for m in net.cli_ok(s, "member", "list", json_out=True)["members"]]
        check(got == ["m-shared"], "%s members: %s" % (s.name, got))
    # widening again replicates the record
    net.cli_ok(a, "member", "update", "m-later", "--sharing", "network")
    wait_for("widened at b", lambda: later[0].encode() in b.data())
    # every chain verifies: the same heads (origin -> seq, hash) everywhere
    for s in everyone + [d]:
        wait_for("%s caught up" % s.name, lambda s=s: entries_held(net, s) == entries_held(net, a))
    if net.args.ctl:
        def heads(s):
            out = subprocess.run([net.args.ctl, "ipc://%s/control.sock" % s.dir, "heads"],
                                 capture_output=True, text=True, timeout=60)
            check(out.returncode == 0, "heads of %s: %s" % (s.name, out.stderr))
            return json.loads(out.stdout)
        ref = heads(a)
        for s in everyone + [d]:
            wait_for("%s same heads as a" % s.name, lambda s=s: heads(s) == ref)


def forge_token(join_endpoint, broker_key_text, secret, expires_us):
    """An InviteToken (proto/el_cli.proto) encoded by hand, for an unknown secret."""
    def varint(v):
        out = b""
        while True:
            b = v & 0x7F
            v >>= 7
            if v:
                out += bytes([b | 0x80])
            else:
                return out + bytes([b])

    def field(num, wire, payload):
        return varint(num << 3 | wire) + payload

    def blob(num, data):
        return field(num, 2, varint(len(data)) + data)
    key = base64.urlsafe_b64decode(broker_key_text + "=")
    msg = (field(1, 0, varint(1)) + blob(2, join_endpoint.encode()) + blob(3, key)
           + blob(4, secret) + field(5, 1, expires_us.to_bytes(8, "little")))
    return "elinv1." + base64.urlsafe_b64encode(msg).decode().rstrip("=")


def case_invite(net):
    n = start_network(net, ["a"])
    a = n["a"]
    net.cli_ok(a, "event", "add", "--uid", "ev-a", "--summary", "Repair café",
               "--start", "2027-05-01 14:00", "--end", "2027-05-01 17:00")
    join_port = free_port()
    inv = net.cli_ok(net.hub, "invite", "--name", "Nouveau", "--join-listen",
                     "tcp://127.0.0.1:%d" % join_port, json_out=True)
    tok = inv["token"]
    check(tok.startswith("elinv1."), "token %r" % tok)
    newsite = net.add("newsite", joined=True, timezone="America/New_York")
    rc, out, err = net.cli(newsite, "status")
    check(rc != 0, "a daemon answered before join")
    j = net.cli_ok(newsite, "join", tok, json_out=True)
    check(j["network"] == net.hub.key and j["name"] == "Nouveau", "join reply %s" % j)
    newsite.start()
    wait_for("newsite admitted", lambda: net.cli_ok(newsite, "status", json_out=True)["admitted"])
    wait_for("newsite syncing", lambda: [e["uid"] for e in net.cli_ok(
        newsite, "event", "list", "--all", json_out=True)["events"]] == ["ev-a"])
    check(any(s["name"] == "Nouveau" and s["key"] == newsite.key and s["status"] == "active"
              for s in net.cli_ok(a, "sites", json_out=True)["sites"]), "directory lacks the new site")
    # the joining site said its time zone: the broker published it in its Site record
    check([s["timezone"] for s in net.cli_ok(a, "sites", json_out=True)["sites"]
           if s["key"] == newsite.key] == ["America/New_York"], "the new site's zone")

    # an invite never renames an admitted site, and stays usable after the refusal
    inv3 = net.cli_ok(net.hub, "invite", "--name", "Renamed", "--join-listen",
                      "tcp://127.0.0.1:%d" % join_port, json_out=True)
    rc, out, err = net.cli(newsite, "join", inv3["token"])
    check(rc == 1 and "already admitted as 'Nouveau'" in err and len(err.strip().splitlines()) == 1,
          "join by an admitted site: %d %r" % (rc, err))
    check([s["name"] for s in net.cli_ok(net.hub, "sites", json_out=True)["sites"]
           if s["key"] == newsite.key] == ["Nouveau"], "an admitted site was renamed")

    # a used token is refused
    other = net.add("other", joined=True)
    rc, out, err = net.cli(other, "join", tok)
    check(rc == 1 and "already used" in err and len(err.strip().splitlines()) == 1,
          "used token: %d %r" % (rc, err))
    # an expired token is refused
    inv2 = net.cli_ok(net.hub, "invite", "--ttl", "1s", json_out=True)
    time.sleep(1.2)
    rc, out, err = net.cli(other, "join", inv2["token"])
    check(rc != 0 and "expired" in err, "expired token: %d %r" % (rc, err))
    # an unknown secret gets no answer at all
    fake = forge_token(inv["join_endpoint"], net.hub.key, os.urandom(32),
                       int(time.time() * 1e6) + 3600 * 1000000)
    rc, out, err = net.cli(other, "--timeout", "2", "join", fake)
    check(rc == 1 and "no answer" in err, "unknown invite: %d %r" % (rc, err))
    # and not for want of a connection: the handshake passed, the broker read
    # the request and refused the secret it does not know
    wait_for("the broker refusing the unknown invite", lambda: re.search(
        r"event=invite_refused site=%s reason=unknown_invite" % re.escape(other.key[:8]),
        net.hub.log_text()))
    check(b"broker_key" not in open(other.conf, "rb").read(), "a refused join wrote the config")

    # revocation: the site's connections close, its new entries are rejected
    net.cli_ok(net.hub, "revoke", "Nouveau")
    def hub_sees_down():
        peers = net.cli_ok(net.hub, "status", json_out=True)["peers"]
        mine = [p for p in peers if p["key"] == newsite.key]
        return mine and not any(p["connected"] for p in mine)
    wait_for("revoked site disconnected", hub_sees_down)
    wait_for("revocation at a", lambda: any(
        s["key"] == newsite.key and s["status"] == "revoked"
        for s in net.cli_ok(a, "sites", json_out=True)["sites"]))
    rc, _, err = net.cli(net.hub, "revoke", "Nouveau")
    check(rc == 2 and "already revoked" in err, "revoke twice: %d %r" % (rc, err))
    # a revoked site cannot come back with an invite (not even a fresh one)
    rc, out, err = net.cli(newsite, "join", inv3["token"])
    check(rc == 1 and "was revoked" in err and len(err.strip().splitlines()) == 1,
          "join by a revoked site: %d %r" % (rc, err))
    check([s["status"] for s in net.cli_ok(net.hub, "sites", json_out=True)["sites"]
           if s["key"] == newsite.key] == ["revoked"], "a revoked site came back")
    # ... while the invite still works for a new site
    third = net.add("third", joined=True)
    j = net.cli_ok(third, "join", inv3["token"], json_out=True)
    check(j["name"] == "Renamed", "the refused invite no longer works: %s" % j)
    # the revoked site learns it (the broker's Error), says so, and refuses writes
    wait_for("newsite knows it is revoked", lambda: net.cli_ok(
        newsite, "status", json_out=True)["revoked"])
    st = net.cli_ok(newsite, "status", json_out=True)
    check(st["admitted"] is False and st["admission"] == "revoked" and st["revoked_since"],
          "revoked status %s" % {k: st[k] for k in ("admitted", "admission", "revoked_since")})
    check(re.search(r"^Admitted:\s+revoked$", net.cli_ok(newsite, "status"), re.M),
          "status text does not say revoked")
    before = entries_held(net, a)
    rc, out, err = net.cli(newsite, "event", "add", "--uid", "ev-revoked", "--summary",
                           "after revocation", "--start", "2027-05-02 10:00")
    check(rc != 0 and "was revoked by its network's broker" in err
          and len(err.strip().splitlines()) == 1, "write at a revoked site: %d %r" % (rc, err))
    # it remembers across a restart
    newsite.stop()
    newsite.start()
    check(net.cli_ok(newsite, "status", json_out=True)["admission"] == "revoked",
          "revocation forgotten after a restart")
    rc, out, err = net.cli(newsite, "event", "add", "--uid", "ev-revoked", "--summary",
                           "after revocation", "--start", "2027-05-02 10:00")
    check(rc != 0 and "revoked" in err, "write after restart: %d %r" % (rc, err))
    # a fresh entry of another site proves the network still flows past the revoked one
    net.cli_ok(net.hub, "admit", a.key, "--name", "a")
    wait_for("broker entry at a", lambda: entries_held(net, a)[0] > before[0])
    for s in (net.hub, a):
        uids = [e["uid"] for e in net.cli_ok(s, "event", "list", "--all", json_out=True)["events"]]
        check("ev-revoked" not in uids, "%s accepted the revoked site's entry" % s.name)


# Table columns -> JSON fields, as rendered by the CLI (el_cli_out.h).
def table_rows(text):
    lines = [l for l in text.splitlines() if l.strip()]
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"(?:(?<=  )|^)\S", header)]
    names = [header[s:].split("  ")[0].strip() for s in starts]
    # time columns say their zone: "START (Europe/Paris)" is column START
    names = [re.sub(r" \([A-Za-z0-9_/+-]+\)$", "", n) for n in names]
    rows = []
    for l in lines[1:]:
        cells = []
        for i, s in enumerate(starts):
            e = starts[i + 1] if i + 1 < len(starts) else None
            cells.append(l[s:e].strip() if e else l[s:].strip())
        rows.append(dict(zip(names, cells)))
    return rows


def local_table_time(us):
    import datetime
    import zoneinfo
    t = datetime.datetime.fromtimestamp(us / 1e6, zoneinfo.ZoneInfo("Europe/Paris"))
    return t.strftime("%Y-%m-%d %H:%M" + (":%S" if t.second else ""))


def case_json_table(net):
    n = start_network(net, ["a", "b"])
    a, b = n["a"], n["b"]
    net.cli_ok(a, "equipment", "add", "--id", "laser", "--name", "Découpe laser",
               "--category", "laser_cutter", "--training", "laser_cutter")
    net.cli_ok(a, "equipment", "add", "--id", "old", "--name", "Vieille imprimante",
               "--category", "3d_printer", "--valid-for", "1s")
    net.cli_ok(a, "event", "add", "--uid", "ev1", "--summary", "Atelier découpe",
               "--start", "2027-06-01 14:00", "--end", "2027-06-01 17:00", "--category",
               "workshop", "--location", "Salle 2")
    # weekly, across the spring clock change: 18:30 local each time
    net.cli_ok(a, "event", "add", "--uid", "weekly", "--summary", "Soirée fablab",
               "--start", "2027-03-20 18:30", "--duration", "2h", "--category", "open_day",
               "--rrule", "FREQ=WEEKLY;COUNT=3")
    net.cli_ok(b, "member", "add", "--id", "m1", "--name", "Léa", "--training", "laser_cutter",
               "--valid-until", "%d-06-30" % (time.gmtime().tm_year + 2), "--role", "volunteer", "--sharing", "network")
    wait_for("member at a", lambda: net.cli_ok(a, "member", "list", json_out=True)["members"])
    wait_for("equipment at b", lambda: len(net.cli_ok(b, "equipment", "list",
                                                      json_out=True)["equipment"]) == 2)
    y = str(time.gmtime().tm_year + 1)
    net.cli_ok(b, "book", "laser", "--from", y + "-06-02 10:00", "--to", y + "-06-02 11:00",
               "--member", "m1", "--wait", "30")
    time.sleep(1.1)     # the 1 s status validity runs out: `unknown`
    listings = [
        (["sites"], "sites", {"NAME": "name", "KEY": "key", "KIND": "kind", "STATUS": "status"}),
        (["equipment", "list"], "equipment", {"KEY": "key", "NAME": "name", "CATEGORY": "category",
                                              "STATUS": "status", "OWNER": "owner_name"}),
        (["event", "list", "--all"], "events", {"UID": "uid", "SUMMARY": "summary",
                                                "CATEGORY": "category", "START": "start_us",
                                                "END": "end_us"}),
        (["member", "list"], "members", {"KEY": "key", "NAME": "name", "TRAININGS": "trainings",
                                         "VALID UNTIL": "valid_until_us"}),
        (["bookings", "list"], "bookings", {"EQUIPMENT": "equipment", "STATUS": "status",
                                            "REQUEST": "request_key", "START": "start_us"}),
    ]
    for site in (a, b):
        for args, field, cols in listings:
            doc = net.cli_ok(site, *args, json_out=True)
            text = net.cli_ok(site, *args)
            table = table_rows(text)
            rows = doc[field]
            # every time column's title says the zone of its times
            times = [c for c, k in cols.items() if k.endswith("_us")]
            header = text.splitlines()[0]
            check(all(c + " (Europe/Paris)" in header for c in times),
                  "%s: header %r lacks the zone" % (" ".join(args), header))
            check(len(rows) == len(table) and rows, "%s: %d JSON rows, %d table rows" %
                  (" ".join(args), len(rows), len(table)))
            for j, t in zip(rows, table):
                for col, key in cols.items():
                    v = j[key]
                    if key.endswith("_us"):
                        v = local_table_time(v) if v else "-"
                    elif isinstance(v, list):
                        v = ", ".join(v) if v else "-"
                    check(t[col] == (v if v != "" else "-"), "%s: column %s %r vs JSON %r" %
                          (" ".join(args), col, t[col], v))
    weekly = [e for e in net.cli_ok(b, "event", "list", "--all", "--category", "open_day",
                                    json_out=True)["events"]]
    check([e["start"] for e in weekly] == ["2027-03-20T18:30:00+01:00", "2027-03-27T18:30:00+01:00",
                                           "2027-04-03T18:30:00+02:00"], "weekly: %s" %
          [e["start"] for e in weekly])
    check(all(e["uid"] == "weekly" and e["end_us"] - e["start_us"] == 7200 * 10**6
              for e in weekly), "weekly rows %s" % weekly)
    rc, _, err = net.cli(a, "event", "add", "--summary", "x", "--start", "2027-01-01 10:00",
                         "--rrule", "FREQ=SOMETIMES")
    check(rc == 2 and "RRULE" in err, "bad rrule: %d %r" % (rc, err))
    eq = {e["key"]: e for e in net.cli_ok(b, "equipment", "list", json_out=True)["equipment"]}
    check(eq["old"]["status"] == "unknown" and eq["old"]["status_recorded"] == "available",
          "expired status: %s" % eq["old"])
    check(eq["laser"]["status"] == "available", "laser %s" % eq["laser"])
    # record views: every labelled line matches its JSON field
    shows = [(["event", "show", "ev1"], "event", {"Summary": "summary", "Location": "location",
                                                  "UID": "uid", "Status": "status"}),
             (["equipment", "show", "laser"], "equipment", {"Name": "name", "Category": "category",
                                                            "Required training": "required_training"})]
    for args, field, labels in shows:
        doc = net.cli_ok(b, *args, json_out=True)[field]
        text = net.cli_ok(b, *args)
        got = dict(re.match(r"([^:]+):\s*(.*)$", l).groups() for l in text.splitlines() if ":" in l)
        for label, key in labels.items():
            check(got[label] == doc[key], "%s: %s %r vs %r" % (" ".join(args), label, got[label],
                                                              doc[key]))
    st = net.cli_ok(a, "status", json_out=True)
    text = net.cli_ok(a, "status")
    check(("Site:" in text and st["self"] in text and st["network"] in text), "status text")
    peers = table_rows(text.split("\n\n")[1])
    check(len(peers) == len(st["peers"]) and all(p["STATE"] == ("connected" if j["connected"]
                                                                 else "down")
                                                 for p, j in zip(peers, st["peers"])),
          "status peers %s vs %s" % (peers, st["peers"]))
    # every write's --json parses
    for args in (["event", "update", "ev1", "--location", "Salle 3"],
                 ["event", "cancel", "ev1"],
                 ["equipment", "status", "laser", "maintenance", "--valid-for", "2h"],
                 ["equipment", "update", "laser", "--rate", "12.5"],
                 ["member", "update", "m1", "--sharing", "network"],
                 ["bookings", "policy"]):
        site = b if args[0] == "member" else a
        doc = net.cli_ok(site, *args, json_out=True)
        check(isinstance(doc, dict) and doc, "%s: %r" % (" ".join(args), doc))
    doc = net.cli_ok(net.hub, "admit", b.key, "--name", "b", "--town", "Celles", json_out=True)
    check(doc["key"] == b.key and doc["name"] == "b" and doc["seq"] > 0, "admit --json %s" % doc)
    wait_for("town at a", lambda: [s["town"] for s in net.cli_ok(a, "sites", json_out=True)["sites"]
                                   if s["key"] == b.key] == ["Celles"])
    wait_for("cancel at b", lambda: net.cli_ok(b, "event", "show", "ev1",
                                               json_out=True)["event"]["status"] == "cancelled")
    # two sites use the same UID: event show (point lookups at every origin)
    # says so and names the way out; --site picks one
    net.cli_ok(b, "event", "add", "--uid", "ev1", "--summary", "Autre atelier",
               "--start", "2027-06-03 14:00", "--duration", "1h")
    wait_for("b's ev1 at a", lambda: sorted(e["summary"] for e in net.cli_ok(
        a, "event", "list", "--all", json_out=True)["events"] if e["uid"] == "ev1")
        == ["Atelier découpe", "Autre atelier"])
    rc, _, err = net.cli(a, "event", "show", "ev1")
    check(rc == 2 and "2 sites hold an event 'ev1'" in err and "--site" in err,
          "show of a shared UID: %d %r" % (rc, err))
    shown = net.cli_ok(a, "event", "show", "ev1", "--site", b.key, json_out=True)["event"]
    check(shown["summary"] == "Autre atelier" and shown["origin"] == b.key, "--site: %s" % shown)
    # a long window of a frequent series: every occurrence (more than one
    # expansion holds), and a series begun years ago shows in today's window
    net.cli_ok(b, "event", "add", "--uid", "daily", "--summary", "Permanence",
               "--start", "2027-01-01 09:00", "--duration", "1h", "--rrule", "FREQ=DAILY")
    net.cli_ok(b, "event", "add", "--uid", "since-2012", "--summary", "Repair café",
               "--start", "2012-01-05 18:00", "--duration", "2h", "--rrule", "FREQ=WEEKLY")
    rows = net.cli_ok(b, "event", "list", "--from", "2027-01-01", "--to", "2029-01-01",
                      json_out=True)["events"]
    daily = [r["start_us"] for r in rows if r["uid"] == "daily"]
    check(len(daily) == 731 and len(set(daily)) == 731 and daily == sorted(daily),
          "daily over two years: %d occurrences listed" % len(daily))
    weekly = [r for r in rows if r["uid"] == "since-2012"]
    check(len(weekly) == 104, "weekly since 2012, two years of it: %d rows" % len(weekly))
    # the list reads the store's date index: a single event begun weeks
    # before the window that still runs shows, one over before it and one
    # after it do not
    for uid, start, length in (("expo", "2026-12-10 10:00", "40d"),
                               ("over", "2026-12-20 10:00", "2h"),
                               ("after", "2027-03-01 10:00", "2h")):
        net.cli_ok(b, "event", "add", "--uid", uid, "--summary", uid, "--start", start,
                   "--duration", length)
    rows = net.cli_ok(b, "event", "list", "--from", "2027-01-01", "--to", "2027-02-01",
                      json_out=True)["events"]
    uids = set(r["uid"] for r in rows)
    check("expo" in uids and "over" not in uids and "after" not in uids
          and "daily" in uids and "since-2012" in uids,
          "window January 2027: %s" % sorted(uids))
    # entrelab wait: a's daemon answers once it holds b's write (no polling);
    # a seq b has not reached is not there after --timeout, and says so
    seq = net.cli_ok(b, "event", "add", "--uid", "waited", "--summary", "w", "--start",
                     "2027-01-20 10:00", "--duration", "1h", json_out=True)["seq"]
    got = net.cli_ok(a, "wait", b.key, seq, json_out=True)
    check(got["reached"] and got["seq"] >= seq and got["site"] == b.key, "wait: %s" % got)
    check("waited" in [e["uid"] for e in net.cli_ok(a, "event", "list", "--from", "2027-01-20",
                                                    "--to", "2027-01-21", json_out=True)["events"]],
          "after wait, a lists b's event")
    rc, out, err = net.cli(a, "--timeout", "2", "wait", b.key, seq + 1000)
    check(rc == 1 and "not all held within 1.5 s" in err and "held: up to %d" % seq in err,
          "wait for an entry never written: %d %r" % (rc, err))
    rc, out, err = net.cli(a, "wait", b.key, "-3")
    check(rc == 2 and "SEQ" in err, "wait with a bad seq: %d %r" % (rc, err))
    # the daemon's pages of one record resume at their cursor: the same keys
    jan, feb = 1798761600000000, 1801440000000000  # 2027-01-01, 2027-02-01 UTC
    rc1, one, err1 = window(net, b, "event", jan, feb, 1)
    rc2, all_, err2 = window(net, b, "event", jan, feb, 1000)
    check(rc1 == 0 and rc2 == 0 and one["keys"] == all_["keys"] and one["pages"] > 3
          and all_["pages"] == 1 and "expo" in all_["keys"],
          "window pages: %r %r %s %s" % (one, all_, err1, err2))
    # more than a listing holds (20,000): the window's end is halved until it
    # fits, and stderr says so
    net.cli_ok(b, "event", "add", "--uid", "minutely", "--summary", "Capteur",
               "--start", "2030-01-01 00:00", "--duration", "1m", "--rrule", "FREQ=MINUTELY")
    rc, out, err = net.cli(b, "--json", "event", "list", "--from", "2030-01-01",
                           "--to", "2030-01-31")
    minutely = [r for r in json.loads(out)["events"] if r["uid"] == "minutely"] if rc == 0 else []
    check(rc == 0 and len(minutely) == 10800 and "more than 20000 occurrences" in err
          and "first 7 days" in err, "minutely over 30 days: %d rows, %d %r"
          % (len(minutely), rc, err))


def case_bad_input(net):
    n = start_network(net, ["a", "b"])
    a, b = n["a"], n["b"]
    net.cli_ok(a, "equipment", "add", "--id", "tour", "--name", "Tour", "--category", "lathe")
    net.cli_ok(a, "event", "add", "--uid", "ev1", "--summary", "X", "--start", "2027-01-01 10:00")
    net.cli_ok(a, "member", "add", "--id", "m1", "--name", "M")
    wait_for("equipment at b", lambda: net.cli_ok(b, "equipment", "list", json_out=True)["equipment"])
    # forged window requests get a clear error, and the daemon stays up
    for args in (["event", 10, 5, 100],                       # to before from
                 ["member", 0, 10, 100],                      # not a timed kind
                 ["event", 0, 10, 100, "00" * 50],            # cursor of no kind
                 ["event", 0, 10, 100, "02" + "00" * 8],      # cursor shorter than a key
                 ["event", 0, 10, 100, "05" * 300]):          # cursor longer than any key
        rc, doc, err = window(net, a, *args)
        check(rc == 1 and "invalid" in err.lower(), "forged window %r: %d %r" % (args, rc, err))
    check(a.try_status() is not None, "a alive after forged windows")
    cases = [
        (a, ["event", "add", "--summary", "x", "--start", "2027-13-01 10:00"], "bad date"),
        (a, ["event", "add", "--summary", "x", "--start", "tomorrow"], "bad date"),
        (a, ["event", "add", "--summary", "x", "--start", "2027-01-02 10:00", "--end",
             "2027-01-02 09:00"], "end before start"),
        (a, ["event", "add", "--summary", "x", "--start", "2027-01-02 10:00", "--site", "Atlantis"],
         "unknown site"),
        (a, ["event", "add", "--summary", "x", "--start", "2027-03-28 02:30"], "does not exist"),
        (a, ["event", "add", "--start", "2027-01-02 10:00"], "needs --summary"),
        (a, ["event", "add", "--uid", "ev1", "--summary", "x", "--start", "2027-01-02 10:00"],
         "exists"),
        (a, ["event", "update", "nope", "--summary", "y"], "unknown event"),
        (a, ["event", "update", "ev1", "--end", "2026-01-01 00:00"], "end before start"),
        (a, ["event", "cancel", "nope"], "unknown event"),
        (a, ["event", "list", "--site", "Atlantis"], "unknown site"),
        (a, ["event", "list", "--from", "2027-02-01", "--to", "2027-01-01"], "end before start"),
        (a, ["event", "show", "nope"], "unknown event"),
        (a, ["evnt", "list"], "unknown command 'evnt'; did you mean 'event'?"),
        (a, ["event", "lst"], "did you mean 'event list'?"),
        (a, ["event", "list", "--form", "2027-01-01"], "unknown option --form; did you mean --from?"),
        (a, ["equipment", "add", "--name", "x", "--category", "spaceship"], "category"),
        (a, ["equipment", "add", "--name", "x", "--category", "chainsaw"],
         "is not one of 3d_printer, 3d_scanner, laser_cutter, cnc_mill, cnc_router, pcb_mill, "
         "lathe, vinyl_cutter, electronics_bench, sewing_machine, embroidery_machine, other"),
        (a, ["equipment", "remove", "nope"], "unknown equipment"),
        (b, ["equipment", "remove", "tour"], "unknown equipment"),      # another site's machine
        (a, ["equipment", "list", "--status", "bogus"], "unknown (expired)"),
        (a, ["event", "remove", "nope"], "unknown event"),
        (b, ["event", "remove", "ev1"], "unknown event"),
        (a, ["equipment", "add", "--name", "Tour", "--category", "lathe"], "exists"),
        (a, ["equipment", "status", "nope", "available"], "unknown equipment"),
        (a, ["equipment", "status", "tour", "broken"], "bad status"),
        (a, ["equipment", "update", "tour", "--valid-until", "2020-01-01"], "past"),
        (a, ["equipment", "list", "--site", "Atlantis"], "unknown site"),
        (a, ["equipment", "show", "nope"], "unknown equipment"),
        (b, ["book", "nope", "--from", NY + "-01-05 10:00", "--to", NY + "-01-05 11:00"],
         "unknown equipment"),
        (b, ["book", "tour", "--from", NY + "-01-05 10:00", "--to", NY + "-01-05 09:00"],
         "end before start"),
        (b, ["book", "tour", "--from", NY + "-02-30 10:00", "--to", NY + "-03-01 09:00"], "bad date"),
        (b, ["book", "tour", "--from", NY + "-01-05 10:00", "--to", NY + "-01-05 11:00",
             "--member", "ghost"], "unknown member"),
        (b, ["book", "tour", "--from", NY + "-01-05 10:00", "--to", NY + "-01-05 11:00",
             "--site", "Atlantis"], "unknown site"),
        (b, ["bookings", "list", "--site", "Atlantis"], "unknown site"),
        (b, ["bookings", "list", "--status", "maybe"], "--status"),
        (a, ["bookings", "confirm", "r-nope"], "unknown booking request"),
        (a, ["bookings", "policy", "sometimes"], "auto or manual"),
        (a, ["member", "add", "--role", "x"], "needs --name"),
        (a, ["member", "add", "--id", "m1", "--name", "again"], "exists"),
        (a, ["member", "update", "ghost", "--name", "x"], "unknown member"),
        (a, ["member", "remove", "ghost"], "unknown member"),
        (a, ["member", "add", "--name", "x", "--sharing", "world"], "site, network or federation"),
        (a, ["member", "list", "--site", "Atlantis"], "unknown site"),
        (net.hub, ["admit", "not-a-key"], "not a site key"),
        (net.hub, ["revoke", "Atlantis"], "unknown site"),
        (net.hub, ["invite", "--ttl", "soon"], "bad duration"),
        (a, ["admit", b.key], "on the broker"),
        (a, ["join", "garbage"], "not an invite token"),
        (a, ["event", "add", "--summary", "x", "--start", "2027-01-02 10:00", "--colour", "red"],
         "unknown option"),
        (a, ["event", "show"], "missing"),
        (a, ["frobnicate"], "unknown command"),
    ]
    before = {s.name: heads(net, s) for s in (net.hub, a, b)}
    for site, args, want in cases:
        rc, out, err = net.cli(site, *args)
        lines = err.strip().splitlines()
        check(rc != 0, "%s: exit 0" % " ".join(args))
        check(len(lines) == 1 and lines[0].startswith("entrelab: ") and want in lines[0],
              "%s: reason %r (want %r)" % (" ".join(args), err, want))
        check(out == "", "%s: stdout %r" % (" ".join(args), out))
        rc2, out2, err2 = net.cli(site, "--json", *args)
        check(rc2 == rc and json.loads(out2)["error"] == lines[0][len("entrelab: "):],
              "%s --json: %d %r" % (" ".join(args), rc2, out2))
    rc, _, err = net.cli(None, "init", a.dir)
    check(rc == 2 and "already holds" in err, "init over a site: %d %r" % (rc, err))
    rc, _, err = net.cli(None, "status")
    check(rc == 2 and "--node" in err, "no --node: %d %r" % (rc, err))
    # init: never the broker's secret key, and a failed init leaves no directory behind
    fresh = os.path.join(net.tmp, "fresh")
    rc, _, err = net.cli(None, "init", fresh, "--connect", "tcp://127.0.0.1:1", "--broker-key",
                         os.path.join(net.hub.dir, "key"))
    check(rc == 2 and "is a secret key file" in err and not os.path.exists(fresh),
          "init with the broker's secret: %d %r" % (rc, err))
    rc, _, err = net.cli(None, "init", fresh, "--set", "log_level=chatty")
    check(rc == 2 and not os.path.exists(fresh), "failed init left %s: %d %r" % (fresh, rc, err))
    rc, out, _ = net.cli(None, "--version")
    check(rc == 0 and re.match(r"entrelab \d+\.\d+\.\d+ \(protocol \d+\)$", out.strip()),
          "--version: %d %r" % (rc, out))
    # nothing was written anywhere: one marker entry written by each site after
    # the bad input reaches the others after anything it wrote before
    for s in (net.hub, a, b):
        net.cli_ok(s, "event", "add", "--uid", "marker-" + s.name, "--summary", "marker",
                   "--start", NY + "-01-06 10:00")
    markers = sorted("marker-" + s.name for s in (net.hub, a, b))
    for s in (net.hub, a, b):
        wait_for("the markers at %s" % s.name, lambda s=s: sorted(
            u for u in event_uids(net, s) if u.startswith("marker-")) == markers)
    after = {s.name: heads(net, s) for s in (net.hub, a, b)}
    for s in (net.hub, a, b):
        want = dict(before[s.name])
        for w in (net.hub, a, b):
            want[w.key] = want.get(w.key, 0) + 1        # its marker, and nothing else
        check(after[s.name] == want, "bad input wrote entries (heads at %s: %s -> %s)"
              % (s.name, before[s.name], after[s.name]))
    for s in (net.hub, a, b):
        net.cli_ok(s, "event", "remove", "marker-" + s.name)
    for s in (net.hub, a, b):
        wait_for("the markers gone at %s" % s.name, lambda s=s: not [
            u for u in event_uids(net, s) if u.startswith("marker-")])

    # removal: a machine or an event added by mistake leaves every site
    doc = net.cli_ok(a, "equipment", "add", "--id", "oops", "--name", "Oops", "--category",
                     "laser", json_out=True)                       # a synonym
    wait_for("oops at b", lambda: [e["category"] for e in net.cli_ok(
        b, "equipment", "list", json_out=True)["equipment"] if e["key"] == "oops"]
        == ["laser_cutter"])
    net.cli_ok(a, "equipment", "remove", "oops")
    wait_for("oops gone at b", lambda: [e["key"] for e in net.cli_ok(
        b, "equipment", "list", json_out=True)["equipment"]] == ["tour"])
    net.cli_ok(a, "event", "cancel", "ev1")
    rc, _, err = net.cli(a, "event", "cancel", "ev1")
    check(rc == 2 and "already cancelled" in err, "cancel twice: %d %r" % (rc, err))
    net.cli_ok(a, "event", "remove", "ev1")
    wait_for("ev1 gone at b", lambda: net.cli_ok(b, "event", "list", "--all",
                                                 json_out=True)["events"] == [])

    # a wait pending when its daemon stops is answered at once, not left to time out
    e = dict(os.environ, TZ="Europe/Paris")
    e.pop("ENTRELAB_NODE", None)
    waiter = subprocess.Popen([net.args.cli, "--node", a.dir, "--timeout", "60", "wait", b.key,
                               "99999"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=e)
    time.sleep(1)
    t0 = time.monotonic()
    a.stop()
    out, err = waiter.communicate(timeout=30)
    check(waiter.returncode == 1 and "stopping" in err and time.monotonic() - t0 < 20,
          "wait at a stopping daemon: %d %r" % (waiter.returncode, err))


def case_permissions(net):
    """A user without permission on the control socket is told so at once, not
    "no daemon" nor a 10 s wait: as root the CLI runs as nobody (setpriv), first
    with a folder on the path it may not search, then with search allowed and
    only the socket's own mode (0660) in the way; as another user the socket's
    mode is taken away."""
    n = start_network(net, ["a"])
    a = n["a"]
    sock = os.path.join(a.dir, "control.sock")
    as_root = os.geteuid() == 0
    if as_root and not shutil.which("setpriv"):
        print("skip: root without setpriv cannot run the CLI as another user")
        sys.exit(77)

    def refused(what):
        argv = [net.args.cli, "--node", "ipc://" + sock, "status"]
        if as_root:
            argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + argv
        t0 = time.monotonic()
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        took = time.monotonic() - t0
        want = "permission denied on %s (is your user in the daemon's group?)" % sock
        check(out.returncode == 1 and want in out.stderr and took < 5,
              "%s: exit %d after %.1f s: %s" % (what, out.returncode, took, out.stderr.strip()))

    if as_root:
        refused("a folder on the path not searchable")
        folders = [net.tmp, a.dir]
        modes = [os.stat(d).st_mode & 0o7777 for d in folders]
        try:
            for d, m in zip(folders, modes):
                os.chmod(d, m | 0o011)
            check(os.stat(sock).st_mode & 0o006 == 0, "the control socket is open to others")
            refused("the socket's mode")
        finally:
            for d, m in zip(folders, modes):
                os.chmod(d, m)
    else:
        mode = os.stat(sock).st_mode & 0o7777
        try:
            os.chmod(sock, 0)
            refused("the socket's mode")
        finally:
            os.chmod(sock, mode)
    # its owner still gets in
    check(net.cli_ok(a, "status", json_out=True)["admitted"], "a's status after the checks")

    # a configuration file or state folder its group or others may write is
    # refused at start, with a log line that names it and says how to fix it
    a.stop()
    binary = net.args.node
    for path, mode in ((a.conf, 0o620), (a.conf, 0o606), (a.dir, 0o777)):
        old = os.stat(path).st_mode & 0o7777
        os.chmod(path, mode)
        try:
            out = subprocess.run([binary, "--config", a.conf], capture_output=True, text=True,
                                 timeout=30)
        finally:
            os.chmod(path, old)
        check(out.returncode != 0 and re.search(
            r"error event=unsafe_permissions path=%s .*mode 0%o.*chmod go-w"
            % (re.escape(path), mode), out.stderr),
              "a started with %s at mode %o: exit %d: %s"
              % (path, mode, out.returncode, out.stderr.strip()))
    a.start()
    check(net.cli_ok(a, "status", json_out=True)["admitted"], "a's status after a restart")


CASES = {"permissions": case_permissions, "bookings": case_bookings, "erasure": case_erasure, "invite": case_invite,
         "sharing": case_sharing,
         "json_table": case_json_table, "bad_input": case_bad_input}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--cli", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--broker", required=True)
    ap.add_argument("--ctl", help="el_testctl, to compare heads (optional)")
    ap.add_argument("--keep", action="store_true")
    return run_case(ap.parse_args(), CASES)


def run_case(args, cases):
    """Run case args.case of @cases on a fresh Net; stop every daemon cleanly.
    @return the exit status: 0 passed, 1 failed (with the daemons' logs)."""
    return el_it.run_net(Net(args), "cli " + args.case, lambda net: cases[args.case](net),
                         args.keep)


if __name__ == "__main__":
    sys.exit(main())
