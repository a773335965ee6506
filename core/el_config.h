/* el_config.h — the daemons' settings: an INI file (inih) and equivalent flags.
 *
 * Every INI key is also a flag: key `state_dir` is `--state-dir VALUE` (or
 * `--state-dir=VALUE`). Flags override the file given by --config; keys marked
 * "repeatable" append. Sections: [daemon] for the keys below, [limits] for the
 * tuning keys; a key is accepted in either section (sections only group).
 *
 * [daemon]
 *   state_dir     directory of the store, the key file and the control socket (required)
 *   key_file      secret key file; default <state_dir>/key (created, 0600, if absent)
 *   listen        endpoint to bind a ROUTER for peers, e.g. tcp://0.0.0.0:7400 (repeatable,
 *                 up to EL_CONFIG_LISTEN_MAX; the broker needs one)
 *   connect       the broker's endpoint (a node needs it), e.g. tcp://hub.example.org:7400
 *   broker_key    the broker's public key: its text (checked or older form, core/el_keytext.h)
 *                 or a key file path (a node needs it);
 *                 a file is read when the setting is read (relative paths: from the
 *                 daemon's working directory)
 *   control       control socket endpoint; default ipc://<state_dir>/control.sock
 *   log_level     error | warn | info | debug (default info)
 *   peer          KEY@ENDPOINT: also sync with this site directly (DEALER to ENDPOINT);
 *                 KEY alone: admit this site on our listen socket (repeatable)
 *   timezone      the site's time zone, an IANA name of the zone database ("Europe/Paris",
 *                 RFC 5545 §3.2.19 TZID text): where its floating times are and the zone
 *                 the command line shows its times in; "" = not set. Checked for form only
 *                 (letters, digits, '/', '_', '-', '+'; no "..", no leading '/' or '.').
 *   http_listen   ADDR:PORT (IPv4 dotted quad, e.g. 127.0.0.1:8080 or 0.0.0.0:8080, or
 *                 [IPv6]:PORT): serve the read-only web endpoint (agenda, calendar feed,
 *                 open data, metrics; daemon/el_http.h) there; default "" = off
 *   metrics_listen ADDR:PORT or [IPv6]:PORT: also serve /metrics alone there (for a
 *                 Prometheus scraper on a private address while the pages face the
 *                 public); default "" = off
 *   http_equipment true | false: list this network's machines on the web endpoint
 *                 (/equipment, /api/equipment; default true)
 * [limits]
 *   heartbeat_ivl_ms      ZMTP heartbeat interval, ms (default 2000)
 *   heartbeat_timeout_ms  drop a connection silent this long, ms (default 10000)
 *   heartbeat_ttl_ms      TTL announced to the peer, ms (default 20000)
 *   reconnect_ivl_ms      first reconnect delay, ms (default 200)
 *   reconnect_ivl_max_ms  reconnect back-off limit, ms (default 5000)
 *   hwm                   send/receive high-water mark per connection, frames (default 1000)
 *   map_max_mb            store map limit, MiB (default EL_STORE_MAP_MAX)
 *   credit                entries granted to a peer at a time (default EL_SYNC_CREDIT_DEFAULT)
 *   batch                 entries per Entries frame (default EL_SYNC_BATCH_DEFAULT)
 *   durable               true | false: fsync each commit (default true; false for tests only)
 *
 * Not thread-safe; used at start-up by one thread. Nothing here logs. */
#ifndef EL_CONFIG_H
#define EL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "el_entry.h"

#define EL_CONFIG_PATH_MAX      1024    /* bytes, path or endpoint text incl. NUL */
#define EL_CONFIG_LISTEN_MAX    4       /* listen endpoints */
#define EL_CONFIG_PEERS_MAX     64      /* configured peers */
#define EL_CONFIG_ERR_MAX       256     /* bytes of an error text */
#define EL_CONFIG_TZ_MAX        64      /* bytes of a time zone name incl. NUL */
#define EL_CONFIG_HTTP_MAX      64      /* bytes of http_listen, metrics_listen incl. NUL */

/* A daemon's log level (the daemons' logging is daemon/el_log.h). */
typedef enum {
    EL_LOG_ERROR = 0,
    EL_LOG_WARN = 1,
    EL_LOG_INFO = 2,
    EL_LOG_DEBUG = 3,
} el_log_level_t;

/** Parse "error", "warn", "info", "debug". @return 0, -EINVAL. */
int el_log_level_parse (const char *text, el_log_level_t *ret);
const char *el_log_level_name (el_log_level_t level);

/* What a daemon needs its configuration to hold (el_config_finish()). */
typedef enum {
    EL_CONFIG_NEEDS_BROKER = 1 << 0,    /* connect + broker_key: a site's node */
    EL_CONFIG_NEEDS_LISTEN = 1 << 1,    /* at least one listen endpoint: a broker */
} el_config_needs_t;

typedef struct {
    uint8_t key[EL_KEY_BYTES];
    char endpoint[EL_CONFIG_PATH_MAX];  /* "" = admit only, do not connect */
} el_config_peer_t;

typedef struct {
    char state_dir[EL_CONFIG_PATH_MAX];
    char key_file[EL_CONFIG_PATH_MAX];
    char listen[EL_CONFIG_LISTEN_MAX][EL_CONFIG_PATH_MAX];
    size_t listen_n;
    char connect[EL_CONFIG_PATH_MAX];
    bool has_broker_key;
    uint8_t broker_key[EL_KEY_BYTES];
    char control[EL_CONFIG_PATH_MAX];
    char config_file[EL_CONFIG_PATH_MAX];   /* the file --config loaded; "" = none (not a
                                               setting: el_config_from_args sets it) */
    char http_listen[EL_CONFIG_HTTP_MAX];   /* "ADDR:PORT" as given; "" = no web endpoint */
    char metrics_listen[EL_CONFIG_HTTP_MAX]; /* "ADDR:PORT": /metrics alone; "" = none */
    el_log_level_t log_level;
    el_config_peer_t peers[EL_CONFIG_PEERS_MAX];
    size_t peers_n;
    char timezone[EL_CONFIG_TZ_MAX];
    int heartbeat_ivl_ms;
    int heartbeat_timeout_ms;
    int heartbeat_ttl_ms;
    int reconnect_ivl_ms;
    int reconnect_ivl_max_ms;
    int hwm;
    uint64_t map_max_mb;
    uint64_t credit;
    size_t batch;
    bool durable;
    bool http_equipment;                /* the web endpoint lists the machines */
} el_config_t;

/** Defaults (see the key list above). */
void el_config_init (el_config_t *cfg);

/** Set one key (INI name, e.g. "state_dir"; '-' accepted for '_').
 * @return 0; -ENOENT unknown key; EL_EINVAL bad value (@p err says why);
 *         EL_ETOOBIG value too long or list full. */
int el_config_set (el_config_t *cfg, const char *name, const char *value, char *err,
                   size_t err_size);

/** Read an INI file. @return 0, -errno (cannot open), EL_EINVAL (@p err names line
 * and key), EL_ETOOBIG. */
int el_config_load (el_config_t *cfg, const char *path, char *err, size_t err_size);

/** Flags that are not settings (e.g. --admit): called with the flag's name
 * without "--" and its value (NULL for a switch). Return 0 when handled,
 * -ENOENT when unknown, another negative code to stop. */
typedef int (el_config_extra_fn) (void *arg, const char *name, const char *value);

/** Apply argv: first the file of --config, then every other flag in order.
 * @param switches  NULL-terminated names of extra flags that take no value (may be NULL)
 * @param extra     handler of extra flags (may be NULL)
 * @return 0; EL_EINVAL with @p err (unknown flag, missing value, bad value, stray argument);
 *         errors of el_config_load(); the extra handler's error. */
int el_config_from_args (el_config_t *cfg, int argc, char **argv,
                         const char *const *switches, el_config_extra_fn *extra,
                         void *arg, char *err, size_t err_size);

/** Fill derived defaults (key_file, control) and check what the daemon @p needs
 * (el_config_needs_t flags): state_dir always; EL_CONFIG_NEEDS_BROKER: connect
 * and broker_key; EL_CONFIG_NEEDS_LISTEN: a listen endpoint; peers' keys distinct.
 * @return 0, EL_EINVAL with @p err. */
int el_config_finish (el_config_t *cfg, unsigned needs, char *err, size_t err_size);

/** Is @p name the form of a time zone name (the `timezone` key's check)? */
bool el_config_timezone_ok (const char *name);

/** Is @p path (a file or a folder; a symbolic link is followed) out of other
 * users' hands: writable by neither its group nor others? The daemons refuse
 * a configuration file or state folder that is not, as ssh refuses such keys:
 * whoever can write it can change where the daemon connects or its store.
 * @return 0; -EPERM when it is writable so (@p err names the path, its mode
 *         and the fix); -errno when it cannot be checked (@p err says why). */
int el_config_check_private (const char *path, char *err, size_t err_size);

/** Parse an http_listen value, "A.B.C.D:PORT" or "[IPv6]:PORT" (PORT
 * 1..65535; RFC 3986 §3.2.2 brackets), into a socket address.
 * @param[out] ret     an AF_INET or AF_INET6 address, port and address in
 *                     network byte order
 * @param[out] ret_len its length, bytes
 * @return 0, EL_EINVAL (not one of those forms). */
int el_config_http_parse (const char *text, struct sockaddr_storage *ret, socklen_t *ret_len);

/** Parse "KEY@ENDPOINT" or "KEY" (KEY checked or in the older form,
 * el_keytext_decode()). @return 0, EL_EINVAL, EL_EKEYFORMAT. */
int el_config_peer_parse (const char *text, el_config_peer_t *ret);

#endif
