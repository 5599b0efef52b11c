/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for the kernel's <linux/log2.h>: emul/cfg.c includes it
 * but the code built here uses only is_power_of_2().
 */
#ifndef MIGDEV_FUZZ_LINUX_LOG2_H
#define MIGDEV_FUZZ_LINUX_LOG2_H

#include <linux/types.h>

static inline bool is_power_of_2(unsigned long n)
{
	return n && !(n & (n - 1));
}

#endif /* MIGDEV_FUZZ_LINUX_LOG2_H */
