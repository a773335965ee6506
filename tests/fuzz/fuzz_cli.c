/* fuzz_cli.c — libFuzzer target for what the coordinators' side decodes
 * from outside: invite tokens (text from a mail or a chat), JoinRequest and
 * JoinReply frames (the join endpoint), dates and durations typed on the
 * command line. The first byte picks the decoder; the rest is the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "el_cli_time.h"
#include "el_token.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1 || size > 2 * EL_INVITE_TOKEN_MAX)
        return 0;
    char *text = malloc (size);
    if (!text)
        return 0;
    memcpy (text, data + 1, size - 1);
    text[size - 1] = '\0';
    int64_t us;
    char err[256];
    switch (data[0] % 5) {
    case 0: {
        El__InviteToken *t = NULL;
        if (el_token_decode (text, &t) == 0) {
            char *again = NULL;
            if (el_token_encode (t, &again) == 0)
                free (again);
            el__invite_token__free_unpacked (t, &el_pb_allocator);
        }
        break;
    }
    case 1: {
        El__JoinRequest *r = el__join_request__unpack (&el_pb_allocator, size - 1, data + 1);
        if (r)
            el__join_request__free_unpacked (r, &el_pb_allocator);
        break;
    }
    case 2: {
        El__JoinReply *r = el__join_reply__unpack (&el_pb_allocator, size - 1, data + 1);
        if (r)
            el__join_reply__free_unpacked (r, &el_pb_allocator);
        break;
    }
    case 3:
        (void) el_cli_time_parse (text, 0, &us, err, sizeof err);
        break;
    default:
        (void) el_cli_duration_parse (text, &us, err, sizeof err);
        break;
    }
    free (text);
    return 0;
}
