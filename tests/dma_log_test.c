// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA logging (VFIO_DEVICE_FEATURE_DMA_LOGGING_*): the device reports the
 * guest pages it wrote, and only those, once.  Offered only where the
 * kernel has CONFIG_IOMMUFD_DRIVER (the debug kernel); skipped elsewhere.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "dma_fixture.h"

static int logging(struct mdl_dev *d, uint32_t feature, void *data, size_t len)
{
	size_t sz = sizeof(struct vfio_device_feature) + len;
	struct vfio_device_feature *f = calloc(1, sz);
	int ret;

	f->argsz = sz;
	f->flags = feature;
	memcpy(f->data, data, len);
	ret = ioctl(d->fd, VFIO_DEVICE_FEATURE, f) ? -errno : 0;
	free(f);
	return ret;
}

static int log_start(struct mdl_dev *d, uint64_t iova, uint64_t len)
{
	struct vfio_device_feature_dma_logging_range r = { .iova = iova, .length = len };
	struct vfio_device_feature_dma_logging_control c = {
		.page_size = 4096, .num_ranges = 1, .ranges = (uintptr_t)&r,
	};

	return logging(d, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
		       &c, sizeof(c));
}

static int log_report(struct mdl_dev *d, uint64_t iova, uint64_t len, uint64_t *bits)
{
	struct vfio_device_feature_dma_logging_report r = {
		.iova = iova, .length = len, .page_size = 4096, .bitmap = (uintptr_t)bits,
	};

	return logging(d, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
		       &r, sizeof(r));
}

TEST_F(dma, dma_logging_reports_device_writes)
{
	uint64_t bits[BUF_SIZE / 4096 / 64];
	struct migdev_desc d;
	unsigned int i, set = 0;
	int ret;

	ret = log_start(&self->d, self->b.iova, BUF_SIZE);
	if (ret == -ENOTTY)
		SKIP(return, "no DMA logging: the kernel lacks CONFIG_IOMMUFD_DRIVER");
	ASSERT_EQ(0, ret);
	/* A second start without a stop is refused. */
	EXPECT_EQ(-EBUSY, log_start(&self->d, self->b.iova, BUF_SIZE));

	/* The device writes pages 3..5 (and reads a, which is not logged). */
	d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, self->b.iova + 3 * 4096 + 100,
		     2 * 4096, 0);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	memset(bits, 0, sizeof(bits));
	ASSERT_EQ(0, log_report(&self->d, self->b.iova, BUF_SIZE, bits));
	for (i = 0; i < BUF_SIZE / 4096; i++)
		if ((bits[i / 64] >> (i % 64)) & 1) {
			set++;
			EXPECT_TRUE(i >= 3 && i <= 5) TH_LOG("page %u reported", i);
		}
	EXPECT_EQ(3, set);
	/* Reported once: read and cleared. */
	memset(bits, 0, sizeof(bits));
	ASSERT_EQ(0, log_report(&self->d, self->b.iova, BUF_SIZE, bits));
	for (i = 0; i < ARRAY_SIZE(bits); i++)
		EXPECT_EQ(0, bits[i]);
	ASSERT_EQ(0, logging(&self->d, VFIO_DEVICE_FEATURE_SET |
			     VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0));
	/* Stopped: a report is refused, a new start works. */
	EXPECT_NE(0, log_report(&self->d, self->b.iova, BUF_SIZE, bits));
	EXPECT_EQ(0, log_start(&self->d, self->b.iova, BUF_SIZE));
}

/*
 * A user that closes the device without DMA_LOGGING_STOP (QEMU, after a
 * migration) must not leave its log to the next user, whose start would
 * be refused with -EBUSY.
 */
TEST_F(dma, dma_logging_ends_with_close)
{
	uint64_t bits[BUF_SIZE / 4096 / 64];
	int ret;

	ret = log_start(&self->d, self->b.iova, BUF_SIZE);
	if (ret == -ENOTTY)
		SKIP(return, "no DMA logging: the kernel lacks CONFIG_IOMMUFD_DRIVER");
	ASSERT_EQ(0, ret);
	mdl_close(&self->d);
	ASSERT_EQ(0, __mdl_open(self->uuid, &self->d));
	/* Not logging: a report is refused, and a start works. */
	EXPECT_NE(0, log_report(&self->d, self->b.iova, BUF_SIZE, bits));
	EXPECT_EQ(0, log_start(&self->d, self->b.iova, BUF_SIZE));
}

TEST_HARNESS_MAIN
