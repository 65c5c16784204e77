/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	clock.h - the clocks the agent reads, and the tests' hand on them
 * DESCRIPTION
 *	Three clocks, each for its own purpose:
 *
 *	  mx_now_ns()	CLOCK_BOOTTIME: the data plane's clock
 *			(bpf_ktime_get_boot_ns()); it counts suspend and
 *			never jumps, and restarts at zero at each boot.
 *			Every decision runs on it: mx_now_s() is the
 *			verdict engine's clock, in seconds.
 *	  mx_wall_ns()	CLOCK_REALTIME: set by people and NTP, it may jump
 *			either way at any time.
 *	  mx_mono_ms()	CLOCK_MONOTONIC: the agent's own timeouts.
 *
 *	mx_boot_tag() names the boot the boot clock belongs to: 32 bits of
 *	/proc/sys/kernel/random/boot_id (0: unknown).
 * TESTS
 *	mx_clock_test_set() moves the boot and wall clocks and changes the
 *	boot id, for unit tests. For end-to-end tests, which restart the
 *	agent, mx_clock_init() reads two environment variables once, at
 *	start: MXGUARD_TEST_WALL_OFFSET=SECONDS (signed) moves the wall
 *	clock, MXGUARD_TEST_BOOT_ID=TEXT stands for the boot id (a reboot
 *	without one). They are for tests only: an agent that reads one says
 *	so in its log.
 */
#ifndef MX_CLOCK_H
#define MX_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define MX_NS_PER_S	1000000000LL

uint64_t mx_now_ns(void);
int64_t mx_now_s(void);
int64_t mx_wall_ns(void);
int64_t mx_wall_s(void);
uint64_t mx_mono_us(void);
uint64_t mx_mono_ms(void);
uint32_t mx_boot_tag(void);

/*
 * Read the test-only environment. 0; or -1 with a message in err if a
 * variable is set to something unreadable. A note on what was read, if
 * anything, goes to note (empty otherwise).
 */
/*
 * The next local time of day minute (0..1439) strictly after wall_s (Unix
 * seconds), in Unix seconds: the local midnight after wall_s for 0. A
 * time that a DST change skips is taken as mktime(3) normalises it.
 */
int64_t mx_wall_next_time(int64_t wall_s, uint32_t minute);
int mx_clock_init(char *note, size_t notelen, char *err, size_t errlen);
/* Tests: the boot and wall clocks moved by these, and this boot id (NULL: the real one). */
void mx_clock_test_set(int64_t boot_offset_ns, int64_t wall_offset_ns, const char *boot_id);

#endif /* MX_CLOCK_H */
