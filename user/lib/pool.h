/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	pool.h - the clients of a listening socket: slots, buffers, deadlines
 * DESCRIPTION
 *	Every socket server of the agent (the control socket, the Postfix
 *	policy service, metrics) holds its clients in a pool: at most
 *	max_clients at once, each with a buffer of buf_size bytes and a
 *	deadline, served by the event loop without blocking. The pool
 *	accepts, finds the slot, watches the client's fd, renews or keeps
 *	its deadline and ends it when the deadline passes; the service
 *	says what it makes of the bytes (input) and what a newcomer that
 *	finds every slot taken gets (full):
 *
 *	  MX_POOL_REFUSE	the newcomer is refused (refuse: an error
 *				reply); the clients in keep their slots
 *	  MX_POOL_REPLACE	the client nearest its deadline, among those
 *				with nothing waiting to be read, gives its
 *				slot up (closed unanswered)
 *
 *	timeout_ms counts from accept, or with idle from the last byte
 *	read (an idle limit for connections that carry many requests).
 * SECURITY
 *	For untrusted peers: what a client can hold is its slot, its
 *	buffer and its time, all bounded; the pool never reads more than
 *	the buffer holds and never blocks.
 */
#ifndef MX_POOL_H
#define MX_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "loop.h"

enum mx_pool_full {
	MX_POOL_REFUSE,
	MX_POOL_REPLACE,
};

struct mx_pool;

struct mx_client {
	int fd;				/* -1: a free slot */
	size_t got;			/* bytes in buf */
	char *buf;			/* buf_size bytes, while connected */
	uint64_t deadline_ms;		/* mx_mono_ms() */
	int state;			/* the service's own; 0 at accept */
	struct mx_pool *pool;
};

struct mx_pool_conf {
	const char *name;		/* the event loop's name for its time */
	unsigned int max_clients;
	size_t buf_size;
	unsigned int timeout_ms;
	bool idle;			/* the deadline moves with every byte read */
	enum mx_pool_full full;
	/* The client's fd is readable (or hung up): mx_pool_read(), then drop or keep it. */
	void (*input)(struct mx_pool *p, struct mx_client *c);
	/* Optional, before a slot is looked for: false when it answered and closed fd itself. */
	bool (*admit)(struct mx_pool *p, int fd);
	/* Optional (MX_POOL_REFUSE): answer the refused newcomer and close fd; else just closed. */
	void (*refuse)(struct mx_pool *p, int fd);
	/* Optional: the deadline passed; it must drop or release c. Else c is dropped. */
	void (*expire)(struct mx_pool *p, struct mx_client *c);
	/* Optional: c's slot is being freed, whatever the reason (dropped, replaced, released). */
	void (*closed)(struct mx_pool *p, struct mx_client *c);
	void *arg;			/* the service's */
};

struct mx_pool {
	struct mx_pool_conf conf;
	struct mx_loop *loop;
	int lfd;
	struct mx_client *c;		/* max_clients slots */
	unsigned int active;
	struct mx_timer expiry;		/* armed at the nearest deadline, or earlier */
	uint64_t accepted, refused, replaced, expired;
};

/* Serve the listening socket lfd (non-blocking); the pool closes it. 0, or -errno (lfd still yours). */
int mx_pool_open(struct mx_pool *p, struct mx_loop *l, int lfd, const struct mx_pool_conf *conf);
/* Close every client and the listener. */
void mx_pool_close(struct mx_pool *p);

/*
 * Read up to want bytes more into c->buf (never past buf_size): the
 * number read, 0 if nothing is there now, -1 if the peer closed, the
 * read failed or the buffer is full.
 */
ssize_t mx_pool_read(struct mx_pool *p, struct mx_client *c, size_t want);
/* Close c's connection and free its slot. */
void mx_pool_drop(struct mx_pool *p, struct mx_client *c);
/* Free c's slot but keep its connection: the fd, now the caller's. */
int mx_pool_release(struct mx_pool *p, struct mx_client *c);
/* A new deadline for c. */
void mx_pool_deadline(struct mx_pool *p, struct mx_client *c, uint64_t deadline_ms);

#endif /* MX_POOL_H */
