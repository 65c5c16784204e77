/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	http.h - what the HTTP servers parse: a request head, its fields, a listen address
 */
#ifndef MX_HTTP_H
#define MX_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A request head at most this long; a longer one gets 431. */
#define MX_HTTP_HEAD_MAX	8192

enum mx_http_method { MX_HTTP_GET, MX_HTTP_HEAD, MX_HTTP_POST, MX_HTTP_OTHER };

/*
 * Read a request head (request line and headers, up to the empty line).
 * Returns 1 when it is complete (method and path, without the query,
 * filled in), 0 when more is needed, or an HTTP status for a request
 * that cannot be served: 400 malformed, 414 path too long, 431 head
 * too long, 505 not HTTP/1.x.
 */
int mx_http_parse(const char *buf, size_t len, enum mx_http_method *method, char *path,
		  size_t pathlen);

/*
 * The length of the request head at the start of buf (the request line,
 * the header fields and the empty line that ends them), or 0 while the
 * empty line has not come.
 */
size_t mx_http_head_len(const char *buf, size_t len);

/* One header field of a head: name and value point into it, not NUL-terminated. */
struct mx_http_field {
	const char *name, *value;
	size_t name_len, value_len;	/* the value without the blanks around it */
};

/*
 * The header field after *pos in a head of head_len bytes (*pos 0 to
 * start: the request line is passed over). 1 with f filled in, 0 after
 * the last, -1 for a malformed field: no colon, a name that is no token,
 * a folded line, a control character in the value.
 */
int mx_http_field_next(const char *head, size_t head_len, size_t *pos, struct mx_http_field *f);

/* Standard base64, padded and canonical (RFC 4648 4, 3.5): the decoded length, or -1. */
ssize_t mx_base64_decode(const char *in, size_t len, uint8_t *out, size_t outlen);

/* "ADDR:PORT" or "[IPv6]:PORT" as a socket address; 0, or -1 with err. */
struct sockaddr_storage;
int mx_parse_listen(const char *s, struct sockaddr_storage *ss, unsigned int *len,
		    char *err, size_t errlen);

#endif /* MX_HTTP_H */
