/* el_waits.c — control requests waiting until the store holds an entry
 * (el_waits.h). */
#include "el_waits.h"

#include <errno.h>
#include <string.h>

int
el_waits_add (el_waits_t *self, unsigned token, const uint8_t origin[EL_KEY_BYTES], uint64_t seq,
              int64_t deadline_us)
{
    if (self->n >= EL_WAITS_MAX)
        return -EBUSY;
    if (self->n == 0 || deadline_us < self->due_us)
        self->due_us = deadline_us;
    el_wait_t *w = &self->slots[self->n++];
    w->token = token;
    memcpy (w->origin, origin, EL_KEY_BYTES);
    w->seq = seq;
    w->deadline_us = deadline_us;
    return 0;
}

size_t
el_waits_run (el_waits_t *self, int64_t now_us, uint64_t stamp, int64_t *next_us,
              el_waits_head_fn *head, el_waits_answer_fn *answer, void *arg)
{
    if (self->n == 0)
        return 0;
    if (stamp == self->stamp && now_us < self->due_us) {
        if (self->due_us < *next_us)
            *next_us = self->due_us;
        return 0;               /* nothing committed, nothing due */
    }
    self->stamp = stamp;
    self->due_us = INT64_MAX;
    size_t answered = 0, i = 0;
    while (i < self->n) {
        el_wait_t *w = &self->slots[i];
        uint64_t seq = 0;
        int rc = head (arg, w->origin, &seq);
        bool reached = rc == 0 && seq >= w->seq;
        if (rc == 0 && !reached && now_us < w->deadline_us) {
            if (w->deadline_us < *next_us)
                *next_us = w->deadline_us;
            if (w->deadline_us < self->due_us)
                self->due_us = w->deadline_us;
            i++;
            continue;
        }
        el_wait_t done = *w;
        self->slots[i] = self->slots[--self->n];   /* order does not matter */
        answer (arg, done.token, rc, seq, reached);
        answered++;
    }
    return answered;
}

void
el_waits_cancel (el_waits_t *self, int rc, el_waits_answer_fn *answer, void *arg)
{
    while (self->n) {
        el_wait_t done = self->slots[--self->n];
        answer (arg, done.token, rc, 0, false);
    }
}
