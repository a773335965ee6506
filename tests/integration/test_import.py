#!/usr/bin/env python3
"""Integration tests of `entrelab event import|export`, `equipment import` and
`member import`: real daemons on loopback, driven by the real CLI
(the network helpers are test_cli.py's, the process helpers el_it.py's).

  test_import.py --case NAME --cli BIN --node BIN --broker BIN [--real DIR] [--keep]
Cases: events, calendar (time zones, all-day dates, impossible values),
ics_independent (a year exported, checked by python3-icalendar + dateutil;
exits 77 without them), equipment, members; equipment_real and members_real import the
real files of --real DIR (../shared/data/real) and exit 77 when it is absent.
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_cli import NY, check, entries_held, run_case, start_network, wait_for  # noqa: E402

CAL_HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//entrelab tests//EN\r\n"
CAL_TAIL = "END:VCALENDAR\r\n"


def vevent(uid, summary, dtstart, extra="", sequence=0, dtend=None):
    lines = ["BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20261101T120000Z",
             "DTSTART;TZID=Europe/Paris:" + dtstart]
    if dtend:
        lines.append("DTEND;TZID=Europe/Paris:" + dtend)
    lines += ["SEQUENCE:%d" % sequence, "SUMMARY:" + summary]
    lines += [l for l in extra.split("\n") if l]
    lines.append("END:VEVENT")
    return "\r\n".join(lines) + "\r\n"


def write(net, name, text):
    path = os.path.join(net.tmp, name)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return path


def imp(net, site, *args):
    return net.cli_ok(site, *args, json_out=True)


def expect_refused(net, site, args, want):
    """Exit 2, one line on stderr holding @want, nothing written anywhere."""
    before = entries_held(net, site)
    rc, out, err = net.cli(site, *args)
    lines = err.strip().splitlines()
    check(rc == 2, "%s: exit %d (%r)" % (" ".join(args), rc, err))
    check(len(lines) == 1 and lines[0].startswith("entrelab: ") and re.search(want, lines[0]),
          "%s: reason %r (want %r)" % (" ".join(args), err, want))
    check(out == "", "%s: stdout %r" % (" ".join(args), out))
    check(entries_held(net, site) == before, "%s wrote entries" % " ".join(args))


def summaries(net, site, uid=None):
    evs = net.cli_ok(site, "event", "list", "--all", json_out=True)["events"]
    return [e for e in evs if uid is None or e["uid"] == uid]


# ------------------------------------------------------------ cases

def case_events(net):
    n = start_network(net, ["a", "b"])
    a, b = n["a"], n["b"]
    base = [
        vevent("plain@t", "Réunion publique d'information 🛠", "20270112T183000",
               dtend="20270112T200000"),
        # weekly at 18:30 Paris across the March 2027 clock change
        vevent("weekly@t", "Atelier libre", "20270318T183000", "RRULE:FREQ=WEEKLY;COUNT=3",
               dtend="20270318T213000"),
        # RDATE only, no RRULE: three dates
        vevent("rdate@t", "Permanence", "20270201T100000",
               "RDATE;TZID=Europe/Paris:20270208T100000,20270215T100000",
               dtend="20270201T120000"),
        # and across the October 2027 one
        vevent("weekly-oct@t", "Soirée", "20271021T183000", "RRULE:FREQ=WEEKLY;COUNT=3",
               dtend="20271021T200000"),
    ]
    path = write(net, "season.ics", CAL_HEAD + "".join(base) + CAL_TAIL)
    r = imp(net, a, "event", "import", path)
    check((r["new"], r["updated"], r["unchanged"], r["skipped"]) == (4, 0, 0, 0), "first %s" % r)
    check(r["write_requests"] == 1 and r["last_seq"] - r["first_seq"] == 3,
          "4 events in one WriteRequest: %s" % r)

    # re-import: nothing changes, nothing is written
    before = entries_held(net, a)
    r = imp(net, a, "event", "import", path)
    check((r["new"], r["updated"], r["unchanged"]) == (0, 0, 4) and r["write_requests"] == 0,
          "re-import %s" % r)
    check(entries_held(net, a) == before, "re-import wrote entries")

    # b sees them; recurrences expanded in Europe/Paris (RRULE and RDATE alike)
    wait_for("events at b", lambda: len({e["uid"] for e in summaries(net, b)}) == 4)
    weekly = [e["start"] for e in summaries(net, b, "weekly@t")]
    check(weekly == ["2027-03-18T18:30:00+01:00", "2027-03-25T18:30:00+01:00",
                     "2027-04-01T18:30:00+02:00"], "weekly across DST: %s" % weekly)
    weekly = [e["start"] for e in summaries(net, b, "weekly-oct@t")]
    check(weekly == ["2027-10-21T18:30:00+02:00", "2027-10-28T18:30:00+02:00",
                     "2027-11-04T18:30:00+01:00"], "weekly across DST end: %s" % weekly)
    rdates = [e["start"] for e in summaries(net, b, "rdate@t")]
    check(rdates == ["2027-02-01T10:00:00+01:00", "2027-02-08T10:00:00+01:00",
                     "2027-02-15T10:00:00+01:00"], "RDATE expansion: %s" % rdates)
    plain = summaries(net, b, "plain@t")
    check([e["summary"] for e in plain] == ["Réunion publique d'information 🛠"],
          "UTF-8 kept: %s" % plain)

    # an edited event (higher SEQUENCE) updates; a later LAST-MODIFIED too
    edited = [vevent("plain@t", "Réunion publique (salle des fêtes)", "20270112T183000",
                     sequence=1, dtend="20270112T200000"),
              vevent("weekly@t", "Atelier libre du jeudi", "20270318T183000",
                     "RRULE:FREQ=WEEKLY;COUNT=3\nLAST-MODIFIED:20261201T090000Z",
                     dtend="20270318T213000"),
              base[2], base[3]]
    path2 = write(net, "season-v2.ics", CAL_HEAD + "".join(edited) + CAL_TAIL)
    r = imp(net, a, "event", "import", path2)
    check((r["new"], r["updated"], r["unchanged"]) == (0, 2, 2) and r["write_requests"] == 1,
          "edited %s" % r)
    wait_for("edit at b", lambda: [e["summary"] for e in summaries(net, b, "plain@t")]
             == ["Réunion publique (salle des fêtes)"])
    wait_for("edit at b", lambda: {e["summary"] for e in summaries(net, b, "weekly@t")}
             == {"Atelier libre du jeudi"})
    # the older file again: no-op (RFC 5546 order), the edit stays
    r = imp(net, a, "event", "import", path)
    check((r["new"], r["updated"], r["unchanged"]) == (0, 0, 4), "older file %s" % r)

    # a broken file is refused whole, with its line, and nothing is written
    broken = CAL_HEAD + vevent("new1@t", "Nouveau", "20270301T100000") + \
        "BEGIN:VEVENT\r\nUID:new2@t\r\nDTSTART:20270302T100000Z\r\nSUMMARY:x\x01y\r\nEND:VEVENT\r\n" + CAL_TAIL
    bad = write(net, "broken.ics", broken)
    expect_refused(net, a, ["event", "import", bad], r"broken\.ics:1[0-9]: .*control character")
    nesting = write(net, "nesting.ics", CAL_HEAD + "BEGIN:VEVENT\r\nUID:x\r\nEND:VTODO\r\n" + CAL_TAIL)
    expect_refused(net, a, ["event", "import", nesting], r"nesting\.ics:\d+: ")
    expect_refused(net, a, ["event", "import", write(net, "empty.ics", "")], r"empty\.ics")
    expect_refused(net, a, ["event", "import", os.path.join(net.tmp, "missing.ics")],
                   r"missing\.ics: No such file")
    check(not [e for e in summaries(net, a) if e["uid"].startswith("new")],
          "a refused file left events")

    # a broken event inside a good file is skipped and reported; the rest import
    mixed = CAL_HEAD + vevent("good1@t", "Bon", "20270305T100000") + \
        "BEGIN:VEVENT\r\nUID:nodate@t\r\nSUMMARY:Sans date\r\nEND:VEVENT\r\n" + \
        vevent("good2@t", "Bon aussi", "20270306T100000") + CAL_TAIL
    mpath = write(net, "mixed.ics", mixed)
    r = imp(net, a, "event", "import", mpath)
    check((r["new"], r["skipped"]) == (2, 1), "mixed %s" % r)
    check([(p["line"], p["skipped"]) for p in r["problems"]] == [(11, True)] and
          "DTSTART" in r["problems"][0]["reason"], "mixed problems %s" % r["problems"])
    rc, out, err = net.cli(a, "event", "import", mpath)
    check(rc == 0 and "mixed.ics:11: " in out and "0 new" in out, "table report %r %r" % (out, err))

    # --site: hosted by another site of the network
    sp = write(net, "hosted.ics", CAL_HEAD + vevent("hosted@t", "Chez b", "20270310T100000")
               + CAL_TAIL)
    imp(net, a, "event", "import", sp, "--site", "b")
    wait_for("hosted at b", lambda: [e["site_name"] for e in summaries(net, b, "hosted@t")] == ["b"])

    # export: RFC 5545 text that imports back to the same events
    wait_for("all events at b", lambda: len({e["uid"] for e in summaries(net, b)}) == 7)
    exp = os.path.join(net.tmp, "network.ics")
    raw = subprocess.run([net.args.cli, "--node", b.dir, "event", "export"], capture_output=True,
                         timeout=120, env=dict(os.environ, TZ="Europe/Paris"))
    rc, out, err = raw.returncode, raw.stdout.decode("utf-8"), raw.stderr.decode()
    check(rc == 0 and out.startswith("BEGIN:VCALENDAR\r\n") and out.endswith("END:VCALENDAR\r\n"),
          "export: %d %r" % (rc, err))
    check(all(len(l.encode()) <= 75 for l in out.split("\r\n")), "a line over 75 octets")
    check(out.count("BEGIN:VEVENT") == 7 and "BEGIN:VTIMEZONE" in out
          and "TZID:Europe/Paris" in out, "export content")
    r = net.cli_ok(b, "event", "export", "--output", exp, json_out=True)
    check(r["events"] == 7, "export --output %s" % r)
    r = imp(net, a, "event", "import", exp)
    check((r["new"], r["updated"], r["unchanged"], r["skipped"]) == (0, 0, 7, 0),
          "exported file re-imported where it came from: %s" % r)
    # the window and site filters
    w = net.cli_ok(b, "event", "export", "--from", "2027-02-10", "--to", "2027-03-01",
                   json_out=True)
    check(w["events"] == 1 and "UID:rdate@t" in w["ics"], "window %s" % w)
    w = net.cli_ok(b, "event", "export", "--site", "b", json_out=True)
    check(w["events"] == 1 and "UID:hosted@t" in w["ics"], "site %s" % w)
    # import at another site: the UID stays the key there too
    r = imp(net, b, "event", "import", exp)
    check(r["new"] == 7, "import of the export at b %s" % r)
    # now a and b both hold each UID: the export still has one VEVENT per UID, the newest
    imp(net, b, "event", "import", write(net, "newer.ics", CAL_HEAD + vevent(
        "plain@t", "Réunion (version de b)", "20270112T183000", sequence=5,
        dtend="20270112T200000") + CAL_TAIL))
    def deduped():
        d = net.cli_ok(a, "event", "export", json_out=True)
        return (d if d["events"] == 7 and d["duplicates"] == 7
                and "Réunion (version de b)" in d["ics"] else None)
    # wait for b's newer copy itself: the seven duplicates exist before it arrives
    d = wait_for("a's export without duplicate UIDs, with b's newer copy", deduped)
    check(d["ics"].count("UID:plain@t") == 1 and "Réunion (version de b)" in d["ics"],
          "the newest copy is exported")


def case_equipment(net):
    n = start_network(net, ["a", "b"])
    a, b = n["a"], n["b"]
    csv = ("name,category,make,model,status,bookable_by,required_training,location,hourly_rate,"
           "currency,description\r\n"
           "Tour à métaux,lathe,Cazeneuve,HB 500,available,network,lathe,\"Atelier, rdc\",18.50,EUR,"
           "\"Tour conventionnel\"\r\n"
           "Presse,hydraulic_press,,,available,network,,,,,\r\n"
           "Trop,de,champs,ici,available,network,,,,,,,\r\n"
           "Laser,laser_cutter,Trotec,Speedy,cassé,network,,,,,\r\n"
           "Imprimante,3d_printer,Prusa,MK4,available,site,,,3,EUR,\r\n")
    path = write(net, "machines.csv", csv)
    r = imp(net, a, "equipment", "import", path)
    check((r["new"], r["skipped"]) == (3, 2), "csv %s" % r)
    check(sorted(p["line"] for p in r["problems"] if p["skipped"]) == [4, 5],
          "bad rows by line: %s" % r["problems"])
    rc, out, _ = net.cli(a, "equipment", "import", path)
    check(rc == 0 and "machines.csv:4: " in out and "machines.csv:5: " in out
          and "3 unchanged" in out, "table report %r" % out)
    wait_for("equipment at b", lambda: len(net.cli_ok(b, "equipment", "list",
                                                       json_out=True)["equipment"]) == 3)
    eq = {e["key"]: e for e in net.cli_ok(b, "equipment", "list", json_out=True)["equipment"]}
    check(eq["tour-a-metaux"]["category"] == "lathe" and eq["tour-a-metaux"]["owner_name"] == "a"
          and eq["tour-a-metaux"]["location"] == "Atelier, rdc"
          and eq["tour-a-metaux"]["hourly_rate_cents"] == 1850, "lathe %s" % eq["tour-a-metaux"])
    check(eq["presse"]["category"] == "other"
          and eq["presse"]["category_original"] == "hydraulic_press", "other %s" % eq["presse"])
    # the machine can be booked like one added by hand
    net.cli_ok(b, "member", "add", "--id", "m1", "--name", "M", "--training", "lathe")
    bk = net.cli_ok(b, "book", "tour-a-metaux", "--from", NY + "-05-03 09:00", "--to",
                    NY + "-05-03 10:00", "--member", "m1", "--wait", "30", json_out=True)
    check(bk["status"] == "confirmed", "booking an imported machine: %s" % bk)

    # an edited row updates that machine only
    path2 = write(net, "machines2.csv", csv.replace("HB 500", "HB 575"))
    r = imp(net, a, "equipment", "import", path2)
    check((r["new"], r["updated"], r["unchanged"]) == (0, 1, 2), "edited csv %s" % r)

    # fablabs.io export: capabilities become machines; labs without are reported
    labs = [
        {"name": "FabLab des Volcans", "kind_name": "fab_lab",
         "url": "https://www.fablabs.io/labs/fablabvolcans", "address_1": "1 rue du Puy",
         "city": "Clermont-Ferrand", "capabilities": "three_d_printing;laser;cnc_milling"},
        {"name": "Lab sans machines", "kind_name": "mini_fab_lab",
         "url": "https://www.fablabs.io/labs/sansmachines", "capabilities": ""},
        {"name": "Autre lab", "url": "https://www.fablabs.io/labs/autre",
         "capabilities": "vinyl_cutting"},
    ]
    jpath = write(net, "labs.json", "[\n" + ",\n".join(json.dumps(l, ensure_ascii=False)
                                                     for l in labs) + "\n]\n")
    r = imp(net, b, "equipment", "import", jpath)
    check((r["new"], r["skipped"]) == (4, 1) and [p["line"] for p in r["problems"]] == [3],
          "fablabs %s" % r)
    r = imp(net, b, "equipment", "import", jpath)
    check((r["new"], r["unchanged"]) == (0, 4), "fablabs re-import %s" % r)
    r = imp(net, b, "equipment", "import", jpath, "--lab", "autre")
    check((r["new"], r["unchanged"]) == (0, 1), "--lab %s" % r)
    keys = sorted(e["key"] for e in net.cli_ok(b, "equipment", "list", "--site", "b",
                                               json_out=True)["equipment"])
    check(keys == ["autre/vinyl_cutting", "fablabvolcans/cnc_milling", "fablabvolcans/laser",
                   "fablabvolcans/three_d_printing"], "fablabs keys %s" % keys)
    expect_refused(net, b, ["equipment", "import", jpath, "--lab", "atlantis"], "no lab")
    expect_refused(net, b, ["equipment", "import", write(net, "bad.json", "[{\"name\": ")],
                   r"bad\.json:\d+: ")
    expect_refused(net, b, ["equipment", "import", write(net, "nohead.csv", "a;b\n1;2\n")],
                   r"nohead\.csv:1: ")
    expect_refused(net, b, ["equipment", "import", path, "--lab", "x"], "--lab")


def real_file(net, *parts):
    """A file of the real test data; main() skipped the case when the folder is absent."""
    path = os.path.join(net.args.real, *parts)
    check(os.path.isfile(path), "real test data incomplete: %s is missing" % path)
    return path


def case_equipment_real(net):
    real = real_file(net, "labs", "fablabs_io_france_2017.json")
    b = start_network(net, ["b"])["b"]
    r = imp(net, b, "equipment", "import", real)
    check(r["new"] > 100 and r["skipped"] > 0 and all(p["line"] > 0 for p in r["problems"]),
          "real fablabs.io export %s" % {k: r[k] for k in ("new", "skipped")})


def case_members(net):
    n = start_network(net, ["a", "b"])
    a, b = n["a"], n["b"]
    cols = ("id;gender;first_name;last_name;username;email;password;external_id;birthdate;address;"
            "phone;group;tags;trainings;website;job;interests;softwares;allow_contact;"
            "allow_newsletter;organization_name;organization_address;facebook;twitter;googleplus;"
            "viadeo;linkedin;instagram;youtube;vimeo;dailymotion;github;echosciences;pinterest;"
            "lastfm;flickr")
    ncol = len(cols.split(";"))

    def row(first, last, group, trainings, email=""):
        f = [""] * ncol
        f[2], f[3], f[5], f[11], f[13] = first, last, email, group, trainings
        return ";".join(f)
    text = "\r\n".join([cols,
                        row("Camille", "Vergne", "admin", "1,2", "camille@example.org"),
                        row("Théo", "Mazuel", "standard", "lathe"),
                        ";;;;;member@example.org;",          # short, no name
                        ";".join([""] * (ncol + 3)),          # too long
                        row("Inès", "Roux", "student", "")]) + "\r\n"
    path = write(net, "members.csv", text)
    r = imp(net, a, "member", "import", path, "--training-id", "1=laser_cutter",
            "--training-id", "2=lathe")
    check(r["new"] == 3 and r["skipped"] >= 2, "members %s" % r)
    check({4, 5} <= {p["line"] for p in r["problems"] if p["skipped"]},
          "bad rows by line %s" % r["problems"])
    members = {m["name"]: m for m in net.cli_ok(a, "member", "list", json_out=True)["members"]}
    check(sorted(members) == ["Camille Vergne", "Inès Roux", "Théo Mazuel"], "roster %s" % members)
    check(members["Camille Vergne"]["trainings"] == ["laser_cutter", "lathe"]
          and members["Camille Vergne"]["roles"] == ["admin"]
          and members["Camille Vergne"]["sharing"] == "site", "mapped %s" % members)
    check(all(m["key"].startswith("m-") and "example" not in m["key"] for m in members.values()),
          "keys hold no personal data")
    # the e-mail is not kept anywhere
    check(b"camille@example.org" not in a.data(), "e-mail stored")
    # re-import: same keys (salt kept in the state dir), nothing written
    before = entries_held(net, a)
    r = imp(net, a, "member", "import", path, "--training-id", "1=laser_cutter",
            "--training-id", "2=lathe")
    check((r["new"], r["unchanged"]) == (0, 3) and entries_held(net, a) == before,
          "members re-import %s" % r)
    # sharing site (default): another site's roster listing does not show them
    wait_for("b caught up", lambda: entries_held(net, b)[0] >= before[0])
    check(net.cli_ok(b, "member", "list", json_out=True)["members"] == [], "site-level leaked")
    r = imp(net, a, "member", "import", path, "--sharing", "network")
    check(r["updated"] == 3, "sharing change %s" % r)
    wait_for("network members at b", lambda: len(net.cli_ok(b, "member", "list",
                                                            json_out=True)["members"]) == 3)
    expect_refused(net, a, ["member", "import", write(net, "x.csv", "name,email\nx,y\n")],
                   r"x\.csv:1: ")
    expect_refused(net, a, ["member", "import", path, "--training-id", "lathe"], "ID=NAME")


def case_members_real(net):
    real = real_file(net, "members", "fabmanager_members_import.csv")
    b = start_network(net, ["b"])["b"]
    r = imp(net, b, "member", "import", real)
    check(r["new"] >= 4 and r["skipped"] >= 1 and all(p["line"] > 1 for p in r["problems"]),
          "real Fab Manager CSV %s" % r)
    check(b"member001@example.org" not in b.data(), "real e-mail stored")


def cli_in_zone(net, site, tz, *args, user_tz="Asia/Tokyo"):
    """The CLI showing times in zone @tz (ENTRELAB_TZ; None: the site's own
    zone), run by a user whose TZ is @user_tz (None: unset), which must not
    matter; JSON when the arguments ask for it, else the text."""
    env = dict(os.environ)
    for v in ("ENTRELAB_NODE", "ENTRELAB_TZ", "TZ"):
        env.pop(v, None)
    if tz:
        env["ENTRELAB_TZ"] = tz
    if user_tz:
        env["TZ"] = user_tz
    out = subprocess.run([net.args.cli, "--node", site.dir] + [str(a) for a in args],
                         capture_output=True, text=True, timeout=120, env=env)
    check(out.returncode == 0, "TZ=%s entrelab %s: exit %d: %s" % (tz, " ".join(args),
                                                                  out.returncode, out.stderr))
    return json.loads(out.stdout) if "--json" in args else out.stdout


def case_calendar(net):
    """All-day events are dates (RFC 5545 §3.3.4, §3.6.1): listed on their
    dates, filtered by date, whatever the zone of the one who looks. Site a
    is in Europe/Paris, b in America/New_York; the CLI shows the zone of the
    site it talks to, unless ENTRELAB_TZ or --tz says otherwise."""
    n = start_network(net, ["a", "b"], zones={"b": "America/New_York"})
    a, b = n["a"], n["b"]
    cal = CAL_HEAD + "".join([
        "BEGIN:VEVENT\r\nUID:allday@t\r\nDTSTAMP:20261101T120000Z\r\n"
        "DTSTART;VALUE=DATE:20270901\r\nDTEND;VALUE=DATE:20270902\r\n"
        "SUMMARY:Journée portes ouvertes\r\nEND:VEVENT\r\n",
        # three days: the 10th, 11th and 12th (DTEND is exclusive)
        "BEGIN:VEVENT\r\nUID:multi@t\r\nDTSTAMP:20261101T120000Z\r\n"
        "DTSTART;VALUE=DATE:20270910\r\nDTEND;VALUE=DATE:20270913\r\n"
        "SUMMARY:Salon\r\nEND:VEVENT\r\n",
        # weekly, no DTEND: one day each
        "BEGIN:VEVENT\r\nUID:weekly-day@t\r\nDTSTAMP:20261101T120000Z\r\n"
        "DTSTART;VALUE=DATE:20270301\r\nRRULE:FREQ=WEEKLY;COUNT=2\r\n"
        "SUMMARY:Inventaire\r\nEND:VEVENT\r\n",
        # a timed event early on 1 Sep in Paris (31 Aug 23:00 UTC)
        vevent("early@t", "Café", "20270901T010000", dtend="20270901T020000"),
    ]) + CAL_TAIL
    r = imp(net, a, "event", "import", write(net, "dates.ics", cal))
    check((r["new"], r["skipped"]) == (4, 0), "import %s" % r)
    wait_for("events at b", lambda: len({e["uid"] for e in summaries(net, b)}) == 4)

    def uids(site, tz, frm, to, *more):
        doc = cli_in_zone(net, site, tz, "event", "list", "--from", frm, "--to", to, *more,
                          "--json")
        return [e["uid"] for e in doc["events"]]

    for tz in ("Europe/Paris", "America/New_York", None):
        for site in (a, b):
            evs = {e["uid"]: e for e in cli_in_zone(net, site, tz, "event", "list", "--all",
                                                     "--json")["events"]}
            d = evs["allday@t"]
            check((d["start_date"], d["end_date"], d["start"], d["end"], d["all_day"]) ==
                  ("2027-09-01", "2027-09-02", "2027-09-01", "2027-09-02", True),
                  "TZ=%s all-day JSON %s" % (tz, d))
            check("start_date" not in evs["early@t"], "timed event with a date %s" % evs["early@t"])
            # 1 Sep only: never 31 Aug, never 2 Sep
            check("allday@t" in uids(site, tz, "2027-09-01", "2027-09-02"),
                  "TZ=%s 1 Sep: %s" % (tz, uids(site, tz, "2027-09-01", "2027-09-02")))
            check("allday@t" not in uids(site, tz, "2027-09-02", "2027-09-03"),
                  "TZ=%s all-day event on 2 Sep" % tz)
            check("allday@t" not in uids(site, tz, "2027-08-31", "2027-09-01"),
                  "TZ=%s all-day event on 31 Aug" % tz)
            check("allday@t" in uids(site, tz, "2027-09-01 23:30", "2027-09-02 08:00"),
                  "TZ=%s the late evening of 1 Sep" % tz)
            # multi-day: DTSTART up to, not including, DTEND
            for day, want in (("2027-09-09", False), ("2027-09-10", True),
                              ("2027-09-12", True), ("2027-09-13", False)):
                nxt = day[:-2] + "%02d" % (int(day[-2:]) + 1)
                check(("multi@t" in uids(site, tz, day, nxt)) == want,
                      "TZ=%s multi-day on %s: %s" % (tz, day, uids(site, tz, day, nxt)))
            weekly = [e["start_date"] for e in cli_in_zone(
                net, site, tz, "event", "list", "--all", "--json")["events"]
                if e["uid"] == "weekly-day@t"]
            check(weekly == ["2027-03-01", "2027-03-08"], "TZ=%s weekly dates %s" % (tz, weekly))
            # the table shows dates; show too
            rows = [l.split() for l in cli_in_zone(net, site, tz, "event", "list", "--from",
                                                   "2027-09-01", "--to", "2027-09-02").splitlines()
                    if "Journée" in l]
            check(rows and rows[0][:2] == ["2027-09-01", "2027-09-02"], "TZ=%s table %s" % (tz, rows))
            shown = cli_in_zone(net, site, tz, "event", "show", "allday@t")
            check(re.search(r"^Start \([^)]+\):\s+2027-09-01$", shown, re.M) and
                  re.search(r"^End \([^)]+\):\s+2027-09-02$", shown, re.M),
                  "TZ=%s show %r" % (tz, shown))
    # export --from/--to compares dates for them too
    for site in (a, b):
        for tz in ("Europe/Paris", "America/New_York"):
            for frm, to, want in (("2027-09-01", "2027-09-02", True),
                                  ("2027-09-02", "2027-09-03", False),
                                  ("2027-08-31", "2027-09-01", False)):
                ics = cli_in_zone(net, site, tz, "event", "export", "--from", frm, "--to", to,
                                  "--json")["ics"]
                check(("UID:allday@t" in ics) == want, "TZ=%s export %s..%s: %s" % (
                    tz, frm, to, re.findall(r"UID:\S+", ics)))
    # in Paris, the early timed event (1 Sep 01:00) sorts with 1 Sep, after the
    # all-day event that starts the day
    got = uids(b, "Europe/Paris", "2027-09-01", "2027-09-02")
    check(got == ["allday@t", "early@t"], "Paris, 1 Sep: %s" % got)
    # in New York it is 31 Aug 19:00: not on 1 Sep
    got = uids(b, "America/New_York", "2027-09-01", "2027-09-02")
    check(got == ["allday@t"], "New York, 1 Sep: %s" % got)
    # --all with --from and --to obeys both
    got = uids(b, "Europe/Paris", "2027-09-02", "2027-09-12", "--all")
    check(got == ["multi@t"], "--all --from --to: %s" % got)
    doc = cli_in_zone(net, b, "Europe/Paris", "event", "list", "--all", "--from", "2027-09-02",
                      "--json")
    check([e["uid"] for e in doc["events"]] == ["multi@t"], "--all --from: %s" % doc["events"])

    # floating times (RFC 5545 §3.3.5 form #1) are wall clocks where they are
    # imported: 19:00 every week across the DST change, in Paris as in New York
    def floating_cal(tag):
        return CAL_HEAD + (
            "BEGIN:VEVENT\r\nUID:floating-%s@t\r\nDTSTAMP:20261101T120000Z\r\n"
            "DTSTART:20270301T190000\r\nDTEND:20270301T210000\r\n"
            "RRULE:FREQ=WEEKLY;COUNT=6\r\nSUMMARY:Soirée\r\nEND:VEVENT\r\n"
            "BEGIN:VEVENT\r\nUID:outlook-%s@t\r\nDTSTAMP:20261101T120000Z\r\n"
            "DTSTART;TZID=Romance Standard Time:20270707T183000\r\n"
            "DTEND;TZID=Romance Standard Time:20270707T200000\r\nSUMMARY:Outlook\r\n"
            "END:VEVENT\r\n"
            "BEGIN:VEVENT\r\nUID:mars-%s@t\r\nDTSTAMP:20261101T120000Z\r\n"
            "DTSTART;TZID=Mars/Olympus:20270707T183000\r\nSUMMARY:Mars\r\nEND:VEVENT\r\n"
            # the autumn change (Paris 31 October, New York 7 November), and a single one
            "BEGIN:VEVENT\r\nUID:floatfall-%s@t\r\nDTSTAMP:20261101T120000Z\r\n"
            "DTSTART:20271018T190000\r\nDTEND:20271018T210000\r\n"
            "RRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:Soirée d'automne\r\nEND:VEVENT\r\n"
            "BEGIN:VEVENT\r\nUID:floatone-%s@t\r\nDTSTAMP:20261101T120000Z\r\n"
            "DTSTART:20270707T100000\r\nDTEND:20270707T120000\r\nSUMMARY:Une fois\r\n"
            "END:VEVENT\r\n"
        ) % (tag, tag, tag, tag, tag) + CAL_TAIL
    for site, tz, offsets, fall, summer in (
            (a, "Europe/Paris", ["+01:00"] * 4 + ["+02:00"] * 2, ["+02:00"] * 2 + ["+01:00"] * 2,
             "+02:00"),
            (b, "America/New_York", ["-05:00"] * 2 + ["-04:00"] * 4,
             ["-04:00"] * 3 + ["-05:00"], "-04:00")):
        tag = tz.split("/")[1].lower()
        # the site's zone, whatever the TZ of the one who imports
        r = cli_in_zone(net, site, None, "event", "import",
                        write(net, "floating-%s.ics" % tag, floating_cal(tag)), "--json",
                        user_tz="UTC")
        check((r["new"], r["skipped"]) == (5, 0), "TZ=%s floating import %s" % (tz, r))
        check([(p["line"], p["skipped"]) for p in r["problems"]] == [(22, False)] and
              "Mars/Olympus" in r["problems"][0]["reason"] and
              ("site's zone " + tz) in r["problems"][0]["reason"],
              "TZ=%s unknown zone reported %s" % (tz, r["problems"]))
        evs = [e for e in cli_in_zone(net, site, tz, "event", "list", "--all", "--json")["events"]
               if e["uid"].endswith("-%s@t" % tag)]
        weekly = [e["start"] for e in evs if e["uid"].startswith("floating")]
        want = ["2027-%sT19:00:00%s" % (d, o) for d, o in zip(
            ["03-01", "03-08", "03-15", "03-22", "03-29", "04-05"], offsets)]
        check(weekly == want, "TZ=%s floating weekly %s" % (tz, weekly))
        autumn = [e["start"] for e in evs if e["uid"].startswith("floatfall")]
        want = ["2027-%sT19:00:00%s" % (d, o) for d, o in zip(
            ["10-18", "10-25", "11-01", "11-08"], fall)]
        check(autumn == want, "TZ=%s floating weekly in autumn %s" % (tz, autumn))
        one = [(e["start"], e["end"]) for e in evs if e["uid"].startswith("floatone")]
        check(one == [("2027-07-07T10:00:00" + summer, "2027-07-07T12:00:00" + summer)],
              "TZ=%s floating single %s" % (tz, one))
        check({e["tzid"] for e in evs if not e["uid"].startswith("outlook")} == {tz},
              "TZ=%s stored zone %s" % (tz, evs))
        outlook = [e for e in evs if e["uid"].startswith("outlook")]
        check([(e["tzid"], e["start_us"]) for e in outlook] == [("Europe/Paris", 1814977800 * 10**6)],
              "TZ=%s Windows zone %s" % (tz, outlook))

    # each site has its zone (init --timezone; default: the zone init ran in)
    with open(b.conf) as f:
        check("timezone = America/New_York" in f.read(), "b's configuration")
    with open(a.conf) as f:
        check("timezone = Europe/Paris" in f.read(), "a's configuration")
    rc, _, err = net.cli(None, "init", os.path.join(net.tmp, "nowhere"), "--timezone", "Mars/Olympus")
    check(rc == 2 and "Mars/Olympus" in err and not os.path.exists(os.path.join(net.tmp, "nowhere")),
          "init with an unknown zone: %d %r" % (rc, err))
    # the CLI shows the zone of the site it talks to, whatever the user's TZ;
    # ENTRELAB_TZ, then --tz, say otherwise
    def early(site, tz, *more, user_tz="Asia/Tokyo"):
        doc = cli_in_zone(net, site, tz, *more, "event", "list", "--all", "--json", user_tz=user_tz)
        return doc["zone"], [e["start"] for e in doc["events"] if e["uid"] == "early@t"]
    check(early(b, None) == ("America/New_York", ["2027-08-31T19:00:00-04:00"]), "b: %s" % (early(b, None),))
    check(early(b, None, user_tz=None) == ("America/New_York", ["2027-08-31T19:00:00-04:00"]),
          "b, TZ unset: %s" % (early(b, None, user_tz=None),))
    check(early(a, None) == ("Europe/Paris", ["2027-09-01T01:00:00+02:00"]), "a: %s" % (early(a, None),))
    check(early(b, "Europe/Paris") == ("Europe/Paris", ["2027-09-01T01:00:00+02:00"]), "ENTRELAB_TZ")
    check(early(b, "Asia/Tokyo", "--tz", "UTC") == ("UTC", ["2027-08-31T23:00:00Z"]),
          "--tz over ENTRELAB_TZ: %s" % (early(b, "Asia/Tokyo", "--tz", "UTC"),))
    table = cli_in_zone(net, b, None, "event", "list", "--all")
    check(table.splitlines()[0].startswith("START (America/New_York)  END (America/New_York)"),
          "table header %r" % table.splitlines()[0])
    rc, _, err = net.cli(b, "event", "list", env={"ENTRELAB_TZ": "Mars/Olympus"})
    check(rc == 2 and "ENTRELAB_TZ" in err, "unknown ENTRELAB_TZ: %d %r" % (rc, err))
    # the zone is published in the site's Site record (written by the broker at
    # admission); a CLI given the daemon as an endpoint, with no configuration
    # to read, takes the zone from there
    net.cli_ok(net.hub, "admit", b.key, "--name", "b", "--timezone", "America/New_York")
    wait_for("b's zone at a", lambda: [x["timezone"] for x in net.cli_ok(a, "sites", json_out=True)[
        "sites"] if x["key"] == b.key] == ["America/New_York"])
    check("America/New_York" in net.cli_ok(a, "sites"), "sites table shows the zone")
    rc, _, err = net.cli(net.hub, "admit", b.key, "--timezone", "Mars/Olympus")
    check(rc == 2 and "Mars/Olympus" in err, "admit with an unknown zone: %d %r" % (rc, err))
    env = dict(os.environ, TZ="Asia/Tokyo")
    for v in ("ENTRELAB_NODE", "ENTRELAB_TZ"):
        env.pop(v, None)
    out = subprocess.run([net.args.cli, "--node", "ipc://%s/control.sock" % b.dir, "event", "list",
                          "--all", "--json"], capture_output=True, text=True, timeout=120, env=env)
    doc = json.loads(out.stdout)
    check(doc["zone"] == "America/New_York" and "2027-08-31T19:00:00-04:00" in
          [e["start"] for e in doc["events"] if e["uid"] == "early@t"],
          "endpoint --node: zone from the Site record %s" % doc["zone"])
    # times typed at b are b's wall clock, and a weekly event repeats there
    # (user on UTC, as on a hub): 18:30 before and after 14 March
    cli_in_zone(net, b, None, "event", "add", "--uid", "typed@t", "--summary", "Soirée",
                "--start", "2027-03-10 18:30", "--duration", "1h", "--rrule", "FREQ=WEEKLY;COUNT=2",
                user_tz="UTC")
    got = [(e["start"], e["tzid"]) for e in cli_in_zone(net, b, None, "event", "list", "--all",
                                                         "--json")["events"] if e["uid"] == "typed@t"]
    check(got == [("2027-03-10T18:30:00-05:00", "America/New_York"),
                  ("2027-03-17T18:30:00-04:00", "America/New_York")], "typed at b: %s" % got)

    # impossible values are refused with their line; the rest of the file imports
    bad = CAL_HEAD + "".join([
        vevent("feb31@t", "31 février", "20270231T180000"),                      # DTSTART line 7
        vevent("fine@t", "Bien", "20270228T180000", dtend="20270228T190000"),
        vevent("h25@t", "25 h", "20270301T250000"),                              # line 22
        vevent("backwards@t", "À l'envers", "20270301T180000", dtend="20270301T170000"),  # DTEND 30
        vevent("rrule@t", "Règle", "20270301T180000", "RRULE:FREQ=SOMETIMES"),   # RRULE line 40
    ]) + CAL_TAIL
    r = cli_in_zone(net, a, None, "event", "import", write(net, "impossible.ics", bad), "--json")
    check((r["new"], r["skipped"]) == (1, 4), "impossible values %s" % r)
    got = [(p["line"], p["skipped"], p["reason"].split(" (")[0][:40]) for p in r["problems"]]
    check(got == [(7, True, "event skipped: DTSTART: no day 31 in 2027-02"[:40]),
                  (22, True, "event skipped: DTSTART: no hour 25"),
                  (30, True, "event skipped: DTEND before DTSTART"),
                  (40, True, "event skipped: RRULE: Can't parse as REC")],
          "impossible values reported %s" % got)
    held = {e["uid"] for e in cli_in_zone(net, a, None, "event", "list", "--all", "--json")["events"]}
    check("fine@t" in held and not held & {"feb31@t", "h25@t", "backwards@t", "rrule@t"},
          "impossible values held %s" % held)


DEBIAN_PYTHON = "/usr/bin/python3"     # where apt puts python3-icalendar


def case_ics_independent(net):
    """An independent parser checks us: the network's agenda for a year,
    exported, then read by python3-icalendar with dateutil's rrule
    (tests/integration/ics_check.py), gives the very occurrences that
    `event list --json` gives, at the same instants (all-day: the same dates)."""
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import icalendar, dateutil"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        print("SKIP: %s cannot import icalendar and dateutil (deploy/install-deps.sh installs "
              "python3-icalendar)" % DEBIAN_PYTHON)
        sys.exit(77)
    n = start_network(net, ["a", "b"], zones={"b": "America/New_York"})
    a, b = n["a"], n["b"]
    demo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "demo")
    total = 0
    for site in sorted(os.listdir(demo)):
        path = os.path.join(demo, site, "events.ics")
        if os.path.exists(path):
            total += imp(net, a, "event", "import", path)["new"]
    # the cases the demo lacks, imported at the New York site
    extra = CAL_HEAD + "".join([
        "BEGIN:VEVENT\r\nUID:x-days@t\r\nDTSTART;VALUE=DATE:20270910\r\n"
        "DTEND;VALUE=DATE:20270913\r\nSUMMARY:Salon\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:x-monthly-day@t\r\nDTSTART;VALUE=DATE:20270105\r\n"
        "RRULE:FREQ=MONTHLY;COUNT=5\r\nEXDATE;VALUE=DATE:20270305\r\nSUMMARY:Inventaire\r\n"
        "END:VEVENT\r\n",
        # floating: New York's wall clock, across its DST change (14 March)
        "BEGIN:VEVENT\r\nUID:x-floating@t\r\nDTSTART:20270301T190000\r\n"
        "DTEND:20270301T210000\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:Soirée\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:x-outlook@t\r\nDTSTART;TZID=Romance Standard Time:20271021T183000\r\n"
        "DTEND;TZID=Romance Standard Time:20271021T200000\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n"
        "SUMMARY:Outlook\r\nEND:VEVENT\r\n",
        # UNTIL in UTC on a zoned start: inclusive (RFC 5545 §3.3.10)
        "BEGIN:VEVENT\r\nUID:x-until@t\r\nDTSTART;TZID=Europe/Paris:20270506T183000\r\n"
        "DTEND;TZID=Europe/Paris:20270506T200000\r\nRRULE:FREQ=WEEKLY;UNTIL=20270527T163000Z\r\n"
        "RDATE;TZID=Europe/Paris:20270601T100000\r\nSUMMARY:Jusqu'au 27\r\nEND:VEVENT\r\n",
        # an override moves one occurrence
        "BEGIN:VEVENT\r\nUID:x-moved@t\r\nDTSTART;TZID=Europe/Paris:20270202T140000\r\n"
        "DTEND;TZID=Europe/Paris:20270202T160000\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\n"
        "SUMMARY:Atelier\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:x-moved@t\r\nRECURRENCE-ID;TZID=Europe/Paris:20270209T140000\r\n"
        "DTSTART;TZID=Europe/Paris:20270210T170000\r\nDTEND;TZID=Europe/Paris:20270210T190000\r\n"
        "SUMMARY:Atelier (déplacé)\r\nEND:VEVENT\r\n",
    ]) + CAL_TAIL
    r = imp(net, b, "event", "import", write(net, "extra.ics", extra))
    check(r["skipped"] == 0, "extra import %s" % r)
    total += r["new"]
    wait_for("every event at a", lambda: len(summaries(net, a)) and net.cli_ok(
        a, "event", "export", json_out=True)["events"] >= total)
    lo, hi = 1793491200, 1825027200      # 2026-11-01T00:00Z to 2027-11-01T00:00Z: a year
    path = os.path.join(net.tmp, "year.ics")
    net.cli_ok(a, "event", "export", "--output", path)
    got = subprocess.run([DEBIAN_PYTHON, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "ics_check.py"), path, str(lo), str(hi)],
                         capture_output=True, text=True, timeout=120)
    check(got.returncode == 0, "ics_check.py: %d %s" % (got.returncode, got.stderr))
    theirs = sorted(tuple(x) for x in json.loads(got.stdout))
    listed = cli_in_zone(net, a, "UTC", "event", "list", "--from", "2026-11-01T00:00:00Z",
                         "--to", "2027-11-01T00:00:00Z", "--json")["events"]
    ours = []
    for e in listed:
        if e["all_day"]:
            if "2026-11-01" <= e["start_date"] < "2027-11-01":
                ours.append((e["uid"], "d", e["start_date"]))
        elif lo <= e["start_us"] // 10**6 < hi:
            ours.append((e["uid"], "t", e["start_us"] // 10**6))
    ours.sort()
    check(len(ours) >= 60, "too few occurrences to check anything: %d" % len(ours))
    only_ours = sorted(set(ours) - set(theirs))
    only_theirs = sorted(set(theirs) - set(ours))
    check(ours == theirs, "%d occurrences listed, %d found by python3-icalendar + dateutil; "
          "only listed: %s; only found there: %s" % (len(ours), len(theirs), only_ours[:10],
                                                       only_theirs[:10]))
    # the cases that matter are in there, at the instants the RFC gives
    check(("x-until@t", "t", 1811435400) in ours, "UNTIL in UTC is inclusive (27 May 18:30 Paris)")
    check(("x-moved@t", "t", 1802178000) not in ours and ("x-moved@t", "t", 1802275200) in ours,
          "the override replaces 9 Feb 14:00 with 10 Feb 17:00")
    # the recurrence is visible: RDATE, EXDATE as stored (UTC for zoned times), and the
    # override names the occurrence it replaces; the other occurrences replace none
    def rows(uid):
        return [e for e in listed if e["uid"] == uid]
    check(all(e["rdate"] == ["20270601T080000Z"] and e["exdate"] == []
              for e in rows("x-until@t")), "RDATE in --json: %s" % rows("x-until@t")[:1])
    check(all(e["exdate"] == ["20270305"] and e["rdate"] == []
              for e in rows("x-monthly-day@t")), "EXDATE in --json: %s" % rows("x-monthly-day@t")[:1])
    moved = {e["start_us"] // 10**6: e["recurrence_id"] for e in rows("x-moved@t")}
    check(moved.pop(1802275200, None) == "20270209T130000Z" and moved
          and all(r is None for r in moved.values()), "recurrence_id in --json: %s" % moved)
    shown = net.cli_ok(a, "event", "show", "x-until@t", json_out=True)["event"]
    check(shown["rdate"] == ["20270601T080000Z"] and shown["recurrence_id"] is None,
          "event show --json: %s" % shown)
    rc, out, err = net.cli(a, "event", "show", "x-monthly-day@t")
    check(rc == 0 and re.search(r"Except on:?\s+20270305", out)
          and re.search(r"Also on:?\s+-", out), "event show: %r %r" % (out, err))
    # what the override changed, shown with the master (in the JSON and the table)
    master = net.cli_ok(a, "event", "show", "x-moved@t", json_out=True)["event"]
    ovr = master["overrides"]
    check(len(ovr) == 1 and ovr[0]["recurrence_id"] == "20270209T130000Z"
          and ovr[0]["original_start"].startswith("2027-02-09T")
          and set(ovr[0]["changes"]) == {"start", "summary"}
          and ovr[0]["changes"]["summary"] == "Atelier (déplacé)", "overrides: %s" % ovr)
    check(datetime.datetime.fromisoformat(ovr[0]["changes"]["start"]).timestamp() == 1802275200
          and datetime.datetime.fromisoformat(ovr[0]["original_start"]).timestamp()
          == 1802178000, "override start: %s" % ovr)
    check(net.cli_ok(a, "event", "show", "x-until@t", json_out=True)["event"]["overrides"] == [],
          "an event without override lists none")
    out = cli_in_zone(net, a, "Europe/Paris", "event", "show", "x-moved@t")
    check(re.search(r"Changed on:?\s+2027-02-09 14:00: start 2027-02-10 17:00; "
                                r'summary "Atelier \(déplacé\)"', out),
          "event show names the moved occurrence and what changed: %r" % out)
    print("%d occurrences in a year, the same for entrelab and python3-icalendar + dateutil"
          % len(ours))


CASES = {"calendar": case_calendar, "ics_independent": case_ics_independent, "events": case_events, "equipment": case_equipment, "members": case_members,
         "equipment_real": case_equipment_real, "members_real": case_members_real}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--cli", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--broker", required=True)
    ap.add_argument("--real", default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if args.case.endswith("_real") and not (args.real and os.path.isdir(args.real)):
        print("SKIP: %s is absent (real test data): case %s not run" % (args.real, args.case))
        return 77
    return run_case(args, CASES)


if __name__ == "__main__":
    sys.exit(main())
