/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: the kernel interfaces that differ between the kernels migdev
 * builds for, from Linux 6.12 LTS to the newest, adapted in one place
 * (here, and in migdev_vfio_compat.h for VFIO's).
 *
 * Kbuild tests the kernel once at build time and defines MIGDEV_HAVE_*
 * for each interface it finds; this header is the only code that reads
 * them, but for the initializer of an operation that only some kernels'
 * structs have.  Built in userspace (fuzz/), nothing is defined and the
 * shims in fuzz/include/ provide the 6.12 interfaces.
 *
 * MIGDEV_HAVE_GET_REGION_INFO_CAPS: struct vfio_device_ops has
 * get_region_info_caps, and the VFIO core answers
 * VFIO_DEVICE_GET_REGION_INFO itself through it (Linux 7.3 does; 6.12
 * passes the ioctl to the driver).  mdev/vfio_dev.c sets the operation
 * where it exists; elsewhere its ioctl does what the core would
 * (migdev_region_ioctl_get_info()), with the same operation.
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

/*
 * The per-CPU system workqueue: system_wq until Linux 6.17 named it
 * system_percpu_wq (MIGDEV_HAVE_SYSTEM_PERCPU_WQ; 6.12.y has both since a
 * stable update).  Linux 7.3 warns once about work queued on the old name.
 */
#ifdef MIGDEV_HAVE_SYSTEM_PERCPU_WQ
#define migdev_system_wq	system_percpu_wq
#else
#define migdev_system_wq	system_wq
#endif

#endif /* MIGDEV_COMPAT_H */
