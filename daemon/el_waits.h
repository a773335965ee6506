/* el_waits.h — control requests waiting until the store holds an entry.
 *
 * A WaitRequest (proto/el_control.proto) asks to be answered once this
 * daemon holds an origin's entries up to a seq (its head reaches it), or
 * once its timeout has passed: what a script or a benchmark would otherwise
 * learn by asking again and again. The reactor defers the request
 * (el_control_defer), keeps it here, and runs el_waits_run() in its
 * before-sleep step, as Redis's ae runs beforesleep: after a cycle's commits,
 * every wait whose head is reached, or whose deadline passed, is answered.
 *
 * A fixed table of EL_WAITS_MAX slots, no allocation. A client that gives up
 * keeps its slot until its deadline (a ROUTER does not say when a client
 * leaves), hence a table large enough for many. Not thread-safe: the
 * reactor thread owns it. */
#ifndef EL_WAITS_H
#define EL_WAITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "el_control_proto.h"
#include "el_entry.h"

#define EL_WAITS_MAX         EL_CONTROL_WAITS_MAX   /* requests waiting at once (of
                                           the control server's EL_CONTROL_DEFER_MAX,
                                           the rest left to writes) */
#define EL_WAIT_DEFAULT_MS   EL_CONTROL_WAIT_DEFAULT_MS
#define EL_WAIT_MAX_MS       EL_CONTROL_WAIT_MAX_MS

typedef struct {
    unsigned token;                     /* el_control_defer()'s */
    uint8_t origin[EL_KEY_BYTES];
    uint64_t seq;                       /* answered once the head's seq >= seq */
    int64_t deadline_us;                /* CLOCK_MONOTONIC µs: answered then regardless */
} el_wait_t;

typedef struct {
    el_wait_t slots[EL_WAITS_MAX];
    size_t n;
    uint64_t stamp;                     /* the store's commit count at the last run */
    int64_t due_us;                     /* the earliest deadline of the waits held */
} el_waits_t;

/** The head's seq of @p origin (0 when none is held) into *@p ret_seq.
 * @return 0, or a negative code the wait is answered with. */
typedef int (el_waits_head_fn) (void *arg, const uint8_t origin[EL_KEY_BYTES], uint64_t *ret_seq);

/** Answer wait @p token: @p rc 0 (then @p head_seq and @p reached: false
 * when its deadline passed first) or the head function's error. */
typedef void (el_waits_answer_fn) (void *arg, unsigned token, int rc, uint64_t head_seq,
                                   bool reached);

/** Keep a wait. @return 0, -EBUSY (EL_WAITS_MAX already wait). */
int el_waits_add (el_waits_t *self, unsigned token, const uint8_t origin[EL_KEY_BYTES],
                  uint64_t seq, int64_t deadline_us);

/** Answer every wait with @p rc (a daemon that stops) and drop them all. */
void el_waits_cancel (el_waits_t *self, int rc, el_waits_answer_fn *answer, void *arg);

/** Answer (through @p answer) and drop every wait that is reached, failed,
 * or due at @p now_us; lower *@p next_us to the earliest deadline left.
 * @p stamp is the store's commit count: when it has not moved since the last
 * run and no deadline is due, nothing is looked at; else one @p head call
 * per wait. @return waits answered. */
size_t el_waits_run (el_waits_t *self, int64_t now_us, uint64_t stamp, int64_t *next_us,
                     el_waits_head_fn *head, el_waits_answer_fn *answer, void *arg);

#endif
