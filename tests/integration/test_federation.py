#!/usr/bin/env python3
"""Integration tests of federation between two fablab networks: real brokers and
nodes on loopback, driven by the real `entrelab` command line.

Network A: broker hubA (the Net's hub) and site a1; network B: broker hubB and
site b1. The brokers link with `entrelab federate`; what crosses follows both
sides' policies (broker/el_federation.h).

  test_federation.py --case link --cli entrelab --node entrelab-node \\
                     --broker entrelab-broker
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import el_it  # noqa: E402
from el_it import check, wait_for  # noqa: E402
from test_cli import Net, Site, run_case, start_network  # noqa: E402


def site_of(net, hub, name):
    """A site of @hub's network (Site connects to net.hub: lend it @hub)."""
    saved = net.hub
    net.hub = hub
    try:
        s = Site(net, name)
    finally:
        net.hub = saved
    net.sites.append(s)
    return s


def second_network(net, hub_name, site_name):
    hub = Site(net, hub_name, broker=True)
    net.sites.append(hub)
    hub.start()
    site = site_of(net, hub, site_name)
    net.cli_ok(hub, "admit", site.key, "--name", site_name)
    site.start()
    wait_for("%s admitted" % site_name,
             lambda: net.cli_ok(site, "status", json_out=True)["admitted"])
    return hub, site


def uids(net, site):
    return sorted(e["uid"] for e in net.cli_ok(site, "event", "list", "--all",
                                               json_out=True)["events"])


def equipment_keys(net, site):
    return sorted(e["key"] for e in net.cli_ok(site, "equipment", "list",
                                               json_out=True)["equipment"])


def member_keys(net, site):
    return sorted(m["key"] for m in net.cli_ok(site, "member", "list",
                                               json_out=True)["members"])


def link_of(net, hub, key):
    links = net.cli_ok(hub, "federation", "list", json_out=True)["links"]
    got = [l for l in links if l["broker_key"] == key]
    return got[0] if got else None


def case_link(net):
    """Events and federation-bookable equipment cross both ways; a network-level
    member is in no store file of B, a federation-level one is listed there; a
    node refuses federation commands; a third broker that A did not federate
    with is refused at the handshake; narrowing the sender's share stops a kind
    (its entries go as stubs, the chain goes on); a kind the receiver does not
    accept is refused and counted, nothing stored; unfederate ends the link."""
    tag = os.getpid()
    n = start_network(net, ["a1"])
    hub_a, a1 = net.hub, n["a1"]
    hub_b, b1 = second_network(net, "hubB", "b1")
    net_member = "NetMember-%d" % tag
    fed_member = "FedMember-%d" % tag
    net.cli_ok(a1, "event", "add", "--uid", "ev-a", "--summary", "Portes ouvertes A",
               "--start", "2027-05-01 10:00", "--end", "2027-05-01 18:00")
    net.cli_ok(a1, "equipment", "add", "--id", "tour", "--name", "Tour", "--category", "lathe",
               "--bookable-by", "federation")
    net.cli_ok(a1, "equipment", "add", "--id", "fraiseuse", "--name", "Fraiseuse",
               "--category", "cnc_mill", "--bookable-by", "network")
    net.cli_ok(a1, "member", "add", "--id", "m-net", "--name", net_member, "--sharing", "network")
    net.cli_ok(a1, "member", "add", "--id", "m-fed", "--name", fed_member,
               "--sharing", "federation")
    net.cli_ok(b1, "event", "add", "--uid", "ev-b", "--summary", "Repair café B",
               "--start", "2027-05-02 14:00", "--end", "2027-05-02 17:00")

    # a node is told where federation is done
    rc, _, err = net.cli(a1, "federate", hub_b.key, "tcp://127.0.0.1:%d" % hub_b.port)
    check(rc != 0 and "on the broker" in err, "a node refuses federate: %d %s" % (rc, err))

    net.cli_ok(hub_a, "federate", hub_b.key, "tcp://127.0.0.1:%d" % hub_b.port, "--name", "B",
               "--share", "events,equipment,bookings,members")
    net.cli_ok(hub_b, "federate", hub_a.key, "tcp://127.0.0.1:%d" % hub_a.port, "--name", "A",
               "--accept", "events,equipment,bookings,members")

    wait_for("A's event at b1", lambda: "ev-a" in uids(net, b1))
    wait_for("B's event at a1", lambda: "ev-b" in uids(net, a1))
    wait_for("A's federation-bookable lathe at b1", lambda: "tour" in equipment_keys(net, b1))
    wait_for("A's federation-level member at b1", lambda: "m-fed" in member_keys(net, b1))
    check("fraiseuse" not in equipment_keys(net, b1), "a network-only machine crossed")
    check("m-net" not in member_keys(net, b1), "a network-level member crossed")
    for s in (hub_b, b1):
        check(net_member.encode() not in s.data(),
              "the network-level member's name is in %s's store" % s.name)
    check(fed_member.encode() in b1.data(), "the federation-level member is not at b1")
    link = link_of(net, hub_a, hub_b.key)
    check(link and link["state"] == "connected" and link["name"] == "B"
          and "members" in link["share"], "A's link %s" % link)

    # a third network's broker that A never federated with: refused by ZAP
    refused_before = hub_a.log_text().count("reason=unknown_key")
    hub_c = Site(net, "hubC", broker=True)
    net.sites.append(hub_c)
    hub_c.start()
    net.cli_ok(hub_c, "federate", hub_a.key, "tcp://127.0.0.1:%d" % hub_a.port, "--name", "A")
    wait_for("A refuses C at the handshake",
             lambda: hub_a.log_text().count("reason=unknown_key") > refused_before)
    c_link = link_of(net, hub_c, hub_a.key)
    check(c_link and c_link["state"] == "down", "C's link to A %s" % c_link)

    # the sender narrows: equipment no longer shared, the chain goes on
    net.cli_ok(hub_a, "federate", hub_b.key, "tcp://127.0.0.1:%d" % hub_b.port,
               "--share", "events")
    net.cli_ok(a1, "equipment", "add", "--id", "laser", "--name", "Laser", "--category",
               "laser_cutter", "--bookable-by", "federation")
    net.cli_ok(a1, "event", "add", "--uid", "ev-a2", "--summary", "Atelier A",
               "--start", "2027-05-03 10:00", "--end", "2027-05-03 12:00")
    wait_for("A's later event at b1", lambda: "ev-a2" in uids(net, b1))
    check("laser" not in equipment_keys(net, b1), "equipment crossed after A stopped sharing it")

    # the receiver narrows while the sender still shares: refused and counted
    net.cli_ok(hub_a, "federate", hub_b.key, "tcp://127.0.0.1:%d" % hub_b.port,
               "--share", "events,equipment")
    net.cli_ok(hub_b, "federate", hub_a.key, "tcp://127.0.0.1:%d" % hub_a.port,
               "--accept", "events")
    refused_before = link_of(net, hub_b, hub_a.key)["refused"]
    net.cli_ok(a1, "equipment", "add", "--id", "cnc-%d" % tag, "--name", "CNC", "--category",
               "cnc_router", "--bookable-by", "federation")
    wait_for("B refuses A's equipment",
             lambda: link_of(net, hub_b, hub_a.key)["refused"] > refused_before)
    check(link_of(net, hub_b, hub_a.key)["refused_by_reason"].get("outside_policy", 0) > 0,
          "the refusal's reason: %s" % link_of(net, hub_b, hub_a.key))
    check(("cnc-%d" % tag).encode() not in hub_b.data(), "refused equipment stored at B")

    # unfederate: the link is gone, B's next event stays out of A
    net.cli_ok(hub_a, "unfederate", hub_b.key)
    check(link_of(net, hub_a, hub_b.key) is None, "A still lists the link")
    net.cli_ok(b1, "event", "add", "--uid", "ev-b2", "--summary", "Après la fin",
               "--start", "2027-05-04 10:00", "--end", "2027-05-04 12:00")
    wait_for("hubB holds ev-b2", lambda: "ev-b2" in uids(net, hub_b))
    # A ended the session with an Error: B's side of the link is down
    wait_for("B sees the link down", lambda: link_of(net, hub_b, hub_a.key)["state"] == "down")
    check("ev-b2" not in uids(net, hub_a) and "ev-b2" not in uids(net, a1),
          "B's event after the end of the link reached A")
    check("ev-b" in uids(net, a1), "what A received before the end was lost")


def case_booking(net):
    """A site of network B books a machine of network A that is bookable by the
    federation, for a trained member; A's owner answers under its auto policy
    and the answer reaches B. The directory at b1 names a1's network; a machine
    bookable by A's network only is refused up front or declined."""
    n = start_network(net, ["a1"])
    hub_a, a1 = net.hub, n["a1"]
    hub_b, b1 = second_network(net, "hubB", "b1")
    net.cli_ok(a1, "equipment", "add", "--id", "tour", "--name", "Tour", "--category", "lathe",
               "--bookable-by", "federation", "--training", "lathe")
    net.cli_ok(b1, "member", "add", "--id", "m-b", "--name", "Maker B", "--sharing",
               "federation", "--training", "lathe")
    both = "events,equipment,bookings,members"
    net.cli_ok(hub_a, "federate", hub_b.key, "tcp://127.0.0.1:%d" % hub_b.port, "--name", "B",
               "--share", both, "--accept", both)
    net.cli_ok(hub_b, "federate", hub_a.key, "tcp://127.0.0.1:%d" % hub_a.port,
               "--name", "Réseau A", "--share", both, "--accept", both)
    wait_for("A's lathe at b1", lambda: "tour" in equipment_keys(net, b1))
    sites = net.cli_ok(b1, "sites", json_out=True)["sites"]
    row = [s for s in sites if s["key"] == a1.key]
    check(row and row[0]["network_name"] == "Réseau A", "a1 in b1's directory: %s" % row)
    wait_for("b1's member at a1", lambda: "m-b" in member_keys(net, a1))
    day = time.strftime("%Y-%m-%d", time.localtime(time.time() + 3 * 86400))
    out = net.cli_ok(b1, "book", "tour", "--site", "a1", "--from", day + " 09:00", "--to",
                     day + " 12:00", "--member", "m-b", "--wait", "60", json_out=True)
    check(out.get("status") == "confirmed", "the cross-network booking: %s" % out)
    wait_for("the answer at hubB",
             lambda: any(b["status"] == "confirmed" for b in
                         net.cli_ok(hub_b, "bookings", "list", json_out=True)["bookings"]))
    # the owner sees the other network's member by name (shared with the
    # federation) and the trainings the request attests
    rows = [b for b in net.cli_ok(a1, "bookings", "list", json_out=True)["bookings"]
            if b["id"] == out["id"]]
    check([(b["member"], b["member_name"], b["member_trainings"]) for b in rows] ==
          [("m-b", "Maker B", ["lathe"])], "b1's request at a1: %s" % rows)


def rejected(net, site, reason):
    st = net.cli_ok(site, "status", json_out=True)
    return st.get("sync", {}).get("rejected_by_reason", {}).get(reason, 0)


def case_chain(net):
    """Trust is not transitive: A federates with B, B with C, not A with C. B's
    events reach A and C; A's events reach B, and B never passes them on to C
    (a network's entries cross only from that network). A site of B writing an
    entry as if it were a site of A is refused by B's broker (not attested by
    A), counted."""
    check(net.args.forge, "this case needs --forge (el_testforge)")
    n = start_network(net, ["a1"])
    hub_a, a1 = net.hub, n["a1"]
    hub_b, b1 = second_network(net, "hubB", "b1")
    hub_c, c1 = second_network(net, "hubC", "c1")
    for x, y in ((hub_a, hub_b), (hub_b, hub_a), (hub_b, hub_c), (hub_c, hub_b)):
        net.cli_ok(x, "federate", y.key, "tcp://127.0.0.1:%d" % y.port)
    net.cli_ok(a1, "event", "add", "--uid", "ev-a", "--summary", "A",
               "--start", "2027-06-01 10:00", "--end", "2027-06-01 12:00")
    net.cli_ok(b1, "event", "add", "--uid", "ev-b", "--summary", "B",
               "--start", "2027-06-02 10:00", "--end", "2027-06-02 12:00")
    wait_for("B's event at a1", lambda: "ev-b" in uids(net, a1))
    wait_for("B's event at c1", lambda: "ev-b" in uids(net, c1))
    wait_for("A's event at b1", lambda: "ev-a" in uids(net, b1))
    # B's later event reaches C: whatever B would pass on has had its chance
    net.cli_ok(b1, "event", "add", "--uid", "ev-b2", "--summary", "B later",
               "--start", "2027-06-03 10:00", "--end", "2027-06-03 12:00")
    wait_for("B's later event at c1", lambda: "ev-b2" in uids(net, c1))
    check("ev-a" not in uids(net, hub_c) and "ev-a" not in uids(net, c1),
          "A's event reached C through B")
    check(rejected(net, hub_c, "wrong_network") == 0,
          "B passed A's entries on to C (C refused %d)" % rejected(net, hub_c, "wrong_network"))
    # b1 signs an entry claiming network A: B's broker refuses it (A never attested b1)
    before = rejected(net, hub_b, "not_admitted")
    b1_key = os.path.join(b1.dir, "key")
    out = el_it.subprocess.run(
        [net.args.forge, b1_key, hub_b.key, "tcp://127.0.0.1:%d" % hub_b.port, hub_b.key,
         b1.key, "--signed-by", b1_key, "--claim-network", hub_a.key],
        capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, "el_testforge: %s" % out.stderr)
    wait_for("B refuses b1 writing as a site of A",
             lambda: rejected(net, hub_b, "not_admitted") > before)
    for s in (hub_b, hub_a, a1):
        check("relayed-event" not in uids(net, s), "the claimed entry is stored at %s" % s.name)


CASES = {"link": case_link, "booking": case_booking, "chain": case_chain}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--cli", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--broker", required=True)
    ap.add_argument("--ctl")
    ap.add_argument("--forge", help="el_testforge, for the chain case")
    ap.add_argument("--keep", action="store_true")
    return run_case(ap.parse_args(), CASES)


if __name__ == "__main__":
    sys.exit(main())
