/* el_signer.h — an origin's signatures on a thread of their own.
 *
 * Signing is most of a write's cost (Ed25519, ~20 µs an entry); committing
 * is most of the rest (a durable commit waits for the disk). The signer is an
 * actor, as CZMQ's zactor: a thread behind an inproc PAIR socket. The
 * reactor hands it a job (records to write), goes on committing and pushing
 * what was signed before, and takes the job back signed when the socket
 * polls readable. Jobs come back in the order they went.
 *
 * The chain: each entry holds the hash of the one before, so the signer
 * keeps the tip (seq, hash) of what it signed. A job with `reset` starts from
 * the tip it carries (the stored head: the reactor sets it whenever no job is
 * out, so a write made in between, or a job that failed to store, is never
 * continued from); others continue the signer's own tip. A job that fails to
 * sign leaves the tip as it was.
 *
 * Threading: every function is called by the thread that created the signer;
 * a job belongs to the signer between el_signer_submit() and its return. */
#ifndef EL_SIGNER_H
#define EL_SIGNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "el_entry.h"
#include "el_sync.h"

typedef struct el_signer el_signer_t;

/** One batch of records to sign. */
typedef struct {
    /* in (owned by the job: el_sign_job_new copies them) */
    el_record_t *records;
    size_t n;                           /* 1..EL_SYNC_WRITE_MAX */
    bool reset;                         /* start from seq/hash below */
    uint64_t seq;                       /* with reset: the head to continue */
    uint8_t hash[EL_HASH_BYTES];
    uint8_t network[EL_KEY_BYTES];
    int64_t time_us;                    /* every entry's time, µs since the epoch */
    unsigned token;                     /* the caller's (a deferred control reply) */
    /* out */
    int rc;                             /* 0, or el_entry_build's error: nothing signed */
    uint64_t first_seq;                 /* seq of data[0] */
    uint8_t **data;                     /* n signed Entry byte strings, malloc'd */
    size_t *lens;
} el_sign_job_t;

/** A job holding copies of @p records (keys and payloads).
 * @return NULL on ENOMEM. */
el_sign_job_t *el_sign_job_new (const el_record_t *records, size_t n);
/** Free a job and what it holds; accepts NULL; sets *job_p = NULL. */
void el_sign_job_destroy (el_sign_job_t **job_p);

/** Start the signer's thread, signing with a copy of @p kp.
 * @param ctx zmq context (borrowed). @return 0, -ENOMEM, -errno. */
int el_signer_new (void *ctx, const el_keypair_t *kp, el_signer_t **ret);
/** Stop the thread (jobs still out are freed); accepts NULL. */
void el_signer_destroy (el_signer_t **self_p);

/** The PAIR socket to poll (ZMQ_POLLIN: a job came back). Borrowed. */
void *el_signer_socket (el_signer_t *self);

/** Hand @p job over. @return 0, -errno (then the job is still the caller's). */
int el_signer_submit (el_signer_t *self, el_sign_job_t *job);

/** The oldest job back, or NULL: without waiting when @p wait is false. */
el_sign_job_t *el_signer_take (el_signer_t *self, bool wait);

/** Jobs handed over and not yet taken back. */
size_t el_signer_out (const el_signer_t *self);

#endif
