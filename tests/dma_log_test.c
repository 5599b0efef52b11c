// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA logging (VFIO_DEVICE_FEATURE_DMA_LOGGING_*): the device reports the
 * guest pages it wrote, and only those, once.  Offered only where the
 * kernel has CONFIG_IOMMUFD_DRIVER (the debug kernel); skipped elsewhere.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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

static int log_start_pgsize(struct mdl_dev *d, uint64_t iova, uint64_t len,
			    uint64_t *page_size)
{
	struct vfio_device_feature_dma_logging_range r = { .iova = iova, .length = len };
	struct vfio_device_feature_dma_logging_control c = {
		.page_size = *page_size, .num_ranges = 1, .ranges = (uintptr_t)&r,
	};
	size_t sz = sizeof(struct vfio_device_feature) + sizeof(c);
	struct vfio_device_feature *f = calloc(1, sz);
	int ret;

	f->argsz = sz;
	f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
	memcpy(f->data, &c, sizeof(c));
	ret = ioctl(d->fd, VFIO_DEVICE_FEATURE, f) ? -errno : 0;
	memcpy(&c, f->data, sizeof(c));
	*page_size = c.page_size;
	free(f);
	return ret;
}

/*
 * The tracking page size is the user's: above 2^63 the module rounded it
 * up with a shift by 64 (UBSAN on the debug kernel).  Sizes that are not a
 * power of two or are past 1 GiB are refused; smaller ones than a page
 * become a page; and a valid start works after the refusals.
 */
TEST_F(dma, dma_logging_page_size)
{
	static const uint64_t bad[] = { 0, 3, 4097, 1ULL << 31, (1ULL << 63) + 1,
					1ULL << 63, ~0ULL };
	uint64_t pgsize = 4096;
	unsigned int i;
	int ret;

	ret = log_start_pgsize(&self->d, self->b.iova, BUF_SIZE, &pgsize);
	if (ret == -ENOTTY)
		SKIP(return, "no DMA logging: the kernel lacks CONFIG_IOMMUFD_DRIVER");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, logging(&self->d, VFIO_DEVICE_FEATURE_SET |
			     VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		pgsize = bad[i];
		EXPECT_EQ(-EINVAL, log_start_pgsize(&self->d, self->b.iova,
						    BUF_SIZE, &pgsize))
			TH_LOG("page size 0x%llx", (unsigned long long)bad[i]);
	}
	pgsize = 512;
	EXPECT_EQ(0, log_start_pgsize(&self->d, self->b.iova, BUF_SIZE, &pgsize));
	EXPECT_EQ(4096, pgsize);
}

/*
 * A write that fails part way (its first page mapped, the next not): the
 * descriptor fails, and nothing moves (Documentation: "addresses that are
 * unmapped ... nothing moves"); a device that wrote the first page anyway
 * must have logged it.  Through vfio_dma_rw() the first page was written;
 * through pins the device writes all of a chunk or nothing.
 */
TEST_F(dma, dma_logging_reports_partial_writes)
{
	const uint64_t iova = 1ULL << 40;	/* then a hole */
	uint64_t bits[1] = { 0 };
	static uint8_t zero[4096];
	struct migdev_desc d;
	uint8_t *page;
	int ret;

	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		    -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	memset(page, 0, 4096);
	ASSERT_EQ(0, __mdl_dma_map_at(&self->d, page, 4096, iova));
	ret = log_start(&self->d, iova, 2 * 4096);
	if (ret == -ENOTTY)
		SKIP(return, "no DMA logging: the kernel lacks CONFIG_IOMMUFD_DRIVER");
	ASSERT_EQ(0, ret);
	d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, iova, 2 * 4096, 0);
	EXPECT_EQ(MIGDEV_STATUS_BAD_ADDRESS, mdl_run(&self->q, &d));
	ASSERT_EQ(0, log_report(&self->d, iova, 2 * 4096, bits));
	if (memcmp(page, zero, 4096))
		EXPECT_TRUE(bits[0] & 1) TH_LOG("a written page is not in the log");
	EXPECT_EQ(0, memcmp(page, zero, 4096))
		TH_LOG("a failed copy wrote part of its destination");
	/* The device works on. */
	memset(self->b.va, 0, 4096);
	d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, self->b.iova, 4096, 0);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(0, memcmp(self->a.va, self->b.va, 4096));
	munmap(page, 4096);
}

struct report_call {
	pthread_t t;
	struct mdl_dev *d;
	uint64_t iova, len;
	uint64_t *bits;
	int ret;
};

static void *report_thread(void *arg)
{
	struct report_call *c = arg;

	c->ret = log_report(c->d, c->iova, c->len, c->bits);
	return NULL;
}

/*
 * A report may fault on the user's bitmap, and under the log's lock: when
 * a tracked page (2 MiB here) crosses the end of the part of the bitmap
 * the core pinned (512 pages of it, 64 GiB of IOVA at 4 KiB), setting its
 * bits pins the next part.  With that part on a userfaultfd page nobody
 * serves (or on a FUSE file whose daemon holds the read), the report
 * waits, and the device's next write, which it logs, must not wait with
 * it: its engine step would hold an engine and the device's lock for as
 * long as the user likes.
 */
static void report_stall(struct __test_metadata *_metadata,
			 struct mdl_dev *dev, struct mdl_queue *q,
			 struct mdl_dma *a, struct mdl_dma *b, unsigned int kind)
{
	const uint64_t base = 1ULL << 40, span = 128ULL << 30, window = 64ULL << 30;
	const size_t bmsize = span / 4096 / 8;	/* 4 MiB */
	struct report_call rc = { .d = dev };
	uint64_t pgsize = 2 << 20;
	struct migdev_desc d;
	struct mdl_dma m;
	struct mdl_stall s;
	uint8_t *bm, *page;
	uint64_t bit;
	int ret;

	bm = mmap(NULL, bmsize, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bm);
	ASSERT_NE(MAP_FAILED, page);
	ret = log_start_pgsize(dev, base, span, &pgsize);
	if (ret == -ENOTTY)
		SKIP(return, "no DMA logging: the kernel lacks CONFIG_IOMMUFD_DRIVER");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(2 << 20, pgsize);
	ret = kind ? mdl_stall_init_fuse_at(&s, bm + bmsize / 2) :
		     mdl_stall_init_at(&s, bm + bmsize / 2);
	if (ret) {
		TH_LOG("no %s: %s", kind ? "FUSE" : "userfaultfd", strerror(-ret));
		goto out;
	}

	/* The device writes the first 2 MiB page past the first window. */
	ASSERT_EQ(0, __mdl_dma_map_at(dev, page, 4096, base + window));
	d = mdl_desc(MIGDEV_OP_COPY, a->iova, base + window, 4096, 0);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(q, &d));

	/* A report from 4 KiB on: that page crosses its first window. */
	rc.iova = base + 4096;
	rc.len = span - 4096;
	rc.bits = (uint64_t *)bm;
	ASSERT_EQ(0, pthread_create(&rc.t, NULL, report_thread, &rc));
	ASSERT_EQ(1, mdl_stall_wait_fault(&s, 10000))
		TH_LOG("the report did not reach the stalled part of its bitmap");

	/* Meanwhile the device writes again, logged, and completes. */
	memset(b->va, 0, 4096);
	d = mdl_desc(MIGDEV_OP_COPY, a->iova, b->iova, 4096, 0);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_wait(q, mdl_submit(q, &d), 5000))
		TH_LOG("a write waited for the stalled report");

	mdl_stall_release(&s);
	ASSERT_EQ(0, pthread_join(rc.t, NULL));
	EXPECT_EQ(0, rc.ret);
	/* The report has the page written, from its first bit to its last. */
	bit = (window - 4096) / 4096;
	EXPECT_TRUE(rc.bits[bit / 64] >> (bit % 64) & 1);
	bit += 511;
	EXPECT_TRUE(rc.bits[bit / 64] >> (bit % 64) & 1);
	EXPECT_EQ(0, memcmp(a->va, b->va, 4096));
	m.va = page;
	m.iova = base + window;
	m.size = 4096;
	EXPECT_EQ(0, __mdl_dma_unmap_iova(dev, &m));
out:
	mdl_stall_fini(&s);
	EXPECT_EQ(0, logging(dev, VFIO_DEVICE_FEATURE_SET |
			     VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0));
	munmap(bm, bmsize);
	munmap(page, 4096);
}

/*
 * Fault rules at DMA logging's start and report (debugfs faults): the
 * call fails with the rule's errno and changes nothing; the next call,
 * the rule spent, works, and a report still holds every page written.
 */
TEST_F(dma, dma_logging_faults)
{
	uint64_t bits[BUF_SIZE / 4096 / 64];
	struct migdev_desc d;
	unsigned int i, set = 0;
	int ret;

	ASSERT_EQ(0, mdl_fault(self->uuid, "dma_log_start fail=ENOSPC nth=1"));
	ASSERT_EQ(0, mdl_fault(self->uuid, "dma_log_report fail=EIO nth=1"));
	ret = log_start(&self->d, self->b.iova, BUF_SIZE);
	if (ret == -ENOTTY)
		SKIP(return, "no DMA logging: the kernel lacks CONFIG_IOMMUFD_DRIVER");
	EXPECT_EQ(-ENOSPC, ret);
	/* Not started: a report is refused (and is not the rule's hit). */
	EXPECT_EQ(-EINVAL, log_report(&self->d, self->b.iova, BUF_SIZE, bits));
	ASSERT_EQ(0, log_start(&self->d, self->b.iova, BUF_SIZE));
	d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, self->b.iova, 4 * 4096, 0);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	memset(bits, 0, sizeof(bits));
	EXPECT_EQ(-EIO, log_report(&self->d, self->b.iova, BUF_SIZE, bits));
	EXPECT_EQ(0, bits[0]);
	/* The failed report cleared nothing: all four pages come now. */
	ASSERT_EQ(0, log_report(&self->d, self->b.iova, BUF_SIZE, bits));
	for (i = 0; i < BUF_SIZE / 4096; i++)
		set += (bits[i / 64] >> (i % 64)) & 1;
	EXPECT_EQ(4, set);
	EXPECT_EQ(0x0f, bits[0]);
	ASSERT_EQ(0, mdl_fault(self->uuid, "clear"));
}

/* The bitmap's page stalls on a userfaultfd, and on a FUSE file. */
TEST_F(dma, dma_logging_report_stall_blocks_no_dma)
{
	report_stall(_metadata, &self->d, &self->q, &self->a, &self->b, 0);
	report_stall(_metadata, &self->d, &self->q, &self->a, &self->b, 1);
}

TEST_HARNESS_MAIN
