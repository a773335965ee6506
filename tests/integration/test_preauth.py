#!/usr/bin/env python3
"""A stranger without a key cannot hold a broker's connection (and what it
buffered of a handshake) for long: a raw TCP client sends a ZMTP greeting for
CURVE, then the header of an 8 MiB command frame and 1 MiB of it, and stops.
The broker must close the connection once its handshake time
(EL_NODE_HANDSHAKE_MS, 5 s) is over — libzmq's default would hold it 30 s —
and still serve an honest site meanwhile.

  test_preauth.py --cli entrelab --node entrelab-node --broker entrelab-broker
"""
import argparse
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from el_it import check, wait_for  # noqa: E402
from test_cli import run_case, start_network  # noqa: E402


def stalled_handshake(port):
    """Seconds until the broker closed a connection that stalled mid-handshake."""
    s = socket.create_connection(("127.0.0.1", port))
    greeting = (b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"CURVE".ljust(20, b"\x00")
                + b"\x00" + b"\x00" * 31)
    s.sendall(greeting)
    s.sendall(b"\x06" + struct.pack(">Q", 8 << 20) + b"x" * (1 << 20))
    t0 = time.monotonic()
    s.settimeout(60)
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()
    return time.monotonic() - t0


def case_stall(net):
    n = start_network(net, ["a"])
    a = n["a"]
    held = stalled_handshake(net.hub.port)
    check(held < 15, "the broker held a stalled handshake for %.1f s" % held)
    net.cli_ok(a, "event", "add", "--uid", "after-stall", "--summary", "still served",
               "--start", "2027-06-01 10:00", "--end", "2027-06-01 11:00")
    wait_for("the honest site's event at the broker", lambda: "after-stall" in [
        e["uid"] for e in net.cli_ok(net.hub, "event", "list", "--all", json_out=True)["events"]])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", default="stall", choices=["stall"])
    ap.add_argument("--cli", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--broker", required=True)
    ap.add_argument("--ctl")
    ap.add_argument("--keep", action="store_true")
    return run_case(ap.parse_args(), {"stall": case_stall})


if __name__ == "__main__":
    sys.exit(main())
