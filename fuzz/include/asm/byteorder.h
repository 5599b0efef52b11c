/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for the kernel's <asm/byteorder.h>: le*_to_cpu() and
 * cpu_to_le*() on top of glibc's <endian.h>, typed as the kernel's are.
 */
#ifndef MIGDEV_FUZZ_ASM_BYTEORDER_H
#define MIGDEV_FUZZ_ASM_BYTEORDER_H

#include <endian.h>
#include <linux/types.h>

#define le16_to_cpu(x)	((u16)le16toh(x))
#define le32_to_cpu(x)	((u32)le32toh(x))
#define le64_to_cpu(x)	((u64)le64toh(x))
#define cpu_to_le16(x)	((__le16)htole16(x))
#define cpu_to_le32(x)	((__le32)htole32(x))
#define cpu_to_le64(x)	((__le64)htole64(x))

#endif /* MIGDEV_FUZZ_ASM_BYTEORDER_H */
