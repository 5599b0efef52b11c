// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: VFIO regions: their layout in the device fd, and every read and
 * write that userspace makes to them.
 *
 * As with vfio-pci, region N starts at offset N << MIGDEV_REGION_SHIFT of
 * the device fd; BAR2 can also be mapped (mmap.c).  After the VFIO_PCI_*
 * regions comes the v1 migration region (mig_v1.c).  Every access is checked
 * before it touches anything: it must lie wholly inside an existing region,
 * and BAR0 takes only naturally aligned 4- and 8-byte accesses.  A refused
 * access changes nothing.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "migdev.h"

#define MIGDEV_REGION_MASK	(migdev_region_offset(1) - 1)

static u64 migdev_region_size(struct migdev_device *mvdev, unsigned int index)
{
	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return MIGDEV_CFG_SIZE;
	case VFIO_PCI_BAR0_REGION_INDEX:
		return MIGDEV_BAR0_SIZE;
	case VFIO_PCI_BAR2_REGION_INDEX:
		return mvdev->emul.geom.devmem_size;
	case MIGDEV_MIG_REGION_INDEX:
		return MIGDEV_MIG_REGION_SIZE;
	}
	return 0;
}

/**
 * migdev_region_get_info_caps() - a region's info and capabilities
 * @vdev: VFIO device
 * @info: the user's struct vfio_region_info (argsz, index), filled in
 * @caps: the region's capabilities are added here
 *
 * The VFIO core's get_region_info_caps operation, where the kernel has it
 * (MIGDEV_HAVE_GET_REGION_INFO_CAPS: the core then answers
 * VFIO_DEVICE_GET_REGION_INFO itself); migdev_region_ioctl_get_info()
 * elsewhere.
 *
 * Return: 0 or a negative errno.
 */
int migdev_region_get_info_caps(struct vfio_device *vdev,
				struct vfio_region_info *info,
				struct vfio_info_cap *caps)
{
	struct migdev_device *mvdev = vdev_to_migdev(vdev);

	if (info->index >= MIGDEV_NUM_REGIONS)
		return -EINVAL;
	info->offset = migdev_region_offset(info->index);
	info->size = migdev_region_size(mvdev, info->index);
	info->flags = info->size ?
		      VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE : 0;
	if (info->index == VFIO_PCI_BAR2_REGION_INDEX)
		info->flags |= VFIO_REGION_INFO_FLAG_MMAP;
	info->cap_offset = 0;
	if (info->index == MIGDEV_MIG_REGION_INDEX)
		return migdev_v1_region_info_caps(mvdev, info, caps);
	return 0;
}

/**
 * migdev_region_ioctl_get_info() - VFIO_DEVICE_GET_REGION_INFO, on kernels
 * whose VFIO core passes it to the driver's ioctl
 * @mvdev: device
 * @arg: user's struct vfio_region_info, its capabilities go after it
 *
 * What the core does itself where it has get_region_info_caps: the info,
 * then the capabilities if argsz has room for them, else the argsz that
 * has.
 *
 * Return: 0 or a negative errno.
 */
int migdev_region_ioctl_get_info(struct migdev_device *mvdev, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_region_info info;
	struct vfio_info_cap caps = {};
	int ret;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	ret = migdev_region_get_info_caps(&mvdev->vdev, &info, &caps);
	if (ret)
		goto out_free;
	if (caps.size) {
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			info.argsz = sizeof(info) + caps.size;
			info.cap_offset = 0;
		} else {
			vfio_info_cap_shift(&caps, sizeof(info));
			if (copy_to_user(arg + sizeof(info), caps.buf,
					 caps.size)) {
				ret = -EFAULT;
				goto out_free;
			}
			info.cap_offset = sizeof(info);
		}
	}
	if (copy_to_user(arg, &info, minsz))
		ret = -EFAULT;
out_free:
	kfree(caps.buf);
	return ret;
}

/*
 * Config space: any length, split into naturally aligned accesses of at
 * most 4 bytes (QEMU reads the whole space with one pread()).
 */
static ssize_t migdev_region_cfg_rw(struct migdev_device *mvdev, char __user *ubuf,
				    size_t count, unsigned int off, bool write)
{
	size_t done = 0;

	while (done < count) {
		size_t left = count - done;
		unsigned int pos = off + done;
		unsigned int sz;
		u32 val = 0;
		__le32 le;

		if (left >= 4 && IS_ALIGNED(pos, 4))
			sz = 4;
		else if (left >= 2 && IS_ALIGNED(pos, 2))
			sz = 2;
		else
			sz = 1;

		if (write) {
			if (copy_from_user(&le, ubuf + done, sz))
				return -EFAULT;
			val = le32_to_cpu(le) & (sz == 4 ? U32_MAX : BIT(8 * sz) - 1);
			if (migdev_emul_cfg_write(&mvdev->emul, pos, sz, val)) {
				int ret = migdev_mig_reset(mvdev, MIGDEV_RESET_FLR);

				if (ret)
					return ret;
			}
		} else {
			val = migdev_emul_cfg_read(&mvdev->emul, pos, sz);
			le = cpu_to_le32(val);
			if (copy_to_user(ubuf + done, &le, sz))
				return -EFAULT;
		}
		done += sz;
	}
	return done;
}

/* BAR0: registers, one aligned 4- or 8-byte access at a time. */
static ssize_t migdev_region_bar0_rw(struct migdev_device *mvdev, char __user *ubuf,
				     size_t count, unsigned int off, bool write)
{
	__le64 le = 0;
	u64 val;
	int ret;

	if ((count != 4 && count != 8) || !IS_ALIGNED(off, count)) {
		migdev_user_err(mvdev,
				"BAR0 %s of %zu bytes at 0x%x refused: registers take naturally aligned 4- or 8-byte accesses\n",
				write ? "write" : "read", count, off);
		return -EINVAL;
	}
	if (write) {
		if (copy_from_user(&le, ubuf, count))
			return -EFAULT;
		ret = migdev_emul_bar0_write(&mvdev->emul, off, count,
					     le64_to_cpu(le));
	} else {
		ret = migdev_emul_bar0_read(&mvdev->emul, off, count, &val);
		le = cpu_to_le64(val);
		if (!ret && copy_to_user(ubuf, &le, count))
			return -EFAULT;
	}
	return ret ? ret : count;
}

/* BAR2: device memory, any width, bounced through a kernel page. */
static ssize_t migdev_region_bar2_rw(struct migdev_device *mvdev, char __user *ubuf,
				     size_t count, u64 off, bool write)
{
	size_t done = 0;
	void *bounce;
	ssize_t ret = 0;

	bounce = kmalloc(min_t(size_t, count, PAGE_SIZE), GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;

	while (done < count) {
		size_t n = min_t(size_t, count - done, PAGE_SIZE);

		if (write) {
			if (copy_from_user(bounce, ubuf + done, n)) {
				ret = -EFAULT;
				break;
			}
			ret = migdev_devmem_write(&mvdev->emul.devmem, off + done,
						  bounce, n);
			if (ret)
				break;
		} else {
			migdev_devmem_read(&mvdev->emul.devmem, off + done,
					   bounce, n);
			if (copy_to_user(ubuf + done, bounce, n)) {
				ret = -EFAULT;
				break;
			}
		}
		done += n;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	kfree(bounce);
	/* Like write(2): report the bytes done before an error, if any. */
	return done ? done : ret;
}

static ssize_t migdev_region_rw(struct migdev_device *mvdev, char __user *ubuf,
				size_t count, loff_t *ppos, bool write)
{
	u64 pos = *ppos;
	unsigned int index = pos >> MIGDEV_REGION_SHIFT;
	u64 off = pos & MIGDEV_REGION_MASK;
	u64 size;
	ssize_t ret;

	if (*ppos < 0 || index >= MIGDEV_NUM_REGIONS) {
		migdev_user_err(mvdev,
				"%s at offset 0x%llx refused: no such region\n",
				write ? "write" : "read", pos);
		return -EINVAL;
	}
	size = migdev_region_size(mvdev, index);
	if (!count)
		return 0;
	if (off >= size || count > size - off) {
		migdev_user_err(mvdev,
				"%s of %zu bytes at 0x%llx of region %u refused: the region has 0x%llx bytes\n",
				write ? "write" : "read", count, off, index,
				size);
		return -EINVAL;
	}

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		ret = migdev_region_cfg_rw(mvdev, ubuf, count, off, write);
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		ret = migdev_region_bar0_rw(mvdev, ubuf, count, off, write);
		break;
	case VFIO_PCI_BAR2_REGION_INDEX:
		ret = migdev_region_bar2_rw(mvdev, ubuf, count, off, write);
		break;
	case MIGDEV_MIG_REGION_INDEX:
		ret = migdev_v1_rw(mvdev, ubuf, count, off, write);
		break;
	default:
		ret = -EINVAL;	/* unreachable: other regions have size 0 */
		break;
	}
	if (ret > 0)
		*ppos += ret;
	return ret;
}

/**
 * migdev_read() - read(2) on the device fd
 * @vdev: VFIO device
 * @buf: user buffer
 * @count: bytes
 * @ppos: position: region index and offset
 *
 * Return: bytes read or a negative errno.
 */
ssize_t migdev_read(struct vfio_device *vdev, char __user *buf, size_t count,
		    loff_t *ppos)
{
	return migdev_region_rw(vdev_to_migdev(vdev), buf, count, ppos, false);
}

/**
 * migdev_write() - write(2) on the device fd
 * @vdev: VFIO device
 * @buf: user buffer
 * @count: bytes
 * @ppos: position: region index and offset
 *
 * Return: bytes written or a negative errno.
 */
ssize_t migdev_write(struct vfio_device *vdev, const char __user *buf,
		     size_t count, loff_t *ppos)
{
	return migdev_region_rw(vdev_to_migdev(vdev), (char __user *)buf, count, ppos,
			 true);
}
