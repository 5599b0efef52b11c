/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace shim for the kernel's <linux/timekeeping.h>. */
#ifndef MIGDEV_FUZZ_LINUX_TIMEKEEPING_H
#define MIGDEV_FUZZ_LINUX_TIMEKEEPING_H

#include <time.h>
#include <linux/types.h>

static inline u64 ktime_get_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (u64)t.tv_sec * 1000000000ULL + t.tv_nsec;
}

#endif /* MIGDEV_FUZZ_LINUX_TIMEKEEPING_H */
