/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace shim for the kernel's <linux/sizes.h>: the sizes migdev uses. */
#ifndef MIGDEV_FUZZ_LINUX_SIZES_H
#define MIGDEV_FUZZ_LINUX_SIZES_H

#define SZ_4K		0x00001000
#define SZ_64K		0x00010000
#define SZ_1M		0x00100000
#define SZ_4M		0x00400000
#define SZ_64M		0x04000000
#define SZ_256M		0x10000000
#define SZ_1G		0x40000000

#endif /* MIGDEV_FUZZ_LINUX_SIZES_H */
