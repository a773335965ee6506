/* el_test_support.c — see el_test_support.h. */
#include "el_test_support.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
el_test_dir_make (el_test_dir_t *self, const char *prefix)
{
    int n = snprintf (self->path, sizeof self->path, "/tmp/%s-XXXXXX", prefix);
    if (n < 0 || (size_t) n >= sizeof self->path)
        return -ENAMETOOLONG;
    return mkdtemp (self->path) ? 0 : -errno;
}

int
el_test_dir_remove (el_test_dir_t *self)
{
    if (!self->path[0] || strchr (self->path, '\'') || strncmp (self->path, "/tmp/", 5))
        return -1;
    char cmd[sizeof self->path + 16];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", self->path);
    int rc = system (cmd) == 0 ? 0 : -1;
    self->path[0] = '\0';
    return rc;
}

int
el_test_network_new (el_test_network_t *self, const char *prefix)
{
    int rc = el_test_dir_make (&self->dir, prefix);
    if (rc < 0)
        return rc;
    el_store_config_t scfg = { .no_sync = true };
    rc = el_store_open (self->dir.path, &scfg, &self->store);
    if (rc == 0)
        rc = el_keypair_generate (&self->broker);
    if (rc == 0)
        rc = el_keypair_generate (&self->site);
    if (rc == 0)
        rc = el_keypair_generate (&self->other);
    if (rc < 0)
        return rc;
    el_sync_config_t sc = { .credit = 0, .now_us = el_clock_wall };
    memcpy (sc.self_id, self->broker->pk, EL_KEY_BYTES);
    memcpy (sc.network, self->broker->pk, EL_KEY_BYTES);
    return el_sync_new (self->store, &sc, &self->sync);
}

void
el_test_network_destroy (el_test_network_t *self)
{
    el_sync_destroy (&self->sync);
    el_store_destroy (&self->store);
    if (self->dir.path[0])
        (void) el_test_dir_remove (&self->dir);
    el_keypair_destroy (&self->broker);
    el_keypair_destroy (&self->site);
    el_keypair_destroy (&self->other);
}
