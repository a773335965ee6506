/* el_signer.c — see el_signer.h. */
#include "el_signer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct el_signer {
    void *pipe;                 /* the reactor's end */
    void *thread_pipe;          /* the thread's end */
    pthread_t thread;
    el_keypair_t *kp;           /* the thread's copy */
    size_t out;                 /* jobs handed over, not taken back */
    char endpoint[64];
    /* the thread's own */
    uint64_t tip_seq;
    uint8_t tip_hash[EL_HASH_BYTES];
};

el_sign_job_t *
el_sign_job_new (const el_record_t *records, size_t n)
{
    el_sign_job_t *job = calloc (1, sizeof *job);
    if (!job)
        return NULL;
    job->records = calloc (n ? n : 1, sizeof *job->records);
    job->data = calloc (n ? n : 1, sizeof *job->data);
    job->lens = calloc (n ? n : 1, sizeof *job->lens);
    if (!job->records || !job->data || !job->lens)
        goto fail;
    for (size_t i = 0; i < n; i++, job->n++) {
        el_record_t *r = &job->records[i];
        *r = records[i];
        r->key = strdup (records[i].key ? records[i].key : "");
        uint8_t *payload = malloc (r->payload_len ? r->payload_len : 1);
        if (payload && r->payload_len)
            memcpy (payload, records[i].payload, r->payload_len);
        r->payload = payload;
        if (!r->key || !payload) {
            job->n++;
            goto fail;
        }
    }
    return job;
fail:
    el_sign_job_destroy (&job);
    return NULL;
}

void
el_sign_job_destroy (el_sign_job_t **job_p)
{
    if (!job_p || !*job_p)
        return;
    el_sign_job_t *job = *job_p;
    for (size_t i = 0; job->records && i < job->n; i++) {
        free ((char *) job->records[i].key);
        free ((uint8_t *) job->records[i].payload);
    }
    for (size_t i = 0; job->data && i < job->n; i++)
        free (job->data[i]);
    free (job->records);
    free (job->data);
    free (job->lens);
    free (job);
    *job_p = NULL;
}

/* Sign @p job from the thread's tip; on success the tip moves past it. */
static void
s_sign (el_signer_t *self, el_sign_job_t *job)
{
    uint64_t seq = job->reset ? job->seq : self->tip_seq;
    uint8_t prev[EL_HASH_BYTES];
    memcpy (prev, job->reset ? job->hash : self->tip_hash, EL_HASH_BYTES);
    job->first_seq = seq + 1;
    job->rc = el_sync_sign (self->kp, job->records, job->n, seq, prev, job->network,
                            job->time_us, job->data, job->lens);
    if (job->rc == 0) {
        self->tip_seq = seq + job->n;
        memcpy (self->tip_hash, prev, EL_HASH_BYTES);
    }
}

static void *
s_thread (void *arg)
{
    el_signer_t *self = arg;
    for (;;) {
        el_sign_job_t *job = NULL;
        int n = zmq_recv (self->thread_pipe, &job, sizeof job, 0);
        if (n != (int) sizeof job || !job)
            break;              /* NULL: stop (or the context is ending) */
        s_sign (self, job);
        if (zmq_send (self->thread_pipe, &job, sizeof job, 0) != (int) sizeof job) {
            el_sign_job_destroy (&job);
            break;
        }
    }
    return NULL;
}

int
el_signer_new (void *ctx, const el_keypair_t *kp, el_signer_t **ret)
{
    el_signer_t *self = calloc (1, sizeof *self);
    if (!self)
        return -ENOMEM;
    int rc = -ENOMEM;
    if (el_keypair_from_seed (kp->sk, &self->kp) < 0)     /* seed = first half of sk */
        goto fail;
    static unsigned serial;
    snprintf (self->endpoint, sizeof self->endpoint, "inproc://el-signer-%p-%u", (void *) self,
              serial++);
    self->pipe = zmq_socket (ctx, ZMQ_PAIR);
    self->thread_pipe = zmq_socket (ctx, ZMQ_PAIR);
    if (!self->pipe || !self->thread_pipe)
        goto fail_errno;
    int zero = 0;
    zmq_setsockopt (self->pipe, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (self->thread_pipe, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind (self->pipe, self->endpoint) < 0
        || zmq_connect (self->thread_pipe, self->endpoint) < 0)
        goto fail_errno;
    rc = -pthread_create (&self->thread, NULL, s_thread, self);
    if (rc)
        goto fail;
    *ret = self;
    return 0;
fail_errno:
    rc = -errno;
fail:
    if (self->pipe)
        zmq_close (self->pipe);
    if (self->thread_pipe)
        zmq_close (self->thread_pipe);
    el_keypair_destroy (&self->kp);
    free (self);
    return rc;
}

void
el_signer_destroy (el_signer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    el_signer_t *self = *self_p;
    el_sign_job_t *stop = NULL;
    /* jobs still out come back first: free them, then the thread reads the stop */
    while (self->out) {
        el_sign_job_t *job = el_signer_take (self, true);
        el_sign_job_destroy (&job);
    }
    if (zmq_send (self->pipe, &stop, sizeof stop, 0) == (int) sizeof stop)
        pthread_join (self->thread, NULL);
    else
        pthread_detach (self->thread);
    zmq_close (self->pipe);
    zmq_close (self->thread_pipe);
    el_keypair_destroy (&self->kp);
    free (self);
    *self_p = NULL;
}

void *
el_signer_socket (el_signer_t *self)
{
    return self->pipe;
}

int
el_signer_submit (el_signer_t *self, el_sign_job_t *job)
{
    if (zmq_send (self->pipe, &job, sizeof job, ZMQ_DONTWAIT) != (int) sizeof job)
        return -errno;
    self->out++;
    return 0;
}

el_sign_job_t *
el_signer_take (el_signer_t *self, bool wait)
{
    if (!self->out)
        return NULL;
    el_sign_job_t *job = NULL;
    int n = zmq_recv (self->pipe, &job, sizeof job, wait ? 0 : ZMQ_DONTWAIT);
    if (n != (int) sizeof job)
        return NULL;
    self->out--;
    return job;
}

size_t
el_signer_out (const el_signer_t *self)
{
    return self->out;
}
