// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_pool.c - the socket servers' client pool, over real sockets
 * DESCRIPTION
 *	On a Unix listening socket served by the event loop: a full
 *	MX_POOL_REFUSE pool refuses the newcomer and keeps the clients in;
 *	a full MX_POOL_REPLACE pool gives the slot of the client nearest
 *	its deadline, but not of one whose request has arrived; deadlines
 *	end clients (from accept, or from the last byte with idle); a
 *	released client's connection stays open; buffers are bounded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "pool.h"

struct fixture {
	struct mx_loop l;
	struct mx_pool p;
	struct mx_timer ticker;		/* the loop never sleeps long in a test */
	struct sockaddr_un sun;
	int inputs, refusals, expiries;
	int released;		/* a fd handed off by input; -1: none */
};

static struct fixture F;

/* input - read; "bye" releases the client; a full buffer drops it */
static void input(struct mx_pool *p, struct mx_client *c)
{
	ssize_t n = mx_pool_read(p, c, SIZE_MAX);

	F.inputs++;
	if (n < 0) {
		mx_pool_drop(p, c);
		return;
	}
	if (c->got >= 3 && !memcmp(c->buf, "bye", 3))
		F.released = mx_pool_release(p, c);
}

static void refuse(struct mx_pool *p, int fd)
{
	F.refusals++;
	send(fd, "full\n", 5, MSG_NOSIGNAL);
	close(fd);
}

static void expire(struct mx_pool *p, struct mx_client *c)
{
	F.expiries++;
	mx_pool_drop(p, c);
}

static void nothing(void *arg)
{
}

/* serve - a pool on a fresh socket */
static void serve(enum mx_pool_full full, unsigned int max, unsigned int timeout_ms, bool idle)
{
	struct mx_pool_conf conf = {
		.name = "test", .max_clients = max, .buf_size = 16, .timeout_ms = timeout_ms,
		.idle = idle, .full = full, .input = input, .refuse = refuse, .expire = expire,
	};
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	memset(&F, 0, sizeof(F));
	F.released = -1;
	F.sun.sun_family = AF_UNIX;
	snprintf(F.sun.sun_path, sizeof(F.sun.sun_path), "/tmp/test_pool.%d", getpid());
	unlink(F.sun.sun_path);
	assert_int_equal(bind(lfd, (struct sockaddr *)&F.sun, sizeof(F.sun)), 0);
	assert_int_equal(listen(lfd, 16), 0);
	mx_loop_init(&F.l);
	assert_int_equal(mx_loop_timer_add(&F.l, &F.ticker, "ticker", 5, nothing, NULL), 0);
	assert_int_equal(mx_pool_open(&F.p, &F.l, lfd, &conf), 0);
}

static void unserve(void)
{
	mx_pool_close(&F.p);
	mx_loop_free(&F.l);
	unlink(F.sun.sun_path);
}

/* dial - a client connection, accepted by the next turn */
static int dial(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_int_equal(connect(fd, (struct sockaddr *)&F.sun, sizeof(F.sun)), 0);
	assert_int_equal(mx_loop_turn(&F.l), 0);
	return fd;
}

/* closed - has the server closed this client's connection? */
static bool closed(int fd)
{
	struct timeval tv = { .tv_usec = 200000 };
	char c[16];
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, c, sizeof(c), 0);

	/* A close with our bytes unread is a reset on a Unix socket. */
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* turns - run the loop for ms */
static void turns(unsigned int ms)
{
	uint64_t t0 = mx_mono_ms();

	while (mx_mono_ms() - t0 < ms)
		assert_int_equal(mx_loop_turn(&F.l), 0);
}

static void test_refuse_when_full(void **state)
{
	int a, b, c;
	char buf[16] = "";

	serve(MX_POOL_REFUSE, 2, 10000, false);
	a = dial();
	b = dial();
	c = dial();
	assert_int_equal(F.p.active, 2);
	assert_int_equal(F.refusals, 1);
	assert_int_equal(recv(c, buf, sizeof(buf), 0), 5);
	assert_string_equal(buf, "full\n");
	/* Those in are served. */
	assert_int_equal(send(a, "hi", 2, 0), 2);
	assert_int_equal(mx_loop_turn(&F.l), 0);
	assert_int_equal(F.inputs, 1);
	/* The buffer is bounded: 16 bytes, then the client goes. */
	assert_int_equal(send(b, "0123456789abcdefXYZ", 19, 0), 19);
	turns(20);
	assert_true(closed(b));
	assert_int_equal(F.p.active, 1);
	close(a);
	close(b);
	close(c);
	unserve();
}

static void test_replace_the_nearest_deadline(void **state)
{
	int a, b, c, d;

	serve(MX_POOL_REPLACE, 2, 10000, false);
	a = dial();
	usleep(2000);
	b = dial();
	c = dial();		/* a had the nearest deadline: it goes */
	assert_true(closed(a));
	assert_int_equal(F.p.active, 2);
	assert_int_equal(F.p.replaced, 1);
	/* b's request has arrived: c gives its slot up instead. */
	assert_int_equal(send(b, "req", 3, 0), 3);
	d = dial();
	assert_true(closed(c));
	assert_false(closed(b));	/* times out: still open */
	assert_int_equal(F.p.replaced, 2);
	close(a);
	close(b);
	close(c);
	close(d);
	unserve();
}

static void test_deadlines(void **state)
{
	int a, b, r;

	/* From accept: a client that keeps talking goes all the same. */
	serve(MX_POOL_REFUSE, 4, 100, false);
	a = dial();
	b = dial();
	for (int i = 0; i < 6; i++) {
		send(a, "x", 1, MSG_NOSIGNAL);
		turns(30);
	}
	assert_int_equal(F.expiries, 2);
	assert_true(closed(a) && closed(b));
	close(a);
	close(b);
	unserve();

	/* Idle: talking keeps it; silence ends it. */
	serve(MX_POOL_REFUSE, 4, 100, true);
	a = dial();
	b = dial();
	for (int i = 0; i < 6; i++) {
		send(a, "x", 1, MSG_NOSIGNAL);
		turns(30);
	}
	assert_int_equal(F.expiries, 1);
	assert_true(closed(b));
	assert_int_equal(F.p.active, 1);
	/* Released: the slot is free, the connection open and no longer watched. */
	F.p.c[0].got = F.p.c[1].got = 0;
	send(a, "bye", 3, MSG_NOSIGNAL);
	turns(20);
	assert_true(F.released >= 0);
	assert_int_equal(F.p.active, 0);
	r = F.released;
	turns(150);
	assert_int_equal(send(r, "ok", 2, MSG_NOSIGNAL), 2);
	assert_false(closed(a));
	close(r);
	close(a);
	close(b);
	unserve();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refuse_when_full),
		cmocka_unit_test(test_replace_the_nearest_deadline),
		cmocka_unit_test(test_deadlines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
