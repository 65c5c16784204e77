// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	test_mapwalk.c - sliced map walks that delete as they go
 * DESCRIPTION
 *	On real BPF maps (needs root): a walk whose callback deletes every
 *	entry it is given visits each entry exactly once, in one pass, for
 *	a hash map (batch cursor) and an LPM trie (a key held back). The
 *	old walks resumed get_next_key from the key just deleted, which
 *	starts again at the first bucket: quadratic, and the finding of a
 *	flood that froze the agent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "mapwalk.h"
#include "mxguard.h"

struct seen {
	int fd;
	uint8_t *hits;		/* by key index */
	uint32_t n, max;
	bool delete;
	bool lpm;		/* keys are struct mx_lpm4_key */
};

/* index_of - the test keys are numbered: IPv4 198.18.x.y + i */
static uint32_t index_of(const void *key, bool lpm)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)key + (lpm ? 4 : 0), 4);
	return ntohl(v) - 0xc6120000U;
}

/* visit - count an entry, and delete it when asked (mx_walk callback) */
static int visit(const void *key, const void *val, void *arg)
{
	struct seen *s = arg;
	uint32_t i = index_of(key, s->lpm);

	assert_true(i < s->max);
	s->hits[i]++;
	s->n++;
	if (s->delete)
		assert_int_equal(bpf_map_delete_elem(s->fd, key), 0);
	return 0;
}

/* walk_all - slices of slice until the pass ends; returns the steps taken */
static int walk_all(struct mx_walk *w, uint32_t slice, mx_walk_cb cb, struct seen *s)
{
	int steps = 0, r;

	do {
		r = mx_walk_step(w, slice, cb, s);
		assert_true(r >= 0);
		steps++;
	} while (r == 0);
	return steps;
}

static void test_hash_delete_as_you_go(void **state)
{
	const uint32_t n = 100000;
	struct seen s = { .max = n, .delete = true };
	struct mx_walk w;
	struct mx_ban b = { 0 };
	uint32_t key, next;
	int steps;

	s.fd = bpf_map_create(BPF_MAP_TYPE_HASH, "t_hash", 4, sizeof(b), n, NULL);
	assert_true(s.fd >= 0);
	s.hits = calloc(n, 1);
	for (uint32_t i = 0; i < n; i++) {
		key = htonl(0xc6120000U + i);
		assert_int_equal(bpf_map_update_elem(s.fd, &key, &b, BPF_NOEXIST), 0);
	}
	assert_int_equal(mx_walk_init(&w, s.fd, 4, sizeof(b)), 0);
	assert_true(w.batch);
	steps = walk_all(&w, 1000, visit, &s);
	assert_int_equal(s.n, n);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(s.hits[i], 1);
	assert_int_equal(w.passes, 1);
	assert_true(steps >= 100 && steps <= 102);
	assert_int_not_equal(bpf_map_get_next_key(s.fd, NULL, &next), 0);	/* empty */

	/* An empty map: a pass of one step. */
	assert_int_equal(mx_walk_step(&w, 1000, visit, &s), 1);
	mx_walk_free(&w);
	free(s.hits);
	close(s.fd);
}

static void test_lpm_delete_as_you_go(void **state)
{
	const uint32_t n = 20000;
	struct seen s = { .max = n, .delete = true, .lpm = true };
	struct mx_lpm4_key k = { .prefixlen = 32 };
	struct mx_ban b = { 0 };
	struct mx_walk w;
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);

	s.fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_lpm", sizeof(k), sizeof(b), n, &o);
	assert_true(s.fd >= 0);
	s.hits = calloc(n, 1);
	for (uint32_t i = 0; i < n; i++) {
		k.addr = htonl(0xc6120000U + i);
		assert_int_equal(bpf_map_update_elem(s.fd, &k, &b, BPF_NOEXIST), 0);
	}
	assert_int_equal(mx_walk_init(&w, s.fd, sizeof(k), sizeof(b)), 0);
	assert_false(w.batch);
	walk_all(&w, 512, visit, &s);
	assert_int_equal(s.n, n);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(s.hits[i], 1);
	assert_int_equal(w.passes, 1);
	assert_int_equal(w.restarts, 0);
	mx_walk_free(&w);
	free(s.hits);
	close(s.fd);
}

static void test_passes_resume_and_repeat(void **state)
{
	const uint32_t n = 5000;
	struct seen s = { .max = n, .lpm = true };
	struct mx_lpm4_key k = { .prefixlen = 32 };
	struct mx_ban b = { 0 };
	struct mx_walk w;
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);

	s.fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_lpm2", sizeof(k), sizeof(b), n, &o);
	assert_true(s.fd >= 0);
	s.hits = calloc(n, 1);
	for (uint32_t i = 0; i < n; i++) {
		k.addr = htonl(0xc6120000U + i);
		assert_int_equal(bpf_map_update_elem(s.fd, &k, &b, BPF_NOEXIST), 0);
	}
	assert_int_equal(mx_walk_init(&w, s.fd, 0, 0), 0);
	/* Half a pass, then someone else deletes the held key: the pass begins again. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(mx_walk_step(&w, 500, visit, &s), 0);
	assert_true(w.held);
	assert_int_equal(bpf_map_delete_elem(s.fd, w.cursor), 0);
	walk_all(&w, 500, visit, &s);
	assert_int_equal(w.restarts, 1);
	assert_int_equal(w.passes, 1);
	/* Nothing deleted by the walk: a second pass sees everything once more. */
	memset(s.hits, 0, n);
	s.n = 0;
	walk_all(&w, 700, visit, &s);
	assert_int_equal(s.n, n - 1);
	assert_int_equal(w.passes, 2);

	mx_walk_free(&w);
	/* Wrong sizes are refused. */
	assert_int_equal(mx_walk_init(&w, s.fd, 4, 0), -EINVAL);
	free(s.hits);
	close(s.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_delete_as_you_go),
		cmocka_unit_test(test_lpm_delete_as_you_go),
		cmocka_unit_test(test_passes_resume_and_repeat),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_mapwalk needs root (BPF maps)\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
