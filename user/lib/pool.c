// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	pool.c - the clients of a listening socket: slots, buffers, deadlines
 * DESCRIPTION
 *	See pool.h. One connection is accepted each time the listener is
 *	readable, so that a burst of connections takes turns with the
 *	clients already in instead of crowding them out within one turn.
 *	A client's buffer is allocated at accept and freed when it goes:
 *	a pool of idle slots holds no memory.
 *
 *	Deadlines: one timer per pool, armed at the nearest deadline when
 *	a deadline is set, and at each run at the nearest one left. A
 *	deadline that moves later (idle) leaves the timer early: it runs,
 *	finds nothing due and arms itself again.
 * SECURITY
 *	Every read is bounded by what the buffer has left; a full buffer
 *	is the service's to judge (an oversized request). Nothing blocks.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "pool.h"

/* arm - the expiry timer no later than when */
static void arm(struct mx_pool *p, uint64_t when)
{
	if (!p->expiry.armed || when < p->expiry.due_ms)
		mx_loop_timer_at(&p->expiry, when);
}

/* free_slot - forget c's connection (its fd closed or handed off) */
static void free_slot(struct mx_pool *p, struct mx_client *c)
{
	if (p->conf.closed)
		p->conf.closed(p, c);
	mx_loop_del(p->loop, c->fd);
	free(c->buf);
	c->buf = NULL;
	c->fd = -1;
	c->got = 0;
	c->state = 0;
	p->active--;
}

/* mx_pool_drop - close c and free its slot */
void mx_pool_drop(struct mx_pool *p, struct mx_client *c)
{
	int fd = c->fd;

	if (fd < 0)
		return;
	free_slot(p, c);
	close(fd);
}

/* mx_pool_release - free c's slot; its connection is the caller's now */
int mx_pool_release(struct mx_pool *p, struct mx_client *c)
{
	int fd = c->fd;

	if (fd >= 0)
		free_slot(p, c);
	return fd;
}

/* mx_pool_deadline - a new deadline for c */
void mx_pool_deadline(struct mx_pool *p, struct mx_client *c, uint64_t deadline_ms)
{
	c->deadline_ms = deadline_ms;
	arm(p, deadline_ms);
}

/* mx_pool_read - up to want bytes more into c's buffer */
ssize_t mx_pool_read(struct mx_pool *p, struct mx_client *c, size_t want)
{
	size_t room = p->conf.buf_size - c->got;
	ssize_t n;

	if (want > room)
		want = room;
	if (!want)
		return -1;	/* full: the service did not find its end */
	n = recv(c->fd, c->buf + c->got, want, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	c->got += (size_t)n;
	if (p->conf.idle)
		c->deadline_ms = mx_mono_ms() + p->conf.timeout_ms;	/* the timer finds it later */
	return n;
}

/* on_client - the loop says a client's fd is ready */
static void on_client(void *arg, int fd, short revents)
{
	struct mx_client *c = arg;

	c->pool->conf.input(c->pool, c);
}

/*
 * victim - the slot a newcomer takes from a full MX_POOL_REPLACE pool:
 * the client nearest its deadline, among those with nothing waiting
 * to be read (a request that has arrived is answered, not lost; the
 * loop reads it in this turn). If every one has, the nearest of all.
 */
static struct mx_client *victim(struct mx_pool *p)
{
	struct mx_client *best = NULL, *any = NULL;
	struct pollfd *pfd = calloc(p->conf.max_clients, sizeof(*pfd));

	if (pfd) {
		for (unsigned int i = 0; i < p->conf.max_clients; i++)
			pfd[i] = (struct pollfd){ .fd = p->c[i].fd, .events = POLLIN };
		if (poll(pfd, p->conf.max_clients, 0) < 0)
			memset(pfd, 0, p->conf.max_clients * sizeof(*pfd));
	}
	for (unsigned int i = 0; i < p->conf.max_clients; i++) {
		struct mx_client *c = &p->c[i];

		if (c->fd < 0)
			continue;
		if (!any || c->deadline_ms < any->deadline_ms)
			any = c;
		if (pfd && pfd[i].revents)
			continue;
		if (!best || c->deadline_ms < best->deadline_ms)
			best = c;
	}
	free(pfd);
	return best ? best : any;
}

/* on_accept - one newcomer: admitted, given a slot, or refused */
static void on_accept(void *arg, int lfd, short revents)
{
	struct mx_pool *p = arg;
	struct mx_client *slot = NULL;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (p->conf.admit && !p->conf.admit(p, fd))
		return;
	for (unsigned int i = 0; i < p->conf.max_clients && !slot; i++)
		if (p->c[i].fd < 0)
			slot = &p->c[i];
	if (!slot && p->conf.full == MX_POOL_REFUSE) {
		p->refused++;
		if (p->conf.refuse)
			p->conf.refuse(p, fd);
		else
			close(fd);
		return;
	}
	if (!slot) {
		slot = victim(p);
		p->replaced++;
		mx_pool_drop(p, slot);
	}
	slot->buf = malloc(p->conf.buf_size);
	if (!slot->buf || mx_loop_add(p->loop, fd, POLLIN, p->conf.name, on_client, slot)) {
		free(slot->buf);
		slot->buf = NULL;
		close(fd);
		return;
	}
	slot->fd = fd;
	slot->got = 0;
	slot->state = 0;
	slot->pool = p;
	p->active++;
	p->accepted++;
	mx_pool_deadline(p, slot, mx_mono_ms() + p->conf.timeout_ms);
}

/* expire_due - end the clients past their deadline; the timer again at the nearest left */
static void expire_due(void *arg)
{
	struct mx_pool *p = arg;
	uint64_t now_ms = mx_mono_ms(), next = UINT64_MAX;

	for (unsigned int i = 0; i < p->conf.max_clients; i++) {
		struct mx_client *c = &p->c[i];

		if (c->fd < 0)
			continue;
		if (c->deadline_ms > now_ms) {
			if (c->deadline_ms < next)
				next = c->deadline_ms;
			continue;
		}
		p->expired++;
		if (p->conf.expire)
			p->conf.expire(p, c);
		else
			mx_pool_drop(p, c);
	}
	if (next != UINT64_MAX)
		arm(p, next);
}

/* mx_pool_open - serve lfd's clients in the loop */
int mx_pool_open(struct mx_pool *p, struct mx_loop *l, int lfd, const struct mx_pool_conf *conf)
{
	int err;

	memset(p, 0, sizeof(*p));
	p->conf = *conf;
	p->loop = l;
	p->lfd = lfd;
	p->c = calloc(conf->max_clients, sizeof(*p->c));
	if (!p->c)
		return -ENOMEM;
	for (unsigned int i = 0; i < conf->max_clients; i++)
		p->c[i] = (struct mx_client){ .fd = -1, .pool = p };
	err = mx_loop_timer_add(l, &p->expiry, conf->name, 0, expire_due, p);
	if (!err)
		err = mx_loop_add(l, lfd, POLLIN, conf->name, on_accept, p);
	if (err) {
		mx_loop_timer_del(l, &p->expiry);
		free(p->c);
		p->c = NULL;
	}
	return err;
}

/* mx_pool_close - every client, then the listener */
void mx_pool_close(struct mx_pool *p)
{
	if (!p->c)
		return;
	for (unsigned int i = 0; i < p->conf.max_clients; i++)
		mx_pool_drop(p, &p->c[i]);
	mx_loop_timer_del(p->loop, &p->expiry);
	mx_loop_del(p->loop, p->lfd);
	close(p->lfd);
	free(p->c);
	p->c = NULL;
}
