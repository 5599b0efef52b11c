/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace shim for the kernel's <linux/minmax.h>: min_t() and max_t(). */
#ifndef MIGDEV_FUZZ_LINUX_MINMAX_H
#define MIGDEV_FUZZ_LINUX_MINMAX_H

#define min_t(type, x, y) ({			\
	type __x = (x);				\
	type __y = (y);				\
	__x < __y ? __x : __y; })
#define max_t(type, x, y) ({			\
	type __x = (x);				\
	type __y = (y);				\
	__x > __y ? __x : __y; })

#endif /* MIGDEV_FUZZ_LINUX_MINMAX_H */
