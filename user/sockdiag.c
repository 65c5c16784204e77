// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	sockdiag.c - the kernel's TCP sockets, through NETLINK_SOCK_DIAG
 * DESCRIPTION
 *	mx_sockdiag_walk() dumps the TCP sockets of the current network
 *	namespace of one family in a set of states, filtered by local port
 *	in userspace, and calls back for each. Request sockets (a SYN
 *	answered, the handshake not complete) are dumped when the state
 *	mask has TCP_NEW_SYN_RECV (12) or TCP_SYN_RECV set; inet_diag
 *	reports them as SYN_RECV.
 * SECURITY
 *	Messages come from the kernel but are still checked: every length
 *	is bounded by what was received before anything is read.
 * DIAGNOSTICS
 *	0, or a negative errno (from the socket calls or NLMSG_ERROR).
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockdiag.h"

#define TCP_NEW_SYN_RECV_STATE	12

/* mx_sock_is_v4mapped - an IPv4 peer on an IPv6 socket (::ffff:a.b.c.d) */
bool mx_sock_is_v4mapped(const struct mx_sock *s)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return s->family == AF_INET6 && memcmp(s->remote, prefix, 12) == 0;
}

/* diag_socket - a NETLINK_SOCK_DIAG socket with a receive timeout */
static int diag_socket(void)
{
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* send_req - one inet_diag request */
static int send_req(int fd, uint16_t flags, const struct inet_diag_req_v2 *r)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
		.nlh = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags) },
		.r = *r,
	};
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };

	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0)
		return -errno;
	return 0;
}

/* to_sock - an inet_diag_msg as an mx_sock */
static void to_sock(const struct inet_diag_msg *m, struct mx_sock *s)
{
	memset(s, 0, sizeof(*s));
	s->family = m->idiag_family;
	s->state = m->idiag_state;
	s->lport = ntohs(m->id.idiag_sport);
	s->rport = ntohs(m->id.idiag_dport);
	memcpy(s->local, m->id.idiag_src, m->idiag_family == AF_INET ? 4 : 16);
	memcpy(s->remote, m->id.idiag_dst, m->idiag_family == AF_INET ? 4 : 16);
	s->cookie = (uint64_t)m->id.idiag_cookie[0] | ((uint64_t)m->id.idiag_cookie[1] << 32);
	s->inode = m->idiag_inode;
}

/* mx_sockdiag_walk - call cb for each TCP socket of family in states on lport */
int mx_sockdiag_walk(int family, uint32_t states, uint16_t lport, mx_sock_cb cb, void *arg)
{
	struct inet_diag_req_v2 r = {
		.sdiag_family = (uint8_t)family,
		.sdiag_protocol = IPPROTO_TCP,
		.idiag_states = states,
	};
	static char buf[65536] __attribute__((aligned(NLMSG_ALIGNTO)));
	int fd, err;

	/* Request sockets are dumped only when asked for by either state. */
	if (states & ((1U << TCP_SYN_RECV) | (1U << TCP_NEW_SYN_RECV_STATE)))
		r.idiag_states |= (1U << TCP_SYN_RECV) | (1U << TCP_NEW_SYN_RECV_STATE);
	fd = diag_socket();
	if (fd < 0)
		return -errno;
	err = send_req(fd, NLM_F_DUMP, &r);
	while (!err) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;
		size_t len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EPROTO;
			break;
		}
		len = (size_t)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			struct mx_sock s;

			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				err = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error ? e->error : -EPROTO;
				goto out;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
				err = -EPROTO;
				goto out;
			}
			to_sock(NLMSG_DATA(h), &s);
			if (lport && s.lport != lport)
				continue;
			err = cb(&s, arg);
			if (err)
				goto out;
		}
		if (len) {
			err = -EPROTO;	/* a truncated message */
			break;
		}
	}
out:
	close(fd);
	return err;
}

/* mx_sockdiag_destroy - SOCK_DESTROY one socket (the peer sees a reset) */
int mx_sockdiag_destroy(const struct mx_sock *s)
{
	struct inet_diag_req_v2 r = {
		.sdiag_family = (uint8_t)s->family,
		.sdiag_protocol = IPPROTO_TCP,
		.idiag_states = ~0U,
		.id = {
			.idiag_sport = htons(s->lport),
			.idiag_dport = htons(s->rport),
			.idiag_cookie = { (uint32_t)s->cookie, (uint32_t)(s->cookie >> 32) },
		},
	};
	char buf[1024] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	ssize_t n;
	int fd, err;

	memcpy(r.id.idiag_src, s->local, s->family == AF_INET ? 4 : 16);
	memcpy(r.id.idiag_dst, s->remote, s->family == AF_INET ? 4 : 16);
	fd = diag_socket();
	if (fd < 0)
		return -errno;
	err = send_req(fd, NLM_F_ACK, &r);
	if (!err) {
		((struct nlmsghdr *)buf)->nlmsg_type = 0;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			err = -errno;
		else if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) ||
			 h->nlmsg_type != NLMSG_ERROR)
			err = -EPROTO;
		else
			err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
	}
	close(fd);
	return err;
}
