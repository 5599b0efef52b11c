/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace shim for the kernel's <linux/wordpart.h>. */
#ifndef MIGDEV_FUZZ_LINUX_WORDPART_H
#define MIGDEV_FUZZ_LINUX_WORDPART_H

#include <linux/types.h>

#define upper_32_bits(n)	((u32)(((n) >> 16) >> 16))
#define lower_32_bits(n)	((u32)((n) & 0xffffffff))

#endif /* MIGDEV_FUZZ_LINUX_WORDPART_H */
