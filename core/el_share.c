/* el_share.c — see el_share.h. */
#include "el_share.h"

#include <string.h>

bool
el_share_by_level (void *arg, uint64_t peer, const uint8_t peer_network[EL_KEY_BYTES],
                        const el_entry_t *e)
{
    (void) arg;
    (void) peer;
    if (e->body->kind != EL__KIND__MEMBER || e->body->deleted)
        return true;
    El__Member *m = e->payload ? el__member__unpack (&el_pb_allocator, e->payload_len, e->payload)
                               : NULL;
    if (!m)
        return false;           /* unreadable: keep it home */
    bool shared;
    switch (m->sharing) {
    case EL__SHARING__SHARING_FEDERATION:
        shared = true;
        break;
    case EL__SHARING__SHARING_NETWORK:
        shared = !memcmp (peer_network, e->network, EL_KEY_BYTES);
        break;
    default:                    /* SITE, unspecified (= SITE), unknown levels */
        shared = false;
        break;
    }
    el__member__free_unpacked (m, &el_pb_allocator);
    return shared;
}
