/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for the kernel's <linux/string.h>: glibc's <string.h>
 * plus memchr_inv(), which the kernel has and glibc has not.
 */
#ifndef MIGDEV_FUZZ_LINUX_STRING_H
#define MIGDEV_FUZZ_LINUX_STRING_H

#include <string.h>
#include <linux/types.h>

/* The first byte of @start[0..@bytes) that is not @c, or NULL. */
static inline void *memchr_inv(const void *start, int c, size_t bytes)
{
	const u8 *p = start;
	size_t i;

	for (i = 0; i < bytes; i++)
		if (p[i] != (u8)c)
			return (void *)(p + i);
	return NULL;
}

#endif /* MIGDEV_FUZZ_LINUX_STRING_H */
