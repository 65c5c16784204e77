// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	sockdiag.c - the kernel's TCP sockets, through NETLINK_SOCK_DIAG
 * DESCRIPTION
 *	See sockdiag.h. mx_sockdiag_walk() sends one inet_diag dump request
 *	with a bytecode filter on the local port, so the kernel skips the
 *	other sockets (a gateway has many outgoing connections too). A
 *	kernel that refuses INET_DIAG_BC_S_EQ (an old one) gets S_GE and
 *	S_LE, and one that refuses those gets no filter; the local port and
 *	the state are checked here as well in every case.
 *
 *	Request sockets are in state TCP_NEW_SYN_RECV (12) in the kernel
 *	and are dumped when that bit is in the state mask (6.18 also dumps
 *	them for TCP_SYN_RECV alone; older kernels may not). Both bits are
 *	sent whenever either is asked for.
 * SECURITY
 *	The netlink socket is connected to the kernel, so no other process
 *	can send to it, and each datagram's sender is checked as well.
 *	Every length is checked against what was received before anything
 *	is read; the first malformed or unexpected message ends the walk
 *	with -EBADMSG. Each receive waits at most DIAG_TIMEOUT_S seconds;
 *	interrupted calls are retried DIAG_EINTR_MAX times in a row.
 * DIAGNOSTICS
 *	Functions return 0 or a negative errno (see sockdiag.h); nothing
 *	is logged here.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "parse.h"
#include "sockdiag.h"

/* Netlink caps a dump's datagrams at 32 KiB (max_recvmsg_len). */
#define DIAG_BUF		32768
#define DIAG_TIMEOUT_S		5
#define DIAG_EINTR_MAX		100

#define TCPF(state)		(1U << (state))
#define REQUEST_STATES		(TCPF(TCP_SYN_RECV) | TCPF(MX_TCP_NEW_SYN_RECV))

/* The filters to try, the most precise first. */
enum port_filter {
	FILTER_EQ,		/* INET_DIAG_BC_S_EQ */
	FILTER_RANGE,		/* INET_DIAG_BC_S_GE and S_LE: older */
	FILTER_NONE,		/* everything; filtered here */
};

struct diag_req {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 r;
	struct nlattr nla;
	struct inet_diag_bc_op bc[4];
};

struct walk {
	int family;
	uint32_t states;	/* as sent: request bits added */
	uint16_t lport;
	mx_sock_cb cb;
	void *arg;
	unsigned long delivered;
};

/* mx_sock_is_v4mapped - an IPv4 peer on an IPv6 socket (::ffff:a.b.c.d) */
bool mx_sock_is_v4mapped(const struct mx_sock *s)
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return s->family == AF_INET6 && memcmp(s->remote, prefix, sizeof(prefix)) == 0;
}

/* mx_sock_addr - one of the socket's addresses as a prefix, IPv4-mapped as IPv4 */
void mx_sock_addr(const struct mx_sock *s, bool remote, struct mx_prefix *out)
{
	struct mx_prefix p = { .family = (uint8_t)s->family,
			       .len = s->family == AF_INET ? 32 : 128 };

	memcpy(p.addr, remote ? s->remote : s->local, 16);
	if (s->family == AF_INET)
		memset(p.addr + 4, 0, 12);
	mx_prefix_unmap(&p, out);
}

/* diag_open - a NETLINK_SOCK_DIAG socket connected to the kernel */
static int diag_open(void)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = DIAG_TIMEOUT_S };
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* diag_send - send one request whole */
static int diag_send(int fd, const struct diag_req *req)
{
	ssize_t n;
	int tries = 0;

	do
		n = send(fd, req, req->nlh.nlmsg_len, 0);
	while (n < 0 && errno == EINTR && ++tries < DIAG_EINTR_MAX);
	if (n < 0)
		return -errno;
	return (size_t)n == req->nlh.nlmsg_len ? 0 : -EMSGSIZE;
}

/* diag_recv - one datagram from the kernel: its length or -errno */
static ssize_t diag_recv(int fd, void *buf, size_t size)
{
	struct sockaddr_nl from;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr mh;
	ssize_t n;
	int tries = 0;

	for (;;) {
		memset(&from, 0, sizeof(from));
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &from;
		mh.msg_namelen = sizeof(from);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		n = recvmsg(fd, &mh, 0);
		if (n >= 0)
			break;
		if (errno == EINTR && ++tries < DIAG_EINTR_MAX)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
	}
	if (mh.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	if (mh.msg_namelen < sizeof(from) || from.nl_family != AF_NETLINK ||
	    from.nl_pid != 0 || n == 0)
		return -EBADMSG;
	return n;
}

/* build_req - a request header and inet_diag_req_v2, no attribute yet */
static void build_req(struct diag_req *req, uint16_t type, uint16_t flags,
		      uint32_t seq, int family, uint32_t states)
{
	memset(req, 0, sizeof(*req));
	req->nlh.nlmsg_len = NLMSG_LENGTH(sizeof(req->r));
	req->nlh.nlmsg_type = type;
	req->nlh.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	req->nlh.nlmsg_seq = seq;
	req->r.sdiag_family = (uint8_t)family;
	req->r.sdiag_protocol = IPPROTO_TCP;
	req->r.idiag_states = states;
}

/*
 * add_port_filter - append the bytecode for "local port == lport".
 * An op jumps by yes bytes when its test holds, by no bytes when not;
 * landing exactly at the end accepts the socket, past it rejects it.
 * A port test's operand is the next op's no field.
 */
static void add_port_filter(struct diag_req *req, enum port_filter f, uint16_t lport)
{
	size_t ops;

	switch (f) {
	case FILTER_EQ:
		req->bc[0] = (struct inet_diag_bc_op){ INET_DIAG_BC_S_EQ, 8, 12 };
		req->bc[1] = (struct inet_diag_bc_op){ INET_DIAG_BC_NOP, 0, lport };
		ops = 2;
		break;
	case FILTER_RANGE:
		req->bc[0] = (struct inet_diag_bc_op){ INET_DIAG_BC_S_GE, 8, 20 };
		req->bc[1] = (struct inet_diag_bc_op){ INET_DIAG_BC_NOP, 0, lport };
		req->bc[2] = (struct inet_diag_bc_op){ INET_DIAG_BC_S_LE, 8, 12 };
		req->bc[3] = (struct inet_diag_bc_op){ INET_DIAG_BC_NOP, 0, lport };
		ops = 4;
		break;
	case FILTER_NONE:
		return;
	default:
		abort();
	}
	req->nla.nla_type = INET_DIAG_REQ_BYTECODE;
	req->nla.nla_len = (uint16_t)(NLA_HDRLEN + ops * sizeof(req->bc[0]));
	req->nlh.nlmsg_len += NLA_ALIGN(req->nla.nla_len);
}

/* to_sock - an inet_diag_msg as an mx_sock */
static void to_sock(const struct inet_diag_msg *m, struct mx_sock *s)
{
	size_t alen = m->idiag_family == AF_INET ? 4 : 16;

	memset(s, 0, sizeof(*s));
	s->family = m->idiag_family;
	s->state = m->idiag_state;
	memcpy(s->local, m->id.idiag_src, alen);
	memcpy(s->remote, m->id.idiag_dst, alen);
	s->lport = ntohs(m->id.idiag_sport);
	s->rport = ntohs(m->id.idiag_dport);
	s->cookie = (uint64_t)m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;
	s->inode = m->idiag_inode;
	s->ifindex = m->id.idiag_if;
}

/*
 * on_msg - one message of the dump: 1 at its end, 0 to go on, or the
 * value that ends the walk (an error, or the callback's non-zero value)
 */
static int on_msg(struct walk *w, const struct nlmsghdr *h, uint32_t seq)
{
	const struct inet_diag_msg *m;
	const struct nlmsgerr *e;
	struct mx_sock s;
	int done_err;

	if (h->nlmsg_seq != seq)
		return -EBADMSG;
	switch (h->nlmsg_type) {
	case NLMSG_NOOP:
		return 0;
	case NLMSG_DONE:
		/* A dump that failed half-way says why after NLMSG_DONE. */
		if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
			memcpy(&done_err, NLMSG_DATA(h), sizeof(done_err));
			if (done_err < 0)
				return done_err;
		}
		return 1;
	case NLMSG_ERROR:
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
			return -EBADMSG;
		e = NLMSG_DATA(h);
		/* No ACK was asked for: an error 0 here is not expected. */
		return e->error < 0 && e->error > -4096 ? e->error : -EBADMSG;
	case SOCK_DIAG_BY_FAMILY:
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
			return -EBADMSG;
		m = NLMSG_DATA(h);
		if (m->idiag_family != w->family)
			return -EBADMSG;
		to_sock(m, &s);
		if (s.state >= 32 || !(w->states & TCPF(s.state)))
			return 0;
		if (w->lport && s.lport != w->lport)
			return 0;
		w->delivered++;
		return w->cb(&s, w->arg);
	default:
		return -EBADMSG;
	}
}

/* dump - one dump request and its answer, with one kind of port filter */
static int dump(int fd, uint8_t *buf, struct walk *w, enum port_filter f, uint32_t seq)
{
	struct diag_req req;
	int err;

	build_req(&req, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, seq, w->family, w->states);
	if (w->lport)
		add_port_filter(&req, f, w->lport);
	err = diag_send(fd, &req);
	if (err)
		return err;
	for (;;) {
		ssize_t n = diag_recv(fd, buf, DIAG_BUF);
		size_t off;

		if (n < 0)
			return (int)n;
		for (off = 0; off < (size_t)n; ) {
			const struct nlmsghdr *h = (const struct nlmsghdr *)(buf + off);
			size_t left = (size_t)n - off;

			if (left < NLMSG_HDRLEN || h->nlmsg_len < NLMSG_HDRLEN ||
			    h->nlmsg_len > left)
				return -EBADMSG;
			err = on_msg(w, h, seq);
			if (err == 1)
				return 0;
			if (err)
				return err;
			off += NLMSG_ALIGN(h->nlmsg_len);
		}
	}
}

/* mx_sockdiag_walk - call cb for each TCP socket of family in states on lport */
int mx_sockdiag_walk(int family, uint32_t states, uint16_t lport, mx_sock_cb cb, void *arg)
{
	struct walk w = { .family = family, .states = states, .lport = lport,
			  .cb = cb, .arg = arg };
	enum port_filter f = lport ? FILTER_EQ : FILTER_NONE;
	uint32_t seq = 0;
	uint8_t *buf;
	int fd, err;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	if (!cb)
		return -EINVAL;
	if (states & REQUEST_STATES)
		w.states |= REQUEST_STATES;
	if (!w.states)
		return 0;
	buf = malloc(DIAG_BUF);
	if (!buf)
		return -ENOMEM;
	fd = diag_open();
	if (fd < 0) {
		free(buf);
		return fd;
	}
	for (;;) {
		err = dump(fd, buf, &w, f, ++seq);
		/* A refused filter is refused before the first socket. */
		if (err != -EINVAL || w.delivered || f == FILTER_NONE)
			break;
		f++;
	}
	close(fd);
	free(buf);
	return err;
}

/* mx_sockdiag_destroy - SOCK_DESTROY one socket (the peer sees a reset) */
int mx_sockdiag_destroy(const struct mx_sock *s)
{
	uint8_t buf[1024] __attribute__((aligned(4)));
	const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
	const struct nlmsgerr *e = NLMSG_DATA(h);
	size_t alen;
	struct diag_req req;
	ssize_t n;
	int fd, err;

	if (!s)
		return -EINVAL;
	if (s->family != AF_INET && s->family != AF_INET6)
		return -EAFNOSUPPORT;
	alen = s->family == AF_INET ? 4 : 16;
	build_req(&req, SOCK_DESTROY, NLM_F_ACK, 1, s->family, ~0U);
	req.r.id.idiag_sport = htons(s->lport);
	req.r.id.idiag_dport = htons(s->rport);
	memcpy(req.r.id.idiag_src, s->local, alen);
	memcpy(req.r.id.idiag_dst, s->remote, alen);
	req.r.id.idiag_if = s->ifindex;
	/* The kernel gives out cookies from 1: 0 means "not known". */
	if (s->cookie) {
		req.r.id.idiag_cookie[0] = (uint32_t)s->cookie;
		req.r.id.idiag_cookie[1] = (uint32_t)(s->cookie >> 32);
	} else {
		req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
		req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	}

	fd = diag_open();
	if (fd < 0)
		return fd;
	err = diag_send(fd, &req);
	if (!err) {
		n = diag_recv(fd, buf, sizeof(buf));
		if (n < 0)
			err = (int)n;
		else if ((size_t)n < NLMSG_LENGTH(sizeof(*e)) || h->nlmsg_len > (size_t)n ||
			 h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) ||
			 h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq != 1 ||
			 e->error > 0 || e->error <= -4096)
			err = -EBADMSG;
		else
			err = e->error;
	}
	close(fd);
	/* Before 4.5 the message type itself was unknown (-EINVAL). */
	return err == -EINVAL ? -EOPNOTSUPP : err;
}

struct cut_arg {
	const struct mx_prefix *ban;
	unsigned int cut;
};

/* cut_one - destroy a connection whose peer the ban covers (walk callback) */
static int cut_one(const struct mx_sock *k, void *arg)
{
	struct cut_arg *ca = arg;
	struct mx_prefix peer;

	mx_sock_addr(k, true, &peer);
	if (mx_prefix_contains(ca->ban, &peer) && mx_sockdiag_destroy(k) == 0)
		ca->cut++;
	return 0;
}

unsigned int mx_sockdiag_cut(const struct mx_prefix *ban, const uint16_t *ports,
			     unsigned int nports)
{
	struct cut_arg ca = { .ban = ban };
	uint32_t states = (1U << 1) | (1U << 8);	/* ESTABLISHED, CLOSE_WAIT */

	for (unsigned int i = 0; i < nports; i++) {
		mx_sockdiag_walk(ban->family, states, ports[i], cut_one, &ca);
		if (ban->family == AF_INET)	/* IPv4 peers of dual-stack listeners */
			mx_sockdiag_walk(AF_INET6, states, ports[i], cut_one, &ca);
	}
	return ca.cut;
}
