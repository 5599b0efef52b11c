// SPDX-License-Identifier: GPL-2.0-only
/*
 * libmigdev (see migdev_lib.h): migration: the device states, data_fd I/O,
 * whole saves and loads, dirty tracking, and debugfs.
 */
#include "mdl_internal.h"

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

int mdl_fault(const char *uuid, const char *text)
{
	return mdl_debugfs_write(uuid, "faults", text);
}

int mdl_debugfs_write(const char *uuid, const char *file, const char *text)
{
	size_t len = strlen(text);
	char path[PATH_MAX];
	int fd, ret = 0;

	mdl_debugfs_path(path, sizeof(path), uuid, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		ret = -errno;
	close(fd);
	return ret;
}

long long mdl_stat(const char *uuid, const char *name)
{
	char path[PATH_MAX], buf[2048];
	size_t n = strlen(name);
	const char *p;

	mdl_debugfs_path(path, sizeof(path), uuid, "stats");
	if (mdl_sysfs_read(path, buf, sizeof(buf)))
		return -1;
	for (p = buf; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 0);
	return -1;
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

int __mdl_dma_mirror(struct mdl_dev *dst, const struct mdl_queue *q,
		     const struct mdl_dma *a, const struct mdl_dma *b)
{
	const struct mdl_dma *m[] = { &q->ring, &q->compl, a, b };
	unsigned int i;
	int ret;

	for (i = 0; i < 4; i++) {
		ret = __mdl_dma_map_at(dst, m[i]->va, m[i]->size, m[i]->iova);
		if (ret)
			return ret;
	}
	return 0;
}
