/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	metrics.h - Prometheus metrics over HTTP (GET /metrics)
 */
#ifndef MX_METRICS_H
#define MX_METRICS_H

#include <stddef.h>
#include <stdio.h>

struct agent;

/* Every metric, in the text exposition format 0.0.4. 0, or -errno. */
int mx_metrics_write(struct agent *a, FILE *out);

/* A request head at most this long; a longer one gets 431. */
#define MX_HTTP_HEAD_MAX	8192

enum mx_http_method { MX_HTTP_GET, MX_HTTP_HEAD, MX_HTTP_OTHER };

/*
 * Read a request head (request line and headers, up to the empty line).
 * Returns 1 when it is complete (method and path, without the query,
 * filled in), 0 when more is needed, or an HTTP status for a request
 * that cannot be served: 400 malformed, 414 path too long, 431 head
 * too long, 505 not HTTP/1.x.
 */
int mx_http_parse(const char *buf, size_t len, enum mx_http_method *method, char *path,
		  size_t pathlen);

/* "ADDR:PORT" or "[IPv6]:PORT" as a socket address; 0, or -1 with err. */
struct sockaddr_storage;
int mx_parse_listen(const char *s, struct sockaddr_storage *ss, unsigned int *len,
		    char *err, size_t errlen);

/* The agent's metrics server, in its event loop. */
int metrics_open(struct agent *a);
void metrics_close(struct agent *a);
struct pollfd;
int metrics_pollfds(struct agent *a, struct pollfd *pfd, int max);
void metrics_run(struct agent *a, const struct pollfd *pfd, int n);

#endif /* MX_METRICS_H */
