/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace shim for the kernel's <linux/unaligned.h>: the LE accessors. */
#ifndef MIGDEV_FUZZ_LINUX_UNALIGNED_H
#define MIGDEV_FUZZ_LINUX_UNALIGNED_H

#include <string.h>
#include <asm/byteorder.h>

static inline u16 get_unaligned_le16(const void *p)
{
	__le16 v;

	memcpy(&v, p, sizeof(v));
	return le16_to_cpu(v);
}

static inline u32 get_unaligned_le32(const void *p)
{
	__le32 v;

	memcpy(&v, p, sizeof(v));
	return le32_to_cpu(v);
}

static inline u64 get_unaligned_le64(const void *p)
{
	__le64 v;

	memcpy(&v, p, sizeof(v));
	return le64_to_cpu(v);
}

static inline void put_unaligned_le16(u16 val, void *p)
{
	__le16 v = cpu_to_le16(val);

	memcpy(p, &v, sizeof(v));
}

static inline void put_unaligned_le32(u32 val, void *p)
{
	__le32 v = cpu_to_le32(val);

	memcpy(p, &v, sizeof(v));
}

#endif /* MIGDEV_FUZZ_LINUX_UNALIGNED_H */
