// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_sockdiag.c - the sock_diag client on real sockets
 * DESCRIPTION
 *	Runs in a network namespace of its own (unshare, then lo up), so the
 *	kernel's socket tables hold only what each test makes: every walk
 *	can be checked for exactly the sockets expected. Listeners take
 *	ephemeral ports on 127.0.0.1 and ::1. Request sockets are made with
 *	TCP_DEFER_ACCEPT: the listener drops the handshake's bare final ACK,
 *	so the connection stays a request socket (SYN_RECV) on the server
 *	side, ESTABLISHED on the client's, until data arrives.
 *
 *	The test's own send() and recvmsg() stand in front of libc's (this
 *	executable's definitions win) to count what the kernel sends, to
 *	refuse bytecode as an older kernel would, and to corrupt replies;
 *	they pass everything through unless a test turns that on.
 *
 *	Needs root (unshare, SOCK_DESTROY).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "sockdiag.h"

#define TCPF(state)	(1U << (state))
#define MAX_FOUND	64
#define NCLIENTS	3

/* ---- interposed send() and recvmsg() ---- */

enum mangle {
	M_NONE,
	M_LEN_OVER,		/* first message longer than the datagram */
	M_LEN_UNDER,		/* first message shorter than its header */
	M_SHORT_DIAG,		/* a socket message too short for inet_diag_msg */
	M_FAMILY,		/* a socket message of another family */
	M_SEQ,			/* another request's sequence number */
	M_TYPE,			/* an unknown message type */
	M_SENDER,		/* a datagram not from the kernel */
	M_TRUNC,		/* a datagram cut short */
	M_EMPTY,		/* an empty datagram */
	M_DONE_ERR,		/* NLMSG_DONE carrying -ENOBUFS */
	M_ERROR,		/* NLMSG_ERROR -EPERM */
	M_ACK,			/* NLMSG_ERROR 0 (an ACK nobody asked for) */
};

static struct {
	bool on;
	int refuse;		/* 1: refuse S_EQ; 2: refuse any bytecode */
	enum mangle mangle;	/* done to the next datagram, then cleared */
	bool mangled;
	int eintr;		/* recvmsg() calls to fail with EINTR first */
	unsigned int requests, bytecode_requests;
	uint32_t states_sent;
	unsigned int sock_msgs;	/* SOCK_DIAG_BY_FAMILY messages received */
	unsigned int datagrams;	/* netlink datagrams received */
	int fake_fd;		/* a refusal to answer on this fd */
	uint32_t fake_seq;
} fi = { .fake_fd = -1 };

/* fi_reset - back to passing everything through, counters zero */
static void fi_reset(void)
{
	memset(&fi, 0, sizeof(fi));
	fi.fake_fd = -1;
}

/* send - libc's send(), watched when fi.on */
ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	static ssize_t (*real)(int, const void *, size_t, int);
	const struct nlmsghdr *h = buf;

	if (!real)
		real = (ssize_t (*)(int, const void *, size_t, int))dlsym(RTLD_NEXT, "send");
	if (fi.on && len >= NLMSG_LENGTH(sizeof(struct inet_diag_req_v2)) &&
	    h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
		const struct inet_diag_req_v2 *r = NLMSG_DATA(h);
		const uint8_t *attr = (const uint8_t *)buf + NLMSG_LENGTH(sizeof(*r));
		bool bc = h->nlmsg_len > NLMSG_LENGTH(sizeof(*r));
		const struct inet_diag_bc_op *op =
			(const struct inet_diag_bc_op *)(attr + NLA_HDRLEN);

		fi.requests++;
		fi.states_sent = r->idiag_states;
		if (bc) {
			fi.bytecode_requests++;
			if (fi.refuse == 2 || (fi.refuse == 1 && op->code == INET_DIAG_BC_S_EQ)) {
				fi.fake_fd = fd;
				fi.fake_seq = h->nlmsg_seq;
				return (ssize_t)len;
			}
		}
	}
	return real(fd, buf, len, flags);
}

/* put_msg - a message of one int (error or DONE) as a whole datagram */
static ssize_t put_msg(struct msghdr *mh, uint16_t type, uint32_t seq, int val)
{
	struct {
		struct nlmsghdr h;
		struct nlmsgerr e;
	} m = {
		.h = { .nlmsg_type = type, .nlmsg_seq = seq },
		.e = { .error = val },
	};
	struct sockaddr_nl *from = mh->msg_name;

	m.h.nlmsg_len = type == NLMSG_ERROR ? sizeof(m) : NLMSG_LENGTH(sizeof(int));
	assert_true(mh->msg_iov[0].iov_len >= m.h.nlmsg_len);
	memcpy(mh->msg_iov[0].iov_base, &m, m.h.nlmsg_len);
	memset(from, 0, sizeof(*from));
	from->nl_family = AF_NETLINK;
	mh->msg_namelen = sizeof(*from);
	mh->msg_flags = 0;
	return m.h.nlmsg_len;
}

/* apply_mangle - corrupt a datagram just received from the kernel */
static ssize_t apply_mangle(struct msghdr *mh, ssize_t n)
{
	struct nlmsghdr *h = mh->msg_iov[0].iov_base;
	struct inet_diag_msg *m = NLMSG_DATA(h);
	bool diag = n >= (ssize_t)NLMSG_LENGTH(sizeof(*m)) && h->nlmsg_type == SOCK_DIAG_BY_FAMILY;
	uint32_t seq = h->nlmsg_seq;

	switch (fi.mangle) {
	case M_NONE:
		return n;
	case M_LEN_OVER:
		h->nlmsg_len = (uint32_t)n + 4;
		break;
	case M_LEN_UNDER:
		h->nlmsg_len = 8;
		break;
	case M_SHORT_DIAG:
		if (!diag)
			return n;
		h->nlmsg_len = NLMSG_LENGTH(8);
		break;
	case M_FAMILY:
		if (!diag)
			return n;
		m->idiag_family = AF_UNIX;
		break;
	case M_SEQ:
		h->nlmsg_seq++;
		break;
	case M_TYPE:
		h->nlmsg_type = 0x1234;
		break;
	case M_SENDER:
		((struct sockaddr_nl *)mh->msg_name)->nl_pid = 4242;
		break;
	case M_TRUNC:
		mh->msg_flags |= MSG_TRUNC;
		break;
	case M_EMPTY:
		n = 0;
		break;
	case M_DONE_ERR:
		n = put_msg(mh, NLMSG_DONE, seq, -ENOBUFS);
		break;
	case M_ERROR:
		n = put_msg(mh, NLMSG_ERROR, seq, -EPERM);
		break;
	case M_ACK:
		n = put_msg(mh, NLMSG_ERROR, seq, 0);
		break;
	}
	fi.mangle = M_NONE;
	fi.mangled = true;
	return n;
}

/* recvmsg - libc's recvmsg(), watched when fi.on */
ssize_t recvmsg(int fd, struct msghdr *mh, int flags)
{
	static ssize_t (*real)(int, struct msghdr *, int);
	const struct sockaddr_nl *from = mh->msg_name;
	ssize_t n, off;

	if (!real)
		real = (ssize_t (*)(int, struct msghdr *, int))dlsym(RTLD_NEXT, "recvmsg");
	if (!fi.on)
		return real(fd, mh, flags);
	if (fi.eintr > 0) {
		fi.eintr--;
		errno = EINTR;
		return -1;
	}
	if (fd == fi.fake_fd) {
		fi.fake_fd = -1;
		return put_msg(mh, NLMSG_ERROR, fi.fake_seq, -EINVAL);
	}
	n = real(fd, mh, flags);
	if (n <= 0 || !from || from->nl_family != AF_NETLINK)
		return n;
	fi.datagrams++;
	for (off = 0; off + (ssize_t)NLMSG_HDRLEN <= n; ) {
		const struct nlmsghdr *h =
			(const struct nlmsghdr *)((uint8_t *)mh->msg_iov[0].iov_base + off);

		if (h->nlmsg_len < NLMSG_HDRLEN)
			break;
		if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY)
			fi.sock_msgs++;
		off += NLMSG_ALIGN(h->nlmsg_len);
	}
	return apply_mangle(mh, n);
}

/* ---- sockets for the tests ---- */

struct found {
	int n;
	int calls;
	int stop_at;		/* return 7 at this call (1-based); 0: never */
	struct mx_sock s[MAX_FOUND];
};

/* collect - walk callback: keep every socket */
static int collect(const struct mx_sock *s, void *arg)
{
	struct found *f = arg;

	f->calls++;
	if (f->n == MAX_FOUND)
		return -ENOSPC;
	f->s[f->n++] = *s;
	return f->stop_at && f->calls == f->stop_at ? 7 : 0;
}

/* walk - a walk into a fresh found, which must succeed */
static void walk(int family, uint32_t states, uint16_t lport, struct found *f)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(mx_sockdiag_walk(family, states, lport, collect, f), 0);
}

/* find_rport - the socket of f with this remote port, or NULL */
static const struct mx_sock *find_rport(const struct found *f, uint16_t rport)
{
	for (int i = 0; i < f->n; i++)
		if (f->s[i].rport == rport)
			return &f->s[i];
	return NULL;
}

/* loopback - the loopback address of a family, with a port */
static socklen_t loopback(int family, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_port = htons(port);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

	a->sin6_family = AF_INET6;
	a->sin6_addr = in6addr_loopback;
	a->sin6_port = htons(port);
	return sizeof(*a);
}

/* port_of - the local port of a socket */
static uint16_t port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* cookie_of - SO_COOKIE */
static uint64_t cookie_of(int fd)
{
	uint64_t c = 0;
	socklen_t len = sizeof(c);

	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len), 0);
	assert_true(c != 0);
	return c;
}

/* inode_of - the socket's inode, as inet_diag reports it */
static uint32_t inode_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return (uint32_t)st.st_ino;
}

/*
 * listener - listen on an ephemeral port of the family's loopback
 * address; dual: an IPv6 socket on :: that takes IPv4 too; defer: keep
 * handshakes as request sockets until data arrives
 */
static int listener(int family, bool dual, bool defer, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, 0, &ss);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int v6only = !dual, secs = 60;

	assert_true(fd >= 0);
	if (family == AF_INET6) {
		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
					    sizeof(v6only)), 0);
		if (dual)
			((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_any;
	}
	if (defer)
		assert_int_equal(setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs,
					    sizeof(secs)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(fd, 16), 0);
	*port = port_of(fd);
	return fd;
}

/* dial - a connected client socket */
static int dial(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	return fd;
}

/* take - accept one connection, waiting at most 2 s */
static int take(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int fd;

	assert_int_equal(poll(&p, 1, 2000), 1);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* conn - one connection: client and accepted server sockets */
struct conn {
	int client, server;
	uint16_t cport;		/* the client's port: the server side's rport */
};

/* connect_n - n connections to a listener, each accepted */
static void connect_n(int family, int lfd, uint16_t port, struct conn *c, int n)
{
	for (int i = 0; i < n; i++) {
		c[i].client = dial(family, port);
		c[i].cport = port_of(c[i].client);
		c[i].server = take(lfd);
	}
}

/* close_n - close both ends of n connections */
static void close_n(struct conn *c, int n)
{
	for (int i = 0; i < n; i++) {
		if (c[i].client >= 0)
			close(c[i].client);
		if (c[i].server >= 0)
			close(c[i].server);
	}
}

/* count_fds - open file descriptors of this process */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* wait_state - walk until the socket to rport on lport is in state, 2 s at most */
static bool wait_state(int family, uint16_t lport, uint16_t rport, uint8_t state)
{
	struct found f;

	for (int i = 0; i < 200; i++) {
		walk(family, ~0U, lport, &f);
		const struct mx_sock *s = find_rport(&f, rport);

		if (s && s->state == state)
			return true;
		usleep(10000);
	}
	return false;
}

/* check_established - f holds exactly the server ends of c, nothing else */
static void check_established(const struct found *f, int family, uint16_t port,
			      const struct conn *c, int n)
{
	assert_int_equal(f->n, n);
	for (int i = 0; i < n; i++) {
		const struct mx_sock *s = find_rport(f, c[i].cport);

		assert_non_null(s);
		assert_int_equal(s->family, family);
		assert_int_equal(s->state, TCP_ESTABLISHED);
		assert_int_equal(s->lport, port);
		assert_true(s->cookie == cookie_of(c[i].server));
		assert_int_equal(s->inode, inode_of(c[i].server));
		assert_int_equal(s->ifindex, 0);
		assert_false(mx_sock_is_v4mapped(s));
		if (family == AF_INET) {
			static const uint8_t lo4[16] = { 127, 0, 0, 1 };

			assert_memory_equal(s->local, lo4, 16);
			assert_memory_equal(s->remote, lo4, 16);
		} else {
			assert_memory_equal(s->local, &in6addr_loopback, 16);
			assert_memory_equal(s->remote, &in6addr_loopback, 16);
		}
	}
}

/* ---- walks ---- */

/* established - exactly the accepted sockets, with their cookies and inodes */
static void established(int family)
{
	struct conn c[NCLIENTS];
	struct found f;
	uint16_t port;
	int lfd = listener(family, false, false, &port);

	connect_n(family, lfd, port, c, NCLIENTS);
	walk(family, TCPF(TCP_ESTABLISHED), port, &f);
	check_established(&f, family, port, c, NCLIENTS);

	/* The other family has none of them. */
	walk(family == AF_INET ? AF_INET6 : AF_INET, ~0U, port, &f);
	assert_int_equal(f.n, 0);
	close_n(c, NCLIENTS);
	close(lfd);
}

static void test_established_v4(void **state)
{
	established(AF_INET);
}

static void test_established_v6(void **state)
{
	established(AF_INET6);
}

/* test_port_filter - a walk on one port sees no socket of another */
static void test_port_filter(void **state)
{
	struct conn a[2], b[3];
	struct found f;
	int base;
	uint16_t pa, pb;
	int la = listener(AF_INET, false, false, &pa);
	int lb = listener(AF_INET, false, false, &pb);

	walk(AF_INET, TCPF(TCP_ESTABLISHED), 0, &f);
	base = f.n;
	connect_n(AF_INET, la, pa, a, 2);
	connect_n(AF_INET, lb, pb, b, 3);
	walk(AF_INET, TCPF(TCP_ESTABLISHED), pa, &f);
	check_established(&f, AF_INET, pa, a, 2);
	walk(AF_INET, TCPF(TCP_ESTABLISHED), pb, &f);
	check_established(&f, AF_INET, pb, b, 3);

	/* Any port: both ends of all five, the two listeners. */
	walk(AF_INET, TCPF(TCP_ESTABLISHED), 0, &f);
	assert_int_equal(f.n, base + 10);
	walk(AF_INET, TCPF(TCP_LISTEN), 0, &f);
	assert_int_equal(f.n, 2);

	/* A client's own port: that client's end only. */
	walk(AF_INET, ~0U, a[1].cport, &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.s[0].rport, pa);
	assert_true(f.s[0].cookie == cookie_of(a[1].client));

	/* An unused port: nothing. */
	walk(AF_INET, ~0U, 1, &f);
	assert_int_equal(f.n, 0);
	close_n(a, 2);
	close_n(b, 3);
	close(la);
	close(lb);
}

/* test_listen_and_close_wait - the state mask picks LISTEN and CLOSE_WAIT apart */
static void test_listen_and_close_wait(void **state)
{
	struct conn c[NCLIENTS];
	struct found f;
	uint16_t port;
	int lfd = listener(AF_INET, false, false, &port);

	connect_n(AF_INET, lfd, port, c, NCLIENTS);
	walk(AF_INET, TCPF(TCP_LISTEN), port, &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.s[0].state, TCP_LISTEN);
	assert_int_equal(f.s[0].rport, 0);
	assert_true(f.s[0].cookie == cookie_of(lfd));
	assert_int_equal(f.s[0].inode, inode_of(lfd));

	/* The peer closes the first: its server end waits in CLOSE_WAIT. */
	close(c[0].client);
	c[0].client = -1;
	assert_true(wait_state(AF_INET, port, c[0].cport, TCP_CLOSE_WAIT));
	walk(AF_INET, TCPF(TCP_CLOSE_WAIT), port, &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.s[0].rport, c[0].cport);
	assert_true(f.s[0].cookie == cookie_of(c[0].server));
	walk(AF_INET, TCPF(TCP_ESTABLISHED), port, &f);
	check_established(&f, AF_INET, port, c + 1, NCLIENTS - 1);
	walk(AF_INET, TCPF(TCP_ESTABLISHED) | TCPF(TCP_CLOSE_WAIT), port, &f);
	assert_int_equal(f.n, NCLIENTS);
	walk(AF_INET, TCPF(TCP_ESTABLISHED) | TCPF(TCP_CLOSE_WAIT) | TCPF(TCP_LISTEN),
	     port, &f);
	assert_int_equal(f.n, NCLIENTS + 1);
	close_n(c, NCLIENTS);
	close(lfd);
}

/* test_v4mapped - an IPv4 client of a dual-stack listener is an IPv6 socket */
static void test_v4mapped(void **state)
{
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 };
	struct conn c4, c6;
	struct found f;
	const struct mx_sock *s;
	uint16_t port;
	int lfd = listener(AF_INET6, true, false, &port);

	connect_n(AF_INET, lfd, port, &c4, 1);
	connect_n(AF_INET6, lfd, port, &c6, 1);
	walk(AF_INET6, TCPF(TCP_ESTABLISHED), port, &f);
	assert_int_equal(f.n, 2);
	s = find_rport(&f, c4.cport);
	assert_non_null(s);
	assert_int_equal(s->family, AF_INET6);
	assert_memory_equal(s->remote, mapped, 16);
	assert_memory_equal(s->local, mapped, 16);
	assert_true(mx_sock_is_v4mapped(s));
	assert_true(s->cookie == cookie_of(c4.server));
	s = find_rport(&f, c6.cport);
	assert_non_null(s);
	assert_false(mx_sock_is_v4mapped(s));

	/* Not an IPv4 socket: an IPv4 walk of the port finds nothing. */
	walk(AF_INET, ~0U, port, &f);
	assert_int_equal(f.n, 0);
	close_n(&c4, 1);
	close_n(&c6, 1);
	close(lfd);
}

/* request_sockets - handshakes held by TCP_DEFER_ACCEPT are dumped as SYN_RECV */
static void request_sockets(int family)
{
	int client[2];
	uint16_t cport[2], port;
	uint64_t req_cookie[2];
	struct found f;
	const struct mx_sock *s;
	int lfd = listener(family, false, true, &port);
	int child;

	for (int i = 0; i < 2; i++) {
		client[i] = dial(family, port);
		cport[i] = port_of(client[i]);
	}
	/* Either state bit selects them; the kernel is sent both. */
	fi_reset();
	fi.on = true;
	walk(family, TCPF(TCP_SYN_RECV), port, &f);
	assert_int_equal(fi.states_sent, TCPF(TCP_SYN_RECV) | TCPF(MX_TCP_NEW_SYN_RECV));
	fi_reset();
	assert_int_equal(f.n, 2);
	for (int i = 0; i < 2; i++) {
		s = find_rport(&f, cport[i]);
		assert_non_null(s);
		assert_int_equal(s->state, TCP_SYN_RECV);
		assert_int_equal(s->lport, port);
		assert_int_equal(s->inode, 0);
		assert_true(s->cookie != 0);
		req_cookie[i] = s->cookie;
	}
	assert_true(req_cookie[0] != req_cookie[1]);
	walk(family, TCPF(MX_TCP_NEW_SYN_RECV), port, &f);
	assert_int_equal(f.n, 2);
	walk(family, TCPF(TCP_ESTABLISHED) | TCPF(TCP_CLOSE_WAIT), port, &f);
	assert_int_equal(f.n, 0);

	/* Data completes the first: the new socket keeps the request's cookie. */
	assert_int_equal(write(client[0], "x", 1), 1);
	child = take(lfd);
	walk(family, TCPF(TCP_ESTABLISHED), port, &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.s[0].rport, cport[0]);
	assert_true(f.s[0].cookie == cookie_of(child));
	assert_true(f.s[0].cookie == req_cookie[0]);
	walk(family, TCPF(TCP_SYN_RECV), port, &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.s[0].rport, cport[1]);
	assert_true(f.s[0].cookie == req_cookie[1]);
	close(child);
	close(client[0]);
	close(client[1]);
	close(lfd);
}

static void test_request_sockets_v4(void **state)
{
	request_sockets(AF_INET);
}

static void test_request_sockets_v6(void **state)
{
	request_sockets(AF_INET6);
}

/* The client ports a walk must report, each once. */
struct many {
	int n, stray, twice;
	uint16_t *cport;
	bool *seen;
};

/* count_many - walk callback: tick off a client port, count strays and repeats */
static int count_many(const struct mx_sock *s, void *arg)
{
	struct many *m = arg;
	int i;

	for (i = 0; i < m->n && m->cport[i] != s->rport; i++)
		;
	if (i == m->n)
		m->stray++;
	else if (m->seen[i])
		m->twice++;
	else
		m->seen[i] = true;
	return 0;
}

/* test_multipart - a dump over many datagrams: each socket once */
static void test_multipart(void **state)
{
	enum { N = 300 };
	static struct conn c[N];
	static uint16_t cport[N];
	static bool seen[N];
	struct many m = { .n = N, .cport = cport, .seen = seen };
	uint16_t port;
	int lfd = listener(AF_INET, false, false, &port);

	connect_n(AF_INET, lfd, port, c, N);
	for (int i = 0; i < N; i++)
		cport[i] = c[i].cport;
	fi_reset();
	fi.on = true;
	assert_int_equal(mx_sockdiag_walk(AF_INET, TCPF(TCP_ESTABLISHED), port,
					  count_many, &m), 0);
	fi.on = false;
	assert_true(fi.datagrams > 2);
	assert_int_equal(fi.sock_msgs, N);
	fi_reset();
	assert_int_equal(m.stray, 0);
	assert_int_equal(m.twice, 0);
	for (int i = 0; i < N; i++)
		assert_true(seen[i]);
	close_n(c, N);
	close(lfd);
}

/* test_stop_and_args - a callback stops the walk; bad arguments refused */
static void test_stop_and_args(void **state)
{
	struct conn c[NCLIENTS];
	struct found f = { .stop_at = 2 };
	uint16_t port;
	int lfd = listener(AF_INET, false, false, &port);

	connect_n(AF_INET, lfd, port, c, NCLIENTS);
	assert_int_equal(mx_sockdiag_walk(AF_INET, ~0U, port, collect, &f), 7);
	assert_int_equal(f.calls, 2);

	memset(&f, 0, sizeof(f));
	assert_int_equal(mx_sockdiag_walk(AF_UNIX, ~0U, port, collect, &f), -EAFNOSUPPORT);
	assert_int_equal(mx_sockdiag_walk(AF_INET, ~0U, port, NULL, &f), -EINVAL);
	assert_int_equal(mx_sockdiag_walk(AF_INET, 0, port, collect, &f), 0);
	assert_int_equal(f.calls, 0);
	close_n(c, NCLIENTS);
	close(lfd);
}

/* ---- the filter: in the kernel, and the fallbacks ---- */

struct filter_case {
	int refuse;
	unsigned int requests, bytecode_requests;
	bool kernel_filtered;
};

/* filtered - a walk on one port with the kernel refusing some bytecode */
static void filtered(const struct filter_case *fc)
{
	struct conn a[NCLIENTS], b[2];
	struct found f;
	uint16_t pa, pb;
	int la = listener(AF_INET6, false, false, &pa);
	int lb = listener(AF_INET6, false, false, &pb);
	int base;

	/* Whatever else is ESTABLISHED here, an unfiltered dump sends too. */
	walk(AF_INET6, TCPF(TCP_ESTABLISHED), 0, &f);
	base = f.n;
	connect_n(AF_INET6, la, pa, a, NCLIENTS);
	connect_n(AF_INET6, lb, pb, b, 2);
	fi_reset();
	fi.on = true;
	fi.refuse = fc->refuse;
	walk(AF_INET6, TCPF(TCP_ESTABLISHED), pa, &f);
	fi.on = false;
	check_established(&f, AF_INET6, pa, a, NCLIENTS);
	assert_int_equal(fi.requests, fc->requests);
	assert_int_equal(fi.bytecode_requests, fc->bytecode_requests);
	if (fc->kernel_filtered)
		assert_int_equal(fi.sock_msgs, NCLIENTS);
	else
		assert_int_equal(fi.sock_msgs, base + 2 * (NCLIENTS + 2));
	fi_reset();
	close_n(a, NCLIENTS);
	close_n(b, 2);
	close(la);
	close(lb);
}

/* test_kernel_filters - this kernel takes S_EQ: it sends only the port's sockets */
static void test_kernel_filters(void **state)
{
	filtered(&(struct filter_case){ 0, 1, 1, true });
}

/* test_fallback_range - S_EQ refused: S_GE and S_LE, still in the kernel */
static void test_fallback_range(void **state)
{
	filtered(&(struct filter_case){ 1, 2, 2, true });
}

/* test_fallback_userspace - all bytecode refused: filtered here, same result */
static void test_fallback_userspace(void **state)
{
	filtered(&(struct filter_case){ 2, 3, 2, false });
}

/* ---- malformed answers ---- */

/* test_malformed - each corruption ends the walk with its error, nothing leaks */
static void test_malformed(void **state)
{
	static const struct {
		enum mangle m;
		int err;
	} cases[] = {
		{ M_LEN_OVER, -EBADMSG },
		{ M_LEN_UNDER, -EBADMSG },
		{ M_SHORT_DIAG, -EBADMSG },
		{ M_FAMILY, -EBADMSG },
		{ M_SEQ, -EBADMSG },
		{ M_TYPE, -EBADMSG },
		{ M_SENDER, -EBADMSG },
		{ M_TRUNC, -EMSGSIZE },
		{ M_EMPTY, -EBADMSG },
		{ M_DONE_ERR, -ENOBUFS },
		{ M_ERROR, -EPERM },
		{ M_ACK, -EBADMSG },
	};
	struct conn c[NCLIENTS];
	struct found f;
	uint16_t port;
	int lfd = listener(AF_INET, false, false, &port);
	int fds;

	connect_n(AF_INET, lfd, port, c, NCLIENTS);
	fds = count_fds();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fi_reset();
		fi.on = true;
		fi.mangle = cases[i].m;
		memset(&f, 0, sizeof(f));
		assert_int_equal(mx_sockdiag_walk(AF_INET, ~0U, port, collect, &f), cases[i].err);
		assert_true(fi.mangled);
		/* The corrupted datagram was the first: nothing was delivered. */
		assert_int_equal(f.calls, 0);
		/* -EPERM is the kernel's word, not a refused filter: no retry. */
		assert_int_equal(fi.requests, 1);
	}
	fi_reset();
	assert_int_equal(count_fds(), fds);
	walk(AF_INET, TCPF(TCP_ESTABLISHED), port, &f);
	check_established(&f, AF_INET, port, c, NCLIENTS);
	close_n(c, NCLIENTS);
	close(lfd);
}

/* test_eintr - interrupted receives are retried, but not for ever */
static void test_eintr(void **state)
{
	struct conn c[NCLIENTS];
	struct found f;
	uint16_t port;
	int lfd = listener(AF_INET, false, false, &port);

	connect_n(AF_INET, lfd, port, c, NCLIENTS);
	fi_reset();
	fi.on = true;
	fi.eintr = 5;
	walk(AF_INET, TCPF(TCP_ESTABLISHED), port, &f);
	check_established(&f, AF_INET, port, c, NCLIENTS);
	assert_int_equal(fi.eintr, 0);

	fi.eintr = 1000000;
	memset(&f, 0, sizeof(f));
	assert_int_equal(mx_sockdiag_walk(AF_INET, ~0U, port, collect, &f), -EINTR);
	fi_reset();
	close_n(c, NCLIENTS);
	close(lfd);
}

/* ---- SOCK_DESTROY ---- */

/* destroy_established - the peer sees a reset, the holder ECONNABORTED */
static void destroy_established(int family, bool dual)
{
	struct conn c[2];
	struct found f;
	struct mx_sock s;
	struct pollfd p;
	char byte;
	uint16_t port;
	int lfd = listener(family, dual, false, &port);

	connect_n(dual ? AF_INET : family, lfd, port, c, 2);
	walk(family, TCPF(TCP_ESTABLISHED), port, &f);
	assert_int_equal(f.n, 2);
	s = *find_rport(&f, c[0].cport);
	assert_int_equal(mx_sock_is_v4mapped(&s), dual);

	assert_int_equal(mx_sockdiag_destroy(&s), 0);
	p = (struct pollfd){ .fd = c[0].client, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(recv(c[0].client, &byte, 1, 0), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_int_equal(recv(c[0].server, &byte, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, ECONNABORTED);

	/* Gone from the walk; the other connection untouched. */
	walk(family, ~0U, port, &f);
	assert_int_equal(f.n, 2);	/* the listener and c[1] */
	assert_null(find_rport(&f, c[0].cport));
	assert_non_null(find_rport(&f, c[1].cport));
	assert_int_equal(mx_sockdiag_destroy(&s), -ENOENT);
	assert_int_equal(write(c[1].client, "x", 1), 1);
	assert_int_equal(recv(c[1].server, &byte, 1, 0), 1);
	close_n(c, 2);
	close(lfd);
}

static void test_destroy_v4(void **state)
{
	destroy_established(AF_INET, false);
}

static void test_destroy_v6(void **state)
{
	destroy_established(AF_INET6, false);
}

static void test_destroy_v4mapped(void **state)
{
	destroy_established(AF_INET6, true);
}

/* test_destroy_checks_cookie - the same ports under another cookie are left alone */
static void test_destroy_checks_cookie(void **state)
{
	struct conn c;
	struct found f;
	struct mx_sock s;
	uint16_t port;
	int lfd = listener(AF_INET, false, false, &port);
	char byte;

	connect_n(AF_INET, lfd, port, &c, 1);
	walk(AF_INET, TCPF(TCP_ESTABLISHED), port, &f);
	assert_int_equal(f.n, 1);
	s = f.s[0];
	s.cookie ^= 1;
	assert_int_equal(mx_sockdiag_destroy(&s), -ENOENT);
	assert_int_equal(write(c.client, "x", 1), 1);
	assert_int_equal(recv(c.server, &byte, 1, 0), 1);

	/* Cookie 0: not checked. */
	s.cookie = 0;
	assert_int_equal(mx_sockdiag_destroy(&s), 0);
	walk(AF_INET, TCPF(TCP_ESTABLISHED), port, &f);
	assert_int_equal(f.n, 0);

	s.family = AF_UNIX;
	assert_int_equal(mx_sockdiag_destroy(&s), -EAFNOSUPPORT);
	assert_int_equal(mx_sockdiag_destroy(NULL), -EINVAL);
	close_n(&c, 1);
	close(lfd);
}

/* test_destroy_request - a request socket is dropped */
static void test_destroy_request(void **state)
{
	struct found f;
	uint16_t port;
	int lfd = listener(AF_INET6, false, true, &port);
	int client = dial(AF_INET6, port);
	uint16_t cport = port_of(client);
	struct mx_sock s;

	walk(AF_INET6, TCPF(TCP_SYN_RECV), port, &f);
	assert_int_equal(f.n, 1);
	s = f.s[0];
	assert_int_equal(s.rport, cport);
	assert_int_equal(mx_sockdiag_destroy(&s), 0);
	walk(AF_INET6, ~0U, port, &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.s[0].state, TCP_LISTEN);
	assert_int_equal(mx_sockdiag_destroy(&s), -ENOENT);
	close(client);
	close(lfd);
}

/* ---- setup ---- */

/* own_netns - a network namespace of our own, with lo up */
static int own_netns(void **state)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd;

	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s (needs root)\n", strerror(errno));
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return -1;
	close(fd);
	/* ::1 becomes usable once DAD is skipped for lo; wait for it. */
	for (int i = 0; i < 100; i++) {
		struct sockaddr_storage ss;
		socklen_t len = loopback(AF_INET6, 0, &ss);
		int s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int ok = bind(s, (struct sockaddr *)&ss, len);

		close(s);
		if (ok == 0)
			return 0;
		usleep(10000);
	}
	return -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_established_v4),
		cmocka_unit_test(test_established_v6),
		cmocka_unit_test(test_port_filter),
		cmocka_unit_test(test_listen_and_close_wait),
		cmocka_unit_test(test_v4mapped),
		cmocka_unit_test(test_request_sockets_v4),
		cmocka_unit_test(test_request_sockets_v6),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_stop_and_args),
		cmocka_unit_test(test_kernel_filters),
		cmocka_unit_test(test_fallback_range),
		cmocka_unit_test(test_fallback_userspace),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_eintr),
		cmocka_unit_test(test_destroy_v4),
		cmocka_unit_test(test_destroy_v6),
		cmocka_unit_test(test_destroy_v4mapped),
		cmocka_unit_test(test_destroy_checks_cookie),
		cmocka_unit_test(test_destroy_request),
	};

	return cmocka_run_group_tests(tests, own_netns, NULL);
}
