// SPDX-License-Identifier: GPL-2.0-only
/*
 * libmigdev (see migdev_lib.h): a device through VFIO (group and
 * container, or cdev and iommufd): open, close, regions, config space,
 * BAR0, interrupts, and guest memory (DMA mappings).
 */
#include "mdl_internal.h"

static void mdl_dev_init(struct mdl_dev *dev, const char *uuid)
{
	memset(dev, 0, sizeof(*dev));
	dev->container = -1;
	dev->group = -1;
	dev->iommufd = -1;
	dev->fd = -1;
	dev->next_iova = 1ULL << 32;
	snprintf(dev->uuid, sizeof(dev->uuid), "%s", uuid);
}

int mdl_group_path(const char *uuid, char *path, size_t len)
{
	char link[PATH_MAX];
	ssize_t n;

	snprintf(path, len, MDL_DEVICES "/%s/iommu_group", uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	snprintf(path, len, "/dev/vfio/%s", basename(link));
	return 0;
}

int __mdl_open(const char *uuid, struct mdl_dev *dev)
{
	return __mdl_open_iommu(uuid, dev, VFIO_TYPE1v2_IOMMU);
}

int __mdl_open_iommu(const char *uuid, struct mdl_dev *dev,
		     unsigned long iommu)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX];
	int ret;

	mdl_dev_init(dev, uuid);
	ret = mdl_group_path(uuid, path, sizeof(path));
	if (ret)
		return ret;

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
	if (ioctl(dev->container, VFIO_SET_IOMMU, iommu))
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

/* The vfio cdev of an instance: /sys/bus/mdev/devices/UUID/vfio-dev/vfioN. */
int mdl_cdev_path(const char *uuid, char *path, size_t len)
{
	char dir[PATH_MAX];
	struct dirent *e;
	int ret = -ENODEV;
	DIR *d;

	snprintf(dir, sizeof(dir), MDL_DEVICES "/%s/vfio-dev", uuid);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? -ENODEV : -errno;
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "vfio", 4)) {
			snprintf(path, len, "/dev/vfio/devices/%s", e->d_name);
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

int __mdl_attach_ioas(struct mdl_dev *dev, uint32_t pt_id)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach), .pt_id = pt_id,
	};

	return ioctl(dev->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach) ? -errno : 0;
}

int __mdl_detach_ioas(struct mdl_dev *dev)
{
	struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };

	return ioctl(dev->fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach) ? -errno : 0;
}

int __mdl_open_cdev(const char *uuid, struct mdl_dev *dev, int attach)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	char path[PATH_MAX];
	int ret;

	mdl_dev_init(dev, uuid);
	ret = mdl_cdev_path(uuid, path, sizeof(path));
	if (ret)
		return ret;
	/*
	 * The vfio-dev entry is in sysfs on every kernel; the device node and
	 * /dev/iommu only with CONFIG_VFIO_DEVICE_CDEV and CONFIG_IOMMUFD.
	 */
	dev->fd = open(path, O_RDWR);
	if (dev->fd < 0)
		goto out_nodev;
	dev->iommufd = open("/dev/iommu", O_RDWR);
	if (dev->iommufd < 0)
		goto out_nodev;
	bind.iommufd = dev->iommufd;
	if (ioctl(dev->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		goto out_errno;
	dev->devid = bind.out_devid;
	if (ioctl(dev->iommufd, IOMMU_IOAS_ALLOC, &alloc))
		goto out_errno;
	dev->ioas = alloc.out_ioas_id;
	if (attach) {
		ret = __mdl_attach_ioas(dev, dev->ioas);
		if (ret)
			goto out;
	}
	return 0;

out_nodev:
	ret = errno == ENOENT ? -ENODEV : -errno;
	mdl_close(dev);
	return ret;
out_errno:
	ret = -errno;
out:
	mdl_close(dev);
	return ret;
}

void mdl_close(struct mdl_dev *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	if (dev->group >= 0)
		close(dev->group);
	if (dev->container >= 0)
		close(dev->container);
	if (dev->iommufd >= 0)
		close(dev->iommufd);
	dev->fd = -1;
	dev->group = -1;
	dev->container = -1;
	dev->iommufd = -1;
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

uint64_t mdl_eventfd_count(int fd, uint64_t want, int ms)
{
	uint64_t total = mdl_eventfd_read(fd);

	while (total < want && mdl_eventfd_wait(fd, ms))
		total += mdl_eventfd_read(fd);
	usleep(10000);
	return total + mdl_eventfd_read(fd);
}

int __mdl_dma_map(struct mdl_dev *dev, size_t size, struct mdl_dma *m)
{
	int ret;

	size = (size + 4095) & ~(size_t)4095;
	m->va = mmap(NULL, size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->va == MAP_FAILED)
		return -errno;
	m->size = size;
	m->iova = dev->next_iova;
	ret = __mdl_dma_map_at(dev, m->va, size, m->iova);
	if (ret) {
		munmap(m->va, size);
		return ret;
	}
	/* Leave an unmapped guard gap after each mapping. */
	dev->next_iova += size + (2ULL << 20);
	return 0;
}

void mdl_dma_map(struct mdl_dev *dev, size_t size, struct mdl_dma *m)
{
	int ret = __mdl_dma_map(dev, size, m);

	if (ret)
		mdl_die("mapping %zu bytes for DMA: %s\n", size, strerror(-ret));
}

int __mdl_dma_unmap_iova(struct mdl_dev *dev, struct mdl_dma *m)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = m->iova, .size = m->size,
	};
	struct iommu_ioas_unmap iounmap = {
		.size = sizeof(iounmap), .ioas_id = dev->ioas, .iova = m->iova,
		.length = m->size,
	};

	if (dev->iommufd >= 0)
		return ioctl(dev->iommufd, IOMMU_IOAS_UNMAP, &iounmap) ? -errno : 0;
	return ioctl(dev->container, VFIO_IOMMU_UNMAP_DMA, &unmap) ? -errno : 0;
}

void mdl_dma_free(struct mdl_dev *dev, struct mdl_dma *m)
{
	if (!m->va)
		return;
	if (dev->container >= 0 || dev->iommufd >= 0)
		__mdl_dma_unmap_iova(dev, m);
	munmap(m->va, m->size);
	m->va = NULL;
}

int __mdl_dma_map_at(struct mdl_dev *dev, void *va, size_t size, uint64_t iova)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .vaddr = (uintptr_t)va, .iova = iova,
		.size = size,
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	};
	struct iommu_ioas_map iomap = {
		.size = sizeof(iomap),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = dev->ioas, .user_va = (uintptr_t)va, .length = size,
		.iova = iova,
	};

	if (dev->iommufd >= 0)
		return ioctl(dev->iommufd, IOMMU_IOAS_MAP, &iomap) ? -errno : 0;
	return ioctl(dev->container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

int __mdl_open_backend(const char *uuid, struct mdl_dev *dev,
		       enum mdl_backend backend)
{
	if (backend == MDL_IOMMUFD)
		return __mdl_open_cdev(uuid, dev, 1);
	return __mdl_open(uuid, dev);
}

int __mdl_create_open(unsigned int type, enum mdl_backend backend,
		      char uuid[MDL_UUID_LEN], struct mdl_dev *dev)
{
	int ret;

	dev->fd = -1;
	ret = __mdl_create(mdl_parent(), type, uuid);
	if (ret)
		return ret;
	ret = __mdl_open_backend(uuid, dev, backend);
	if (ret == -ENODEV)
		mdl_remove(uuid);
	return ret;
}
