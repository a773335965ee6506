/* el_testforge — test-only hostile peer (run.py cases forged and revoke).
 * Connects as an admitted site (its own key file) to a daemon's ROUTER,
 * speaks the sync protocol itself, and relays an entry it forged for another
 * origin (the victim): the body claims the victim as origin and continues
 * the victim's chain (seq = head + 1, prev = head hash, as the daemon's Hello
 * announced), but the signature is the forger's. The daemons must reject it
 * (bad signature) and never pass it on.
 *
 *   el_testforge KEYFILE SERVER_KEY ENDPOINT NETWORK_KEY VICTIM_KEY
 *                [--oversize | --signed-by VICTIM_KEYFILE]
 * Exit 0 when the forged Entries frame was sent and the daemon answered it
 * (its Credit for that frame, or an Error), 1 otherwise.
 * With --oversize it sends, after the Hellos, one frame of EL_FRAME_MAX + 1
 * bytes instead, and exits 0 once the daemon dropped the connection.
 * With --signed-by, the entry (key "relayed-event") is signed with the
 * victim's own secret key: a genuine entry of the victim, written now and
 * relayed by KEYFILE's site, as a relay would pass on the entries of a site
 * revoked meanwhile. With --claim-network KEY as well, the entry claims to
 * be of network KEY (a site of one network writing as if it were a site of a
 * network its own federates with). */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "el_entry.h"

#define S_WAIT_MS 20000

static int
s_send_msg (void *s, const El__Msg *m)
{
    size_t len = el__msg__get_packed_size (m);
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return -1;
    el__msg__pack (m, buf);
    int rc = zmq_send (s, buf, len, 0);
    free (buf);
    return rc < 0 ? -1 : 0;
}

/* Next non-keepalive frame, unpacked. NULL on timeout. */
static El__Msg *
s_recv_msg (void *s)
{
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init (&m);
        if (zmq_msg_recv (&m, s, 0) < 0) {
            zmq_msg_close (&m);
            return NULL;
        }
        if (zmq_msg_size (&m) == 0) {
            zmq_msg_close (&m);
            continue;
        }
        El__Msg *msg = el__msg__unpack (&el_pb_allocator, zmq_msg_size (&m), zmq_msg_data (&m));
        zmq_msg_close (&m);
        if (msg)
            return msg;
    }
}

int
main (int argc, char **argv)
{
    bool oversize = argc == 7 && !strcmp (argv[6], "--oversize");
    const char *signer_file = argc >= 8 && !strcmp (argv[6], "--signed-by") ? argv[7] : NULL;
    const char *claim = argc == 10 && signer_file && !strcmp (argv[8], "--claim-network")
                        ? argv[9] : NULL;
    if (argc != 6 && !oversize && !(signer_file && (argc == 8 || claim))) {
        fprintf (stderr, "usage: el_testforge KEYFILE SERVER_KEY ENDPOINT NETWORK_KEY VICTIM_KEY"
                         " [--oversize | --signed-by VICTIM_KEYFILE [--claim-network KEY]]\n");
        return 2;
    }
    if (el_crypto_init () != 0)
        return 1;
    el_keypair_t *kp = NULL, *signer = NULL;
    uint8_t server[EL_KEY_BYTES], net_key[EL_KEY_BYTES], victim[EL_KEY_BYTES];
    uint8_t claimed[EL_KEY_BYTES];
    if (el_keypair_load (argv[1], &kp) < 0 || el_key_resolve (argv[2], server) < 0
        || (claim && el_key_resolve (claim, claimed) < 0)
        || el_key_resolve (argv[4], net_key) < 0 || el_key_resolve (argv[5], victim) < 0
        || (signer_file && (el_keypair_load (signer_file, &signer) < 0
                            || memcmp (signer->pk, victim, EL_KEY_BYTES) != 0))) {
        fprintf (stderr, "el_testforge: bad key arguments\n");
        el_keypair_destroy (&kp);
        el_keypair_destroy (&signer);
        return 2;
    }
    int result = 1;
    char pub[EL_Z85_BYTES], sec[EL_Z85_BYTES], srv[EL_Z85_BYTES];
    if (el_keypair_curve_z85 (kp, pub, sec) < 0 || el_key_curve_z85 (server, srv) < 0) {
        fprintf (stderr, "el_testforge: a key without a Curve25519 form\n");
        el_keypair_destroy (&kp);
        return 2;
    }
    void *ctx = zmq_ctx_new ();
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    int timeout = S_WAIT_MS, zero = 0;
    zmq_setsockopt (s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt (s, ZMQ_LINGER, &timeout, sizeof timeout);
    zmq_setsockopt (s, ZMQ_CURVE_SERVERKEY, srv, 40);
    zmq_setsockopt (s, ZMQ_CURVE_PUBLICKEY, pub, 40);
    zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, sec, 40);
    (void) zero;
    void *mon = NULL;
    if (oversize) {
        zmq_socket_monitor (s, "inproc://forge-mon", ZMQ_EVENT_DISCONNECTED);
        mon = zmq_socket (ctx, ZMQ_PAIR);
        zmq_setsockopt (mon, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
        zmq_connect (mon, "inproc://forge-mon");
    }
    if (zmq_connect (s, argv[3]) != 0)
        goto out;

    /* Hello: we hold nothing, accept a few entries at a time. */
    El__Hello hello = EL__HELLO__INIT;
    hello.version = EL_PROTOCOL_VERSION;
    hello.sender = (ProtobufCBinaryData) { EL_KEY_BYTES, kp->pk };
    hello.network = (ProtobufCBinaryData) { EL_KEY_BYTES, net_key };
    hello.credit = 64;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_HELLO;
    m.hello = &hello;
    if (s_send_msg (s, &m) < 0)
        goto out;
    El__Msg *theirs = NULL;
    while ((theirs = s_recv_msg (s)) && theirs->m_case != EL__MSG__M_HELLO)
        el__msg__free_unpacked (theirs, &el_pb_allocator);
    if (!theirs) {
        fprintf (stderr, "el_testforge: no Hello from the daemon\n");
        goto out;
    }
    uint64_t seq = 0;
    uint8_t prev[EL_HASH_BYTES] = { 0 };
    uint8_t network[EL_KEY_BYTES];
    memcpy (network, claim ? claimed : theirs->hello->network.data, EL_KEY_BYTES);
    for (size_t i = 0; i < theirs->hello->n_heads; i++) {
        const El__Head *h = theirs->hello->heads[i];
        if (h->origin.len == EL_KEY_BYTES && !memcmp (h->origin.data, victim, EL_KEY_BYTES)
            && h->hash.len == EL_HASH_BYTES) {
            seq = h->seq;
            memcpy (prev, h->hash.data, EL_HASH_BYTES);
        }
    }
    el__msg__free_unpacked (theirs, &el_pb_allocator);

    if (oversize) {
        size_t big = EL_FRAME_MAX + 1;
        uint8_t *junk = calloc (1, big);
        if (!junk || zmq_send (s, junk, big, 0) < 0) {
            free (junk);
            goto out;
        }
        free (junk);
        printf ("{\"oversize_bytes\":%zu}\n", big);
        fflush (stdout);
        zmq_msg_t ev;
        zmq_msg_init (&ev);
        if (zmq_msg_recv (&ev, mon, 0) >= 6)
            result = 0;         /* DISCONNECTED: the daemon closed the connection */
        else
            fprintf (stderr, "el_testforge: the connection survived the oversized frame\n");
        zmq_msg_close (&ev);
        goto out;
    }

    /* The forged entry: the victim's next entry, signed by us (or by the
     * victim's own key, with --signed-by). */
    const char *uid = signer ? "relayed-event" : "forged-event";
    El__Event ev = EL__EVENT__INIT;
    ev.uid = (char *) uid;
    ev.summary = (char *) (signer ? "relayed by el_testforge" : "forged by el_testforge");
    uint8_t payload[256];
    size_t plen = el__event__get_packed_size (&ev);
    el__event__pack (&ev, payload);
    El__EntryBody body = EL__ENTRY_BODY__INIT;
    body.origin = (ProtobufCBinaryData) { EL_KEY_BYTES, victim };
    body.seq = seq + 1;
    body.prev = (ProtobufCBinaryData) { EL_HASH_BYTES, prev };
    body.network = (ProtobufCBinaryData) { EL_KEY_BYTES, network };
    body.time_us = el_now_us ();
    body.kind = EL__KIND__EVENT;
    body.key = (char *) uid;
    uint8_t payload_hash[EL_HASH_BYTES];
    crypto_generichash (payload_hash, sizeof payload_hash, payload, plen, NULL, 0);
    body.payload_hash = (ProtobufCBinaryData) { EL_HASH_BYTES, payload_hash };
    uint8_t body_buf[1024];
    size_t blen = el__entry_body__get_packed_size (&body);
    el__entry_body__pack (&body, body_buf);
    uint8_t sig[EL_SIG_BYTES];
    crypto_sign_detached (sig, NULL, body_buf, blen, signer ? signer->sk : kp->sk);
    El__Entry entry = EL__ENTRY__INIT;
    entry.body = (ProtobufCBinaryData) { blen, body_buf };
    entry.sig = (ProtobufCBinaryData) { EL_SIG_BYTES, sig };
    entry.payload = (ProtobufCBinaryData) { plen, payload };
    uint8_t entry_buf[1200];
    size_t elen = el__entry__get_packed_size (&entry);
    el__entry__pack (&entry, entry_buf);
    ProtobufCBinaryData one = { elen, entry_buf };
    El__Entries es = EL__ENTRIES__INIT;
    es.entries = &one;
    es.n_entries = 1;
    m.m_case = EL__MSG__M_ENTRIES;
    m.entries = &es;
    if (s_send_msg (s, &m) < 0)
        goto out;
    printf ("{\"forged_origin\":\"%s\",\"seq\":%" PRIu64 ",\"key\":\"%s\",\"time_us\":%"
            PRId64 ",\"signed_by_origin\":%s}\n", argv[5], seq + 1, uid, body.time_us,
            signer ? "true" : "false");
    fflush (stdout);

    /* Wait for the daemon's verdict: the credit for our entry, or an Error.
     * Entries it streams to us are answered with credit so it can go on. */
    El__Msg *r;
    while ((r = s_recv_msg (s))) {
        El__Msg__MCase c = r->m_case;
        size_t n = c == EL__MSG__M_ENTRIES ? r->entries->n_entries : 0;
        el__msg__free_unpacked (r, &el_pb_allocator);
        if (c == EL__MSG__M_CREDIT || c == EL__MSG__M_ERROR) {
            result = 0;
            break;
        }
        if (n) {
            El__Credit cr = EL__CREDIT__INIT;
            cr.entries = n;
            El__Msg cm = EL__MSG__INIT;
            cm.m_case = EL__MSG__M_CREDIT;
            cm.credit = &cr;
            s_send_msg (s, &cm);
        }
    }
    if (result)
        fprintf (stderr, "el_testforge: no answer to the forged entry\n");
out:
    if (mon) {
        zmq_socket_monitor (s, NULL, 0);
        zmq_close (mon);
    }
    zmq_close (s);
    zmq_ctx_term (ctx);
    el_keypair_destroy (&kp);
    el_keypair_destroy (&signer);
    return result;
}
