/* el_log.h — the daemons' logging: stderr, one line per event.
 *
 * Format (journald keeps it as is):   <level> event=<name> key=value key=value ...
 *   info event=peer_connected peer=AbCd12Ef endpoint=tcp://127.0.0.1:7400
 * Values that hold spaces, quotes, '=' or control characters are written
 * double-quoted with \" \\ \n escapes (el_log_quote()).
 *
 * Daemon code only (library code does not log). The level is process-wide;
 * set at start-up and again when the configuration is reloaded (SIGHUP).
 * el_log() is safe to call from any thread (one fprintf per line), also while
 * another thread changes the level (it is read and written atomically). */
#ifndef EL_LOG_H
#define EL_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "el_config.h"    /* el_log_level_t */


#define EL_LOG_LINE_MAX 2048    /* bytes per line; longer lines are cut and end with "..." */
#define EL_LOG_FPR_BYTES 9      /* key fingerprint text: 8 base64url chars + NUL */

/** Set the level: lines above it are not written. */
void el_log_set_level (el_log_level_t level);
el_log_level_t el_log_level (void);


/** True when a line of @p level would be written. */
int el_log_enabled (el_log_level_t level);

/** Write "<level> event=<event> <fmt...>\n" to stderr. @p fmt may be NULL. */
void el_log (el_log_level_t level, const char *event, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/** @p text as a log value: unchanged when it holds only safe characters, else
 * double-quoted with escapes; cut to fit @p size. @return @p buf. */
const char *el_log_quote (const char *text, char *buf, size_t size);

/** Short fingerprint of a key for logs: the first 8 base64url characters. */
const char *el_log_fpr (const uint8_t key[32], char buf[EL_LOG_FPR_BYTES]);

#endif
