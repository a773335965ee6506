#!/usr/bin/env python3
"""Strangers without a key cannot make a broker hold much, for long.

stall      a raw TCP client sends a ZMTP greeting for CURVE, then the header
           of a command frame at the frame cap and 1 MiB of it, and stops:
           the broker closes it once its handshake time (EL_NODE_HANDSHAKE_MS,
           5 s) is over — libzmq's default would hold it 30 s — and still
           serves an honest site meanwhile.
flood      200 such connections (from 8 loopback addresses, reopened as the
           broker closes them at up to 100 a second, each sending all it can
           of a frame at the cap)
           raise the broker's memory (VmHWM against VmRSS before) by no more
           than 64 MiB; a site that restarts meanwhile connects again and an
           entry written at one site reaches the other; the refusals are
           counted in status (handshakes_refused, by reason).
transport  a connection that sends nothing, one that sends garbage and stays
           open, and a ZMTP greeting for the NULL mechanism are each closed in
           bounded time; a site with an unknown CURVE key is refused; 500
           connections at once are all closed while an entry still goes from
           one site to the other.

  test_preauth.py --case CASE --cli entrelab --node entrelab-node --broker entrelab-broker
"""
import argparse
import errno
import os
import selectors
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from el_it import check, wait_for  # noqa: E402
from test_cli import run_case, start_network  # noqa: E402


FRAME_MAX = 2 << 20         # EL_FRAME_MAX (core/el_entry.h): what libzmq lets a command declare
CLOSED_WITHIN_S = 15        # a stalled connection is closed before this (handshake time 5 s)
RSS_GROWTH_MAX = 64 << 20   # bytes: what 200 strangers may add to the broker's memory
ATTACKERS = ["127.0.0.%d" % i for i in range(2, 10)]


def greeting(mechanism=b"CURVE"):
    """A ZMTP 3.0 greeting (ZeroMQ RFC 23), as a client."""
    return (b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + mechanism.ljust(20, b"\x00")
            + b"\x00" + b"\x00" * 31)


def big_command_header():
    """A long command frame declaring the frame cap."""
    return b"\x06" + struct.pack(">Q", FRAME_MAX)


def closed_after(s, limit=60):
    """Seconds until the peer closed @s (reading and dropping what it sends)."""
    t0 = time.monotonic()
    s.settimeout(limit)
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()
    return time.monotonic() - t0


def stalled_handshake(port):
    """Seconds until the broker closed a connection that stalled mid-handshake."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(greeting())
    s.sendall(big_command_header() + b"x" * (1 << 20))
    return closed_after(s)


def memory_kib(pid):
    """{VmRSS, VmHWM} of @pid, KiB."""
    got = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                got[k] = int(v.split()[0])
    return got


class Flood:
    """@n raw connections from ATTACKERS to @port, each sending a CURVE
    greeting, a command header at the frame cap and as many bytes of it as
    the broker takes; with @reopen (connections a second), one the broker
    closes is opened again, at most that many a second, until stop()."""

    def __init__(self, port, n, reopen=0):
        self.port, self.n, self.reopen = port, n, reopen
        self.t0 = time.monotonic()
        self.waiting = []           # indexes to reopen when the rate allows
        self.sel = selectors.DefaultSelector()
        self.opened = self.closed = self.sent = 0
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def open_one(self, i):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((ATTACKERS[i % len(ATTACKERS)], 0))
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", self.port))
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            return
        self.opened += 1
        todo = greeting() + big_command_header()
        self.sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE,
                          {"i": i, "todo": todo, "left": FRAME_MAX - 1})

    def drop(self, s, data):
        self.sel.unregister(s)
        s.close()
        self.closed += 1
        if self.reopen:
            self.waiting.append(data["i"])

    def reopen_some(self):
        allowed = self.n + int(self.reopen * (time.monotonic() - self.t0))
        while self.waiting and self.opened < allowed and not self.halt.is_set():
            self.open_one(self.waiting.pop())

    def step(self, s, data, mask):
        if mask & selectors.EVENT_READ:
            try:
                if not s.recv(65536):
                    return self.drop(s, data)
            except BlockingIOError:
                pass
            except OSError:
                return self.drop(s, data)
        if mask & selectors.EVENT_WRITE:
            if not data["todo"] and data["left"] > 0:
                data["todo"] = b"x" * min(65536, data["left"])
                data["left"] -= len(data["todo"])
            if not data["todo"]:
                self.sel.modify(s, selectors.EVENT_READ, data)
                return
            try:
                k = s.send(data["todo"])
                self.sent += k
                data["todo"] = data["todo"][k:]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                self.drop(s, data)

    def run(self):
        for i in range(self.n):
            self.open_one(i)
        while not self.halt.is_set():
            for key, mask in self.sel.select(timeout=0.05):
                self.step(key.fileobj, key.data, mask)
            self.reopen_some()

    def start(self):
        self.thread.start()

    def stop(self):
        self.halt.set()
        self.thread.join(30)
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()
        self.sel.close()


def add_event(net, site, uid):
    net.cli_ok(site, "event", "add", "--uid", uid, "--summary", "still served",
               "--start", "2027-06-01 10:00", "--end", "2027-06-01 11:00")


def wait_event(net, site, uid):
    wait_for("%s at %s" % (uid, site.name), lambda: uid in [
        e["uid"] for e in net.cli_ok(site, "event", "list", "--all", json_out=True)["events"]])


def can_bind_attackers():
    try:
        for a in ATTACKERS:
            s = socket.socket()
            s.bind((a, 0))
            s.close()
        return True
    except OSError:
        return False


def case_stall(net):
    n = start_network(net, ["a"])
    a = n["a"]
    held = stalled_handshake(net.hub.port)
    check(held < 15, "the broker held a stalled handshake for %.1f s" % held)
    net.cli_ok(a, "event", "add", "--uid", "after-stall", "--summary", "still served",
               "--start", "2027-06-01 10:00", "--end", "2027-06-01 11:00")
    wait_for("the honest site's event at the broker", lambda: "after-stall" in [
        e["uid"] for e in net.cli_ok(net.hub, "event", "list", "--all", json_out=True)["events"]])


def case_flood(net):
    if not can_bind_attackers():
        print("skip: cannot bind the loopback addresses %s..%s" % (ATTACKERS[0], ATTACKERS[-1]))
        sys.exit(77)
    n = start_network(net, ["a", "b"])
    a, b = n["a"], n["b"]
    add_event(net, a, "before-flood")
    wait_event(net, b, "before-flood")
    pid = net.hub.proc.pid
    before = memory_kib(pid)
    flood = Flood(net.hub.port, 200, reopen=100)
    flood.start()
    try:
        time.sleep(2)                       # let the flood reach its height
        b.stop()                            # an honest handshake during the flood
        b.start()
        add_event(net, a, "during-flood")
        wait_event(net, b, "during-flood")
        time.sleep(2)
        during = memory_kib(pid)
    finally:
        flood.stop()
    growth = (during["VmHWM"] - before["VmRSS"]) * 1024
    print("broker memory: VmRSS %d KiB before, VmRSS %d KiB and VmHWM %d KiB during; "
          "%d connections opened, %d closed by the broker, %d bytes sent"
          % (before["VmRSS"], during["VmRSS"], during["VmHWM"], flood.opened, flood.closed,
             flood.sent))
    check(flood.opened >= 200, "only %d connections opened" % flood.opened)
    if net.args.sanitized:
        # AddressSanitizer's allocator keeps freed blocks in its quarantine
        # (256 MiB by default) and ignores mallopt: memory is no measure
        # there; the normal build of the suite asserts the bound
        print("memory bound not asserted in the sanitizer build (grew by %d MiB; the "
              "normal build asserts <= %d MiB)" % (growth >> 20, RSS_GROWTH_MAX >> 20))
    else:
        check(growth <= RSS_GROWTH_MAX, "the broker grew by %d MiB" % (growth >> 20))
    sync = net.cli_ok(net.hub, "status", json_out=True)["sync"]
    print("broker handshakes_refused %s" % sync.get("handshakes_refused_by_reason"))
    reasons = sync["handshakes_refused_by_reason"]
    check(sync["handshakes_refused"] > 0 and sum(reasons.values()) == sync["handshakes_refused"]
          and set(reasons) <= {"per_address", "total", "table_full"},
          "refusals not counted: %s" % sync)
    check("Handshakes refused:" in net.cli_ok(net.hub, "status"), "no table line")
    log = open(net.hub.log, errors="replace").read()
    lines = log.count("handshake_refused")
    check(0 < lines <= 20, "handshake_refused logged %d times" % lines)


def case_transport(net):
    n = start_network(net, ["a", "b"])
    a, b = n["a"], n["b"]
    port = net.hub.port
    silent = socket.create_connection(("127.0.0.1", port))
    garbage = socket.create_connection(("127.0.0.1", port))
    garbage.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + os.urandom(64))
    null = socket.create_connection(("127.0.0.1", port))
    null.sendall(greeting(b"NULL"))
    for name, s in (("silent", silent), ("garbage", garbage), ("NULL mechanism", null)):
        held = closed_after(s)
        check(held < CLOSED_WITHIN_S, "the %s connection was held %.1f s" % (name, held))
    # a site whose key the broker does not know is refused at the handshake
    stranger = net.add("stranger", admit=False)
    stranger.start()
    wait_for("the stranger refused", lambda: net.cli_ok(
        net.hub, "status", json_out=True)["sync"]["auth_failures"] >= 1)
    check(not net.cli_ok(stranger, "status", json_out=True)["admitted"], "stranger admitted")
    # 500 connections at once while sites sync
    flood = Flood(port, 500)
    flood.start()
    try:
        add_event(net, a, "during-500")
        wait_event(net, b, "during-500")
        wait_for("the 500 connections closed by the broker", lambda: flood.closed >= flood.opened
                 and flood.opened >= 500 or None, timeout=60)
    finally:
        flood.stop()
    uids = [e["uid"] for e in net.cli_ok(stranger, "event", "list", "--all",
                                           json_out=True)["events"]]
    check("during-500" not in uids, "the stranger got an entry")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", default="stall", choices=["stall", "flood", "transport"])
    ap.add_argument("--cli", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--broker", required=True)
    ap.add_argument("--ctl")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--sanitized", action="store_true",
                    help="a sanitizer build: its allocator makes memory no measure")
    return run_case(ap.parse_args(), {"stall": case_stall, "flood": case_flood,
                                      "transport": case_transport})


if __name__ == "__main__":
    sys.exit(main())
