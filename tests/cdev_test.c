// SPDX-License-Identifier: GPL-2.0-only
/*
 * What only the vfio cdev + iommufd path has: an instance opened through
 * /dev/vfio/devices/vfioN and bound to an iommufd (the driver's emulated
 * iommufd access) excludes its group, refuses bad binds and attaches, and
 * migrates in both directions between the two paths.  (Everything else,
 * device info, config space, DMA through an IOAS with the data verified,
 * DMA logging, runs over both paths as the variant small_iommufd of the
 * shared fixtures, lib/dev_fixture.h and lib/dma_fixture.h.)
 * Detaching the IOAS or unmapping memory under the device is an error
 * status, never a crash, and the device works again after.  Needs a
 * kernel with CONFIG_VFIO_DEVICE_CDEV (the debug kernel); skipped elsewhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "migdev_lib.h"

#define BUF_SIZE	(4u << 20)
#define BAR2		VFIO_PCI_BAR2_REGION_INDEX

FIXTURE(cdev) {
	char uuid[MDL_UUID_LEN];
	struct mdl_dev d;
	struct mdl_queue q;
	struct mdl_dma a, b;
};

FIXTURE_SETUP(cdev)
{
	unsigned int i;
	int ret;

	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, self->uuid));
	ret = __mdl_open_cdev(self->uuid, &self->d, 1);
	if (ret) {
		/* A setup that fails or skips gets no teardown. */
		mdl_remove(self->uuid);
		if (ret == -ENODEV)
			SKIP(return, MDL_NO_CDEV);
		ASSERT_EQ(0, ret);
	}
	mdl_bus_master(&self->d, 1);
	ASSERT_EQ(0, __mdl_queue_init(&self->d, 0, 64, &self->q));
	ASSERT_EQ(0, __mdl_dma_map(&self->d, BUF_SIZE, &self->a));
	ASSERT_EQ(0, __mdl_dma_map(&self->d, BUF_SIZE, &self->b));
	srandom(42);
	for (i = 0; i < BUF_SIZE / 4; i++)
		((uint32_t *)self->a.va)[i] = random();
}

FIXTURE_TEARDOWN(cdev)
{
	mdl_close(&self->d);
	if (self->uuid[0] && mdl_exists(self->uuid))
		EXPECT_EQ(0, __mdl_remove(self->uuid));
}

/* The group of an instance, /dev/vfio/N. */
static void group_path(const char *uuid, char *path, size_t len)
{
	char link[PATH_MAX], sys[PATH_MAX];
	ssize_t n;

	snprintf(sys, sizeof(sys), "/sys/bus/mdev/devices/%s/iommu_group", uuid);
	n = readlink(sys, link, sizeof(link) - 1);
	link[n < 0 ? 0 : n] = 0;
	snprintf(path, len, "/dev/vfio/%s", basename(link));
}

static uint32_t wait_halted(struct mdl_dev *d)
{
	double end = mdl_now() + 30;

	while (!(mdl_qread32(d, 0, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_HALTED) &&
	       mdl_now() < end)
		usleep(1000);
	return mdl_qread32(d, 0, MIGDEV_Q_STATUS);
}

/* The device is the cdev's alone: its group cannot be opened meanwhile. */
TEST_F(cdev, group_path_refused_while_bound)
{
	struct migdev_desc d = mdl_desc(MIGDEV_OP_COPY, 0, 0, 4096, 0);
	struct mdl_dev g;
	char path[PATH_MAX];
	int fd;

	group_path(self->uuid, path, sizeof(path));
	fd = open(path, O_RDWR);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EBUSY, errno);
	if (fd >= 0)
		close(fd);

	/* Closed, the instance opens through its group and works. */
	mdl_close(&self->d);
	munmap(self->a.va, self->a.size);
	munmap(self->b.va, self->b.size);
	ASSERT_EQ(0, __mdl_open(self->uuid, &g));
	mdl_bus_master(&g, 1);
	mdl_queue_init(&g, 0, 16, &self->q);
	mdl_dma_map(&g, BUF_SIZE, &self->a);
	mdl_dma_map(&g, BUF_SIZE, &self->b);
	memset(self->a.va, 0x3c, 4096);
	d.src = htole64(self->a.iova);
	d.dst = htole64(self->b.iova);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(0x3c, ((unsigned char *)self->b.va)[4095]);
	mdl_close(&g);
}

/* Bad binds and attaches are refused, and the device stays usable. */
TEST_F(cdev, bad_bind_and_attach)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct migdev_desc d = mdl_desc(MIGDEV_OP_COPY, self->a.iova,
					self->b.iova, 4096, 0);
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };

	/* Bound already. */
	bind.iommufd = self->d.iommufd;
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	EXPECT_EQ(EINVAL, errno);
	/* No such object, and an object that is not an IOAS or HWPT. */
	at.pt_id = 0xdead;
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	EXPECT_EQ(ENOENT, errno);
	at.pt_id = self->d.ioas;
	at.flags = 1;
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	EXPECT_EQ(EINVAL, errno);
	/* Still attached to the IOAS it had: DMA works. */
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(0, memcmp(self->a.va, self->b.va, 4096));
}

/*
 * Detached from its IOAS, the device reaches no memory: the queue halts
 * on the ring fetch.  Attached again, it works.
 */
TEST_F(cdev, detached_device_reaches_no_memory)
{
	struct migdev_desc d = mdl_desc(MIGDEV_OP_COPY, self->a.iova,
					self->b.iova, 4096, 0);
	uint32_t count0 = mdl_read32(&self->d, MIGDEV_REG_ERROR_COUNT);

	ASSERT_EQ(0, __mdl_detach_ioas(&self->d));
	mdl_post(&self->q, &d);
	mdl_doorbell(&self->q);
	EXPECT_TRUE(wait_halted(&self->d) & MIGDEV_Q_STATUS_HALTED);
	EXPECT_EQ(MIGDEV_ERR_RING_FETCH, mdl_qread32(&self->d, 0, MIGDEV_Q_ERROR));
	EXPECT_EQ(count0 + 1, mdl_read32(&self->d, MIGDEV_REG_ERROR_COUNT));
	EXPECT_NE(0, memcmp(self->a.va, self->b.va, 4096));

	ASSERT_EQ(0, __mdl_attach_ioas(&self->d, self->d.ioas));
	mdl_queue_fini(&self->q);
	ASSERT_EQ(0, __mdl_queue_init(&self->d, 0, 64, &self->q));
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(0, memcmp(self->a.va, self->b.va, 4096));
}

/* IOMMU_IOAS_UNMAP under a running descriptor: an error status, and on. */
TEST_F_TIMEOUT(cdev, unmap_mid_transfer, 600)
{
	struct mdl_dma big;
	struct migdev_desc d;
	uint32_t n;

	ASSERT_EQ(0, __mdl_dma_map(&self->d, 64u << 20, &big));
	ASSERT_EQ(0, mdl_pause(self->uuid, 1));
	d = mdl_desc(MIGDEV_OP_FILL, 0, big.iova, 64u << 20, 0);
	d.pattern = htole64(0x5555aaaa5555aaaaULL);
	n = mdl_submit(&self->q, &d);
	ASSERT_EQ(0, mdl_pause(self->uuid, 0));
	usleep(5000);
	ASSERT_EQ(0, __mdl_dma_unmap_iova(&self->d, &big));
	EXPECT_EQ(MIGDEV_STATUS_BAD_ADDRESS, mdl_wait(&self->q, n, 60000));
	EXPECT_LT(le64toh(mdl_cpl(&self->q, n)->bytes), 64u << 20);
	munmap(big.va, big.size);
	d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, self->b.iova, 4096, 0);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(0, memcmp(self->a.va, self->b.va, 4096));
}

/* DMA logging on a device bound to an iommufd. */
/*
 * Save @src, load it into @dst, and check @dst's device memory, and that
 * its queue goes on from where @src's was, over @dst's own memory.
 */
static void migrate_and_check(struct __test_metadata *_metadata,
			      struct mdl_dev *src, struct mdl_dev *dst)
{
	unsigned char page[4096], back[4096];
	struct mdl_queue q;
	struct mdl_dma a, b;
	struct migdev_desc d;
	uint8_t *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned int i;

	/* Device memory: pages written through the BAR. */
	for (i = 0; i < 16; i++) {
		memset(page, 0xa0 + i, sizeof(page));
		ASSERT_EQ(4096, mdl_pwrite(src, BAR2, (uint64_t)(i * 37) << 12,
					   page, 4096));
	}
	mdl_bus_master(src, 1);
	len = mdl_save(src, &buf, &cap);
	ASSERT_LT(0, len);
	ASSERT_EQ(0, mdl_load(dst, buf, len, 4096));
	free(buf);
	for (i = 0; i < 16; i++) {
		memset(page, 0xa0 + i, sizeof(page));
		ASSERT_EQ(4096, mdl_pread(dst, BAR2, (uint64_t)(i * 37) << 12,
					  back, 4096));
		EXPECT_EQ(0, memcmp(page, back, 4096)) TH_LOG("page %u", i * 37);
	}
	EXPECT_EQ(PCI_COMMAND_MASTER,
		  mdl_cfg_read(dst, PCI_COMMAND, 2) & PCI_COMMAND_MASTER);

	/* The destination's DMA works over its own IOMMU path. */
	mdl_queue_init(dst, 0, 16, &q);
	mdl_dma_map(dst, 8192, &a);
	mdl_dma_map(dst, 8192, &b);
	d = mdl_desc(MIGDEV_OP_FROM_DEV, 37 << 12, b.iova, 4096, 0);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&q, &d));
	memset(page, 0xa1, sizeof(page));
	EXPECT_EQ(0, memcmp(page, b.va, 4096));
	mdl_queue_fini(&q);
	mdl_dma_free(dst, &a);
	mdl_dma_free(dst, &b);
}

TEST_F_TIMEOUT(cdev, migrate_cdev_to_group, 300)
{
	char uuid[MDL_UUID_LEN];
	struct mdl_dev g;

	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, uuid));
	ASSERT_EQ(0, __mdl_open(uuid, &g));
	migrate_and_check(_metadata, &self->d, &g);
	mdl_close(&g);
	EXPECT_EQ(0, __mdl_remove(uuid));
}

TEST_F_TIMEOUT(cdev, migrate_group_to_cdev, 300)
{
	char uuid[MDL_UUID_LEN];
	struct mdl_dev g;

	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, uuid));
	ASSERT_EQ(0, __mdl_open(uuid, &g));
	migrate_and_check(_metadata, &g, &self->d);
	mdl_close(&g);
	EXPECT_EQ(0, __mdl_remove(uuid));
}

TEST_HARNESS_MAIN
