#!/usr/bin/env python3
"""Checks tests/vectors/entries.txt with code that is not entrelab's.

Every vector's bytes are decoded and re-encoded here by hand from the schema
(proto/entrelab.proto, proto3 wire format), hashed with Python's
hashlib.blake2b, and signed and verified with two Ed25519 implementations:
PyNaCl (python3-nacl) and the pure-Python reference code of RFC 8032,
section 6, which shares nothing with libsodium. For each vector:

  - the seed's public key is the listed origin;
  - the Entry holds exactly the body, the signature and the payload, and the
    body is the EntryBody encoding of the listed fields, payload_hash being
    BLAKE2b-256(payload) (absent for a tombstone);
  - the signature is Ed25519(seed, body), byte for byte, and verifies; a body
    with one bit flipped does not;
  - hash = BLAKE2b-256(sig || body);
  - prev is zeros for seq 1, else the hash of the origin's previous vector.

  check_vectors.py entries.txt
Exit 0 when every vector checks, 1 otherwise, 77 when PyNaCl is absent
(after the other checks ran).
"""
import hashlib
import sys

# ------------------------------------------------------------ RFC 8032, 6
# The reference implementation of Ed25519 (RFC 8032, section 6), as printed
# there; slow and not constant-time, which does not matter for test vectors.

P = 2 ** 255 - 19
Q = 2 ** 252 + 27742317777372353535851937790883648493


def sha512(s):
    return hashlib.sha512(s).digest()


def modp_inv(x):
    return pow(x, P - 2, P)


D = -121665 * modp_inv(121666) % P
MODP_SQRT_M1 = pow(2, (P - 1) // 4, P)


def point_add(Pt, Qt):
    A, B = (Pt[1] - Pt[0]) * (Qt[1] - Qt[0]) % P, (Pt[1] + Pt[0]) * (Qt[1] + Qt[0]) % P
    C, Dd = 2 * Pt[3] * Qt[3] * D % P, 2 * Pt[2] * Qt[2] % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F, G * H, F * G, E * H)


def point_mul(s, Pt):
    Qt = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            Qt = point_add(Qt, Pt)
        Pt = point_add(Pt, Pt)
        s >>= 1
    return Qt


def point_equal(Pt, Qt):
    if (Pt[0] * Qt[2] - Qt[0] * Pt[2]) % P != 0:
        return False
    return (Pt[1] * Qt[2] - Qt[1] * Pt[2]) % P == 0


def recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * modp_inv(D * y * y + 1)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * MODP_SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


G_Y = 4 * modp_inv(5) % P
G_X = recover_x(G_Y, 0)
G = (G_X, G_Y, 1, G_X * G_Y % P)


def point_compress(Pt):
    zinv = modp_inv(Pt[2])
    x, y = Pt[0] * zinv % P, Pt[1] * zinv % P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def point_decompress(s):
    if len(s) != 32:
        raise ValueError("invalid input length for decompression")
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


def secret_expand(secret):
    if len(secret) != 32:
        raise ValueError("bad size of private key")
    h = sha512(secret)
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= (1 << 254)
    return (a, h[32:])


def secret_to_public(secret):
    a, _ = secret_expand(secret)
    return point_compress(point_mul(a, G))


def sha512_modq(s):
    return int.from_bytes(sha512(s), "little") % Q


def rfc8032_sign(secret, msg):
    a, prefix = secret_expand(secret)
    A = point_compress(point_mul(a, G))
    r = sha512_modq(prefix + msg)
    Rs = point_compress(point_mul(r, G))
    h = sha512_modq(Rs + A + msg)
    s = (r + h * a) % Q
    return Rs + int.to_bytes(s, 32, "little")


def rfc8032_verify(public, msg, signature):
    if len(public) != 32 or len(signature) != 64:
        return False
    A = point_decompress(public)
    if not A:
        return False
    Rs = signature[:32]
    R = point_decompress(Rs)
    if not R:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= Q:
        return False
    h = sha512_modq(Rs + public + msg)
    return point_equal(point_mul(s, G), point_add(R, point_mul(h, A)))


# ------------------------------------------------------------ protobuf, by hand

KINDS = {"SITE": 1, "EVENT": 2, "MEMBER": 3, "EQUIPMENT": 4, "BOOKING_REQUEST": 5,
         "BOOKING": 6}                                  # enum Kind, entrelab.proto


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def fields(data):
    """[(number, wire type, value)] of a message: ints for varints, bytes else."""
    out, i = [], 0
    while i < len(data):
        tag, n = 0, 0
        while True:
            b = data[i]
            i += 1
            tag |= (b & 0x7F) << (7 * n)
            n += 1
            if not b & 0x80:
                break
        num, wire = tag >> 3, tag & 7
        if wire == 0:
            v, n = 0, 0
            while True:
                b = data[i]
                i += 1
                v |= (b & 0x7F) << (7 * n)
                n += 1
                if not b & 0x80:
                    break
        elif wire == 1:
            v, i = data[i:i + 8], i + 8
        elif wire == 2:
            ln, n = 0, 0
            while True:
                b = data[i]
                i += 1
                ln |= (b & 0x7F) << (7 * n)
                n += 1
                if not b & 0x80:
                    break
            v, i = data[i:i + ln], i + ln
        else:
            raise ValueError("wire type %d" % wire)
        if i > len(data):
            raise ValueError("truncated")
        out.append((num, wire, v))
    return out


def encode_body(v, payload_hash):
    """EntryBody of the vector's fields, proto3 (defaults left out, fields in order)."""
    def blob(num, data):
        return varint(num << 3 | 2) + varint(len(data)) + data if data else b""

    def number(num, value):
        return varint(num << 3 | 0) + varint(value) if value else b""
    time_us = v["time_us"] & (2 ** 64 - 1)                # sfixed64
    return (blob(1, v["origin"]) + number(2, v["seq"]) + blob(3, v["prev"])
            + blob(4, v["network"])
            + (varint(5 << 3 | 1) + time_us.to_bytes(8, "little") if time_us else b"")
            + number(6, v["kind"]) + blob(7, v["key"].encode()) + number(8, int(v["deleted"]))
            + blob(9, payload_hash))


# ------------------------------------------------------------ the file

def blake2b256(data):
    return hashlib.blake2b(data, digest_size=32).digest()


def parse(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if not lines[0].startswith("# entrelab golden vectors v1:"):
        raise ValueError("not a v1 vectors file: %r" % lines[0])
    vectors, cur = [], None
    for line in lines[1:]:
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition(" ")
        if name == "vector":
            cur = {"n": int(value)}
            vectors.append(cur)
            continue
        if cur is None:
            raise ValueError("field before the first vector: %r" % line)
        if name in cur:
            raise ValueError("vector %d: %s twice" % (cur["n"], name))
        if name in ("seed", "origin", "prev", "network", "payload", "entry", "hash"):
            cur[name] = bytes.fromhex(value)
        elif name in ("seq", "time_us"):
            cur[name] = int(value)
        elif name == "kind":
            cur[name] = KINDS[value]
        elif name == "deleted":
            cur[name] = {"true": True, "false": False}[value]
        elif name == "key":
            cur[name] = value
        else:
            raise ValueError("vector %d: unknown field %s" % (cur["n"], name))
    return vectors


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def check_vector(v, prev_hash_of, nacl_signing):
    n = v["n"]
    seed, body_want = v["seed"], None
    check(len(seed) == 32, "vector %d: seed of %d bytes" % (n, len(seed)))
    check(secret_to_public(seed) == v["origin"], "vector %d: origin is not the seed's key" % n)

    entry = fields(v["entry"])
    nums = [f[0] for f in entry]
    check(nums in ([1, 2], [1, 2, 4]) and all(f[1] == 2 for f in entry),
          "vector %d: Entry fields %s (want body, sig, payload)" % (n, nums))
    body, sig = entry[0][2], entry[1][2]
    payload = entry[2][2] if len(entry) == 3 else b""
    check(payload == v["payload"], "vector %d: payload differs from the listed one" % n)
    check(not v["deleted"] or payload == b"", "vector %d: a tombstone with a payload" % n)

    payload_hash = b"" if v["deleted"] else blake2b256(payload)
    body_want = encode_body(v, payload_hash)
    check(body == body_want, "vector %d: body is not the EntryBody of the listed fields:\n"
          "  entry %s\n  want  %s" % (n, body.hex(), body_want.hex()))
    got = {f[0]: f[2] for f in fields(body)}
    check(got.get(1) == v["origin"] and got.get(2, 0) == v["seq"] and got.get(7) == v["key"].encode(),
          "vector %d: body fields %r" % (n, got))

    check(len(sig) == 64, "vector %d: signature of %d bytes" % (n, len(sig)))
    check(rfc8032_sign(seed, body) == sig, "vector %d: signature is not Ed25519(seed, body) "
          "(RFC 8032 reference)" % n)
    check(rfc8032_verify(v["origin"], body, sig), "vector %d: RFC 8032 verify failed" % n)
    flipped = bytes([body[0] ^ 1]) + body[1:]
    check(not rfc8032_verify(v["origin"], flipped, sig),
          "vector %d: RFC 8032 verified a flipped body" % n)
    if nacl_signing:
        sk = nacl_signing.SigningKey(seed)
        check(bytes(sk.verify_key) == v["origin"], "vector %d: PyNaCl key differs" % n)
        check(sk.sign(body).signature == sig, "vector %d: PyNaCl signature differs" % n)
        nacl_signing.VerifyKey(v["origin"]).verify(body, sig)
        try:
            nacl_signing.VerifyKey(v["origin"]).verify(flipped, sig)
            check(False, "vector %d: PyNaCl verified a flipped body" % n)
        except nacl_exceptions.BadSignatureError:
            pass

    check(v["hash"] == blake2b256(sig + body), "vector %d: hash is not BLAKE2b-256(sig || body)" % n)
    want_prev = bytes(32) if v["seq"] == 1 else prev_hash_of.get((v["origin"], v["seq"] - 1))
    check(want_prev is not None, "vector %d: no vector for seq %d of its origin" % (n, v["seq"] - 1))
    check(v["prev"] == want_prev, "vector %d: prev is not the previous entry's hash" % n)
    prev_hash_of[(v["origin"], v["seq"])] = v["hash"]


nacl_signing = nacl_exceptions = None


def main():
    global nacl_signing, nacl_exceptions
    if len(sys.argv) != 2:
        print("usage: check_vectors.py entries.txt", file=sys.stderr)
        return 2
    try:
        import nacl.exceptions
        import nacl.signing
        nacl_signing, nacl_exceptions = nacl.signing, nacl.exceptions
    except ImportError:
        pass
    try:
        vectors = parse(sys.argv[1])
        check([v["n"] for v in vectors] == list(range(1, len(vectors) + 1)) and len(vectors) >= 4,
              "vectors numbered %s" % [v["n"] for v in vectors])
        want = {"seed", "origin", "seq", "prev", "network", "time_us", "kind", "key", "deleted",
                "payload", "entry", "hash", "n"}
        prev_hash_of = {}
        for v in vectors:
            check(set(v) == want, "vector %d: fields %s" % (v["n"], sorted(set(v) ^ want)))
            check_vector(v, prev_hash_of, nacl_signing)
    except (AssertionError, ValueError, KeyError, IndexError) as e:
        print("FAIL vectors: %s" % e)
        return 1
    except Exception as e:      # PyNaCl's BadSignatureError on a good-looking vector
        print("FAIL vectors: %s: %s" % (type(e).__name__, e))
        return 1
    if not nacl_signing:
        print("SKIP: PyNaCl is absent (python3-nacl): %d vectors checked with hashlib and the "
              "RFC 8032 reference code only" % len(vectors))
        return 77
    print("ok vectors: %d vectors checked (hashlib.blake2b, RFC 8032 reference, PyNaCl)"
          % len(vectors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
