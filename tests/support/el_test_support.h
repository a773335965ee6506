/* el_test_support.h — fixtures the unit, simulator and fuzz tests share: a
 * temporary folder, and a network's broker with a real LMDB store and sync
 * core in it.
 *
 * Test code: failures abort the test through cmocka's assertions when
 * called from a cmocka test, else print the reason and exit(1). */
#ifndef EL_TEST_SUPPORT_H
#define EL_TEST_SUPPORT_H

#include <stdbool.h>

#include "el_entry.h"
#include "el_store.h"
#include "el_sync.h"

/** A temporary folder: "/tmp/<prefix>-XXXXXX", made 0700. */
typedef struct {
    char path[128];
} el_test_dir_t;

/** Make the folder. @return 0, -errno. */
int el_test_dir_make (el_test_dir_t *self, const char *prefix);

/** Remove the folder and everything in it. @return 0, -1. */
int el_test_dir_remove (el_test_dir_t *self);

/** A broker's store and sync core in a temporary folder, and three keys:
 * the broker (the network id, the sync core's self id), a site, another. */
typedef struct {
    el_test_dir_t dir;
    el_store_t *store;          /* no_sync: the tests need no fsync */
    el_sync_t *sync;            /* credit 0 (default), self = broker */
    el_keypair_t *broker, *site, *other;
} el_test_network_t;

/** Set up @p self (zeroed by the caller). @return 0 or an error code. */
int el_test_network_new (el_test_network_t *self, const char *prefix);

/** Close and remove everything; accepts a half-built fixture. */
void el_test_network_destroy (el_test_network_t *self);

/** cmocka setup and teardown functions s_setup / s_teardown of a test file
 * whose state is an el_test_network_t made in "/tmp/<prefix>-XXXXXX" (the
 * file includes cmocka.h and stdlib.h first). */
#define EL_TEST_NETWORK_FIXTURE(prefix)                                       \
    static int s_setup (void **state)                                         \
    {                                                                         \
        el_test_network_t *fx = calloc (1, sizeof *fx);                       \
        assert_non_null (fx);                                                 \
        assert_int_equal (el_test_network_new (fx, prefix), 0);               \
        *state = fx;                                                          \
        return 0;                                                             \
    }                                                                         \
    static int s_teardown (void **state)                                      \
    {                                                                         \
        el_test_network_destroy (*state);                                     \
        free (*state);                                                        \
        return 0;                                                             \
    }

#endif
