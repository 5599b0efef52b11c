// SPDX-License-Identifier: GPL-2.0-only
/*
 * Region accesses: every width and offset at the edges of every region,
 * refused ones changing nothing; device memory that is backed lazily.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "dev_fixture.h"

static uint64_t region_size(struct mdl_dev *d, unsigned int index)
{
	struct vfio_region_info ri;

	if (__mdl_region_info(d, index, &ri))
		return 0;
	return ri.size;
}

/* Accesses that start or end outside a region are refused. */
TEST_F(dev, out_of_range)
{
	static const unsigned int regions[] = {
		VFIO_PCI_CONFIG_REGION_INDEX, VFIO_PCI_BAR0_REGION_INDEX,
		VFIO_PCI_BAR2_REGION_INDEX,
	};
	uint64_t buf[4] = { 0 };
	unsigned int i;

	mdl_write64(&self->d, MIGDEV_REG_SCRATCH, 0xabcdef);
	for (i = 0; i < 3; i++) {
		unsigned int r = regions[i];
		uint64_t size = region_size(&self->d, r);

		ASSERT_NE(0, size);
		EXPECT_EQ(-EINVAL, mdl_pread(&self->d, r, size, buf, 4))
			TH_LOG("region %u at its end", r);
		EXPECT_EQ(-EINVAL, mdl_pwrite(&self->d, r, size, buf, 4));
		EXPECT_EQ(-EINVAL, mdl_pread(&self->d, r, size - 4, buf, 8))
			TH_LOG("region %u across its end", r);
		EXPECT_EQ(-EINVAL, mdl_pwrite(&self->d, r, size - 4, buf, 8));
		EXPECT_EQ(-EINVAL, mdl_pread(&self->d, r, size + 4096, buf, 4));
		EXPECT_EQ(-EINVAL, mdl_pread(&self->d, r, (1ULL << 40) - 4, buf, 4));
		/* The last dword is fine. */
		EXPECT_EQ(4, mdl_pread(&self->d, r, size - 4, buf, 4));
	}
	EXPECT_EQ(0xabcdef, mdl_read64(&self->d, MIGDEV_REG_SCRATCH));
	EXPECT_EQ(0, mdl_attr(self->uuid, "devmem_resident"));
}

/* Regions the device does not have, and offsets past every region. */
TEST_F(dev, missing_regions)
{
	static const unsigned int absent[] = {
		VFIO_PCI_BAR1_REGION_INDEX, VFIO_PCI_BAR3_REGION_INDEX,
		VFIO_PCI_BAR4_REGION_INDEX, VFIO_PCI_BAR5_REGION_INDEX,
		VFIO_PCI_ROM_REGION_INDEX, VFIO_PCI_VGA_REGION_INDEX,
		MIGDEV_MIG_REGION_INDEX + 1, 100, 0xffffff,
	};
	uint32_t v = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(absent); i++) {
		EXPECT_EQ(-EINVAL, mdl_pread(&self->d, absent[i], 0, &v, 4))
			TH_LOG("region %u", absent[i]);
		EXPECT_EQ(-EINVAL, mdl_pwrite(&self->d, absent[i], 0, &v, 4));
	}
	/* Negative file offsets never reach the driver. */
	EXPECT_EQ(-1, pread(self->d.fd, &v, 4, -4));
	EXPECT_EQ(EINVAL, errno);
	/* Zero-length accesses are no-ops. */
	EXPECT_EQ(0, mdl_pread(&self->d, VFIO_PCI_BAR0_REGION_INDEX, 0, &v, 0));
}

/* BAR0 takes naturally aligned 4- and 8-byte accesses only. */
TEST_F(dev, bar0_widths)
{
	static const unsigned int widths[] = { 1, 2, 3, 5, 6, 7, 12, 16, 64 };
	unsigned char buf[64];
	unsigned int i, off;

	mdl_write64(&self->d, MIGDEV_REG_SCRATCH, 0x1122334455667788ULL);
	memset(buf, 0xee, sizeof(buf));
	for (i = 0; i < ARRAY_SIZE(widths); i++) {
		EXPECT_EQ(-EINVAL, mdl_pread(&self->d, VFIO_PCI_BAR0_REGION_INDEX,
					     MIGDEV_REG_SCRATCH, buf, widths[i]))
			TH_LOG("width %u", widths[i]);
		EXPECT_EQ(-EINVAL, mdl_pwrite(&self->d, VFIO_PCI_BAR0_REGION_INDEX,
					      MIGDEV_REG_SCRATCH, buf, widths[i]));
	}
	for (off = 1; off < 8; off++) {
		EXPECT_EQ(-EINVAL, mdl_pwrite(&self->d, VFIO_PCI_BAR0_REGION_INDEX,
					      MIGDEV_REG_SCRATCH + off, buf, 8))
			TH_LOG("8 bytes at +%u", off);
		if (off % 4)
			EXPECT_EQ(-EINVAL,
				  mdl_pwrite(&self->d, VFIO_PCI_BAR0_REGION_INDEX,
					     MIGDEV_REG_SCRATCH + off, buf, 4));
	}
	EXPECT_EQ(0x1122334455667788ULL, mdl_read64(&self->d, MIGDEV_REG_SCRATCH));
}

/* Config space: any width at any offset inside, split into aligned parts. */
TEST_F(dev, config_any_width)
{
	unsigned char buf[16];
	unsigned int w, off;

	for (w = 1; w <= 16; w++)
		for (off = 0; off < 8; off++)
			EXPECT_EQ((ssize_t)w,
				  mdl_pread(&self->d, VFIO_PCI_CONFIG_REGION_INDEX,
					    off, buf, w));
	EXPECT_EQ(MIGDEV_PCI_VENDOR_ID, mdl_cfg_read(&self->d, PCI_VENDOR_ID, 2));
}

/* A bad user buffer is -EFAULT, nothing changed. */
TEST_F(dev, bad_user_buffer)
{
	EXPECT_EQ(-EFAULT, mdl_pwrite(&self->d, VFIO_PCI_BAR0_REGION_INDEX,
				      MIGDEV_REG_SCRATCH, (void *)8, 8));
	EXPECT_EQ(-EFAULT, mdl_pread(&self->d, VFIO_PCI_BAR0_REGION_INDEX,
				     MIGDEV_REG_ID, (void *)8, 4));
	EXPECT_EQ(-EFAULT, mdl_pwrite(&self->d, VFIO_PCI_CONFIG_REGION_INDEX,
				      PCI_COMMAND, (void *)8, 2));
	EXPECT_EQ(-EFAULT, mdl_pwrite(&self->d, VFIO_PCI_BAR2_REGION_INDEX, 0,
				      (void *)8, 4096));
	EXPECT_EQ(0, mdl_read64(&self->d, MIGDEV_REG_SCRATCH));
	EXPECT_EQ(0, mdl_cfg_read(&self->d, PCI_COMMAND, 2));
	EXPECT_EQ(0, mdl_attr(self->uuid, "devmem_resident"));
}

/* Unwritten device memory reads zeros and costs nothing. */
TEST_F(dev, devmem_lazy)
{
	static unsigned char buf[3 * 4096];
	uint64_t offs[] = { 0, 4095, self->devmem_size / 2 + 17,
			    self->devmem_size - 3 * 4096 };
	unsigned int i, j;

	for (i = 0; i < 4; i++) {
		memset(buf, 0xcc, sizeof(buf));
		ASSERT_EQ((ssize_t)sizeof(buf),
			  mdl_pread(&self->d, VFIO_PCI_BAR2_REGION_INDEX, offs[i],
				    buf, sizeof(buf)));
		for (j = 0; j < sizeof(buf); j++)
			ASSERT_EQ(0, buf[j])
				TH_LOG("byte %u at 0x%llx", j,
				       (unsigned long long)offs[i]);
	}
	EXPECT_EQ(0, mdl_attr(self->uuid, "devmem_resident"));
}

/* Writes at every alignment, across page boundaries, read back exactly. */
TEST_F(dev, devmem_read_write)
{
	static unsigned char pat[3 * 4096 + 7], back[sizeof(pat)];
	uint64_t off = self->devmem_size - sizeof(pat);
	unsigned int i;

	srandom(variant->type + 1);
	for (i = 0; i < sizeof(pat); i++)
		pat[i] = random();
	/* Straddles 4 pages at the very end of the BAR. */
	ASSERT_EQ((ssize_t)sizeof(pat),
		  mdl_pwrite(&self->d, VFIO_PCI_BAR2_REGION_INDEX, off, pat,
			     sizeof(pat)));
	EXPECT_EQ(4 * 4096, mdl_attr(self->uuid, "devmem_resident"));
	ASSERT_EQ((ssize_t)sizeof(back),
		  mdl_pread(&self->d, VFIO_PCI_BAR2_REGION_INDEX, off, back,
			    sizeof(back)));
	EXPECT_EQ(0, memcmp(pat, back, sizeof(pat)));

	/* Odd widths at odd offsets. */
	for (i = 1; i < 9; i++) {
		uint64_t o = 4096 * 7 + 4093 + i * 11;

		ASSERT_EQ((ssize_t)i, mdl_pwrite(&self->d, VFIO_PCI_BAR2_REGION_INDEX,
						 o, pat + i, i));
		ASSERT_EQ((ssize_t)i, mdl_pread(&self->d, VFIO_PCI_BAR2_REGION_INDEX,
						o, back, i));
		EXPECT_EQ(0, memcmp(pat + i, back, i));
	}
	/* The bytes before the pattern were never written. */
	ASSERT_EQ(1, mdl_pread(&self->d, VFIO_PCI_BAR2_REGION_INDEX, off - 1,
			       back, 1));
	EXPECT_EQ(0, back[0]);
}

/* A write past the end writes nothing, not even the part inside. */
TEST_F(dev, devmem_refused_write_changes_nothing)
{
	unsigned char buf[8192];

	memset(buf, 0x77, sizeof(buf));
	EXPECT_EQ(-EINVAL, mdl_pwrite(&self->d, VFIO_PCI_BAR2_REGION_INDEX,
				      self->devmem_size - 4096, buf, sizeof(buf)));
	EXPECT_EQ(0, mdl_attr(self->uuid, "devmem_resident"));
	ASSERT_EQ(4096, mdl_pread(&self->d, VFIO_PCI_BAR2_REGION_INDEX,
				  self->devmem_size - 4096, buf, 4096));
	EXPECT_EQ(0, buf[0]);
	EXPECT_EQ(0, buf[4095]);
}

TEST_HARNESS_MAIN
