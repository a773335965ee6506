/* raw_crypto — baseline: libsodium Ed25519 sign and verify on one core.
 *
 * Signs N messages of S bytes (a counter in the first 8 bytes, so each is
 * distinct) with crypto_sign_detached, then verifies N signatures of 64
 * distinct pre-signed messages round-robin with crypto_sign_verify_detached
 * (each must verify). Single thread. Prints `raw_sign_per_s=<n>` and
 * `raw_verify_per_s=<n>`.
 *
 *   raw_crypto [-n SIGNS] [-v VERIFIES] [-s BYTES] */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"

#define VERIFY_SET 64   /* distinct signed messages cycled through by the verify loop */

int
main (int argc, char **argv)
{
    uint64_t n_sign = 50000, n_verify = 20000, size = BENCH_MSG_BYTES_DEFAULT;
    for (;;) {
        int opt = getopt (argc, argv, "n:v:s:h");
        if (opt == -1)
            break;
        switch (opt) {
        case 'n':
            if (bench_parse_u64 (optarg, "-n", 1, UINT32_MAX, &n_sign) < 0)
                return 2;
            break;
        case 'v':
            if (bench_parse_u64 (optarg, "-v", 1, UINT32_MAX, &n_verify) < 0)
                return 2;
            break;
        case 's':
            if (bench_parse_u64 (optarg, "-s", 8, BENCH_MSG_BYTES_MAX, &size) < 0)
                return 2;
            break;
        default:
            fprintf (stderr, "usage: raw_crypto [-n SIGNS] [-v VERIFIES] [-s BYTES]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (sodium_init () < 0) {
        bench_error ("sodium_init failed");
        return 1;
    }
    int rc = 1;
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair (pk, sk);
    uint8_t *msgs = malloc (VERIFY_SET * size);
    uint8_t (*sigs)[crypto_sign_BYTES] = malloc (VERIFY_SET * sizeof *sigs);
    if (!msgs || !sigs) {
        bench_error ("out of memory");
        goto out;
    }
    bench_fill (msgs, VERIFY_SET * size, 2);

    /* sign */
    uint8_t *m = msgs;
    int64_t start = bench_now_ns ();
    for (uint64_t i = 0; i < n_sign; i++) {
        memcpy (m, &i, sizeof i);
        if (crypto_sign_detached (sigs[i % VERIFY_SET], NULL, m, size, sk) != 0) {
            bench_error ("crypto_sign_detached failed");
            goto out;
        }
    }
    int64_t sign_ns = bench_now_ns () - start;

    /* the verify set: 64 distinct messages with their signatures */
    for (size_t j = 0; j < VERIFY_SET; j++)
        crypto_sign_detached (sigs[j], NULL, msgs + j * size, size, sk);
    start = bench_now_ns ();
    for (uint64_t i = 0; i < n_verify; i++) {
        size_t j = i % VERIFY_SET;
        if (crypto_sign_verify_detached (sigs[j], msgs + j * size, size, pk) != 0) {
            bench_error ("signature %zu did not verify", j);
            goto out;
        }
    }
    int64_t verify_ns = bench_now_ns () - start;
    printf ("raw_sign_per_s=%.0f\n", (double) n_sign * 1e9 / (double) sign_ns);
    printf ("raw_verify_per_s=%.0f\n", (double) n_verify * 1e9 / (double) verify_ns);
    rc = 0;
out:
    sodium_memzero (sk, sizeof sk);
    free (sigs);
    free (msgs);
    return rc;
}
