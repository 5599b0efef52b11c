// SPDX-License-Identifier: GPL-2.0-only
/*
 * libmigdev: see migdev_lib.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "migdev_lib.h"

#define MDL_DEVICES "/sys/bus/mdev/devices"

static void mdl_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "libmigdev: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	exit(1);
}

int mdl_sysfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = 0;
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	return 0;
}

int mdl_sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return 0;
}

long long mdl_sysfs_read_ll(const char *path)
{
	char buf[64];
	int ret = mdl_sysfs_read(path, buf, sizeof(buf));

	if (ret)
		return ret;
	return strtoll(buf, NULL, 0);
}

const char *mdl_parent(void)
{
	return "migdev0";
}

const char *mdl_type_name(unsigned int type)
{
	static const char *const names[MIGDEV_NUM_TYPES] = {
		"migdev-small", "migdev-medium", "migdev-large", "migdev-xlarge",
	};

	return type < MIGDEV_NUM_TYPES ? names[type] : "migdev-none";
}

long long mdl_available(const char *parent, unsigned int type)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path),
		 "/sys/class/mdev_bus/%s/mdev_supported_types/%s/available_instances",
		 parent, mdl_type_name(type));
	return mdl_sysfs_read_ll(path);
}

void mdl_new_uuid(char uuid[MDL_UUID_LEN])
{
	if (mdl_sysfs_read("/proc/sys/kernel/random/uuid", uuid, MDL_UUID_LEN))
		mdl_die("cannot read a random uuid\n");
}

int __mdl_create(const char *parent, unsigned int type,
		 char uuid[MDL_UUID_LEN])
{
	char path[PATH_MAX];

	mdl_new_uuid(uuid);
	snprintf(path, sizeof(path),
		 "/sys/class/mdev_bus/%s/mdev_supported_types/%s/create",
		 parent, mdl_type_name(type));
	return mdl_sysfs_write(path, uuid);
}

void mdl_create(const char *parent, unsigned int type, char uuid[MDL_UUID_LEN])
{
	int ret = __mdl_create(parent, type, uuid);

	if (ret)
		mdl_die("creating a %s on %s: %s\n", mdl_type_name(type),
			parent, strerror(-ret));
}

int __mdl_remove(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), MDL_DEVICES "/%s/remove", uuid);
	return mdl_sysfs_write(path, "1");
}

void mdl_remove(const char *uuid)
{
	int ret = __mdl_remove(uuid);

	if (ret)
		mdl_die("removing %s: %s\n", uuid, strerror(-ret));
}

int mdl_exists(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), MDL_DEVICES "/%s", uuid);
	return access(path, F_OK) == 0;
}

long long mdl_attr(const char *uuid, const char *attr)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), MDL_DEVICES "/%s/migdev/%s", uuid, attr);
	return mdl_sysfs_read_ll(path);
}

int __mdl_open(const char *uuid, struct mdl_dev *dev)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;
	int ret;

	memset(dev, 0, sizeof(*dev));
	dev->container = -1;
	dev->group = -1;
	dev->fd = -1;
	snprintf(dev->uuid, sizeof(dev->uuid), "%s", uuid);

	snprintf(path, sizeof(path), MDL_DEVICES "/%s/iommu_group", uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s", basename(link));

	dev->container = open("/dev/vfio/vfio", O_RDWR);
	if (dev->container < 0)
		goto out_errno;
	if (ioctl(dev->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		ret = -EINVAL;
		goto out;
	}
	dev->group = open(path, O_RDWR);
	if (dev->group < 0)
		goto out_errno;
	if (ioctl(dev->group, VFIO_GROUP_GET_STATUS, &status))
		goto out_errno;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		ret = -EINVAL;
		goto out;
	}
	if (ioctl(dev->group, VFIO_GROUP_SET_CONTAINER, &dev->container))
		goto out_errno;
	if (ioctl(dev->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		goto out_errno;
	dev->fd = ioctl(dev->group, VFIO_GROUP_GET_DEVICE_FD, uuid);
	if (dev->fd < 0)
		goto out_errno;
	return 0;

out_errno:
	ret = -errno;
out:
	mdl_close(dev);
	return ret;
}

void mdl_open(const char *uuid, struct mdl_dev *dev)
{
	int ret = __mdl_open(uuid, dev);

	if (ret)
		mdl_die("opening %s through VFIO: %s\n", uuid, strerror(-ret));
}

void mdl_close(struct mdl_dev *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	if (dev->group >= 0)
		close(dev->group);
	if (dev->container >= 0)
		close(dev->container);
	dev->fd = -1;
	dev->group = -1;
	dev->container = -1;
}

int __mdl_region_info(struct mdl_dev *dev, unsigned int index,
		      struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, info) ? -errno : 0;
}

ssize_t mdl_pread(struct mdl_dev *dev, unsigned int index, uint64_t off,
		  void *buf, size_t len)
{
	ssize_t n = pread(dev->fd, buf, len, mdl_region_off(index) + off);

	return n < 0 ? -errno : n;
}

ssize_t mdl_pwrite(struct mdl_dev *dev, unsigned int index, uint64_t off,
		   const void *buf, size_t len)
{
	ssize_t n = pwrite(dev->fd, buf, len, mdl_region_off(index) + off);

	return n < 0 ? -errno : n;
}

uint32_t mdl_cfg_read(struct mdl_dev *dev, unsigned int off, unsigned int size)
{
	uint32_t val = 0;
	ssize_t n = mdl_pread(dev, VFIO_PCI_CONFIG_REGION_INDEX, off, &val, size);

	if (n != (ssize_t)size)
		mdl_die("config read of %u at 0x%x: %zd\n", size, off, n);
	return val;	/* little-endian host */
}

void mdl_cfg_write(struct mdl_dev *dev, unsigned int off, unsigned int size,
		   uint32_t val)
{
	ssize_t n = mdl_pwrite(dev, VFIO_PCI_CONFIG_REGION_INDEX, off, &val, size);

	if (n != (ssize_t)size)
		mdl_die("config write of %u at 0x%x: %zd\n", size, off, n);
}

uint32_t mdl_read32(struct mdl_dev *dev, unsigned int off)
{
	uint32_t val;

	if (mdl_pread(dev, VFIO_PCI_BAR0_REGION_INDEX, off, &val, 4) != 4)
		mdl_die("BAR0 read32 at 0x%x failed\n", off);
	return val;
}

uint64_t mdl_read64(struct mdl_dev *dev, unsigned int off)
{
	uint64_t val;

	if (mdl_pread(dev, VFIO_PCI_BAR0_REGION_INDEX, off, &val, 8) != 8)
		mdl_die("BAR0 read64 at 0x%x failed\n", off);
	return val;
}

void mdl_write32(struct mdl_dev *dev, unsigned int off, uint32_t val)
{
	if (mdl_pwrite(dev, VFIO_PCI_BAR0_REGION_INDEX, off, &val, 4) != 4)
		mdl_die("BAR0 write32 at 0x%x failed\n", off);
}

void mdl_write64(struct mdl_dev *dev, unsigned int off, uint64_t val)
{
	if (mdl_pwrite(dev, VFIO_PCI_BAR0_REGION_INDEX, off, &val, 8) != 8)
		mdl_die("BAR0 write64 at 0x%x failed\n", off);
}

int __mdl_set_irqs(struct mdl_dev *dev, uint32_t flags, unsigned int index,
		   unsigned int start, unsigned int count, const void *data,
		   size_t data_len)
{
	size_t sz = sizeof(struct vfio_irq_set) + data_len;
	struct vfio_irq_set *set = calloc(1, sz);
	int ret;

	if (!set)
		return -ENOMEM;
	set->argsz = sz;
	set->flags = flags;
	set->index = index;
	set->start = start;
	set->count = count;
	if (data_len)
		memcpy(set->data, data, data_len);
	ret = ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
	free(set);
	return ret;
}

int __mdl_set_irq_eventfds(struct mdl_dev *dev, unsigned int index,
			   unsigned int start, unsigned int count,
			   const int32_t *fds)
{
	return __mdl_set_irqs(dev, VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_TRIGGER, index, start, count,
			      fds, count * sizeof(*fds));
}

int mdl_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (fd < 0)
		mdl_die("eventfd: %s\n", strerror(errno));
	return fd;
}

uint64_t mdl_eventfd_read(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

int mdl_eventfd_wait(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}
