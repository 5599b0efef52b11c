/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for the kernel's <linux/string.h>: glibc's <string.h>
 * plus memchr_inv() and strscpy(), which the kernel has and glibc has not.
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

/*
 * Copy the string @src into @dst of @size bytes, NUL-terminated: its
 * length, or -E2BIG (-7) if it did not fit (then truncated).
 */
static inline ssize_t strscpy(char *dst, const char *src, size_t size)
{
	size_t len = strnlen(src, size);

	if (!size)
		return -7;
	if (len == size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = 0;
		return -7;
	}
	memcpy(dst, src, len + 1);
	return len;
}

#endif /* MIGDEV_FUZZ_LINUX_STRING_H */
