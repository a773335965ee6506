#!/usr/bin/env python3
"""Hostile vectors (tests/vectors/hostile/*.vec) against live daemons.

Each .vec file is one case: what a hostile or broken peer sends and what the
daemon must do with it. The runner starts a real broker and two real nodes
(A, and B which listens for direct peers) on loopback, admits an attacker
site and a witness site, and revokes a third site R after it wrote. For each
vector it opens a CURVE session to the broker as the attacker (its own
ZeroMQ client, written here: pyzmq, PyNaCl for Ed25519, hand-encoded
protobuf, so the bytes are exactly what the vector says), sends the input,
and checks the outcome:

  rejected REASON   each entry refused: the broker's status counts it under
                    REASON (sync.rejected_by_reason), the origin's head at the
                    broker does not move, nothing of it reaches A or B
  frame REASON      the frame refused: counted under sync.frames_refused_by_reason
  ended REASON      the session ended by the broker with an Error: counted
                    under sync.ended_by_reason
  closed            the connection closed (libzmq's frame limit): counted as
                    a disconnect
  duplicate         a replay of an entry held: counted as a duplicate, not
                    stored twice
  kept              stored and relayed verbatim: the witness, a site that
                    connects to B, receives the very bytes sent
  served            answered, nothing refused, within the credit it granted

After every vector A writes an entry that must still reach B (honest peers
keep being served); at the end every daemon must hold the same heads, none
of the attacker's refused entries, and stop cleanly on SIGTERM.

File format: "name: value" lines, '#' comments. `what` says the case;
`send` is entry (the default: one signed entry built from the fields below,
in one Entries frame) or frame (`frame` names a generator, see FRAMES);
`expect` and `reason` say the outcome (REASON is a status reason name,
core/el_error.c); `count` how many (default 1). Entry fields (defaults in
ENTRY_DEFAULTS): origin, signer, seq, prev, network, time, kind, key,
payload, payload_hash, sig, body_extra, body_reencode, entry_extra, stub,
deleted, setup.

  hostile_vectors.py --node BIN --broker BIN --ctl BIN [--vector NAME]... [--keep]
"""
import argparse
import base64
import glob
import hashlib
import json
import os
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

try:
    import zmq
    import zmq.utils.z85
    import nacl.bindings
    import nacl.signing
except ImportError as e:  # install-deps installs python3-zmq and python3-nacl
    print("skip: %s (deploy/install-deps.sh installs python3-zmq and python3-nacl)" % e)
    sys.exit(77)

import run  # noqa: E402  (Net, Daemon, expect, ...)
from el_it import Failure  # noqa: E402  (run.el_it: the shared runner)

PROTOCOL_VERSION = 1
FRAME_MAX = 2 << 20
ENTRY_MAX = 128 << 10
BATCH_MAX = 4096
KINDS = {"site": 1, "event": 2, "member": 3, "equipment": 4, "booking_request": 5, "booking": 6}
DAY_US = 24 * 3600 * 1000000
ANSWER_S = 15.0        # a bound on waiting for an answer, never a wait that passes

# ------------------------------------------------------------ protobuf by hand


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_varint(num, v):
    return varint(num << 3) + varint(v)


def f_bytes(num, b):
    return varint((num << 3) | 2) + varint(len(b)) + b


def f_fixed64(num, v):
    return varint((num << 3) | 1) + struct.pack("<q", v)


def fields(data):
    """[(number, value)] of a message: ints for varints, bytes otherwise."""
    out, i = [], 0
    while i < len(data):
        key, i = read_varint(data, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(data, i)
        elif wt == 1:
            v, i = data[i:i + 8], i + 8
        elif wt == 2:
            n, i = read_varint(data, i)
            v, i = data[i:i + n], i + n
        elif wt == 5:
            v, i = data[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        out.append((num, v))
    return out


def read_varint(data, i):
    v = shift = 0
    while True:
        b = data[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def blake2b256(data):
    return hashlib.blake2b(data, digest_size=32).digest()


def key_from_text(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_to_text(key):
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def load_secret(path):
    """(public key, 64-byte secret key) of an entrelab key file."""
    with open(path) as f:
        tag, text = f.read().split()
    sk = key_from_text(text)
    return sk[32:], sk


def body_bytes(origin, seq, prev, network, time_us, kind, key, deleted, payload_hash):
    b = f_bytes(1, origin) + f_varint(2, seq) + f_bytes(3, prev) + f_bytes(4, network)
    b += f_fixed64(5, time_us) + f_varint(6, kind) + f_bytes(7, key.encode())
    if deleted:
        b += f_varint(8, 1)
    if payload_hash is not None:
        b += f_bytes(9, payload_hash)
    return b


def entry_bytes(body, sig, payload, stub=False, extra=b""):
    e = f_bytes(1, body) + f_bytes(2, sig)
    if payload:
        e += f_bytes(4, payload)
    if stub:
        e += f_varint(5, 1)
    return e + extra


def entry_hash(entry):
    """BLAKE2b-256(sig || body) of a serialized Entry."""
    f = dict(fields(entry))
    return blake2b256(f.get(2, b"") + f.get(1, b""))


def msg_entries(entries):
    return f_bytes(2, b"".join(f_bytes(1, e) for e in entries))


def msg_credit_raw(varint_bytes):
    return f_bytes(3, varint(1 << 3) + varint_bytes)


def msg_hello(sender, network, heads, credit, version=PROTOCOL_VERSION):
    h = f_varint(1, version) + f_bytes(2, sender) + f_bytes(3, network)
    for origin, seq, hsh in heads:
        h += f_bytes(5, f_bytes(1, origin) + f_varint(2, seq) + f_bytes(3, hsh))
    if credit:
        h += f_varint(6, credit)
    return f_bytes(1, h)


def event_payload(uid, summary):
    return f_bytes(1, uid.encode()) + f_bytes(2, summary.encode()) + f_fixed64(4, 1798761600000000)


def request_payload(owner, equipment):
    return (f_bytes(1, owner) + f_bytes(2, equipment.encode()) + f_fixed64(4, 1798761600000000)
            + f_fixed64(5, 1798765200000000))


def booking_payload(req_origin, req_key, status=1):
    return (f_bytes(1, req_origin) + f_bytes(2, req_key.encode()) + f_bytes(3, b"lathe")
            + f_fixed64(4, 1798761600000000) + f_fixed64(5, 1798765200000000)
            + f_varint(6, status))


def sign(sk64, body):
    return nacl.signing.SigningKey(sk64[:32]).sign(body).signature


# ------------------------------------------------------------ a session


class Session:
    """A CURVE DEALER session to a daemon's sync port as one site."""

    def __init__(self, ctx, endpoint, server_pk, pk, sk64):
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.MAXMSGSIZE, 4 * FRAME_MAX)
        self.sock.curve_serverkey = zmq.utils.z85.encode(
            nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(server_pk))
        self.sock.curve_publickey = zmq.utils.z85.encode(
            nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(pk))
        self.sock.curve_secretkey = zmq.utils.z85.encode(
            nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(sk64))
        self.monitor = self.sock.get_monitor_socket(zmq.EVENT_DISCONNECTED)
        self.sock.connect(endpoint)
        self.pk = pk

    def close(self):
        self.sock.disable_monitor()
        self.monitor.close(0)
        self.sock.close(0)

    def send(self, frame):
        self.sock.send(frame, copy=True)

    def recv(self, timeout_s):
        """Next message as [(number, value)] of Msg, or None on timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.sock.poll(int(left * 1000)):
                return None
            data = self.sock.recv()
            if data:
                return fields(data)

    def disconnected(self, timeout_s):
        return bool(self.monitor.poll(int(timeout_s * 1000)))

    def answer(self, timeout_s=ANSWER_S, until=("credit", "error")):
        """Kinds of what the daemon sent within @timeout_s, until one of
        @until: 'credit', 'error' (listed as 'error:CODE'), 'hello',
        'entries:N'."""
        seen = []
        while True:
            m = self.recv(timeout_s)
            if m is None:
                return seen
            num, v = m[0]
            kind = {1: "hello", 2: "entries", 3: "credit", 4: "error"}.get(num, "unknown")
            if kind == "error":
                seen.append("error:%d" % dict(fields(v)).get(1, 0))
            elif kind == "entries":
                seen.append("entries:%d" % len(fields(v)))
            else:
                seen.append(kind)
            if kind in until:
                return seen


# ------------------------------------------------------------ vectors


def credited(answer):
    """The daemon credited our frame back (entries it streamed meanwhile aside)."""
    return answer[-1:] == ["credit"]

ENTRY_DEFAULTS = {
    "origin": "self",       # self | victim | revoked | stranger | forker: whose log the
                            # entry claims (forker: an admitted site of its own, which
                            # a fork vector leaves quarantined)
    "signer": "origin",     # origin | self | victim | stranger: whose key signs
    "seq": "next",          # next | next+N | head (the seq held, new content) | N |
                            # replay (the next entry, sent again once stored)
    "prev": "head",         # head | zero | random
    "network": "ours",      # ours | other
    "time": "now",          # now | +Nd | -Nd
    "kind": "event",        # a name of KINDS or a number
    "key": "",              # default: vec-NAME
    "payload": "event",     # event | junk | empty | hex:.. | big | request-to-victim |
                            # confirm-own-request | bytes:N
    "payload_hash": "ok",   # ok | wrong | none | short
    "sig": "ok",            # ok | zero | flip | short | none
    "body_extra": "",       # hex appended to the body before signing (unknown field)
    "body_reencode": "no",  # yes: the body re-serialized after signing (fields reordered)
    "entry_extra": "",      # hex appended to the Entry (unknown field outside the body)
    "stub": "no",
    "deleted": "no",
    "setup": "",            # request-to-victim: first a BookingRequest of the attacker
                            # to the victim; origin-entry: first a valid next entry of
                            # the origin
}


def parse_vector(path):
    v = {"name": os.path.splitext(os.path.basename(path))[0]}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            k, sep, val = line.partition(":")
            if not sep:
                raise Failure("%s: not 'name: value': %r" % (path, line))
            v[k.strip()] = val.strip()
    for need in ("what", "expect"):
        if need not in v:
            raise Failure("%s: no '%s'" % (path, need))
    if v.get("send", "entry") == "entry":
        for k, d in ENTRY_DEFAULTS.items():
            v.setdefault(k, d)
    unknown = set(v) - set(ENTRY_DEFAULTS) - {"name", "what", "send", "frame", "expect",
                                              "reason", "count"}
    if unknown:
        raise Failure("%s: unknown fields %s" % (path, sorted(unknown)))
    return v


class World:
    """The sites a vector can name, and the broker's heads when it starts."""

    def __init__(self, net, att, victim, revoked, stranger, other_net):
        self.net = net
        self.att, self.victim, self.revoked, self.stranger = att, victim, revoked, stranger
        self.other_net = other_net
        self.network = key_from_text(net.broker.key)

    def heads(self):
        return {key_from_text(k): (h["seq"], bytes.fromhex(h["hash"]))
                for k, h in self.net.broker.heads().items()}

    def site(self, name):
        return {"self": self.att, "victim": self.victim, "revoked": self.revoked,
                "stranger": self.stranger, "forker": self.forker}[name]


def build_entry(v, w, heads, seq_override=None):
    """The Entry bytes vector @v describes, against @heads."""
    origin_pk, origin_sk = w.site(v["origin"])
    signer = origin_sk if v["signer"] == "origin" else w.site(v["signer"])[1]
    head_seq, head_hash = heads.get(origin_pk, (0, bytes(32)))
    s = v["seq"]
    if seq_override is not None:
        seq = seq_override
    elif s in ("next", "replay"):
        seq = head_seq + 1
    elif s.startswith("next+"):
        seq = head_seq + 1 + int(s[5:])
    elif s == "head":
        seq = head_seq
    else:
        seq = int(s)
    prev = {"head": head_hash, "zero": bytes(32), "random": os.urandom(32)}[v["prev"]]
    network = w.network if v["network"] == "ours" else w.other_net
    now = int(time.time() * 1000000)
    t = v["time"]
    time_us = now if t == "now" else now + int(t[:-1]) * DAY_US
    kind = KINDS.get(v["kind"], None)
    kind = int(v["kind"]) if kind is None else kind
    key = "" if v["key"] == "<empty>" else v["key"] or "vec-" + v["name"]
    p = v["payload"]
    if p == "event":
        payload = event_payload(key, "hostile vector " + v["name"])
    elif p == "junk":
        payload = b"\xff\xff\xff\xff\x0f" + os.urandom(40)
    elif p == "empty":
        payload = b""
    elif p == "big":
        payload = event_payload(key, "x" * (65 << 10))
    elif p.startswith("bytes:"):
        payload = f_bytes(3, b"d" * int(p[6:]))
    elif p.startswith("hex:"):
        payload = bytes.fromhex(p[4:])
    elif p == "request-to-victim":
        payload = request_payload(w.victim[0], "lathe")
    elif p == "confirm-own-request":
        payload = booking_payload(origin_pk, "vec-request")
    else:
        raise Failure("%s: payload %r" % (v["name"], p))
    ph = {"ok": blake2b256(payload), "wrong": blake2b256(payload + b"x"), "none": None,
          "short": blake2b256(payload)[:16]}[v["payload_hash"]]
    deleted = v["deleted"] == "yes"
    if deleted:
        payload, ph = b"", None
    body = body_bytes(origin_pk, seq, prev, network, time_us, kind, key, deleted, ph)
    body += bytes.fromhex(v["body_extra"])
    sig = sign(signer, body)
    if v["body_reencode"] == "yes":      # a relay that decoded and re-encoded the body
        fs = fields(body)
        body = b"".join(f_fixed64(n, struct.unpack("<q", x)[0]) if n == 5 else
                        f_varint(n, x) if isinstance(x, int) else f_bytes(n, x)
                        for n, x in reversed(fs))
    sig = {"ok": sig, "zero": bytes(64), "flip": bytes([sig[0] ^ 1]) + sig[1:],
           "short": sig[:63], "none": b""}[v["sig"]]
    stub = v["stub"] == "yes"
    if stub:
        payload = b""
    return entry_bytes(body, sig, payload, stub, bytes.fromhex(v["entry_extra"])), origin_pk, seq


def frame_of(v, w, session_heads):
    """(frames to send) for a send: frame vector."""
    g = v["frame"]
    att_pk = w.att[0]
    if g == "unknown-message":
        return [f_bytes(9, b"\x08\x01")]
    if g == "hello-cut":
        h = msg_hello(att_pk, w.network, [], 64)
        return [h[:len(h) // 2]]
    if g == "entries-outer-lie":
        return [varint((2 << 3) | 2) + varint(5000) + b"\x0a\x02ab"]
    if g == "entries-inner-lie":
        inner = varint((1 << 3) | 2) + varint(9000) + b"abcd"
        return [varint((2 << 3) | 2) + varint(len(inner)) + inner]
    if g == "entries-cut":
        e = msg_entries([b"\x0a\x03abc" * 40])
        return [e[:len(e) // 2]]
    if g == "unterminated-varint":
        return [b"\x12" + b"\xff" * 9]
    if g == "length-2^32":
        return [b"\x12" + varint(1 << 32) + b"abcd"]
    if g == "wrong-wire-type":
        return [varint((2 << 3) | 0) + varint(7)]
    if g == "hello-loop":
        return [msg_hello(att_pk, w.network, [], 8) for _ in range(50)]
    if g == "credit-zero":
        return [msg_credit_raw(varint(0))]
    if g == "credit-negative":
        return [msg_credit_raw(varint(-1))]
    if g == "credit-huge":
        return [msg_credit_raw(varint((1 << 64) - 1))] * 5
    if g == "hello-million-heads":
        head = f_bytes(5, b"")
        body = f_varint(1, PROTOCOL_VERSION) + f_bytes(2, att_pk) + f_bytes(3, w.network)
        return [f_bytes(1, body + head * 1000000)]
    if g == "hello-too-many-heads":
        heads = [(os.urandom(32), 1, os.urandom(32)) for _ in range(16385)]
        return [msg_hello(att_pk, w.network, heads, 64)]
    if g == "hello-bad-version":
        return [msg_hello(att_pk, w.network, [], 64, version=99)]
    if g == "hello-wrong-network":
        return [msg_hello(att_pk, w.other_net, [], 64)]
    if g == "hello-other-sender":
        return [msg_hello(w.victim[0], w.network, [], 64)]
    if g == "hello-short-sender":
        return [msg_hello(att_pk[:16], w.network, [], 64)]
    if g == "entries-over-batch":
        return [msg_entries([b"\x0a\x01a"] * (BATCH_MAX + 1))]
    if g == "entries-junk":
        return [msg_entries([os.urandom(60) for _ in range(20)])]
    if g == "entries-empty-entry":
        return [msg_entries([b""])]
    if g == "oversize-frame":
        return [bytes(FRAME_MAX + 1)]
    if g == "multipart":
        return [[b"\x1a\x02\x08\x01", b"junk", b"more junk"]]
    raise Failure("%s: frame %r" % (v["name"], g))


def counters(d):
    st = d.status()
    s = st["sync"]
    return {"rejected": dict(s.get("rejected_by_reason", {})),
            "frames": dict(s.get("frames_refused_by_reason", {})),
            "ended": dict(s.get("ended_by_reason", {})),
            "disconnects": s.get("disconnects", 0),
            "duplicates": st["store"].get("duplicates", 0)}


def grew(before, after, kind, reason):
    return after[kind].get(reason, 0) - before[kind].get(reason, 0)


class Runner:
    def __init__(self, net, world, args):
        self.net, self.w, self.args = net, world, args
        self.ctx = zmq.Context()
        self.endpoint = "tcp://127.0.0.1:%d" % net.broker_port
        self.server_pk = key_from_text(net.broker.key)
        self.refused = []           # (origin, seq, key) that must be nowhere
        self.results = []

    def session(self, who, credit=64, heads=None):
        pk, sk = who
        s = Session(self.ctx, self.endpoint, self.server_pk, pk, sk)
        hs = self.w.heads() if heads is None else heads
        s.send(msg_hello(pk, self.w.network, [(o, q, h) for o, (q, h) in hs.items()], credit))
        got = s.answer(ANSWER_S * 2, until=("hello", "error"))
        run.expect("hello" in got, "the broker did not answer the attacker's Hello: %r" % got)
        return s, hs

    def run_entry(self, v):
        s, heads = self.session(self.w.att)
        try:
            sent = []
            if v["setup"]:
                if v["setup"] == "request-to-victim":
                    pre = dict(ENTRY_DEFAULTS, name=v["name"], payload="request-to-victim",
                               kind="booking_request", key="vec-request")
                elif v["setup"] == "origin-entry":
                    pre = dict(ENTRY_DEFAULTS, name=v["name"], origin=v["origin"],
                               key="vec-setup-" + v["name"])
                else:
                    raise Failure("%s: setup %r" % (v["name"], v["setup"]))
                e, pre_origin, pre_seq = build_entry(pre, self.w, heads)
                s.send(msg_entries([e]))
                run.expect(credited(s.answer()), "%s: setup entry not credited" % v["name"])
                run.wait_for("the setup entry at the broker",
                             lambda: self.w.heads().get(pre_origin, (0,))[0] == pre_seq)
                heads = self.w.heads()
            before = counters(self.net.broker)
            n = int(v.get("count", "1"))
            entries = []
            for i in range(n):
                e, origin, seq = build_entry(v, self.w, heads,
                                             None if n == 1 else heads.get(
                                                 self.w.site(v["origin"])[0], (0,))[0] + 1 + i)
                entries.append(e)
            if v["seq"] == "replay":
                s.send(msg_entries(entries))
                run.expect(credited(s.answer()), "%s: first copy not credited" % v["name"])
                run.wait_for("%s: the first copy at the broker" % v["name"],
                             lambda: self.w.heads().get(origin, (0,))[0] == seq)
                before = counters(self.net.broker)
            s.send(msg_entries(entries))
            ans = s.answer()
            sent = (origin, entries)
            return s, before, ans, sent, heads
        except Exception:
            s.close()
            raise

    def check(self, v):
        expect = v["expect"]
        reason = v.get("reason", "")
        n = int(v.get("count", "1"))
        name = v["name"]
        if v.get("send", "entry") == "entry":
            s, before, ans, (origin, entries), heads = self.run_entry(v)
        else:
            s, heads = self.session(self.w.att)
            before = counters(self.net.broker)
            frames = frame_of(v, self.w, heads)
            for f in frames:
                if isinstance(f, list):
                    s.sock.send_multipart(f)
                else:
                    s.send(f)
            if expect == "served":      # served means: the next Hello is answered
                s.send(msg_hello(self.w.att[0], self.w.network,
                                 [(o, q, h) for o, (q, h) in heads.items()], 64))
                ans = s.answer(until=("hello", "error"))
                run.expect("hello" in ans, "%s: the next Hello not answered: %r" % (name, ans))
            else:
                # a refused frame may get no answer at all: do not wait long
                ans = [] if expect == "closed" else s.answer(1.0 if expect == "frame" else ANSWER_S)
            origin, entries = None, []
        try:
            if expect == "closed":
                run.expect(s.disconnected(ANSWER_S * 4), "%s: the connection stayed open" % name)
                run.wait_for("%s: the disconnect counted" % name,
                             lambda: counters(self.net.broker)["disconnects"]
                             > before["disconnects"])
            elif expect in ("rejected", "frame", "ended"):
                kind = {"frame": "frames"}.get(expect, expect)
                try:
                    run.wait_for("%s: %d counted under %s/%s" % (name, n, expect, reason),
                                 lambda: grew(before, counters(self.net.broker), kind,
                                              reason) >= n)
                except Failure as e:
                    raise Failure("%s; counters before %r, after %r" % (
                        e, before, counters(self.net.broker)))
                got = grew(before, counters(self.net.broker), kind, reason)
                run.expect(got == n, "%s: %d counted under %s, expected %d" % (name, got, reason, n))
            elif expect == "duplicate":
                run.wait_for("%s: counted as a duplicate" % name,
                             lambda: counters(self.net.broker)["duplicates"]
                             >= before["duplicates"] + n)
            elif expect in ("kept", "served"):
                run.expect("error:" not in " ".join(ans), "%s: answered %r" % (name, ans))
                after = counters(self.net.broker)
                run.expect(after["frames"] == before["frames"] and after["ended"] == before["ended"]
                           and after["rejected"] == before["rejected"],
                           "%s: refusals counted: %r -> %r" % (name, before, after))
            else:
                raise Failure("%s: expect %r" % (name, expect))
            if expect == "rejected" and origin is not None:
                # nothing stored: the claimed origin's head did not move
                run.expect(self.w.heads().get(origin, (0, b""))[0] == heads.get(origin, (0, b""))[0],
                           "%s: the broker's head of the claimed origin moved" % name)
                if v.get("send", "entry") == "entry" and v["kind"] in KINDS:
                    self.refused.append((origin, v["kind"], v["key"] or "vec-" + name))
            if expect == "kept":
                self.check_kept(name, origin, entries, heads)
        finally:
            s.close()
        self.results.append((name, expect, reason, ans))

    def check_kept(self, name, origin, entries, heads):
        """The entries sent reach B and come back from B byte for byte."""
        b = self.net.nodes["B"]
        first = heads.get(origin, (0,))[0] + 1
        run.wait_for("%s: kept and relayed to B" % name,
                     lambda: b.heads().get(key_to_text(origin), {}).get("seq", 0)
                     >= first + len(entries) - 1)
        # the witness asks B for the origin's entries from just before them
        w = Session(self.ctx, "tcp://127.0.0.1:%d" % self.args.b_port,
                    key_from_text(b.key), *self.w.witness)
        try:
            bh = {key_from_text(k): (h["seq"], bytes.fromhex(h["hash"]))
                  for k, h in b.heads().items()}
            hs = [(o, q, h) for o, (q, h) in bh.items() if o != origin]
            if first > 1:
                hs.append((origin, first - 1, heads[origin][1]))
            w.send(msg_hello(self.w.witness[0], self.w.network, hs, 64))
            got = []
            deadline = time.monotonic() + 20
            while len(got) < len(entries) and time.monotonic() < deadline:
                m = w.recv(2)
                if m and m[0][0] == 2:
                    got += [x for n, x in fields(m[0][1]) if n == 1]
            run.expect(got[:len(entries)] == entries,
                       "%s: B relayed other bytes than were sent (%d of %d)"
                       % (name, len(got), len(entries)))
        finally:
            w.close()

    def honest_still_served(self, i):
        a, b = self.net.nodes["A"], self.net.nodes["B"]
        a.ctl("write", "event", "honest-%03d" % i, 1)
        want = a.heads()[a.key]["seq"]
        run.wait_for("A's entry %d at B" % want,
                     lambda: b.heads().get(a.key, {}).get("seq", 0) >= want)


def setup_world(net, args):
    ctl = args.ctl
    keys = {}
    for name in ("attacker", "witness", "revoked", "stranger", "forker"):
        path = os.path.join(net.tmp, name + ".key")
        subprocess.run([ctl, "keygen", path], capture_output=True, text=True, check=True)
        keys[name] = load_secret(path)
    b_port = run.free_port()
    args.b_port = b_port
    a = net.node("A")
    net.node("B", extra=["--listen", "tcp://127.0.0.1:%d" % b_port,
                         "--peer", key_to_text(keys["witness"][0])])
    for name in ("attacker", "witness", "revoked", "forker"):
        net.admit_key_offline(key_to_text(keys[name][0]), name)
    net.start_all()
    a.ctl("write", "event", "before", 3)
    run.wait_converged(net.daemons)
    other = nacl.signing.SigningKey.generate().verify_key.encode()
    w = World(net, keys["attacker"], load_secret(os.path.join(a.dir, "key")), keys["revoked"],
              keys["stranger"], other)
    w.witness = keys["witness"]
    w.forker = keys["forker"]
    # R writes two entries while admitted (sent by hand), then is revoked
    runner = Runner(net, w, args)
    s, heads = runner.session(w.revoked)
    as_r = World(net, w.revoked, w.victim, w.revoked, w.stranger, other)
    as_r.forker = w.forker
    for i in range(2):
        v = dict(ENTRY_DEFAULTS, name="revoked-before-%d" % i, origin="self")
        e, _, _ = build_entry(v, as_r, heads)
        s.send(msg_entries([e]))
        run.expect(credited(s.answer()), "R's entry %d not credited" % (i + 1))
        heads[w.revoked[0]] = (i + 1, entry_hash(e))
    s.close()
    run.wait_for("R's entries at the broker",
                 lambda: net.broker.heads().get(key_to_text(w.revoked[0]), {}).get("seq") == 2)
    net.broker.ctl("revoke", key_to_text(w.revoked[0]))
    run.wait_converged(net.daemons)
    return runner


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--node", required=True)
    ap.add_argument("--broker", required=True)
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--vector", action="append", help="only these (file names without .vec)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.forge = None
    paths = sorted(glob.glob(os.path.join(HERE, "hostile", "*.vec")))
    if args.vector:
        paths = [p for p in paths if os.path.splitext(os.path.basename(p))[0] in args.vector]
    vectors = [parse_vector(p) for p in paths]
    if not sys.platform.startswith("linux"):
        print("skip: needs Linux (ipc:// control sockets)")
        return 77
    def body(net):
        runner = setup_world(net, args)
        t0 = time.monotonic()
        for i, v in enumerate(vectors):
            t = time.monotonic()
            runner.check(v)
            runner.honest_still_served(i)
            print("  %-34s %-9s %-16s ok (%.1f s)" % (v["name"], v["expect"], v.get("reason", ""),
                                                      time.monotonic() - t))
        heads = run.wait_converged(net.daemons)
        for d in net.daemons:
            for origin, kind, key in runner.refused:
                run.expect(d.ctl("get", kind, key_to_text(origin), key, check=False) is None,
                           "%s holds the refused entry %s" % (d.name, key))
        run.expect(heads.get(key_to_text(runner.w.revoked[0]), {}).get("seq") == 2,
                   "R's head is %r" % heads.get(key_to_text(runner.w.revoked[0])))
        st = net.broker.status()["sync"]
        return ("%d cases in %.0f s; broker refused %d entries %s, %d frames %s"
                % (len(vectors), time.monotonic() - t0, st["rejected"],
                   json.dumps(st["rejected_by_reason"], sort_keys=True), st["frames_refused"],
                   json.dumps(st["frames_refused_by_reason"], sort_keys=True)))
    return run.el_it.run_net(run.Net(args), "hostile vectors", body, args.keep)


if __name__ == "__main__":
    sys.exit(main())
