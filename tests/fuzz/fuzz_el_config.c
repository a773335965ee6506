/* fuzz_el_config — the daemons' INI reader (node/el_config.h): arbitrary file
 * contents must give 0 or an error code with a message, never a crash, and
 * a config that loads must stay within its bounds. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "el_config.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        if (el_crypto_init () != 0)
            return 0;
        init = 1;
    }
    int fd = memfd_create ("fuzz-config", 0);
    if (fd < 0)
        return 0;
    if (write (fd, data, size) != (ssize_t) size) {
        close (fd);
        return 0;
    }
    char path[64];
    snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
    el_config_t cfg;
    el_config_init (&cfg);
    char err[EL_CONFIG_ERR_MAX] = "";
    int rc = el_config_load (&cfg, path, err, sizeof err);
    close (fd);
    if (rc < 0 && !err[0])
        __builtin_trap ();      /* every refusal says why */
    if (cfg.listen_n > EL_CONFIG_LISTEN_MAX || cfg.peers_n > EL_CONFIG_PEERS_MAX
        || memchr (cfg.state_dir, 0, sizeof cfg.state_dir) == NULL)
        __builtin_trap ();
    if (rc == 0) {
        el_config_finish (&cfg, EL_ROLE_NODE, err, sizeof err);
        el_config_finish (&cfg, EL_ROLE_BROKER, err, sizeof err);
    }
    return 0;
}
