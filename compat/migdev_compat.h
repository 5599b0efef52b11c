/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: the kernel interfaces that differ between the kernels migdev
 * builds for, from Linux 6.12 LTS to the newest, adapted in one place.
 *
 * Kbuild tests the kernel once at build time and defines MIGDEV_HAVE_*
 * for each interface it finds; this header is the only code that reads
 * them.  Built in userspace (fuzz/), nothing is defined and the shims in
 * fuzz/include/ provide the 6.12 interfaces.
 */
#ifndef MIGDEV_COMPAT_H
#define MIGDEV_COMPAT_H

#include <linux/crc32.h>

/*
 * CRC-32C without pre- or post-inversion: __crc32c_le() until Linux 6.15,
 * crc32c() in <linux/crc32.h> since (MIGDEV_HAVE_CRC32C).
 */
static inline u32 migdev_crc32c(u32 crc, const void *p, size_t len)
{
#ifdef MIGDEV_HAVE_CRC32C
	return crc32c(crc, p, len);
#else
	return __crc32c_le(crc, p, len);
#endif
}

#endif /* MIGDEV_COMPAT_H */
