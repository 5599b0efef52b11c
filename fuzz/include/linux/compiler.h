/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for what every kernel file gets without an #include
 * (<linux/compiler.h>, <linux/bug.h>): READ_ONCE(), WRITE_ONCE(),
 * likely(), WARN_ON_ONCE() (which aborts here: a warning is a bug).
 * linux/types.h includes it.
 */
#ifndef MIGDEV_FUZZ_LINUX_COMPILER_H
#define MIGDEV_FUZZ_LINUX_COMPILER_H

#include <stdio.h>
#include <stdlib.h>

#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), v, __ATOMIC_RELAXED)
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define fz_warn(c, s) ({						\
	int __c = !!(c);						\
	if (__c) {							\
		fprintf(stderr, "%s:%d: WARNING: %s\n", __FILE__,	\
			__LINE__, s);					\
		abort();						\
	}								\
	__c;								\
})
#define WARN_ON(c)		fz_warn(c, #c)
#define WARN_ON_ONCE(c)		fz_warn(c, #c)

#endif /* MIGDEV_FUZZ_LINUX_COMPILER_H */
