/* bench_util.h — small helpers shared by the benchmark programs in tools/bench.
 *
 * Every bench program prints its figures on stdout as `name=value` lines (one
 * figure per line, value a plain decimal number) so deploy/bench.sh can collect
 * them, and on failure prints one line `error: <reason>` on stderr and exits
 * non-zero (exit 77 = the figure cannot be measured on this machine, e.g. a
 * missing program; the reason says why).
 *
 * Threading: none of these helpers keep state; call them from any thread.
 * Times are CLOCK_MONOTONIC, which is shared by every process of one machine,
 * so a sender's start and a receiver's end can be subtracted. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_EXIT_UNAVAILABLE 77   /* figure cannot be measured here */
#define BENCH_MSG_BYTES_DEFAULT 512 /* bytes, payload size of every figure */
#define BENCH_MSG_BYTES_MAX (1u << 20)
#define BENCH_PATH_MAX 4096         /* bytes, incl. the NUL */

/** CLOCK_MONOTONIC now, in ns. */
int64_t bench_now_ns (void);

/** Print `error: <fmt...>` on stderr (one line). */
void bench_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/** Parse a decimal count in [min, max] from @p text (a command-line value).
 * @return 0 and *ret, or -EINVAL (reason printed). */
int bench_parse_u64 (const char *text, const char *what, uint64_t min, uint64_t max,
                     uint64_t *ret);

/** Parse a duration in seconds (decimal, e.g. "0.3") in (0, @p max] from
 * @p text into milliseconds. @return 0 and *ret_ms, or -EINVAL (printed). */
int bench_parse_seconds (const char *text, const char *what, double max, uint64_t *ret_ms);

/** Sort @p n samples and return the one at percentile @p pct (0..100, nearest
 * rank). @p samples is reordered. n must be > 0. */
int64_t bench_percentile (int64_t *samples, size_t n, double pct);

/** Create a fresh directory `<base>/<prefix>XXXXXX` (base: @p base_dir, or
 * $TMPDIR, or /tmp). @p ret holds BENCH_PATH_MAX bytes.
 * @return 0, -errno, -ENAMETOOLONG. */
int bench_mkdtemp (const char *base_dir, const char *prefix, char *ret);

/** Remove @p dir and everything under it. @return 0 or -errno. */
int bench_rm_rf (const char *dir);

/** A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read, close).
 * @return 0 and *ret, or -errno. Racy by nature: callers retry on EADDRINUSE. */
int bench_free_tcp_port (int *ret);

/** Wait until something accepts TCP connections on 127.0.0.1:@p port.
 * @param timeout_ms  ms to wait at most
 * @return 0, -ETIMEDOUT. */
int bench_wait_tcp (int port, int timeout_ms);

/** Write / read exactly @p len bytes on a pipe (retries EINTR and short I/O).
 * @return 0, -errno, -EPIPE on EOF before len bytes. */
int bench_write_all (int fd, const void *buf, size_t len);
int bench_read_all (int fd, void *buf, size_t len);

/** Wait for child @p pid up to @p timeout_ms, then SIGKILL it.
 * @return its exit status (0..255), 128+signal if killed, or -errno. */
int bench_wait_child (pid_t pid, int timeout_ms);

/** Fill @p buf with @p len deterministic pseudo-random bytes (not secret). */
void bench_fill (uint8_t *buf, size_t len, uint64_t seed);

#endif
