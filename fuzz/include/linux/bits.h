/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace shim for the kernel's <linux/bits.h>: BIT() only. */
#ifndef MIGDEV_FUZZ_LINUX_BITS_H
#define MIGDEV_FUZZ_LINUX_BITS_H

#define BIT(nr)		(1UL << (nr))

#endif /* MIGDEV_FUZZ_LINUX_BITS_H */
