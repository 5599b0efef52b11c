/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for the kernel's <linux/limits.h>: the U*_MAX that
 * emul/preflight.c bounds its numbers with.  The system's uapi
 * <linux/limits.h> (PATH_MAX and the like) comes first.
 */
#ifndef MIGDEV_FUZZ_LINUX_LIMITS_H
#define MIGDEV_FUZZ_LINUX_LIMITS_H

#include_next <linux/limits.h>
#include <stdint.h>

#define U16_MAX	UINT16_MAX
#define U32_MAX	UINT32_MAX
#define U64_MAX	UINT64_MAX

#endif /* MIGDEV_FUZZ_LINUX_LIMITS_H */
