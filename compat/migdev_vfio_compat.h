/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: the VFIO interfaces that differ between the kernels migdev
 * builds for, adapted in one place (with migdev_compat.h, whose comment
 * says how Kbuild finds them).  Only mdev/ includes this: emul/ has no
 * VFIO in it.
 */
#ifndef MIGDEV_VFIO_COMPAT_H
#define MIGDEV_VFIO_COMPAT_H

#include <linux/vfio.h>

/*
 * The output flag of the opt-in below: never reported where the kernel
 * has no opt-in, but named the same on every kernel.
 */
#ifndef VFIO_PRECOPY_INFO_REINIT
#define VFIO_PRECOPY_INFO_REINIT	BIT(0)
#endif

/**
 * migdev_precopy_info_v2() - the user opted in to
 * VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2
 * @vdev: the device
 *
 * Linux 7.1 added the opt-in (MIGDEV_HAVE_PRECOPY_INFO_V2; the core keeps
 * it in @vdev until the device is closed).  After it, the flags of struct
 * vfio_precopy_info are output (VFIO_PRECOPY_INFO_REINIT); before it, and
 * on kernels without it, they are reserved and left as the user passed
 * them, as vfio_check_precopy_ioctl() does.
 *
 * Return: true after the opt-in.
 */
static inline bool migdev_precopy_info_v2(struct vfio_device *vdev)
{
#ifdef MIGDEV_HAVE_PRECOPY_INFO_V2
	return READ_ONCE(vdev->precopy_info_v2);
#else
	return false;
#endif
}

#endif /* MIGDEV_VFIO_COMPAT_H */
