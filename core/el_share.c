/* el_share.c — see el_share.h. */
#include "el_share.h"

#include <string.h>

#include "el_wire.h"

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

static const struct {
    const char *name;
    uint32_t bits;
} s_kind_names[EL_SHARE_KIND_NAMES] = {
    { "events", 1u << EL__KIND__EVENT },
    { "equipment", 1u << EL__KIND__EQUIPMENT },
    { "bookings", (1u << EL__KIND__BOOKING_REQUEST) | (1u << EL__KIND__BOOKING) },
    { "members", 1u << EL__KIND__MEMBER },
    { "sites", 1u << EL__KIND__SITE },
};

int
el_share_kind_parse (const char *name, uint32_t *ret_bits)
{
    for (size_t i = 0; name && i < EL_SHARE_KIND_NAMES; i++) {
        if (!strcmp (name, s_kind_names[i].name)) {
            *ret_bits = s_kind_names[i].bits;
            return 0;
        }
    }
    return EL_EINVAL;
}

const char *
el_share_kind_name (size_t i, uint32_t *ret_bits)
{
    *ret_bits = s_kind_names[i].bits;
    return s_kind_names[i].name;
}

static const el_share_link_t *
s_link (const el_share_federation_t *f, const uint8_t network[EL_KEY_BYTES])
{
    for (size_t i = 0; i < f->n; i++)
        if (!memcmp (f->links[i].network, network, EL_KEY_BYTES))
            return &f->links[i];
    return NULL;
}

bool
el_share_federated (void *arg, uint64_t peer, const uint8_t peer_network[EL_KEY_BYTES],
                    const el_entry_t *e)
{
    const el_share_federation_t *f = arg;
    if (!memcmp (peer_network, f->own, EL_KEY_BYTES))
        return el_share_by_level (NULL, peer, peer_network, e);    /* our own sites */
    const el_share_link_t *l = s_link (f, peer_network);
    El__Kind kind = e->body->kind;
    if (!l)
        return false;
    if (kind == EL__KIND__SITE)
        return true;
    if ((unsigned) kind >= 32 || !(l->share & (1u << kind)))
        return false;
    if (kind == EL__KIND__MEMBER)
        return el_share_by_level (NULL, peer, peer_network, e);    /* federation level only */
    if (kind == EL__KIND__EQUIPMENT && !e->body->deleted) {
        El__Equipment *q = e->payload ? el__equipment__unpack (&el_pb_allocator, e->payload_len,
                                                                e->payload) : NULL;
        bool federated = q && q->bookable_by == EL__SHARING__SHARING_FEDERATION;
        if (q)
            el__equipment__free_unpacked (q, &el_pb_allocator);
        return federated;
    }
    return true;
}

/* Is the member entry @p data of the federation sharing level? */
static bool
s_member_federated (const uint8_t *data, size_t len)
{
    el_entry_t *e = NULL;
    if (el_entry_parse (data, len, &e) < 0)
        return true;                    /* malformed: the store refuses and counts it */
    bool ok = true;
    if (!e->body->deleted && e->payload) {
        El__Member *m = el__member__unpack (&el_pb_allocator, e->payload_len, e->payload);
        ok = m && m->sharing == EL__SHARING__SHARING_FEDERATION;
        if (m)
            el__member__free_unpacked (m, &el_pb_allocator);
    }
    el_entry_destroy (&e);
    return ok;
}

int
el_accept_federated (void *arg, uint64_t peer, const uint8_t peer_network[EL_KEY_BYTES],
                     const uint8_t *data, size_t len)
{
    const el_share_federation_t *f = arg;
    (void) peer;
    const el_share_link_t *l = s_link (f, peer_network);
    El__Kind kind;
    bool stub;
    if (!l)
        return EL_EPOLICY;
    if (el_wire_entry_kind (data, len, &kind, &stub) < 0 || stub || kind == EL__KIND__SITE)
        return 0;                       /* malformed ones the store refuses and counts */
    const uint8_t *payload = NULL;
    size_t payload_len = 0;
    if (!el_wire_fields (data, data + len, EL_WIRE_ENTRY_PAYLOAD, &payload, &payload_len, 0,
                         NULL) || !payload_len)
        return 0;                       /* a tombstone carries no record: it keeps the chain */
    if ((unsigned) kind < 32 && (EL_SHARE_KINDS_ALL & (1u << kind)) && !(l->accept & (1u << kind)))
        return EL_EPOLICY;
    if (kind == EL__KIND__MEMBER && !s_member_federated (data, len))
        return EL_EPOLICY;              /* only federation-level members cross */
    return 0;
}

bool
el_relay_federated (void *arg, const uint8_t peer_network[EL_KEY_BYTES],
                    const uint8_t entry_network[EL_KEY_BYTES])
{
    const el_share_federation_t *f = arg;
    (void) peer_network;
    return !memcmp (entry_network, f->own, EL_KEY_BYTES);
}
