/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace shim for the kernel's <linux/crc32.h>: __crc32c_le(), the raw
 * CRC-32C (Castagnoli, reflected polynomial 0x82f63b78) with no initial
 * or final inversion: callers pass ~0 and invert the result, as the
 * kernel's do.  Byte-at-a-time with a table built on first use.
 */
#ifndef MIGDEV_FUZZ_LINUX_CRC32_H
#define MIGDEV_FUZZ_LINUX_CRC32_H

#include <linux/types.h>

static inline u32 __crc32c_le(u32 crc, const void *data, size_t len)
{
	static u32 table[256];
	static bool ready;
	const u8 *p = data;
	unsigned int i, k;

	if (!ready) {
		for (i = 0; i < 256; i++) {
			u32 c = i;

			for (k = 0; k < 8; k++)
				c = (c >> 1) ^ (c & 1 ? 0x82f63b78 : 0);
			table[i] = c;
		}
		ready = true;
	}
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#endif /* MIGDEV_FUZZ_LINUX_CRC32_H */
