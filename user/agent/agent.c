// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	agent.c - load, attach, pin, serve the control socket, detach
 * DESCRIPTION
 *	agent_start() loads the XDP program from its skeleton, sizes the
 *	maps from the settings, writes the default limits, attaches the
 *	program with libxdp (native first in auto mode, generic as the
 *	fallback) and pins the maps under /sys/fs/bpf/mxguard, mounting
 *	bpffs where it is missing. agent_serve() answers the control socket
 *	until SIGTERM or SIGINT. agent_stop() detaches and unpins, unless
 *	the operator asked to leave the program in place.
 *
 *	libxdp would rather attach through its multi-program dispatcher,
 *	which needs freplace; where the kernel lacks it libxdp attaches the
 *	single program itself. Both work; prog show says which program id
 *	ended up on the interface.
 *	The event loop never waits long on anything: periodic work (sweeps,
 *	snapshots) and long commands (jobs: a blocklist load, ban list) run
 *	a slice of at most MX_SLICE_US per turn, and a turn over 50 ms is
 *	logged with where it went.
 * SECURITY
 *	The control socket is mode 0600 in a 0700 directory, and every
 *	peer's credentials are checked (SO_PEERCRED: uid 0 only). Requests
 *	are bounded in size and time (control.c): at most eight clients at
 *	once, each read without blocking.
 * DIAGNOSTICS
 *	Start-up failures name the step and the reason and exit non-zero.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "agent.h"
#include "cmd.h"
#include "control.h"
#include "mapwalk.h"
#include "mxguard.skel.h"
#include "notify.h"
#include "policyd.h"
#include "responder.h"
#include "spf.h"
#include "state.h"

/* Entries per step of a sweep: small enough to check the deadline often. */
#define MX_SWEEP_SLICE		256
/*
 * Background work (sweeps) per turn of the event loop: whatever runs,
 * a request waits at most this long behind it.
 */
#define MX_SLICE_US		5000
/* A snapshot replaces the journal after this many records, or this often. */
#define MX_SNAPSHOT_RECORDS	10000
#define MX_SNAPSHOT_INTERVAL_S	300

static int verbose;
static bool quiet_libbpf;	/* while libxdp tries its dispatcher */

/* libbpf_print - libbpf's messages only with --verbose, warnings always */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	if (level == LIBBPF_INFO && !verbose)
		return 0;
	if (quiet_libbpf && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* libxdp_print - the same for libxdp */
static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBXDP_WARN && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* ensure_bpffs - mount bpffs on /sys/fs/bpf if something else is there */
static int ensure_bpffs(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir("/sys/fs/bpf", 0700) && errno != EEXIST) {
		mx_log("cannot create /sys/fs/bpf: %s", strerror(errno));
		return -1;
	}
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		mx_log("cannot mount bpffs on /sys/fs/bpf: %s", strerror(errno));
		return -1;
	}
	mx_log("mounted bpffs on /sys/fs/bpf");
	return 0;
}

/* The maps that are pinned, and under which names. */
static struct bpf_map **pinned_maps(struct mxguard_bpf *skel, size_t *n)
{
	static struct bpf_map *maps[24];
	size_t i = 0;

#define PIN(m) maps[i++] = skel->maps.m
	PIN(ban4); PIN(ban6); PIN(ban4_prefix); PIN(ban6_prefix);
	PIN(allow4); PIN(allow6); PIN(allow4_prefix); PIN(allow6_prefix);
	PIN(class4); PIN(class6); PIN(class4_prefix); PIN(class6_prefix);
	PIN(syn_bucket4); PIN(syn_bucket6); PIN(class_limits); PIN(config);
	PIN(stats); PIN(reasons); PIN(conn_count4); PIN(conn_count6);
	PIN(pending_flows); PIN(live_flows); PIN(syn_seen);
#undef PIN
	*n = i;
	return maps;
}

/* Links pinned beside the maps, so that counting goes on without the agent. */
static const char *const link_pins[] = { "link_lookup", "link_sockops", "link_cookie" };

/* unpin_all - remove our pins and the directory; leaves others alone */
static void unpin_all(struct agent *a)
{
	char path[256];
	size_t n;
	struct bpf_map **maps = pinned_maps(a->skel, &n);

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", a->pin_dir, bpf_map__name(maps[i]));
		unlink(path);
	}
	for (size_t i = 0; i < sizeof(link_pins) / sizeof(link_pins[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", a->pin_dir, link_pins[i]);
		unlink(path);
	}
	rmdir(a->pin_dir);
}

/*
 * set_pin_paths - pin every map under pin_dir at load. Where a pin
 * already exists (an agent crashed, or left with --keep), libbpf reuses
 * that map instead of creating one: its bans, buckets and counts go on
 * as they were.
 */
static int set_pin_paths(struct agent *a)
{
	char path[256];
	size_t n;
	struct bpf_map **maps = pinned_maps(a->skel, &n);

	if (mkdir(a->pin_dir, 0700) && errno != EEXIST) {
		mx_log("cannot create %s: %s", a->pin_dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/config", a->pin_dir);
	a->adopted = access(path, F_OK) == 0;
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", a->pin_dir, bpf_map__name(maps[i]));
		if (bpf_map__set_pin_path(maps[i], path)) {
			mx_log("cannot set the pin path %s", path);
			return -1;
		}
	}
	return 0;
}

/* size_maps - map sizes from the settings, before load */
static int size_maps(struct agent *a)
{
	struct mxguard_bpf *s = a->skel;
	const struct mx_settings *st = &a->settings;
	struct bpf_map *exact[] = { s->maps.ban4, s->maps.ban6, s->maps.allow4,
				    s->maps.allow6, s->maps.class4, s->maps.class6 };
	struct bpf_map *prefix[] = { s->maps.ban4_prefix, s->maps.ban6_prefix,
				     s->maps.allow4_prefix, s->maps.allow6_prefix,
				     s->maps.class4_prefix, s->maps.class6_prefix };
	int err = 0;

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		err |= bpf_map__set_max_entries(exact[i], st->exact_entries);
		err |= bpf_map__set_max_entries(prefix[i], st->prefix_entries);
	}
	err |= bpf_map__set_max_entries(s->maps.syn_bucket4, st->bucket_entries4);
	err |= bpf_map__set_max_entries(s->maps.syn_bucket6, st->bucket_entries6);
	err |= bpf_map__set_max_entries(s->maps.conn_count4, st->count_entries);
	err |= bpf_map__set_max_entries(s->maps.conn_count6, st->count_entries);
	err |= bpf_map__set_max_entries(s->maps.pending_flows, st->flow_entries);
	err |= bpf_map__set_max_entries(s->maps.live_flows, st->flow_entries);
	return err ? -1 : 0;
}

/* table_fds - the four maps of an address table */
static void table_fds(struct mx_table *t, const char *name, uint32_t value_size,
		      struct bpf_map *e4, struct bpf_map *e6,
		      struct bpf_map *p4, struct bpf_map *p6)
{
	t->name = name;
	t->value_size = value_size;
	t->fd[MX_EXACT4] = bpf_map__fd(e4);
	t->fd[MX_EXACT6] = bpf_map__fd(e6);
	t->fd[MX_PREFIX4] = bpf_map__fd(p4);
	t->fd[MX_PREFIX6] = bpf_map__fd(p6);
}

/*
 * replace_attached - swap the mxguard program an earlier agent left on
 * the interface for ours in one step (XDP_FLAGS_REPLACE): there is no
 * moment without a program. 1 if replaced, 0 if there was none, -1.
 */
static int replace_attached(struct agent *a)
{
	static const struct { __u32 flag; const char *name; } modes[] = {
		{ XDP_FLAGS_DRV_MODE, "native" }, { XDP_FLAGS_SKB_MODE, "skb" },
	};
	int fd = bpf_program__fd(a->skel->progs.mxguard_xdp);

	for (size_t i = 0; i < 2; i++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info), id = 0;
		int old, err;
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts);

		if (bpf_xdp_query_id(a->ifindex, (int)modes[i].flag, &id) || !id)
			continue;
		old = bpf_prog_get_fd_by_id(id);
		if (old < 0)
			continue;
		if (bpf_obj_get_info_by_fd(old, &info, &len) || strcmp(info.name, "mxguard_xdp")) {
			close(old);
			continue;
		}
		opts.old_prog_fd = old;
		err = bpf_xdp_attach(a->ifindex, fd, modes[i].flag | XDP_FLAGS_REPLACE, &opts);
		close(old);
		if (err) {
			mx_log("cannot replace the program on %s: %s", a->ifname, strerror(-err));
			return -1;
		}
		a->mode_name = modes[i].name;
		a->xdp_prog = xdp_program__from_fd(fd);
		if (libxdp_get_error(a->xdp_prog))
			a->xdp_prog = NULL;
		a->attached_at = time(NULL);
		info = (struct bpf_prog_info){ 0 };
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			a->prog_id = info.id;
		mx_log("replaced the program left on %s (prog id %u) in one step", a->ifname, id);
		return 1;
	}
	return 0;
}

/* attach - attach with libxdp in the requested mode */
static int attach(struct agent *a, enum mx_attach_mode mode)
{
	int fd = bpf_program__fd(a->skel->progs.mxguard_xdp);
	struct bpf_prog_info info = { 0 };
	struct xdp_multiprog *mp;
	__u32 len = sizeof(info);
	char msg[128];
	int err = -EINVAL;

	a->xdp_prog = xdp_program__from_fd(fd);
	if (libxdp_get_error(a->xdp_prog)) {
		err = (int)libxdp_get_error(a->xdp_prog);
		a->xdp_prog = NULL;
		libxdp_strerror(err, msg, sizeof(msg));
		mx_log("cannot wrap the program for libxdp: %s", msg);
		return -1;
	}
	/*
	 * libxdp first tries its dispatcher, which fails where the kernel
	 * lacks freplace, and then attaches the program alone. The failed
	 * try is expected: keep libbpf's complaints about it for --verbose.
	 */
	quiet_libbpf = true;
	if (mode == MX_ATTACH_NATIVE || mode == MX_ATTACH_AUTO) {
		err = xdp_program__attach(a->xdp_prog, a->ifindex, XDP_MODE_NATIVE, 0);
		if (!err)
			a->mode_name = "native";
		else if (mode == MX_ATTACH_AUTO)
			mx_log("native XDP on %s failed (%s); falling back to generic (skb) mode",
				  a->ifname, strerror(-err));
	}
	if (mode == MX_ATTACH_SKB || (mode == MX_ATTACH_AUTO && err)) {
		err = xdp_program__attach(a->xdp_prog, a->ifindex, XDP_MODE_SKB, 0);
		if (!err)
			a->mode_name = "skb";
	}
	quiet_libbpf = false;
	if (err) {
		libxdp_strerror(err, msg, sizeof(msg));
		mx_log("cannot attach to %s: %s%s", a->ifname, msg,
			  err == -EEXIST ? " (another XDP program is attached; "
			  "'mxguardd --detach --interface IFACE' removes mxguard's)" : "");
		xdp_program__close(a->xdp_prog);
		a->xdp_prog = NULL;
		return -1;
	}
	a->attached_at = time(NULL);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
		a->prog_id = info.id;
	mp = xdp_multiprog__get_from_ifindex(a->ifindex);
	if (!libxdp_get_error(mp) && mp) {
		a->dispatcher = !xdp_multiprog__is_legacy(mp);
		xdp_multiprog__close(mp);
	}
	return 0;
}

/* agent_answers - does an agent answer on this control socket? */
static bool agent_answers(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	bool yes;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return false;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	yes = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return yes;
}

/* agent_start - everything up to a serving agent; 0 or -1 */
int agent_start(struct agent *a, enum mx_attach_mode mode, int verbosity)
{
	int err;

	verbose = verbosity;
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);

	a->ifindex = (int)if_nametoindex(a->ifname);
	if (!a->ifindex) {
		mx_log("no interface named '%s'", a->ifname);
		return -1;
	}
	if (ensure_bpffs())
		return -1;
	if (agent_answers(a->socket_path)) {
		mx_log("another mxguardd answers on %s", a->socket_path);
		return -1;
	}

	a->skel = mxguard_bpf__open();
	if (!a->skel) {
		mx_log("cannot open the BPF object: %s", strerror(errno));
		return -1;
	}
	if (size_maps(a) || set_pin_paths(a)) {
		mx_log("cannot prepare the maps");
		goto fail;
	}
	err = mxguard_bpf__load(a->skel);
	if (err) {
		mx_log("cannot load the XDP program: %s%s", strerror(-err),
			  err == -EPERM ? " (needs root: CAP_BPF and CAP_NET_ADMIN)" :
			  a->adopted ? " (the maps pinned under the pin directory do not match: "
			  "sizes changed? 'mxguardd --detach' removes them; bans come back "
			  "from the journal)" : "");
		goto fail;
	}
	if (a->adopted)
		mx_log("adopted the maps pinned under %s", a->pin_dir);
	table_fds(&a->bans, "ban", sizeof(struct mx_ban), a->skel->maps.ban4,
		  a->skel->maps.ban6, a->skel->maps.ban4_prefix, a->skel->maps.ban6_prefix);
	table_fds(&a->allows, "allowlist", sizeof(struct mx_allow), a->skel->maps.allow4,
		  a->skel->maps.allow6, a->skel->maps.allow4_prefix, a->skel->maps.allow6_prefix);
	table_fds(&a->classes, "class", sizeof(struct mx_class_ref), a->skel->maps.class4,
		  a->skel->maps.class6, a->skel->maps.class4_prefix, a->skel->maps.class6_prefix);
	if (mx_bans_init(&a->claims, &a->bans, bpf_map__fd(a->skel->maps.reasons))) {
		mx_log("out of memory");
		goto fail;
	}
	a->config_fd = bpf_map__fd(a->skel->maps.config);
	a->class_limits_fd = bpf_map__fd(a->skel->maps.class_limits);
	a->stats_fd = bpf_map__fd(a->skel->maps.stats);
	a->reasons_fd = bpf_map__fd(a->skel->maps.reasons);
	a->bucket4_fd = bpf_map__fd(a->skel->maps.syn_bucket4);
	a->bucket6_fd = bpf_map__fd(a->skel->maps.syn_bucket6);
	a->count4_fd = bpf_map__fd(a->skel->maps.conn_count4);
	a->count6_fd = bpf_map__fd(a->skel->maps.conn_count6);

	/* Limits first, then the active flag (in config): never judge unconfigured. */
	if (mx_dp_write_classes(a->class_limits_fd, &a->settings) ||
	    mx_dp_write_config(a->config_fd, &a->settings)) {
		mx_log("cannot write the settings into the maps: %s", strerror(errno));
		goto fail;
	}
	/* What was acknowledged before is in the maps before anything is attached. */
	{
		char err[2048];

		if (senders_init(a, err, sizeof(err))) {
			mx_log("%s", err);
			goto fail;
		}
	}
	if (state_open(a)) {
		senders_free(a);
		goto fail;
	}
	err = a->adopted ? replace_attached(a) : 0;
	if (err < 0 || (err == 0 && attach(a, mode))) {
		if (!a->adopted)
			unpin_all(a);
		goto fail;
	}
	if (conn_start(a)) {
		conn_stop(a, false);
		xdp_program__detach(a->xdp_prog, a->ifindex,
				    strcmp(a->mode_name, "skb") ? XDP_MODE_NATIVE : XDP_MODE_SKB, 0);
		xdp_program__close(a->xdp_prog);
		a->xdp_prog = NULL;
		unpin_all(a);
		goto fail;
	}
	mx_log("attached to %s in %s mode (prog id %u, %s); maps pinned under %s",
		  a->ifname, a->mode_name, a->prog_id,
		  a->dispatcher ? "through libxdp's dispatcher" : "alone: no libxdp dispatcher here",
		  a->pin_dir);
	return 0;
fail:
	mx_bans_free(&a->claims);
	mxguard_bpf__destroy(a->skel);
	a->skel = NULL;
	return -1;
}

/*
 * apply_priority - high_priority: nice -10, so that while floods keep the
 * CPUs busy (the kernel's receive path, other processes) Postfix, the CLI
 * and Prometheus still get their answers at once. The threads the agent
 * starts later (SPF, a blocklist's reader) share it. Without the
 * capability to raise it, the agent says so and runs as it is.
 */
static void apply_priority(const struct agent *a)
{
	int want = a->cfg.high_priority ? -10 : 0;

	errno = 0;
	if (getpriority(PRIO_PROCESS, 0) == want && !errno)
		return;
	if (setpriority(PRIO_PROCESS, 0, want))
		mx_log("cannot set the agent's priority to nice %d: %s", want, strerror(errno));
}

/*
 * agent_apply_settings - the settings in a->settings and the responder's
 * texts into the running data plane. Buckets, bans and counts stay.
 */
int agent_apply_settings(struct agent *a)
{
	struct responder_settings rs = {
		.hostname = a->hostname, .policy_url = a->policy_url,
		.text_over_limit = a->cfg.reply_over_limit, .text_banned = a->cfg.reply_banned,
		.timeout_ms = a->responder_timeout_ms,
	};

	if (mx_dp_write_classes(a->class_limits_fd, &a->settings) ||
	    mx_dp_write_config(a->config_fd, &a->settings))
		return -1;
	responder_configure(a->responder, &rs);
	apply_priority(a);
	return 0;
}

/* agent_stop - detach and unpin, or leave both in place when keep */
void agent_stop(struct agent *a, bool keep)
{
	if (!a->skel)
		return;
	conn_stop(a, keep);
	state_close(a);
	senders_free(a);
	if (keep) {
		/*
		 * Without the agent there is no responder and no one to release
		 * counts: go back to what XDP can do alone, dropping banned
		 * sources and ignoring parallel counts.
		 */
		a->settings.over_limit_drop = false;
		a->settings.ban_reply = false;
		mx_dp_write_config(a->config_fd, &a->settings);
		mx_log("leaving the program attached to %s and the maps pinned under %s",
			  a->ifname, a->pin_dir);
	} else {
		if (a->xdp_prog) {
			int err = xdp_program__detach(a->xdp_prog, a->ifindex,
						      strcmp(a->mode_name, "skb") ? XDP_MODE_NATIVE
										  : XDP_MODE_SKB, 0);
			if (err)
				mx_log("detach from %s failed: %s", a->ifname, strerror(-err));
			else
				mx_log("detached from %s", a->ifname);
		}
		unpin_all(a);
	}
	if (a->xdp_prog)
		xdp_program__close(a->xdp_prog);
	mx_bans_free(&a->claims);
	mxguard_bpf__destroy(a->skel);
	a->skel = NULL;
}

/*
 * agent_detach_stale - remove what an agent left in place: the XDP
 * program named mxguard_xdp on the interface, and the pinned maps.
 */
int agent_detach_stale(const char *ifname, const char *pin_dir)
{
	struct xdp_multiprog *mp;
	int ifindex = (int)if_nametoindex(ifname);
	char path[512];
	int ret = 0;

	libxdp_set_print(libxdp_print);
	if (!ifindex) {
		mx_log("no interface named '%s'", ifname);
		return -1;
	}
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (!libxdp_get_error(mp) && mp) {
		struct xdp_program *main = xdp_multiprog__main_prog(mp);
		struct xdp_program *p = NULL;
		bool ours = main && strcmp(xdp_program__name(main), "mxguard_xdp") == 0;

		while (!ours && (p = xdp_multiprog__next_prog(p, mp)))
			ours = strcmp(xdp_program__name(p), "mxguard_xdp") == 0;
		if (ours) {
			int err = xdp_multiprog__detach(mp);

			if (err) {
				mx_log("cannot detach from %s: %s", ifname, strerror(-err));
				ret = -1;
			} else {
				mx_log("detached mxguard from %s", ifname);
			}
		} else if (main) {
			mx_log("the XDP program on %s is '%s', not mxguard's: left alone",
				  ifname, xdp_program__name(main));
		}
		xdp_multiprog__close(mp);
	}
	if (ensure_bpffs() == 0) {
		DIR *d = opendir(pin_dir);
		struct dirent *e;

		if (d) {
			while ((e = readdir(d))) {
				if (e->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s/%s", pin_dir, e->d_name);
				unlink(path);
			}
			closedir(d);
			if (rmdir(pin_dir) == 0)
				mx_log("removed %s", pin_dir);
		}
	}
	return ret;
}

/* open_socket - the root-only control socket */
static int open_socket(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)];
	char *slash;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		mx_log("socket path %s is too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST) {
			mx_log("cannot create %s: %s", dir, strerror(errno));
			return -1;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	/* A socket file left by a crashed agent: only if no one answers on it. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		mx_log("another mxguardd answers on %s", path);
		close(fd);
		return -1;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || chmod(path, 0600) ||
	    listen(fd, 16)) {
		mx_log("cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Control clients. A request is read without blocking, as it comes, by
 * the event loop, at most MX_CTL_MAX_CLIENTS at a time and each within
 * MX_CTL_TIMEOUT_MS: a client that connects and says nothing, or says it
 * slowly, holds nothing but its slot. Once complete, the request runs
 * and its reply is written with a send timeout.
 */
#define MX_CTL_MAX_CLIENTS	8

struct ctl_client {
	int fd;
	uint64_t deadline_ms;
	size_t got;
	char buf[4 + MX_CTL_MAX_REQUEST];
};

static struct ctl_client clients[MX_CTL_MAX_CLIENTS];

/* refuse - a one-line error and a failing exit status, then close */
static void refuse(int fd, const char *msg)
{
	char m[256];
	unsigned char status = 1;
	int n = snprintf(m, sizeof(m), "Error: %s\n", msg);

	mx_ctl_write_frame(fd, MX_FRAME_ERR, m, (uint32_t)n);
	mx_ctl_write_frame(fd, MX_FRAME_EXIT, &status, 1);
	close(fd);
}

/*
 * Requests whose command goes on as a job (cmd.h): the reply is sent
 * when the job is done, the loop serving others meanwhile. With every
 * slot taken, a command's job runs at once instead.
 */
#define MX_CTL_MAX_JOBS	4

static struct ctl_job {
	struct mx_cmd_ctx c;
	int fd;			/* -1: free */
} jobs[MX_CTL_MAX_JOBS] = { [0 ... MX_CTL_MAX_JOBS - 1] = { .fd = -1 } };

/* finish - the reply's end: the exit status, then close */
static void finish(struct mx_cmd_ctx *c, int fd, int r)
{
	unsigned char status = r ? 1 : 0;

	if (c->jw)
		jsonw_destroy(&c->jw);
	fflush(c->out);
	fflush(c->err);
	mx_ctl_write_frame(fd, MX_FRAME_EXIT, &status, 1);
	fclose(c->out);
	fclose(c->err);
	close(fd);
}

/* run_request - run a complete request and send the reply (or start its job) */
static void run_request(struct agent *a, int fd, struct mx_request *req)
{
	struct mx_cmd_ctx c = { .agent = a, .fd = fd };
	struct ctl_job *slot = NULL;
	int r;

	for (int i = 0; i < MX_CTL_MAX_JOBS && !slot; i++)
		if (jobs[i].fd < 0)
			slot = &jobs[i];
	c.async = slot != NULL;
	c.out = mx_ctl_stream(fd, MX_FRAME_OUT);
	c.err = mx_ctl_stream(fd, MX_FRAME_ERR);
	if (!c.out || !c.err)
		goto fail;
	c.json = strcmp(req->mode, "plain") != 0;
	c.pretty = strcmp(req->mode, "pretty") == 0;
	if (c.json) {
		c.jw = jsonw_new(c.out);
		if (!c.jw)
			goto fail;
		jsonw_pretty(c.jw, c.pretty);
	}
	r = a->run_command(&c, req->argc, req->argv);
	if (c.job && !r) {
		slot->c = c;
		slot->fd = fd;
		return;
	}
	finish(&c, fd, r);
	return;
fail:
	if (c.out)
		fclose(c.out);
	if (c.err)
		fclose(c.err);
	close(fd);
}

/* jobs_work - the jobs' work until deadline: 1 busy, 2 only waiting, 0 none */
static int jobs_work(uint64_t deadline_us)
{
	int state = 0;

	for (int i = 0; i < MX_CTL_MAX_JOBS; i++) {
		struct ctl_job *j = &jobs[i];
		int r;

		if (j->fd < 0)
			continue;
		r = j->c.job->step(j->c.job, &j->c, deadline_us);
		if (r == 0) {
			int ret = j->c.job->ret;

			j->c.job->free(j->c.job);
			j->c.job = NULL;
			finish(&j->c, j->fd, ret);
			j->fd = -1;
			continue;
		}
		if (r == 1 || state == 0)
			state = r;
	}
	return state;
}

/* jobs_stop - the agent stops: a job left unfinished is told so */
static void jobs_stop(void)
{
	for (int i = 0; i < MX_CTL_MAX_JOBS; i++) {
		struct ctl_job *j = &jobs[i];

		if (j->fd < 0)
			continue;
		p_err(&j->c, "mxguardd is stopping; the command was not finished");
		j->c.job->free(j->c.job);
		j->c.job = NULL;
		finish(&j->c, j->fd, -1);
		j->fd = -1;
	}
}

/* ctl_accept - take a new control client, or refuse it */
static void ctl_accept(int lfd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.uid != 0) {
		refuse(fd, "mxguardd accepts only root");
		return;
	}
	for (int i = 0; i < MX_CTL_MAX_CLIENTS; i++) {
		if (clients[i].fd > 0)
			continue;
		clients[i].fd = fd;
		clients[i].got = 0;
		clients[i].deadline_ms = mx_mono_ms() + MX_CTL_TIMEOUT_MS;
		return;
	}
	refuse(fd, "too many control clients at once; try again");
}

/* ctl_read - read what a client sent; run its request once complete */
static void ctl_read(struct agent *a, struct ctl_client *cl)
{
	static struct mx_request req;
	struct timeval tv = { .tv_sec = MX_CTL_TIMEOUT_MS / 1000 };
	uint32_t want = 4;
	char err[160];
	ssize_t n;
	int fd = cl->fd;

	if (cl->got >= 4) {
		memcpy(&want, cl->buf, 4);
		if (want == 0 || want > MX_CTL_MAX_REQUEST) {
			snprintf(err, sizeof(err), "request length %u out of range 1..%d",
				 want, MX_CTL_MAX_REQUEST);
			goto refused;
		}
		want += 4;
	}
	n = recv(fd, cl->buf + cl->got, want - cl->got, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		snprintf(err, sizeof(err), "request truncated");
		goto refused;
	}
	cl->got += (size_t)n;
	if (cl->got < 4 || cl->got < want || want == 4)
		return;	/* more to come (or the length just arrived) */
	memcpy(req.buf, cl->buf + 4, cl->got - 4);
	req.buf[cl->got - 4] = '\0';
	cl->fd = -1;
	/* Blocking from here, each write bounded by the send timeout. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (mx_ctl_parse_request(&req, cl->got - 4, err, sizeof(err))) {
		refuse(fd, err);
		return;
	}
	run_request(a, fd, &req);	/* closes fd, now or when its job is done */
	return;
refused:
	cl->fd = -1;
	refuse(fd, err);
}

/* ctl_expire - refuse clients whose request did not arrive in time */
static void ctl_expire(void)
{
	uint64_t now = mx_mono_ms();

	for (int i = 0; i < MX_CTL_MAX_CLIENTS; i++) {
		if (clients[i].fd > 0 && now >= clients[i].deadline_ms) {
			int fd = clients[i].fd;

			clients[i].fd = -1;
			refuse(fd, "request timed out");
		}
	}
}

/*
 * The sweep of expired bans: a pass over the four ban maps every
 * ban_sweep_interval (30 s), done in slices between the loop's other work.
 * The data plane already ignores expired bans; removing them keeps an
 * expired prefix ban from hiding a shorter active one from the LPM
 * lookup, and frees room.
 */
static struct ban_sweep {
	struct mx_walk w[MX_TABLE_MAPS];
	int map;			/* the map the pass is on; -1: idle */
	uint64_t now;			/* CLOCK_BOOTTIME when the pass began */
	unsigned long removed;
	bool failed;			/* a map was not read whole: collect no reasons */
} bsw = { .map = -1 };

/*
 * sweep_one - delete an expired ban with its claims; note the reason of
 * one that stays, for the collection of unused reason texts (mx_walk
 * callback)
 */
static int sweep_one(const void *key, const void *val, void *arg)
{
	const struct mx_ban *b = val;
	struct agent *a = arg;
	struct mx_prefix p;

	if (b->expires_ns && b->expires_ns <= bsw.now) {
		mx_table_key_prefix((enum mx_table_map)bsw.map, key, &p);
		mx_bans_expired(&a->claims, &p);
		bsw.removed++;
	} else {
		mx_bans_gc_mark(&a->claims, b->reason);
	}
	return 0;
}

/* ban_sweep_start - begin a pass unless one is going */
static void ban_sweep_start(struct agent *a)
{
	if (bsw.map >= 0)
		return;
	bsw.map = 0;
	bsw.now = mx_now_ns();
	bsw.removed = 0;
	bsw.failed = false;
	mx_bans_gc_begin(&a->claims);
}

/* ban_sweep_work - sweep until deadline; true while the pass goes on */
static bool ban_sweep_work(struct agent *a, uint64_t deadline_us)
{
	while (bsw.map >= 0 && mx_mono_us() < deadline_us) {
		struct mx_walk *w = &bsw.w[bsw.map];
		int r;

		if (!w->key_size && mx_walk_init(w, a->bans.fd[bsw.map], 0, sizeof(struct mx_ban))) {
			mx_log("ban sweep: cannot read the ban maps: %s", strerror(errno));
			bsw.map = -1;
			break;
		}
		r = mx_walk_step(w, MX_SWEEP_SLICE, sweep_one, a);
		if (r < 0) {
			mx_log("ban sweep: reading the bans failed: %s", strerror(-r));
			mx_walk_reset(w);
			bsw.failed = true;
		} else if (r == 0) {
			continue;
		}
		if (++bsw.map < MX_TABLE_MAPS)
			continue;
		bsw.map = -1;
		if (bsw.removed)
			mx_log("removed %lu expired ban%s", bsw.removed, bsw.removed == 1 ? "" : "s");
		if (!bsw.failed) {
			unsigned int freed = mx_bans_gc_end(&a->claims);

			if (freed)
				mx_log("freed %u reason text%s no ban names any more", freed,
					  freed == 1 ? "" : "s");
		}
	}
	return bsw.map >= 0;
}

static void ban_sweep_free(void)
{
	for (int i = 0; i < MX_TABLE_MAPS; i++)
		mx_walk_free(&bsw.w[i]);
	memset(&bsw, 0, sizeof(bsw));
	bsw.map = -1;
}

/*
 * snapshot_due - a snapshot costs time in proportion to the state (a few
 * seconds of work for 1,000,000 bans, done in slices between requests),
 * a journal costs start-up time in proportion to its records. So: when
 * the journal has grown as large as the state (at least
 * MX_SNAPSHOT_RECORDS), and, for a small state only, every
 * MX_SNAPSHOT_INTERVAL_S when anything changed. Each record then pays for
 * its share of one snapshot, whatever the state's size.
 */
static bool snapshot_due(const struct mx_persist *p, bool interval_passed)
{
	if (p->snap)
		return false;	/* one is being written */
	uint64_t big = p->snapshot_records > MX_SNAPSHOT_RECORDS ? p->snapshot_records
								   : MX_SNAPSHOT_RECORDS;

	if (p->journal_records >= big)
		return true;
	return interval_passed && p->journal_records &&
	       p->snapshot_records + p->journal_records < MX_SNAPSHOT_RECORDS;
}

/*
 * Where a turn of the loop went, so that a slow one says what made it
 * slow: requests, the once-a-second tick (sock_diag, the verdict
 * engine), reconciliation, starting periodic work, the slices.
 */
enum { LAP_REQUESTS, LAP_TICK, LAP_RECONCILE, LAP_STARTS, LAP_JOBS, LAP_SWEEPS, LAP_SNAPSHOT,
       LAP__MAX };
struct laps {
	uint64_t t;			/* when the last lap ended */
	uint64_t us[LAP__MAX];
	uint64_t cpu;			/* the thread's CPU time when the turn began */
};

/* thread_cpu_us - CPU time this thread has run: a slow turn with little is a busy machine */
static uint64_t thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void lap(struct laps *l, int which)
{
	uint64_t now = mx_mono_us();

	l->us[which] = now - l->t;
	l->t = now;
}

#define MX_SLOW_TURN_US	50000

/* slow_turn - say where a turn longer than 50 ms went (at most every 10 s) */
static void slow_turn(const struct laps *l)
{
	static struct mx_log_rate rate;
	uint64_t sum = 0;

	for (int i = 0; i < LAP__MAX; i++)
		sum += l->us[i];
	if (sum < MX_SLOW_TURN_US)
		return;
	mx_log_limited(&rate, "a loop turn took %llu ms (%llu ms on the CPU; the rest, waiting "
			  "for it): requests %llu, tick %llu, reconciliation %llu, starts %llu, "
			  "jobs %llu, sweeps %llu, snapshot %llu", (unsigned long long)sum / 1000,
			  (unsigned long long)(thread_cpu_us() - l->cpu) / 1000,
			  (unsigned long long)l->us[LAP_REQUESTS] / 1000,
			  (unsigned long long)l->us[LAP_TICK] / 1000,
			  (unsigned long long)l->us[LAP_RECONCILE] / 1000,
			  (unsigned long long)l->us[LAP_STARTS] / 1000,
			  (unsigned long long)l->us[LAP_JOBS] / 1000,
			  (unsigned long long)l->us[LAP_SWEEPS] / 1000,
			  (unsigned long long)l->us[LAP_SNAPSHOT] / 1000);
}

/* agent_serve - the event loop: control socket, signals, sweeps */
int agent_serve(struct agent *a)
{
	uint64_t now = mx_mono_ms();
	uint64_t next_sweep = now + (uint64_t)a->cfg.ban_sweep_s * 1000;
	uint64_t next_conn_sweep = now + 1000, next_reconcile = now + 10000;
	uint64_t next_snapshot = now + MX_SNAPSHOT_INTERVAL_S * 1000;
	struct pollfd pfd[3 + MX_CTL_MAX_CLIENTS + 1 + 256 + 1 + 16 + 1];
	bool busy = false, waiting = false;
	struct laps laps = { 0 };
	sigset_t mask;
	int lfd, sfd, ret = 0;

	apply_priority(a);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	for (int i = 0; i < MX_CTL_MAX_CLIENTS; i++)
		clients[i].fd = -1;
	lfd = open_socket(a->socket_path);
	if (sfd < 0 || lfd < 0 || policyd_open(a) || metrics_open(a) || spf_open(a)) {
		policyd_close(a);
		metrics_close(a);
		return -1;
	}
	mx_log("ready; control socket %s", a->socket_path);
	mx_notify_ready();

	for (;;) {
		int n, npol, nmet;
		uint64_t turn;

		int timeout = responder_next_timeout_ms(a->responder);

		if (timeout < 0 || timeout > 1000)
			timeout = 1000;
		if (busy)
			timeout = 0;	/* sweeps to finish: serve, then go on with them */
		else if (waiting && timeout > 5)
			timeout = 5;	/* a job waits on its thread: look again soon */
		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = responder_fd(a->responder), .events = POLLIN };
		for (int i = 0; i < MX_CTL_MAX_CLIENTS; i++)
			pfd[3 + i] = (struct pollfd){ .fd = clients[i].fd > 0 ? clients[i].fd : -1,
						      .events = POLLIN };
		npol = policyd_pollfds(a, pfd + 3 + MX_CTL_MAX_CLIENTS,
				       (int)(sizeof(pfd) / sizeof(pfd[0])) - 3 - MX_CTL_MAX_CLIENTS);
		nmet = metrics_pollfds(a, pfd + 3 + MX_CTL_MAX_CLIENTS + npol,
				       (int)(sizeof(pfd) / sizeof(pfd[0])) - 3 - MX_CTL_MAX_CLIENTS - npol);
		pfd[3 + MX_CTL_MAX_CLIENTS + npol + nmet] = (struct pollfd){ .fd = spf_fd(a),
									     .events = POLLIN };
		n = poll(pfd, (nfds_t)(3 + MX_CTL_MAX_CLIENTS + npol + nmet + 1), timeout);
		if (n < 0 && errno != EINTR)
			break;
		turn = mx_mono_us();
		laps.t = turn;
		laps.cpu = thread_cpu_us();
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					char msg[2400];

					if (a->reload)
						a->reload(a, msg, sizeof(msg));
					else
						snprintf(msg, sizeof(msg), "nothing to reload");
					mx_log("SIGHUP: %s", msg);
					continue;
				}
				mx_log("signal %d: stopping", si.ssi_signo);
				break;
			}
		}
		if (pfd[0].revents & POLLIN)
			ctl_accept(lfd);
		for (int i = 0; i < MX_CTL_MAX_CLIENTS; i++)
			if (clients[i].fd > 0 && pfd[3 + i].revents)
				ctl_read(a, &clients[i]);
		ctl_expire();
		policyd_run(a, pfd + 3 + MX_CTL_MAX_CLIENTS, npol);
		metrics_run(a, pfd + 3 + MX_CTL_MAX_CLIENTS + npol, nmet);
		if (pfd[3 + MX_CTL_MAX_CLIENTS + npol + nmet].revents & POLLIN)
			spf_run(a);
		/* The responder first: it never blocks, and senders wait on it. */
		responder_run(a->responder);
		lap(&laps, LAP_REQUESTS);
		now = mx_mono_ms();
		if (now >= next_conn_sweep) {
			conn_sweep(a);
			senders_tick(a);
			next_conn_sweep = now + 1000;
		}
		lap(&laps, LAP_TICK);
		if (now >= next_reconcile) {
			conn_reconcile(a, false);
			next_reconcile = now + 10000;
		}
		lap(&laps, LAP_RECONCILE);
		if (a->snapshot_soon || snapshot_due(&a->persist, now >= next_snapshot)) {
			if (state_snapshot_start(a))
				a->snapshot_soon = false;
			next_snapshot = now + MX_SNAPSHOT_INTERVAL_S * 1000;
		}
		if (now >= next_sweep) {
			ban_sweep_start(a);
			next_sweep = now + (uint64_t)a->cfg.ban_sweep_s * 1000;
		}
		lap(&laps, LAP_STARTS);
		{
			uint64_t deadline = mx_mono_us() + MX_SLICE_US;

			int jw = jobs_work(deadline);

			lap(&laps, LAP_JOBS);
			busy = jw == 1;
			busy |= conn_work(a, deadline);
			busy |= ban_sweep_work(a, deadline);
			lap(&laps, LAP_SWEEPS);
			busy |= state_snapshot_work(a, deadline);
			lap(&laps, LAP_SNAPSHOT);
			waiting = jw == 2;
		}
		slow_turn(&laps);
		turn = mx_mono_us() - turn;
		if (turn > a->loop_busy_max_us)
			a->loop_busy_max_us = turn;
	}
	jobs_stop();
	ban_sweep_free();
	policyd_close(a);
	metrics_close(a);
	spf_close(a);
	close(lfd);
	unlink(a->socket_path);
	close(sfd);
	return ret;
}
