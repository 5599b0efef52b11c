// SPDX-License-Identifier: GPL-2.0-only
/*
 * Device memory through mmap(), region access and DMA: they agree, and
 * the dirty bitmap sees writes through each of them (and not reads), is
 * cleared when collected, and re-arms mappings for the next write.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "dma_fixture.h"

#define PG 4096

static void *map_bar2(struct mdl_dev *d, size_t len, int prot, int flags)
{
	return mmap(NULL, len, prot, flags, d->fd,
		    mdl_region_off(VFIO_PCI_BAR2_REGION_INDEX));
}

static int bit(const uint64_t *bits, unsigned long i)
{
	return (bits[i / 64] >> (i % 64)) & 1;
}

TEST_F(dma, mmap_refused)
{
	void *p;

	p = map_bar2(&self->d, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, self->d.fd,
		 mdl_region_off(VFIO_PCI_BAR0_REGION_INDEX));
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, self->d.fd,
		 mdl_region_off(VFIO_PCI_CONFIG_REGION_INDEX));
	EXPECT_EQ(MAP_FAILED, p);
	p = map_bar2(&self->d, self->devmem_size + PG, PROT_READ, MAP_SHARED);
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, self->d.fd,
		 mdl_region_off(VFIO_PCI_BAR2_REGION_INDEX) + self->devmem_size);
	EXPECT_EQ(MAP_FAILED, p);
}

/* What one path writes, the others read. */
TEST_F(dma, mmap_region_dma_agree)
{
	size_t len = 16 * PG;
	unsigned char *m = map_bar2(&self->d, len, PROT_READ | PROT_WRITE,
				    MAP_SHARED);
	unsigned char buf[64], *m2;
	struct migdev_desc d;

	ASSERT_NE(MAP_FAILED, m);
	/* Unwritten: zeros everywhere. */
	EXPECT_EQ(0, m[0]);
	EXPECT_EQ(0, m[len - 1]);
	/* mmap -> region */
	memcpy(m + 100, "through the mapping", 20);
	ASSERT_EQ(20, mdl_pread(&self->d, VFIO_PCI_BAR2_REGION_INDEX, 100, buf, 20));
	EXPECT_EQ(0, memcmp(buf, "through the mapping", 20));
	/* region -> mmap, on a page the mapping has not touched */
	ASSERT_EQ(10, mdl_pwrite(&self->d, VFIO_PCI_BAR2_REGION_INDEX, 5 * PG + 1,
				 "the region", 10));
	EXPECT_EQ(0, memcmp(m + 5 * PG + 1, "the region", 10));
	/* DMA -> mmap, and mmap -> DMA */
	d = mdl_desc(MIGDEV_OP_TO_DEV, self->a.iova, 8 * PG, 4 * PG, 0);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(0, memcmp(m + 8 * PG, self->a.va, 4 * PG));
	memset(m + 12 * PG, 0x3c, PG);
	d = mdl_desc(MIGDEV_OP_FROM_DEV, 12 * PG, self->b.iova, PG, 0);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(0x3c, ((unsigned char *)self->b.va)[PG - 1]);
	/* Two mappings of the same memory agree. */
	m2 = map_bar2(&self->d, len, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m2);
	EXPECT_EQ(0, memcmp(m, m2, len));
	munmap(m2, len);
	munmap(m, len);
}

/* Reset frees device memory: mappings see zeros afterwards, not freed
 * pages.
 */
TEST_F(dma, reset_while_mapped)
{
	unsigned char *m = map_bar2(&self->d, 4 * PG, PROT_READ | PROT_WRITE,
				    MAP_SHARED);

	ASSERT_NE(MAP_FAILED, m);
	memset(m, 0x77, 4 * PG);
	EXPECT_EQ(4 * PG, mdl_attr(self->uuid, "devmem_resident"));
	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(0, mdl_attr(self->uuid, "devmem_resident"));
	EXPECT_EQ(0, m[0]);
	EXPECT_EQ(0, m[4 * PG - 1]);
	m[PG] = 1;
	EXPECT_EQ(1, m[PG]);
	munmap(m, 4 * PG);
}

/*
 * The device's discard command (MIGDEV_REG_DEVMEM_CTRL): device memory
 * reads zeros through the mapping and the region and is freed, while the
 * registers and the queue are untouched; a write with other bits set is
 * ignored and the register reads 0.
 */
TEST_F(dma, discard_while_mapped)
{
	unsigned char *m = map_bar2(&self->d, 4 * PG, PROT_READ | PROT_WRITE,
				    MAP_SHARED);
	unsigned char b = 0xff;

	ASSERT_NE(MAP_FAILED, m);
	EXPECT_TRUE(mdl_read64(&self->d, MIGDEV_REG_FEATURES) &
		    MIGDEV_FEATURE_DEVMEM_DISCARD);
	EXPECT_EQ(MIGDEV_ABI_VERSION, mdl_read32(&self->d, MIGDEV_REG_VERSION));
	memset(m, 0x77, 4 * PG);
	mdl_write64(&self->d, MIGDEV_REG_SCRATCH, 0x1234);
	mdl_write32(&self->d, MIGDEV_REG_DEVMEM_CTRL, MIGDEV_DEVMEM_CTRL_DISCARD | 2);
	mdl_write32(&self->d, MIGDEV_REG_DEVMEM_CTRL, 2);
	EXPECT_EQ(4 * PG, mdl_attr(self->uuid, "devmem_resident"));
	EXPECT_EQ(0x77, m[2 * PG]);

	mdl_write32(&self->d, MIGDEV_REG_DEVMEM_CTRL, MIGDEV_DEVMEM_CTRL_DISCARD);
	EXPECT_EQ(0, mdl_attr(self->uuid, "devmem_resident"));
	EXPECT_EQ(0, mdl_read32(&self->d, MIGDEV_REG_DEVMEM_CTRL));
	EXPECT_EQ(0, m[0]);
	EXPECT_EQ(0, m[4 * PG - 1]);
	ASSERT_EQ(1, mdl_pread(&self->d, VFIO_PCI_BAR2_REGION_INDEX, 2 * PG, &b, 1));
	EXPECT_EQ(0, b);
	EXPECT_EQ(0x1234, mdl_read64(&self->d, MIGDEV_REG_SCRATCH));
	EXPECT_TRUE(mdl_qread32(&self->d, 0, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_ENABLED);
	/* The memory works on, through both paths (touched pages: 0, 1, 3). */
	m[PG] = 1;
	EXPECT_EQ(1, m[PG]);
	ASSERT_EQ(1, mdl_pread(&self->d, VFIO_PCI_BAR2_REGION_INDEX, PG, &b, 1));
	EXPECT_EQ(1, b);
	EXPECT_EQ(3 * PG, mdl_attr(self->uuid, "devmem_resident"));
	munmap(m, 4 * PG);
}

/* Dirty bits: each write path sets them, reads do not, collecting clears. */
TEST_F(dma, dirty_tracking)
{
	unsigned long nbits = self->devmem_size / PG;
	uint64_t *bits = calloc((nbits + 63) / 64, 8);
	unsigned char *m = map_bar2(&self->d, 64 * PG, PROT_READ | PROT_WRITE,
				    MAP_SHARED);
	unsigned char c = 0;
	struct migdev_desc d;

	ASSERT_NE(NULL, bits);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_LE(0, mdl_collect_dirty(self->uuid, bits, nbits));
	EXPECT_EQ(0, mdl_collect_dirty(self->uuid, bits, nbits));

	/* Region write. */
	ASSERT_EQ(1, mdl_pwrite(&self->d, VFIO_PCI_BAR2_REGION_INDEX, 5 * PG + 3, "x", 1));
	EXPECT_EQ(1, mdl_collect_dirty(self->uuid, bits, nbits));
	EXPECT_TRUE(bit(bits, 5));
	EXPECT_EQ(0, mdl_collect_dirty(self->uuid, bits, nbits));

	/* DMA write, across three pages; the last page of the BAR too. */
	d = mdl_desc(MIGDEV_OP_TO_DEV, self->a.iova, 10 * PG + 1, 2 * PG, 0);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	d = mdl_desc(MIGDEV_OP_TO_DEV, self->a.iova, self->devmem_size - 1, 1, 0);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(4, mdl_collect_dirty(self->uuid, bits, nbits));
	EXPECT_TRUE(bit(bits, 10) && bit(bits, 11) && bit(bits, 12));
	EXPECT_TRUE(bit(bits, nbits - 1));

	/* Write through the mapping; again after collecting: re-armed. */
	m[7 * PG] = 1;
	EXPECT_EQ(1, mdl_collect_dirty(self->uuid, bits, nbits));
	EXPECT_TRUE(bit(bits, 7));
	m[7 * PG + 9] = 2;
	EXPECT_EQ(1, mdl_collect_dirty(self->uuid, bits, nbits));
	EXPECT_TRUE(bit(bits, 7));
	EXPECT_EQ(0, mdl_collect_dirty(self->uuid, bits, nbits));

	/* Reads through every path dirty nothing. */
	c = m[7 * PG] + m[20 * PG];
	ASSERT_EQ(1, mdl_pread(&self->d, VFIO_PCI_BAR2_REGION_INDEX, 5 * PG, &c, 1));
	d = mdl_desc(MIGDEV_OP_FROM_DEV, 10 * PG, self->b.iova, 3 * PG, 0);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	d = mdl_desc(MIGDEV_OP_DEV_CRC32C, 0, 0, 64 * PG, 0);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(0, mdl_collect_dirty(self->uuid, bits, nbits)) TH_LOG("c=%d", c);

	/* Many pages at once through the mapping. */
	memset(m, 0x11, 64 * PG);
	EXPECT_EQ(64, mdl_collect_dirty(self->uuid, bits, nbits));
	munmap(m, 64 * PG);
	free(bits);
}

TEST_HARNESS_MAIN
