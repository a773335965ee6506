/* seeds.c — writes the generated seed corpora of the binary fuzz targets:
 *   el_fuzz_seeds OUTDIR   ->  OUTDIR/{entry,store_apply,sync,control,cli_view}
 * Real entries and frames, signed by the fixed identities of fuzz_util.h,
 * in each target's input layout. Deterministic: same bytes on every run.
 * (The text targets' seeds are committed files: corpus/<target>/.) */
#include <sys/stat.h>

#include "el_control.pb-c.h"

#include "fuzz_util.h"

typedef struct {
    uint8_t *p;
    size_t n, cap;
} s_buf_t;

static void
s_put (s_buf_t *b, const void *data, size_t len)
{
    if (!len)
        return;
    if (b->n + len > b->cap) {
        b->cap = (b->n + len) * 2 + 64;
        b->p = realloc (b->p, b->cap);
        FZ_CHECK (b->p);
    }
    memcpy (b->p + b->n, data, len);
    b->n += len;
}

static void
s_u8 (s_buf_t *b, uint8_t v)
{
    s_put (b, &v, 1);
}

static void
s_u16 (s_buf_t *b, uint16_t v)
{
    s_u8 (b, (uint8_t) v);
    s_u8 (b, (uint8_t) (v >> 8));
}

static void
s_u64 (s_buf_t *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        s_u8 (b, (uint8_t) (v >> (8 * i)));
}

static void
s_lenbytes (s_buf_t *b, const void *data, size_t len)
{
    s_u16 (b, (uint16_t) len);
    s_put (b, data, len);
}

static char s_out[512];

static void
s_write (const char *target, const char *name, const s_buf_t *b)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", s_out, target);
    mkdir (path, 0755);
    snprintf (path, sizeof path, "%s/%s/%s", s_out, target, name);
    FILE *f = fopen (path, "wb");
    FZ_CHECK (f);
    FZ_CHECK (fwrite (b->p, 1, b->n, f) == b->n);
    FZ_CHECK (fclose (f) == 0);
}

/* A forge operation (fz_forge layout) for a well-formed record of @p signer. */
static void
s_forge (s_buf_t *b, int signer, uint8_t flags, El__Kind kind, const char *key,
         const ProtobufCMessage *rec)
{
    s_u8 (b, (uint8_t) signer);
    s_u8 (b, flags);
    s_u8 (b, (uint8_t) kind);
    s_u8 (b, 0);                        /* next seq */
    s_u64 (b, (uint64_t) (FZ_T0 + 3600000000));
    s_lenbytes (b, key, strlen (key));
    size_t len = 0;
    uint8_t *p = rec ? fz_pack (rec, &len) : NULL;
    s_lenbytes (b, p, len);
    free (p);
}

/* ------------------------------------------------------------ records */

static ProtobufCMessage *
s_member (void)
{
    static El__Member m = EL__MEMBER__INIT;
    static char *roles[] = { (char *) "member" };
    static char *trainings[] = { (char *) "laser_cutter" };
    m.display_name = (char *) "Camille Fictive";
    m.roles = roles;
    m.n_roles = 1;
    m.trainings = trainings;
    m.n_trainings = 1;
    m.home_site = (ProtobufCBinaryData) { EL_KEY_BYTES, fz_keys[FZ_A]->pk };
    m.sharing = EL__SHARING__SHARING_NETWORK;
    return &m.base;
}

static ProtobufCMessage *
s_request (int64_t start_h, int64_t hours)
{
    static El__BookingRequest r;
    static char *trainings[] = { (char *) "laser_cutter" };
    el__booking_request__init (&r);
    r.equipment_owner = (ProtobufCBinaryData) { EL_KEY_BYTES, fz_keys[FZ_S]->pk };
    r.equipment_key = (char *) "laser-1";
    r.member = (char *) "m-1";
    r.start_us = FZ_T0 + start_h * 3600000000;
    r.end_us = r.start_us + hours * 3600000000;
    r.purpose = (char *) "signs";
    r.member_trainings = trainings;
    r.n_member_trainings = 1;
    return &r.base;
}

static ProtobufCMessage *
s_event (void)
{
    static El__Event e = EL__EVENT__INIT;
    static char *exdate[] = { (char *) "20260115T180000Z" };
    e.uid = (char *) "repair-cafe@a";
    e.summary = (char *) "Repair café";
    e.dtstart_us = FZ_T0 + 7 * INT64_C (86400000000);
    e.dtend_us = e.dtstart_us + INT64_C (10800000000);
    e.rrule = (char *) "FREQ=MONTHLY;BYDAY=2TH";
    e.exdate = exdate;
    e.n_exdate = 1;
    e.capacity = 12;
    e.status = EL__EVENT_STATUS__CONFIRMED;
    return &e.base;
}

static ProtobufCMessage *
s_booking (void)
{
    static El__Booking bk = EL__BOOKING__INIT;
    bk.request_origin = (ProtobufCBinaryData) { EL_KEY_BYTES, fz_keys[FZ_B]->pk };
    bk.request_key = (char *) "r-1";
    bk.equipment_key = (char *) "prusa-1";
    bk.start_us = FZ_T0;
    bk.end_us = FZ_T0 + 3600000000;
    bk.status = EL__BOOKING_STATUS__BOOKING_CONFIRMED;
    return &bk.base;
}

static ProtobufCMessage *
s_site (int site, El__SiteStatus status)
{
    static El__Site s;
    el__site__init (&s);
    s.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, fz_keys[site]->pk };
    s.name = (char *) "Site";
    s.kind = EL__SITE_KIND__PERIPHERAL;
    s.status = status;
    return &s.base;
}

/* ------------------------------------------------------------ entry */

static void
s_entry_seeds (void)
{
    for (size_t i = 0; i < fz_base.n; i++) {
        s_buf_t b = { 0 };
        s_put (&b, fz_base.data[i], fz_base.len[i]);
        char name[32];
        snprintf (name, sizeof name, "base-%zu", i);
        s_write ("entry", name, &b);
        free (b.p);
    }
    fz_chain_t c = fz_base.chains[FZ_A];
    struct {
        El__Kind kind;
        const char *key;
        ProtobufCMessage *rec;
        const char *name;
    } recs[] = {
        { EL__KIND__MEMBER, "m-1", s_member (), "member" },
        { EL__KIND__MEMBER, "m-1", NULL, "tombstone" },
        { EL__KIND__BOOKING_REQUEST, "r-1", s_request (2, 2), "request" },
        { EL__KIND__EVENT, "repair-cafe@a", s_event (), "event" },
        { EL__KIND__BOOKING, "b-1", s_booking (), "booking" },
    };
    El__Entries frame = EL__ENTRIES__INIT;
    ProtobufCBinaryData items[8];
    for (size_t i = 0; i < sizeof recs / sizeof *recs; i++) {
        size_t plen = 0;
        uint8_t *p = recs[i].rec ? fz_pack (recs[i].rec, &plen) : NULL;
        uint8_t *e;
        size_t len;
        FZ_CHECK (fz_entry_make (FZ_A, &c, recs[i].kind, recs[i].key, !recs[i].rec, p, plen,
                                 &e, &len) == 0);
        s_buf_t b = { e, len, len };
        s_write ("entry", recs[i].name, &b);
        if (i == 0) {   /* its stub */
            el_entry_t *x = NULL;
            FZ_CHECK (el_entry_parse (e, len, &x) == 0);
            uint8_t *stub;
            size_t slen;
            FZ_CHECK (el_entry_stub_pack (x, &stub, &slen) == 0);
            s_buf_t sb = { stub, slen, slen };
            s_write ("entry", "stub", &sb);
            free (stub);
            el_entry_destroy (&x);
        }
        items[frame.n_entries++] = (ProtobufCBinaryData) { len, e };
        free (p);
    }
    frame.entries = items;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_ENTRIES;
    m.entries = &frame;
    s_buf_t b = { 0 };
    b.p = fz_pack (&m.base, &b.n);
    s_write ("entry", "frame-entries", &b);
    free (b.p);
    for (size_t i = 0; i < frame.n_entries; i++)
        free (items[i].data);
    char text[EL_KEY_TEXT_BYTES];
    el_key_to_text (fz_keys[FZ_A]->pk, text);
    s_buf_t t = { (uint8_t *) text, strlen (text), 0 };
    s_write ("entry", "key-text", &t);
}

/* ------------------------------------------------------------ store_apply */

static void
s_store_seeds (void)
{
    s_buf_t b = { 0 };
    /* a member, its tombstone (erasure turns the first into a stub), a request
     * for S's laser and B's overlapping one, then S's booking pass */
    s_u8 (&b, 0);
    s_forge (&b, FZ_A, 0, EL__KIND__MEMBER, "m-1", s_member ());
    s_u8 (&b, 1);
    s_forge (&b, FZ_A, 8, EL__KIND__MEMBER, "m-1", NULL);
    s_u8 (&b, 2);
    s_forge (&b, FZ_A, 0, EL__KIND__BOOKING_REQUEST, "r-1", s_request (2, 2));
    s_u8 (&b, 0);
    s_forge (&b, FZ_B, 0, EL__KIND__BOOKING_REQUEST, "r-9", s_request (3, 1));
    s_u8 (&b, 4);
    s_u8 (&b, 6);
    s_u8 (&b, 7);
    s_u8 (&b, EL__KIND__MEMBER);
    s_u8 (&b, FZ_A);
    s_lenbytes (&b, "m-1", 3);
    s_write ("store_apply", "member-erasure-bookings", &b);
    b.n = 0;

    /* the broker revokes B; B keeps writing; an event and a booking */
    s_u8 (&b, 0);
    char key[EL_KEY_TEXT_BYTES];
    el_key_to_text (fz_keys[FZ_B]->pk, key);
    s_forge (&b, FZ_BROKER, 0, EL__KIND__SITE, key, s_site (FZ_B, EL__SITE_STATUS__REVOKED));
    s_u8 (&b, 1);
    s_forge (&b, FZ_B, 0, EL__KIND__EVENT, "repair-cafe@a", s_event ());
    s_u8 (&b, 2);
    s_forge (&b, FZ_A, 0, EL__KIND__BOOKING, "b-1", s_booking ());
    s_u8 (&b, 4);
    s_u8 (&b, 5);
    s_u8 (&b, FZ_A);
    s_u8 (&b, 1);
    s_write ("store_apply", "revoke-event-stub", &b);
    b.n = 0;

    /* a fork: A's next seq twice, then a raw duplicate of a base entry */
    s_u8 (&b, 0);
    s_forge (&b, FZ_A, 0, EL__KIND__EVENT, "e-1", s_event ());
    s_u8 (&b, 0);
    s_u8 (&b, FZ_A);
    s_u8 (&b, 0);
    s_u8 (&b, EL__KIND__EVENT);
    s_u8 (&b, 0xff);                    /* seq delta -1: the same seq again */
    s_u64 (&b, 42);
    s_lenbytes (&b, "e-1", 3);
    s_lenbytes (&b, "other", 5);
    s_u8 (&b, 3);
    s_lenbytes (&b, fz_base.data[0], fz_base.len[0]);
    s_u8 (&b, 4);
    s_write ("store_apply", "fork-duplicate", &b);
    free (b.p);
}

/* ------------------------------------------------------------ sync */

static void
s_hello_op (s_buf_t *b, uint8_t peer, uint8_t sender, uint8_t credit, size_t n_heads,
            const uint8_t *head_bytes)
{
    s_u8 (b, 1);
    s_u8 (b, peer);
    s_u8 (b, 0);                        /* flags */
    s_u8 (b, sender);
    s_u8 (b, credit);
    s_u8 (b, (uint8_t) n_heads);
    s_put (b, head_bytes, 2 * n_heads);
}

static void
s_sync_seeds (void)
{
    s_buf_t b = { 0 };
    /* A says hello holding the broker's log; sends us new entries; grants credit */
    s_u8 (&b, 0x0a);                    /* credit 64, batch 16 */
    static const uint8_t heads_a[] = { FZ_BROKER, 3, FZ_A, 2 };
    s_hello_op (&b, 0, FZ_A, 200, 2, heads_a);
    s_u8 (&b, 2);
    s_u8 (&b, 0);
    s_u8 (&b, 3);
    s_u8 (&b, 0x40);
    s_forge (&b, FZ_A, 0, EL__KIND__MEMBER, "m-1", s_member ());
    s_u8 (&b, 0x41);
    s_forge (&b, FZ_A, 0, EL__KIND__BOOKING_REQUEST, "r-1", s_request (2, 2));
    s_u8 (&b, 0x42);
    s_forge (&b, FZ_A, 8, EL__KIND__MEMBER, "m-1", NULL);
    s_u8 (&b, 6);
    s_u8 (&b, 0);
    /* B arrives knowing nothing, with little credit: catch-up in steps */
    static const uint8_t heads_b[] = { 0 };
    s_hello_op (&b, 1, FZ_B, 2, 0, heads_b);
    s_u8 (&b, 6);
    s_u8 (&b, 1);
    s_u8 (&b, 3);
    s_u8 (&b, 1);
    s_u8 (&b, 0);
    s_u8 (&b, 5);
    s_u8 (&b, 6);
    s_u8 (&b, 1);
    s_u8 (&b, 7);                       /* a local write */
    s_u8 (&b, 0);
    s_u8 (&b, 0);
    s_u8 (&b, EL__KIND__EVENT);
    s_lenbytes (&b, "e-s", 3);
    s_u8 (&b, 0);
    size_t plen;
    uint8_t *p = fz_pack (s_event (), &plen);
    s_lenbytes (&b, p, plen);
    free (p);
    s_write ("sync", "hello-entries-credit", &b);
    b.n = 0;

    /* raw frames: a real Hello, an Entries frame of base entries, an Error */
    s_u8 (&b, 0x0f);                    /* credit default, batch default */
    El__Hello h = EL__HELLO__INIT;
    h.version = EL_PROTOCOL_VERSION;
    h.sender = (ProtobufCBinaryData) { EL_KEY_BYTES, fz_keys[FZ_B]->pk };
    h.network = (ProtobufCBinaryData) { EL_KEY_BYTES, fz_keys[FZ_BROKER]->pk };
    h.credit = 8192;
    El__Msg m = EL__MSG__INIT;
    m.m_case = EL__MSG__M_HELLO;
    m.hello = &h;
    size_t len;
    uint8_t *frame = fz_pack (&m.base, &len);
    s_u8 (&b, 0);
    s_u8 (&b, 0);
    s_lenbytes (&b, frame, len);
    free (frame);
    El__Entries en = EL__ENTRIES__INIT;
    ProtobufCBinaryData items[FZ_BASE_MAX];
    for (size_t i = 0; i < fz_base.n; i++)
        items[i] = (ProtobufCBinaryData) { fz_base.len[i], fz_base.data[i] };
    en.entries = items;
    en.n_entries = fz_base.n;
    m.m_case = EL__MSG__M_ENTRIES;
    m.entries = &en;
    frame = fz_pack (&m.base, &len);
    s_u8 (&b, 0);
    s_u8 (&b, 0);
    s_lenbytes (&b, frame, len);
    free (frame);
    s_u8 (&b, 6);
    s_u8 (&b, 0);
    s_u8 (&b, 4);
    s_u8 (&b, 0);
    s_u8 (&b, 2);
    s_write ("sync", "raw-frames", &b);
    b.n = 0;

    /* a Hello with 4000 heads (flag 16) */
    s_u8 (&b, 0x0a);
    s_u8 (&b, 1);
    s_u8 (&b, 0);
    s_u8 (&b, 16);
    s_u8 (&b, FZ_A);
    s_u8 (&b, 100);
    s_u8 (&b, 6);
    s_u8 (&b, 0);
    s_write ("sync", "hello-many-heads", &b);
    free (b.p);
}

/* ------------------------------------------------------------ control */

static void
s_control_write (const char *name, El__ControlRequest *req)
{
    s_buf_t b = { 0 };
    b.p = fz_pack (&req->base, &b.n);
    s_write ("control", name, &b);
    free (b.p);
}

static void
s_control_seeds (void)
{
    El__ControlRequest req = EL__CONTROL_REQUEST__INIT;
    req.id = 7;

    El__RecordWrite rw = EL__RECORD_WRITE__INIT, rw2 = EL__RECORD_WRITE__INIT;
    rw.kind = EL__KIND__EVENT;
    rw.key = (char *) "repair-cafe@a";
    rw.payload.data = fz_pack (s_event (), &rw.payload.len);
    rw2.kind = EL__KIND__MEMBER;
    rw2.key = (char *) "m-1";
    rw2.deleted = true;
    El__RecordWrite *rws[] = { &rw, &rw2 };
    El__WriteRequest w = EL__WRITE_REQUEST__INIT;
    w.records = rws;
    w.n_records = 2;
    req.r_case = EL__CONTROL_REQUEST__R_WRITE;
    req.write = &w;
    s_control_write ("write", &req);
    free (rw.payload.data);

    El__ListRequest l = EL__LIST_REQUEST__INIT;
    l.kind = EL__KIND__SITE;
    l.limit = UINT32_MAX;
    req.r_case = EL__CONTROL_REQUEST__R_LIST;
    req.list = &l;
    s_control_write ("list-huge-limit", &req);
    l.kind = EL__KIND__EVENT;
    l.limit = 1;
    l.after_origin = (ProtobufCBinaryData) { EL_KEY_BYTES, fz_keys[FZ_A]->pk };
    l.after_key = (char *) "a";
    s_control_write ("list-cursor", &req);
    El__ListRequest lw = EL__LIST_REQUEST__INIT;
    lw.kind = EL__KIND__EVENT;
    lw.limit = 2;
    lw.window = true;
    lw.from_us = 1798761600000000;
    lw.to_us = 1801440000000000;
    req.list = &lw;
    s_control_write ("list-window", &req);
    uint8_t cursor[1 + 8 + EL_KEY_BYTES + 4] = { EL__KIND__EVENT | 0x80 };
    memcpy (cursor + 9, fz_keys[FZ_A]->pk, EL_KEY_BYTES);
    memcpy (cursor + 9 + EL_KEY_BYTES, "ev-1", 4);
    lw.after_time = (ProtobufCBinaryData) { sizeof cursor, cursor };
    s_control_write ("list-window-cursor", &req);

    El__WaitRequest wt = EL__WAIT_REQUEST__INIT;
    wt.origin = (ProtobufCBinaryData) { EL_KEY_BYTES, fz_keys[FZ_A]->pk };
    wt.seq = 3;
    wt.timeout_ms = 50;
    req.r_case = EL__CONTROL_REQUEST__R_WAIT;
    req.wait = &wt;
    s_control_write ("wait", &req);

    El__GetRequest g = EL__GET_REQUEST__INIT;
    g.kind = EL__KIND__EVENT;
    g.key = (char *) "repair-cafe@a";
    req.r_case = EL__CONTROL_REQUEST__R_GET;
    req.get = &g;
    s_control_write ("get", &req);

    El__HeadsRequest h = EL__HEADS_REQUEST__INIT;
    req.r_case = EL__CONTROL_REQUEST__R_HEADS;
    req.heads = &h;
    s_control_write ("heads", &req);
    El__StatusRequest st = EL__STATUS_REQUEST__INIT;
    req.r_case = EL__CONTROL_REQUEST__R_STATUS;
    req.status = &st;
    s_control_write ("status", &req);

    El__AdmitRequest a = EL__ADMIT_REQUEST__INIT;
    a.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, fz_keys[FZ_A]->pk };
    a.name = (char *) "Fablab A";
    El__Site site = EL__SITE__INIT;
    static char *services[] = { (char *) "laser", (char *) "3d" };
    site.town = (char *) "Thiers";
    site.services = services;
    site.n_services = 2;
    site.latitude = 45.85;
    a.site = &site;
    req.r_case = EL__CONTROL_REQUEST__R_ADMIT;
    req.admit = &a;
    s_control_write ("admit", &req);
    El__RevokeRequest rv = EL__REVOKE_REQUEST__INIT;
    rv.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, fz_keys[FZ_A]->pk };
    req.r_case = EL__CONTROL_REQUEST__R_REVOKE;
    req.revoke = &rv;
    s_control_write ("revoke", &req);

    El__PolicyRequest p = EL__POLICY_REQUEST__INIT;
    p.set = EL__BOOKING_POLICY__BOOKING_POLICY_MANUAL;
    req.r_case = EL__CONTROL_REQUEST__R_POLICY;
    req.policy = &p;
    s_control_write ("policy", &req);
    El__AnswerRequest an = EL__ANSWER_REQUEST__INIT;
    an.request_origin = (ProtobufCBinaryData) { EL_KEY_BYTES, fz_keys[FZ_A]->pk };
    an.request_key = (char *) "r-1";
    an.status = EL__BOOKING_STATUS__BOOKING_CONFIRMED;
    an.force = true;
    req.r_case = EL__CONTROL_REQUEST__R_ANSWER;
    req.answer = &an;
    s_control_write ("answer", &req);

    El__InviteRequest iv = EL__INVITE_REQUEST__INIT;
    iv.name = (char *) "Nouveau lieu";
    iv.ttl_us = INT64_C (3600000000);
    iv.sync_endpoint = (char *) "tcp://hub.example.org:7400";
    req.r_case = EL__CONTROL_REQUEST__R_INVITE;
    req.invite = &iv;
    s_control_write ("invite", &req);
    uint8_t secret[32] = { 0 };
    El__RedeemRequest rd = EL__REDEEM_REQUEST__INIT;
    rd.secret = (ProtobufCBinaryData) { sizeof secret, secret };
    rd.site_key = (ProtobufCBinaryData) { EL_KEY_BYTES, fz_keys[FZ_B]->pk };
    req.r_case = EL__CONTROL_REQUEST__R_REDEEM;
    req.redeem = &rd;
    s_control_write ("redeem", &req);
}

/* ------------------------------------------------------------ cli_view */

static void
s_view (s_buf_t *b, El__Kind kind, int origin, const char *key, const ProtobufCMessage *rec)
{
    s_u8 (b, (uint8_t) kind);
    s_u8 (b, (uint8_t) origin);
    s_lenbytes (b, key, strlen (key));
    s_u64 (b, 3);
    s_u64 (b, (uint64_t) FZ_T0);
    size_t len = 0;
    uint8_t *p = fz_pack (rec, &len);
    s_lenbytes (b, p, len);
    free (p);
}

static void
s_cli_view_seeds (void)
{
    for (int json = 0; json < 2; json++) {
        s_buf_t b = { 0 };
        s_u8 (&b, (uint8_t) json);
        char key[EL_KEY_TEXT_BYTES];
        for (int site = FZ_A; site < FZ_SIGNERS; site++) {
            el_key_to_text (fz_keys[site]->pk, key);
            s_view (&b, EL__KIND__SITE, FZ_BROKER, key, s_site (site, EL__SITE_STATUS__ACTIVE));
        }
        s_view (&b, EL__KIND__EVENT, FZ_A, "repair-cafe@a", s_event ());
        El__Equipment laser = EL__EQUIPMENT__INIT;
        laser.name = (char *) "Trotec";
        laser.category = (char *) "laser_cutter";
        laser.status = EL__EQUIPMENT_STATUS__MAINTENANCE;
        laser.status_valid_until_us = FZ_T0 + 1;
        laser.hourly_rate_cents = 1250;
        laser.currency = (char *) "EUR";
        s_view (&b, EL__KIND__EQUIPMENT, FZ_S, "laser-1", &laser.base);
        s_view (&b, EL__KIND__MEMBER, FZ_A, "m-1", s_member ());
        s_view (&b, EL__KIND__BOOKING_REQUEST, FZ_A, "r-1", s_request (2, 2));
        El__Booking *bk = (El__Booking *) s_booking ();
        bk->request_origin = (ProtobufCBinaryData) { EL_KEY_BYTES, fz_keys[FZ_A]->pk };
        bk->equipment_key = (char *) "laser-1";
        char bkey[EL_KEY_TEXT_BYTES + 8];
        el_key_to_text (fz_keys[FZ_A]->pk, key);
        snprintf (bkey, sizeof bkey, "%s:r-1", key);
        s_view (&b, EL__KIND__BOOKING, FZ_S, bkey, &bk->base);
        s_write ("cli_view", json ? "network-json" : "network-table", &b);
        free (b.p);
    }
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: el_fuzz_seeds OUTDIR\n");
        return 2;
    }
    snprintf (s_out, sizeof s_out, "%s", argv[1]);
    mkdir (s_out, 0755);
    fz_base_init ();
    s_entry_seeds ();
    s_store_seeds ();
    s_sync_seeds ();
    s_control_seeds ();
    s_cli_view_seeds ();
    for (int i = 0; i < FZ_SIGNERS; i++)
        el_keypair_destroy (&fz_keys[i]);
    for (size_t i = 0; i < fz_base.n; i++)
        free (fz_base.data[i]);
    return 0;
}
