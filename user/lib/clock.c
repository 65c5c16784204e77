// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	clock.c - the clocks the agent reads, and the tests' hand on them
 * DESCRIPTION
 *	See clock.h. The offsets are set once, at start (or by a unit test
 *	between its steps) and only read afterwards, so threads may read
 *	the clocks too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define BOOT_ID_PATH	"/proc/sys/kernel/random/boot_id"

static int64_t boot_offset_ns, wall_offset_ns;
static uint32_t boot_tag;
static bool boot_tag_known;

/* read_ns - a clock in nanoseconds */
static int64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * MX_NS_PER_S + ts.tv_nsec;
}

/* mx_now_ns - CLOCK_BOOTTIME, the clock of bpf_ktime_get_boot_ns() */
uint64_t mx_now_ns(void)
{
	return (uint64_t)(read_ns(CLOCK_BOOTTIME) + boot_offset_ns);
}

/* mx_now_s - the boot clock in whole seconds: the verdict engine's clock */
int64_t mx_now_s(void)
{
	return (int64_t)(mx_now_ns() / MX_NS_PER_S);
}

/* mx_wall_ns, mx_wall_s - CLOCK_REALTIME: for what is stored or shown, never to decide */
int64_t mx_wall_ns(void)
{
	return read_ns(CLOCK_REALTIME) + wall_offset_ns;
}

int64_t mx_wall_s(void)
{
	int64_t ns = mx_wall_ns();

	return ns / MX_NS_PER_S - (ns % MX_NS_PER_S < 0);
}

/* mx_mono_us, mx_mono_ms - CLOCK_MONOTONIC, for the agent's own timeouts */
uint64_t mx_mono_us(void)
{
	return (uint64_t)read_ns(CLOCK_MONOTONIC) / 1000;
}

uint64_t mx_mono_ms(void)
{
	return mx_mono_us() / 1000;
}

/* tag_of - 32 bits of a boot id (FNV-1a); never 0, which means unknown */
static uint32_t tag_of(const char *id)
{
	uint32_t h = 2166136261U;

	for (; *id && *id != '\n'; id++)
		h = (h ^ (uint8_t)*id) * 16777619U;
	return h ? h : 1;
}

/* mx_boot_tag - this boot, as records name it; 0 if the kernel does not say */
uint32_t mx_boot_tag(void)
{
	char id[64];
	ssize_t n;
	int fd;

	if (boot_tag_known)
		return boot_tag;
	boot_tag_known = true;
	fd = open(BOOT_ID_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return boot_tag = 0;
	n = read(fd, id, sizeof(id) - 1);
	close(fd);
	if (n <= 0)
		return boot_tag = 0;
	id[n] = '\0';
	return boot_tag = tag_of(id);
}

int64_t mx_wall_next_time(int64_t wall_s, uint32_t minute)
{
	time_t t = (time_t)wall_s;
	struct tm tm;

	for (int day = 0; day < 3; day++) {
		time_t next;

		if (!localtime_r(&t, &tm))
			return wall_s + 86400;
		tm.tm_mday += day;
		tm.tm_hour = (int)(minute / 60);
		tm.tm_min = (int)(minute % 60);
		tm.tm_sec = 0;
		tm.tm_isdst = -1;
		next = mktime(&tm);
		if (next != (time_t)-1 && next > (time_t)wall_s)
			return next;
		t = (time_t)wall_s;
	}
	return wall_s + 86400;
}

int mx_clock_init(char *note, size_t notelen, char *err, size_t errlen)
{
	const char *off = getenv("MXGUARD_TEST_WALL_OFFSET");
	const char *id = getenv("MXGUARD_TEST_BOOT_ID");
	char *end;
	long long s = 0;
	int n = 0;

	note[0] = '\0';
	if (off && *off) {
		errno = 0;
		s = strtoll(off, &end, 10);
		if (errno || *end || s > 100LL * 366 * 86400 || s < -100LL * 366 * 86400) {
			snprintf(err, errlen, "MXGUARD_TEST_WALL_OFFSET: '%s' is no number of "
				 "seconds within a century", off);
			return -1;
		}
		wall_offset_ns = (int64_t)s * MX_NS_PER_S;
		n = snprintf(note, notelen, "the wall clock is moved by %lld s", s);
		if (n < 0 || (size_t)n >= notelen)
			n = 0;
	}
	if (id && *id) {
		boot_tag = tag_of(id);
		boot_tag_known = true;
		snprintf(note + n, notelen - (size_t)n, "%sthe boot id is '%s'", n ? "; " : "", id);
	}
	return 0;
}

void mx_clock_test_set(int64_t boot_offset, int64_t wall_offset, const char *boot_id)
{
	boot_offset_ns = boot_offset;
	wall_offset_ns = wall_offset;
	boot_tag_known = false;
	if (boot_id) {
		boot_tag = tag_of(boot_id);
		boot_tag_known = true;
	}
}
