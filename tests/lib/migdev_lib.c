// SPDX-License-Identifier: GPL-2.0-only
/*
 * libmigdev: see migdev_lib.h.
 */
#include <dirent.h>
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
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/userfaultfd.h>

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

int mdl_kernel_has_fix(const char *name)
{
	const char *fixes = getenv("MIGDEV_KERNEL_FIXES"), *p;
	size_t n = strlen(name);

	/* A whole word of the space-separated list. */
	for (p = fixes; p && (p = strstr(p, name)); p += n)
		if ((p == fixes || p[-1] == ' ') && (!p[n] || p[n] == ' '))
			return 1;
	return 0;
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

void mdl_bus_master(struct mdl_dev *dev, int on)
{
	uint32_t cmd = mdl_cfg_read(dev, PCI_COMMAND, 2);

	if (on)
		cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	else
		cmd &= ~PCI_COMMAND_MASTER;
	mdl_cfg_write(dev, PCI_COMMAND, 2, cmd);
}

uint32_t mdl_qread32(struct mdl_dev *dev, unsigned int q, unsigned int reg)
{
	return mdl_read32(dev, MIGDEV_REG_QUEUE(q) + reg);
}

void mdl_qwrite32(struct mdl_dev *dev, unsigned int q, unsigned int reg,
		  uint32_t val)
{
	mdl_write32(dev, MIGDEV_REG_QUEUE(q) + reg, val);
}

void mdl_qwrite64(struct mdl_dev *dev, unsigned int q, unsigned int reg,
		  uint64_t val)
{
	mdl_write64(dev, MIGDEV_REG_QUEUE(q) + reg, val);
}

int __mdl_queue_init(struct mdl_dev *dev, unsigned int index, uint32_t size,
		     struct mdl_queue *q)
{
	int ret;

	memset(q, 0, sizeof(*q));
	q->dev = dev;
	q->index = index;
	q->size = size;
	ret = __mdl_dma_map(dev, size * sizeof(struct migdev_desc), &q->ring);
	if (ret)
		return ret;
	ret = __mdl_dma_map(dev, size * sizeof(struct migdev_completion),
			    &q->compl);
	if (ret) {
		mdl_dma_free(dev, &q->ring);
		return ret;
	}
	q->descs = q->ring.va;
	q->cpl = q->compl.va;
	ret = mdl_queue_disable(dev, index, 5000);
	if (ret) {
		mdl_dma_free(dev, &q->ring);
		mdl_dma_free(dev, &q->compl);
		return ret;
	}
	mdl_qwrite64(dev, index, MIGDEV_Q_RING_BASE, q->ring.iova);
	mdl_qwrite32(dev, index, MIGDEV_Q_RING_SIZE, size);
	mdl_qwrite64(dev, index, MIGDEV_Q_COMPL_BASE, q->compl.iova);
	mdl_qwrite32(dev, index, MIGDEV_Q_CTRL, MIGDEV_Q_CTRL_ENABLE);
	if (!(mdl_qread32(dev, index, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_ENABLED))
		return -EIO;
	return 0;
}

int mdl_queue_disable(struct mdl_dev *dev, unsigned int index,
		      unsigned int timeout_ms)
{
	unsigned int i;

	mdl_qwrite32(dev, index, MIGDEV_Q_CTRL, 0);
	for (i = 0; i <= timeout_ms * 10; i++) {
		if (!(mdl_qread32(dev, index, MIGDEV_Q_STATUS) &
		      MIGDEV_Q_STATUS_BUSY))
			return 0;
		usleep(100);
	}
	return -EBUSY;
}

int mdl_wait_in_flight(struct mdl_queue *q, uint32_t n, int timeout_ms)
{
	double end = mdl_now() + timeout_ms / 1000.0;

	do {
		if (mdl_qread32(q->dev, q->index, MIGDEV_Q_STATUS) &
		    MIGDEV_Q_STATUS_BUSY)
			return 1;
		if (mdl_cpl(q, n)->status)
			return 0;
		usleep(100);
	} while (mdl_now() < end);
	return 0;
}

void mdl_queue_init(struct mdl_dev *dev, unsigned int index, uint32_t size,
		    struct mdl_queue *q)
{
	int ret = __mdl_queue_init(dev, index, size, q);

	if (ret)
		mdl_die("setting up queue %u: %s\n", index, strerror(-ret));
}

void mdl_queue_fini(struct mdl_queue *q)
{
	if (!q->dev)
		return;
	if (q->dev->fd >= 0)
		mdl_qwrite32(q->dev, q->index, MIGDEV_Q_CTRL, 0);
	mdl_dma_free(q->dev, &q->ring);
	mdl_dma_free(q->dev, &q->compl);
	q->dev = NULL;
}

struct migdev_desc mdl_desc(uint16_t op, uint64_t src, uint64_t dst,
			    uint32_t len, uint16_t flags)
{
	struct migdev_desc d;

	memset(&d, 0, sizeof(d));
	d.opcode = htole16(op);
	d.flags = htole16(flags);
	d.len = htole32(len);
	d.src = htole64(src);
	d.dst = htole64(dst);
	return d;
}

struct migdev_completion *mdl_cpl(struct mdl_queue *q, uint32_t n)
{
	return &q->cpl[n & (q->size - 1)];
}

uint32_t mdl_post(struct mdl_queue *q, const struct migdev_desc *d)
{
	uint32_t n = q->tail++;

	memset(mdl_cpl(q, n), 0, sizeof(struct migdev_completion));
	q->descs[n & (q->size - 1)] = *d;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return n;
}

void mdl_doorbell(struct mdl_queue *q)
{
	mdl_qwrite32(q->dev, q->index, MIGDEV_Q_TAIL, q->tail);
}

uint32_t mdl_submit(struct mdl_queue *q, const struct migdev_desc *d)
{
	uint32_t n = mdl_post(q, d);

	mdl_doorbell(q);
	return n;
}

double mdl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint32_t mdl_wait(struct mdl_queue *q, uint32_t n, int timeout_ms)
{
	uint32_t *st = &mdl_cpl(q, n)->status;
	double end = mdl_now() + timeout_ms / 1000.0;
	unsigned int spins = 0;
	uint32_t v;

	for (;;) {
		v = le32toh(__atomic_load_n(st, __ATOMIC_ACQUIRE));
		if (v)
			return v;
		if (mdl_now() > end)
			return 0;
		if (++spins > 1000)
			usleep(100);
	}
}

uint32_t mdl_run(struct mdl_queue *q, const struct migdev_desc *d)
{
	return mdl_wait(q, mdl_submit(q, d), 60000);
}

uint32_t mdl_crc32c(const void *buf, size_t len)
{
	static uint32_t table[256];
	const uint8_t *p = buf;
	uint32_t crc = ~0U;
	size_t i;

	if (!table[1]) {
		for (i = 0; i < 256; i++) {
			uint32_t c = i;
			int k;

			for (k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
			table[i] = c;
		}
	}
	for (i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

void mdl_fill_random(void *p, size_t n, unsigned int seed)
{
	uint32_t *w = p, x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n / 4; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		w[i] = x;
	}
}

void mdl_dirty_device(struct mdl_dev *dev, unsigned int seed)
{
	static uint8_t page[4096];
	unsigned int i;

	for (i = 0; i < 24; i++) {
		mdl_fill_random(page, sizeof(page), seed + i);
		mdl_pwrite(dev, VFIO_PCI_BAR2_REGION_INDEX,
			   (uint64_t)(i * 37 % 512) << 12, page, sizeof(page));
	}
	mdl_write64(dev, MIGDEV_REG_SCRATCH, 0xabcdef0000000000ULL | seed);
	mdl_cfg_write(dev, PCI_BASE_ADDRESS_0, 4, 0xfe000000);
	mdl_cfg_write(dev, PCI_CACHE_LINE_SIZE, 1, 0x10);
}

static void mdl_debugfs_path(char *path, size_t len, const char *uuid,
			     const char *file)
{
	snprintf(path, len, "/sys/kernel/debug/migdev/%s/%s", uuid, file);
}

int mdl_pause(const char *uuid, int pause)
{
	char path[PATH_MAX];

	mdl_debugfs_path(path, sizeof(path), uuid, "engine_pause");
	return mdl_sysfs_write(path, pause ? "1" : "0");
}

long long mdl_last_pause_ns(const char *uuid)
{
	char path[PATH_MAX], buf[128];
	long long ns = -1;
	int paused;

	mdl_debugfs_path(path, sizeof(path), uuid, "engine_pause");
	if (mdl_sysfs_read(path, buf, sizeof(buf)))
		return -1;
	if (sscanf(buf, "paused %d last_pause_ns %lld", &paused, &ns) != 2)
		return -1;
	return ns;
}

long mdl_collect_dirty(const char *uuid, uint64_t *bits, size_t nbits)
{
	char path[PATH_MAX];
	unsigned long a, b, i;
	long n = 0;
	FILE *f;

	mdl_debugfs_path(path, sizeof(path), uuid, "devmem_dirty");
	f = fopen(path, "r");
	if (!f)
		return -errno;
	memset(bits, 0, (nbits + 63) / 64 * 8);
	while (fscanf(f, "%lu-%lu", &a, &b) == 2) {
		for (i = a; i <= b && i < nbits; i++) {
			bits[i / 64] |= 1ULL << (i % 64);
			n++;
		}
	}
	fclose(f);
	return n;
}

static int mdl_feature(struct mdl_dev *dev, uint32_t flags, void *data,
		       size_t len)
{
	size_t sz = sizeof(struct vfio_device_feature) + len;
	struct vfio_device_feature *f = calloc(1, sz);
	int ret;

	if (!f)
		return -ENOMEM;
	f->argsz = sz;
	f->flags = flags;
	memcpy(f->data, data, len);
	ret = ioctl(dev->fd, VFIO_DEVICE_FEATURE, f) ? -errno : 0;
	memcpy(data, f->data, len);
	free(f);
	return ret;
}

int __mdl_mig_set(struct mdl_dev *dev, uint32_t state, int *data_fd)
{
	struct vfio_device_feature_mig_state st = { .device_state = state };
	int ret;

	ret = mdl_feature(dev, VFIO_DEVICE_FEATURE_SET |
			  VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &st, sizeof(st));
	if (data_fd)
		*data_fd = ret ? -1 : st.data_fd;
	else if (!ret && st.data_fd >= 0)
		close(st.data_fd);
	return ret;
}

uint32_t mdl_mig_get(struct mdl_dev *dev)
{
	struct vfio_device_feature_mig_state st = {};

	if (mdl_feature(dev, VFIO_DEVICE_FEATURE_GET |
			VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &st, sizeof(st)))
		return ~0U;
	return st.device_state;
}

int __mdl_mig_flags(struct mdl_dev *dev, uint64_t *flags)
{
	struct vfio_device_feature_migration m = {};
	int ret = mdl_feature(dev, VFIO_DEVICE_FEATURE_GET |
			      VFIO_DEVICE_FEATURE_MIGRATION, &m, sizeof(m));

	*flags = m.flags;
	return ret;
}

int __mdl_mig_data_size(struct mdl_dev *dev, uint64_t *bytes)
{
	struct vfio_device_feature_mig_data_size s = {};
	int ret = mdl_feature(dev, VFIO_DEVICE_FEATURE_GET |
			      VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &s, sizeof(s));

	*bytes = s.stop_copy_length;
	return ret;
}

int __mdl_precopy_info(int fd, uint64_t *initial, uint64_t *dirty)
{
	struct vfio_precopy_info info = { .argsz = sizeof(info) };

	if (ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info))
		return -errno;
	*initial = info.initial_bytes;
	*dirty = info.dirty_bytes;
	return 0;
}

ssize_t mdl_read_all(int fd, uint8_t **buf, size_t *cap)
{
	size_t len = 0;

	for (;;) {
		ssize_t n;

		if (len + (1 << 20) > *cap) {
			size_t ncap = *cap * 2 + (2 << 20);
			uint8_t *nb = realloc(*buf, ncap);

			if (!nb)
				return -ENOMEM;
			*buf = nb;
			*cap = ncap;
		}
		n = read(fd, *buf + len, 1 << 20);
		if (n < 0)
			return -errno;
		if (!n)
			return len;
		len += n;
	}
}

int mdl_write_all(int fd, const void *buf, size_t len, size_t chunk)
{
	size_t done = 0;

	while (done < len) {
		size_t n = len - done < chunk ? len - done : chunk;
		ssize_t w = write(fd, (const char *)buf + done, n);

		if (w < 0)
			return -errno;
		done += w;
	}
	return 0;
}

ssize_t mdl_save(struct mdl_dev *src, uint8_t **buf, size_t *cap)
{
	ssize_t len;
	int fd, ret;

	ret = __mdl_mig_set(src, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	if (ret)
		return ret;
	len = mdl_read_all(fd, buf, cap);
	close(fd);
	return len;
}

int mdl_load(struct mdl_dev *dst, const void *buf, size_t len, size_t chunk)
{
	int fd, ret;

	ret = __mdl_mig_set(dst, VFIO_DEVICE_STATE_RESUMING, &fd);
	if (ret)
		return ret;
	ret = mdl_write_all(fd, buf, len, chunk);
	close(fd);
	if (ret)
		return ret;
	return __mdl_mig_set(dst, VFIO_DEVICE_STATE_RUNNING, NULL);
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

/* --- userfaultfd: a page whose first access blocks until resolved --- */

int mdl_stall_init_at(struct mdl_stall *s, void *page)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	long psize = sysconf(_SC_PAGESIZE);

	s->page = MAP_FAILED;
	s->owned = !page;
	s->fuse = NULL;
	s->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (s->uffd < 0)
		return -errno;
	/* Faults say which thread took them, where the kernel can. */
	api.features = UFFD_FEATURE_THREAD_ID;
	if (ioctl(s->uffd, UFFDIO_API, &api)) {
		close(s->uffd);
		s->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
		api.api = UFFD_API;
		api.features = 0;
		if (s->uffd < 0 || ioctl(s->uffd, UFFDIO_API, &api))
			return -errno;
	}
	s->ptid = 0;
	s->page = page ? page : mmap(NULL, psize, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->page == MAP_FAILED)
		return -errno;
	reg.range.start = (uintptr_t)s->page;
	reg.range.len = psize;
	if (ioctl(s->uffd, UFFDIO_REGISTER, &reg))
		return -errno;
	return 0;
}

int mdl_stall_init(struct mdl_stall *s)
{
	return mdl_stall_init_at(s, NULL);
}

int mdl_stall_init_fuse_at(struct mdl_stall *s, void *page)
{
	long psize = sysconf(_SC_PAGESIZE);
	int fd, ret;

	s->uffd = -1;
	s->ptid = 0;
	s->page = MAP_FAILED;
	s->owned = !page;
	s->fuse = calloc(1, sizeof(*s->fuse));
	if (!s->fuse)
		return -ENOMEM;
	ret = mdl_fuse_start(s->fuse, 1 << 20);
	if (ret) {
		free(s->fuse);
		s->fuse = NULL;
		return ret;
	}
	s->fuse->fill = 0;
	mdl_fuse_freeze(s->fuse, 1);
	fd = open(s->fuse->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	s->page = mmap(page, psize, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | (page ? MAP_FIXED : 0), fd, 0);
	ret = s->page == MAP_FAILED ? -errno : 0;
	close(fd);
	return ret;
}

int mdl_stall_wait_fault(struct mdl_stall *s, int ms)
{
	struct pollfd p = { .fd = s->uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (s->fuse) {
		if (mdl_fuse_wait_held(s->fuse, 1, ms) < 1)
			return 0;
		s->ptid = s->fuse->held_tid;
		return 1;
	}

	if (poll(&p, 1, ms) != 1)
		return 0;
	if (read(s->uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT)
		return 0;
	s->ptid = msg.arg.pagefault.feat.ptid;
	return 1;
}

void mdl_stall_release(struct mdl_stall *s)
{
	struct uffdio_zeropage z = {
		.range = { .start = (uintptr_t)s->page,
			   .len = sysconf(_SC_PAGESIZE) },
	};

	if (s->fuse)
		mdl_fuse_freeze(s->fuse, 0);
	else
		ioctl(s->uffd, UFFDIO_ZEROPAGE, &z);
}

void mdl_stall_release_with(struct mdl_stall *s, const void *data)
{
	struct uffdio_copy c = {
		.dst = (uintptr_t)s->page, .src = (uintptr_t)data,
		.len = sysconf(_SC_PAGESIZE),
	};

	ioctl(s->uffd, UFFDIO_COPY, &c);
}

void mdl_stall_fini(struct mdl_stall *s)
{
	if (s->page != MAP_FAILED && s->owned)
		munmap(s->page, sysconf(_SC_PAGESIZE));
	if (s->uffd >= 0)
		close(s->uffd);
	if (s->fuse) {
		/* A page of the caller's is anonymous again. */
		if (s->page != MAP_FAILED && !s->owned)
			mmap(s->page, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		mdl_fuse_stop(s->fuse);
		free(s->fuse);
		s->fuse = NULL;
	}
}
