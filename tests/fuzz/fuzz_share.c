/* fuzz_share.c — libFuzzer target for federation policy (core/el_share.h):
 * the first bytes describe a federation (our network, up to four links with
 * their share and accept bits, which network the peer is in), a short text
 * is read as a kind name (el_share_kind_parse), the rest as an entry as a
 * linked network's peer sends it. el_accept_federated() must answer 0 or
 * EL_EPOLICY for any bytes; an entry that parses goes through the share
 * policies (el_share_federated, el_share_by_level) and the relay policy.
 * Invariants: a peer of a network we have no link with is refused by the
 * accept policy; an entry of a third network is never relayed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "el_error.h"
#include "el_share.h"
#include "fuzz_util.h"

#define S_LINKS_MAX 4

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fz_t in = { data, size };
    el_share_link_t links[S_LINKS_MAX];
    memset (links, 0, sizeof links);
    el_share_federation_t fed = { .links = links, .n = fz_u8 (&in) % (S_LINKS_MAX + 1) };
    memset (fed.own, 0xA0, EL_KEY_BYTES);
    for (size_t i = 0; i < fed.n; i++) {
        memset (links[i].network, 0xB0 + (int) i, EL_KEY_BYTES);
        links[i].share = (uint32_t) fz_u16 (&in);
        links[i].accept = (uint32_t) fz_u16 (&in);
    }
    /* the peer: 0 ours, 1..4 a link (if it exists), else a stranger */
    uint8_t peer_net[EL_KEY_BYTES], third[EL_KEY_BYTES];
    uint8_t which = fz_u8 (&in) % 6;
    memset (peer_net, which == 0 ? 0xA0 : 0xB0 + which - 1, EL_KEY_BYTES);
    if (which == 5)
        memset (peer_net, 0xEE, EL_KEY_BYTES);
    memset (third, 0xCC, EL_KEY_BYTES);

    char name[32];
    fz_text (&in, sizeof name - 1, name);
    uint32_t bits = 0;
    int pr = el_share_kind_parse (name, &bits);
    FZ_CHECK (pr == 0 || pr == EL_EINVAL);
    if (pr == 0)
        FZ_CHECK (bits && !(bits & ~EL_SHARE_KINDS_ALL));

    uint64_t peer = 7;
    int ar = el_accept_federated (&fed, peer, peer_net, in.p, in.n);
    FZ_CHECK (ar == 0 || ar == EL_EPOLICY);
    if (which == 5 || (which >= 1 && which - 1u >= fed.n))
        FZ_CHECK (ar == EL_EPOLICY);    /* no link with the peer's network */

    el_entry_t *e = NULL;
    if (el_entry_parse (in.p, in.n, &e) == 0) {
        bool shared = el_share_federated (&fed, peer, peer_net, e);
        FZ_CHECK (!shared || which != 5);       /* a stranger gets stubs */
        bool by_level = el_share_by_level (NULL, peer, peer_net, e);
        (void) by_level;
        FZ_CHECK (!el_relay_federated (&fed, peer_net, third) || !memcmp (peer_net, third, 32));
        (void) el_relay_federated (&fed, peer_net, e->network);
        el_entry_destroy (&e);
    }
    return 0;
}
