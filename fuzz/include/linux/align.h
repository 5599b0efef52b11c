/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace shim for the kernel's <linux/align.h>: IS_ALIGNED(). */
#ifndef MIGDEV_FUZZ_LINUX_ALIGN_H
#define MIGDEV_FUZZ_LINUX_ALIGN_H

#define IS_ALIGNED(x, a)	(((unsigned long long)(x) & ((a) - 1)) == 0)

#endif /* MIGDEV_FUZZ_LINUX_ALIGN_H */
