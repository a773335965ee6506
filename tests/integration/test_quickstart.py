#!/usr/bin/env python3
"""Runs deploy/quickstart.sh on the programs already built and checks what it
shows: the agenda starts today and holds demo events of all three sites from the
coming week on (the demo season moved by whole weeks to today), the machine list
shows the central site's lathe, the village's booking of it, two days from today,
is confirmed, `status` shows the broker link connected; every daemon it started
is gone afterwards.

  test_quickstart.py --script deploy/quickstart.sh --build-dir DIR [--real DIR]
                     [--faketime OFFSET]
With --real, the real-world files of that folder (EL_SHARED_DATA) are imported too
(--ics every .ics, --equipment the fablabs.io export); exit 77 when absent.
With --faketime, the script and every program it starts run with the clock
moved by OFFSET (libfaketime, e.g. +730d); exit 77 when faketime is absent.
"""
import argparse
import datetime
import glob
import os
import re
import shutil
import subprocess
import sys

TIMEOUT_S = 400

SITES = ["La Forge Numérique", "L'Atelier du Moulin", "Le Fab'Rémy"]


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def sections(out):
    """{title: text} of the '== title' sections."""
    parts = re.split(r"^== (.*)$", out, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def section(secs, prefix):
    got = [v for k, v in secs.items() if k.startswith(prefix)]
    check(len(got) == 1, "no section '%s' in %s" % (prefix, list(secs)))
    return got[0]


def daemons_using(path):
    """pids whose command line mentions @path (our daemons' configs live there)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().decode(errors="replace")
        except OSError:
            continue
        if path in cmd and "entrelab" in cmd:
            found.append(int(pid))
    return found


def clock(args):
    """(argv prefix, env) of the clock the script runs with: the real one, or
    the one moved by --faketime."""
    env = dict(os.environ, TZ="Europe/Paris")
    env.pop("ENTRELAB_NODE", None)
    if not args.faketime:
        return [], env
    # libfaketime comes after ASan's runtime in the preload order: let it
    env["ASAN_OPTIONS"] = ":".join(o for o in (env.get("ASAN_OPTIONS"),
                                               "verify_asan_link_order=0") if o)
    return ["faketime", "-f", args.faketime], env


def now(args):
    """The script's "now", a datetime in Europe/Paris."""
    prefix, env = clock(args)
    out = subprocess.run(prefix + ["date", "+%Y-%m-%dT%H:%M:%S%z"], capture_output=True,
                         text=True, env=env, check=True).stdout.strip()
    return datetime.datetime.strptime(out, "%Y-%m-%dT%H:%M:%S%z")


def run(args, extra):
    prefix, env = clock(args)
    argv = prefix + ["bash", args.script, "--no-build", "--build-dir", args.build_dir] + extra
    before = now(args)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, env=env)
    after = now(args)
    if p.returncode != 0:
        print(p.stdout[-6000:])
        print(p.stderr[-4000:])
    check(p.returncode == 0, "quickstart exited %d" % p.returncode)
    m = re.search(r"^== A network in (\S+)", p.stdout, flags=re.M)
    check(m, "quickstart did not say where its network lives")
    tmp = m.group(1)
    check(not os.path.exists(tmp), "quickstart left %s behind" % tmp)
    check(not daemons_using(tmp), "daemons still running: %s" % daemons_using(tmp))
    return p.stdout, (before, after)


def check_demo(out, when):
    """@when: the clock's (before, after) the run."""
    before, after = when
    secs = sections(out)
    net = section(secs, "A network in")
    check(re.search(r"^site +\S+  Le Fab'Rémy \(joined with an invite\)$", net, re.M)
          and len(re.findall(r"^site .*\(admitted\)$", net, re.M)) == 2, "sites: %s" % net)
    m = re.search(r"^demo season moved by (-?\d+) days", net, re.M)
    check(m and int(m.group(1)) % 7 == 0, "the demo season was not moved by whole weeks")
    # the agenda starts today; the moved season starts within the coming week
    m = re.search(r"^== The network's agenda, (\S+) to (\S+), ", out, re.M)
    check(m, "no agenda title")
    first = datetime.date.fromisoformat(m.group(1))
    check(first in (before.date(), after.date()), "agenda from %s, today is %s" % (first, before))
    agenda = section(secs, "The network's agenda")
    rows = [l for l in agenda.splitlines()[2:] if l.strip()]
    check(len(rows) >= 6, "agenda has %d rows" % len(rows))
    starts = sorted(datetime.date.fromisoformat(r[:10]) for r in rows)
    check(first <= starts[0] < first + datetime.timedelta(days=8),
          "agenda from %s shows events from %s on" % (first, starts[0]))
    for s in SITES:
        check(any(s in r for r in rows), "agenda lacks events of %s:\n%s" % (s, agenda))
    machines = section(secs, "The network's machines")
    lathe = [l for l in machines.splitlines() if "tour-conventionnel" in l]
    check(len(lathe) == 1 and lathe[0].startswith("La Forge Numérique")
          and " lathe " in lathe[0], "lathe row: %s" % lathe)
    for s in SITES:
        check(s in machines, "machine list lacks %s" % s)
    booking = section(secs, "L'Atelier du Moulin books the lathe of La Forge Numérique")
    m = re.search(r"^booking confirmed: tour-conventionnel at La Forge Numérique, (\S+) to (\S+),"
                  r" for L'Atelier du Moulin$", booking, flags=re.M)
    check(m, "booking: %s" % booking)
    start = datetime.datetime.fromisoformat(m.group(1))
    check(start > after and start.date() == first + datetime.timedelta(days=2),
          "booking at %s, the agenda starts %s, now is %s" % (start, first, after))
    # the village's web endpoint served the network's calendar feed
    web = section(secs, "The network on the web, served by L'Atelier du Moulin")
    m = re.search(r"^calendar +webcal://127\.0\.0\.1:\d+/agenda\.ics +\((\d+) events\)$", web,
                  flags=re.M)
    check(m and int(m.group(1)) >= 6, "web section: %s" % web)
    status = section(secs, "entrelab status, at L'Atelier du Moulin")
    check(re.search(r"^Admitted:\s+yes$", status, flags=re.M), "status: not admitted")
    peers = [l for l in status.splitlines() if l.startswith("broker:")]
    check(len(peers) == 1 and " connected " in peers[0], "status peers: %s" % peers)


def check_federated(out):
    """The second network: linked, our events and federation-bookable laser seen
    from its village, a booking of our laser confirmed across the networks, none
    of our members there, none of our network-only machines."""
    secs = sections(out)
    fed = section(secs, "The two networks federate")
    check(re.search(r"Fablabs du Vercors .* connected ", fed), "federation list: %s" % fed)
    agenda = section(secs, "Both networks' agenda")
    for s in ("FabLab de Villard", "L'Établi de Lans", "La Forge Numérique (R"):
        check(s in agenda, "the federated agenda lacks %s:\n%s" % (s, agenda))
    machines = section(secs, "The machines L'Établi de Lans sees")
    check("decoupe-laser" in machines, "our federation-bookable laser is not seen")
    check("tour-conventionnel" not in machines, "a machine bookable by our network only crossed")
    booking = section(secs, "L'Établi de Lans books the laser")
    check(re.search(r"^booking confirmed: decoupe-laser at La Forge Numérique", booking, re.M),
          "cross-network booking: %s" % booking)
    members = section(secs, "Members of our network seen from")
    check(re.search(r"\b0 of ours\b", members), "our members crossed: %s" % members)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--script", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--real", default=None)
    ap.add_argument("--faketime", default=None, help="clock offset for libfaketime, e.g. +730d")
    ap.add_argument("--federated", action="store_true", help="with a second, federated network")
    args = ap.parse_args()
    if args.faketime and not shutil.which("faketime"):
        print("SKIP: faketime is absent (apt-get install faketime): the quickstart with the "
              "clock at %s not run" % args.faketime)
        return 77
    try:
        if args.real is None:
            out, when = run(args, ["--federated"] if args.federated else [])
            check_demo(out, when)
            if args.federated:
                check_federated(out)
            for what in ("event import", "equipment import", "member import"):
                n = out.count(what)    # the Vercors network imports its own demo data too
                check(n >= 3 if args.federated else n == 3, "%s ran %d times" % (what, n))
            check(not re.search(r"skipped: [1-9]|, [1-9]\d* skipped", out),
                  "the demo data has problems")
        else:
            if not os.path.isdir(args.real):
                print("SKIP: %s is absent (real test data)" % args.real)
                return 77
            ics = sorted(glob.glob(os.path.join(args.real, "ics", "*.ics")))
            labs = os.path.join(args.real, "labs", "fablabs_io_france_2017.json")
            check(ics and os.path.exists(labs), "real data incomplete in %s" % args.real)
            out, when = run(args, ["--ics"] + ics + ["--equipment", labs])
            check_demo(out, when)
            mine = section(sections(out), "Your files, imported at La Forge Numérique")
            for f in ics:
                # each file imported with a report, or refused with its line and reason
                name = re.escape(os.path.basename(f))
                imported = re.search(r"^  event import \S*/%s: \d+ new" % name, mine, re.M)
                refused = re.search(r"^  entrelab: \S*/%s:\d+: " % name, mine, re.M)
                check(imported or refused, "no report for %s" % f)
            check(re.search(r"^  entrelab: \S*libical_fuzz_zday_malformed\.ics:\d+: ", mine, re.M),
                  "the hostile file was not refused with a line")
            m = re.search(r"^  equipment import \S*fablabs_io_france_2017\.json: (\d+) new, "
                          r"\d+ updated, \d+ unchanged, (\d+) skipped", mine, re.M)
            check(m and int(m.group(1)) > 100 and int(m.group(2)) > 0, "fablabs.io import: %s"
                  % (m and m.group(0)))
            check(re.search(r"fablabs_io_france_2017\.json:\d+: .*no capabilities", mine),
                  "fablabs.io bad rows not reported by line")
            machines = section(sections(out), "The network's machines")
            check(re.search(r"\S+/three_d_printing ", machines), "fablabs.io machines not listed")
        print("ok quickstart%s%s%s" % (" (real data)" if args.real else "",
                                       " (federated)" if args.federated else "",
                                       " (clock %s)" % args.faketime if args.faketime else ""))
        return 0
    except (Failure, subprocess.TimeoutExpired) as e:
        print("FAIL quickstart: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
