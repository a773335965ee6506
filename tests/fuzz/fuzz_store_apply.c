/* fuzz_store_apply.c — libFuzzer target for el_store_apply(): batches of
 * entries, raw bytes or forged and signed by one of four fixed identities
 * (fuzz_util.h), applied to a fresh store that holds a small admitted
 * network. Between batches the fuzzer may stub an entry, run the owner's
 * booking pass (el_booking.h, which decodes other sites' requests) or read
 * records back. After every batch the store must still be consistent: every
 * log parses, has no hole and chains up to its head (fz_store_check).
 *
 * Input: a sequence of operations, each one byte then its arguments:
 *   0..2 forge an entry into the batch (fz_forge layout); 3 raw entry bytes
 *   (u16 len + bytes); 4 apply the batch; 5 stub (u8 signer, u8 seq);
 *   6 booking pass for S; 7 read a record back (u8 kind, u8 origin, key). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "el_booking.h"
#include "fuzz_util.h"

#define S_BATCH_MAX 64
#define S_OPS_MAX   96

typedef struct {
    uint8_t *data[S_BATCH_MAX];
    size_t len[S_BATCH_MAX];
    size_t n;
} s_batch_t;

static void
s_apply (el_store_t *store, s_batch_t *b)
{
    int status[S_BATCH_MAX];
    el_apply_stats_t st;
    memset (&st, 0, sizeof st);
    int rc = el_store_apply (store, (const uint8_t *const *) b->data, b->len, b->n, status, &st);
    FZ_CHECK (rc == 0);
    FZ_CHECK (st.applied + st.duplicates + st.rejected == b->n && st.forks <= st.rejected);
    for (size_t i = 0; i < b->n; i++) {
        FZ_CHECK (status[i] == EL_APPLIED || status[i] == EL_DUPLICATE || status[i] < 0);
        free (b->data[i]);
    }
    b->n = 0;
    fz_store_check (store);
}

static int
s_decide (void *arg, const el_entry_t *request)
{
    el_store_t *store = arg;
    FZ_CHECK (el_booking_is_answered (store, fz_keys[FZ_S]->pk, request) >= 0);
    El__Booking answer;
    char key_buf[EL_RECORD_KEY_MAX + 1];
    if (el_booking_decide (store, fz_keys[FZ_S]->pk, request, &answer, key_buf) == 0) {
        FZ_CHECK (answer.status == EL__BOOKING_STATUS__BOOKING_CONFIRMED
                  || answer.status == EL__BOOKING_STATUS__BOOKING_DECLINED);
        FZ_CHECK (answer.status == EL__BOOKING_STATUS__BOOKING_CONFIRMED
                  || (answer.reason && answer.reason[0]));
        /* a confirmed slot is a real one: not empty, at most EL_BOOKING_SPAN_MAX */
        if (answer.status == EL__BOOKING_STATUS__BOOKING_CONFIRMED)
            FZ_CHECK (answer.end_us > answer.start_us
                      && (uint64_t) answer.end_us - (uint64_t) answer.start_us
                             <= (uint64_t) EL_BOOKING_SPAN_MAX);
        char bkey[EL_BOOKING_KEY_MAX];
        if (el_booking_key (request->origin, request->body->key, bkey) == 0)
            FZ_CHECK (strlen (bkey) <= EL_RECORD_KEY_MAX);
    }
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    el_store_t *store = fz_store_fresh ();
    fz_chain_t chains[FZ_SIGNERS];
    memcpy (chains, fz_base.chains, sizeof chains);
    fz_t in = { data, size };
    s_batch_t b = { .n = 0 };
    for (int op = 0; op < S_OPS_MAX && in.n; op++) {
        switch (fz_u8 (&in) % 8) {
        case 0: case 1: case 2:
        case 3:
            if (b.n == S_BATCH_MAX)
                s_apply (store, &b);
            if (in.p[-1] % 8 == 3) {
                size_t len;
                const uint8_t *raw = fz_bytes (&in, EL_ENTRY_MAX + 1, &len);
                b.data[b.n] = malloc (len ? len : 1);
                FZ_CHECK (b.data[b.n]);
                memcpy (b.data[b.n], raw, len);
                b.len[b.n++] = len;
            } else if (fz_forge (&in, chains, &b.data[b.n], &b.len[b.n]) == 0) {
                b.n++;
            }
            break;
        case 4:
            s_apply (store, &b);
            break;
        case 5: {
            int who = fz_u8 (&in) % FZ_SIGNERS;
            int rc = el_store_stub (store, fz_keys[who]->pk, fz_u8 (&in));
            FZ_CHECK (rc == 0 || rc == EL_ENOTFOUND);
            fz_store_check (store);
            break;
        }
        case 6:
            FZ_CHECK (el_booking_pending (store, fz_keys[FZ_S]->pk, 64, s_decide, store) == 0);
            break;
        default: {
            El__Kind kind = (El__Kind) (fz_u8 (&in) % 8);
            int who = fz_u8 (&in) % FZ_SIGNERS;
            char key[FZ_KEY_MAX + 1];
            fz_text (&in, FZ_KEY_MAX, key);
            el_entry_t *e = NULL;
            int rc = el_store_record_get (store, kind, fz_keys[who]->pk, key, &e);
            FZ_CHECK (rc == 0 || rc == EL_ENOTFOUND || rc == EL_EINVAL);
            FZ_CHECK ((rc == 0) == (e != NULL));
            el_entry_destroy (&e);
            break;
        }
        }
    }
    s_apply (store, &b);
    FZ_CHECK (el_booking_pending (store, fz_keys[FZ_S]->pk, 64, s_decide, store) == 0);
    el_store_destroy (&store);
    return 0;
}
