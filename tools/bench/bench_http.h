/* bench_http.h — an HTTP/1.1 load generator for the web figures.
 *
 * @p clients threads, each with one keep-alive TCP connection to
 * 127.0.0.1:@p port, send `GET path HTTP/1.1` one after another (the next
 * once the previous response is read whole) for @p seconds. A response must
 * be 200 with a Content-Length body of @p want_len bytes (0 = any length),
 * else the run fails: a figure over wrong answers is no figure.
 *
 * Threading: call from one thread; it starts and joins its own. */
#ifndef BENCH_HTTP_H
#define BENCH_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_HTTP_CLIENTS_MAX 256
#define BENCH_HTTP_HEAD_MAX    (16u << 10)  /* bytes of a response's status line + headers */
#define BENCH_HTTP_BODY_MAX    (64u << 20)  /* bytes of one response body */

/** Run the load. @param[out] ret_per_s completed requests per second,
 * @param[out] ret_n completed requests.
 * @return 0; -EPROTO (a response that is not 200 with the expected length:
 *         printed), -ECONNRESET (the server closed a connection), -errno. */
int bench_http_load (int port, const char *path, int clients, double seconds, size_t want_len,
                     double *ret_per_s, uint64_t *ret_n);

/** One GET of @p path; the body into *ret (caller frees), its length in
 * *ret_len. @return 0, -EPROTO (not 200: printed), -errno. */
int bench_http_get (int port, const char *path, char **ret, size_t *ret_len);

#endif
