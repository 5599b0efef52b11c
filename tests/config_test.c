// SPDX-License-Identifier: GPL-2.0-only
/*
 * Emulated PCI config space: identity, read-only bits, BAR sizing, the
 * capability list, write-1-to-clear bits, and function-level reset.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "dev_fixture.h"

TEST_F(dev, identity)
{
	struct mdl_dev *d = &self->d;

	EXPECT_EQ(MIGDEV_PCI_VENDOR_ID, mdl_cfg_read(d, PCI_VENDOR_ID, 2));
	EXPECT_EQ(MIGDEV_PCI_DEVICE_ID, mdl_cfg_read(d, PCI_DEVICE_ID, 2));
	EXPECT_EQ(MIGDEV_PCI_REVISION, mdl_cfg_read(d, PCI_REVISION_ID, 1));
	EXPECT_EQ(MIGDEV_PCI_CLASS, mdl_cfg_read(d, PCI_CLASS_REVISION, 4) >> 8);
	EXPECT_EQ(PCI_HEADER_TYPE_NORMAL, mdl_cfg_read(d, PCI_HEADER_TYPE, 1));
	EXPECT_EQ(MIGDEV_PCI_SUBSYS_VENDOR_ID,
		  mdl_cfg_read(d, PCI_SUBSYSTEM_VENDOR_ID, 2));
	EXPECT_EQ(variant->type + 1, mdl_cfg_read(d, PCI_SUBSYSTEM_ID, 2));
	EXPECT_EQ(1, mdl_cfg_read(d, PCI_INTERRUPT_PIN, 1));
	EXPECT_TRUE(mdl_cfg_read(d, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
}

/* Writing all ones everywhere changes only the writable bits. */
TEST_F(dev, readonly_bits)
{
	uint8_t before[256], after[256];
	unsigned int off;

	ASSERT_EQ(256, mdl_pread(&self->d, VFIO_PCI_CONFIG_REGION_INDEX, 0,
				 before, 256));
	for (off = 0; off < 256; off += 4)
		if (off < PCI_BASE_ADDRESS_0 || off > PCI_BASE_ADDRESS_5)
			mdl_cfg_write(&self->d, off, 4, 0xffffffff);
	/* One of the ones initiates an FLR; read-only bytes stay put anyway. */
	ASSERT_EQ(256, mdl_pread(&self->d, VFIO_PCI_CONFIG_REGION_INDEX, 0,
				 after, 256));
	for (off = 0; off < 256; off++) {
		switch (off) {
		case PCI_COMMAND: case PCI_COMMAND + 1:
		case PCI_CACHE_LINE_SIZE: case PCI_INTERRUPT_LINE:
			continue;	/* writable, checked below */
		}
		if (off >= MIGDEV_CAP_PM + PCI_PM_CTRL &&
		    off < MIGDEV_CAP_PM + PCI_PM_CTRL + 2)
			continue;
		if (off >= MIGDEV_CAP_MSIX + PCI_MSIX_FLAGS &&
		    off < MIGDEV_CAP_MSIX + PCI_MSIX_FLAGS + 2)
			continue;
		if (off >= MIGDEV_CAP_EXP + PCI_EXP_DEVCTL &&
		    off < MIGDEV_CAP_EXP + PCI_EXP_DEVCTL + 2)
			continue;
		if (off >= MIGDEV_CAP_EXP + PCI_EXP_LNKCTL &&
		    off < MIGDEV_CAP_EXP + PCI_EXP_LNKCTL + 2)
			continue;
		EXPECT_EQ(before[off], after[off]) TH_LOG("offset 0x%x", off);
	}
}

TEST_F(dev, command_register)
{
	struct mdl_dev *d = &self->d;

	mdl_cfg_write(d, PCI_COMMAND, 2, 0xffff);
	/* No I/O BAR: the I/O enable bit is hardwired to 0. */
	EXPECT_EQ(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
		  PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE,
		  mdl_cfg_read(d, PCI_COMMAND, 2));
	mdl_cfg_write(d, PCI_COMMAND, 1, 0x02);
	EXPECT_EQ(PCI_COMMAND_MEMORY | PCI_COMMAND_SERR |
		  PCI_COMMAND_INTX_DISABLE, mdl_cfg_read(d, PCI_COMMAND, 2));
	mdl_cfg_write(d, PCI_COMMAND, 2, 0);
	EXPECT_EQ(0, mdl_cfg_read(d, PCI_COMMAND, 2));
}

TEST_F(dev, bar_sizing)
{
	struct mdl_dev *d = &self->d;
	uint64_t bar2;
	unsigned int i;

	mdl_cfg_write(d, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	EXPECT_EQ((uint32_t)~(MIGDEV_BAR0_SIZE - 1),
		  mdl_cfg_read(d, PCI_BASE_ADDRESS_0, 4));

	mdl_cfg_write(d, PCI_BASE_ADDRESS_2, 4, 0xffffffff);
	mdl_cfg_write(d, PCI_BASE_ADDRESS_3, 4, 0xffffffff);
	bar2 = mdl_cfg_read(d, PCI_BASE_ADDRESS_2, 4) |
	       (uint64_t)mdl_cfg_read(d, PCI_BASE_ADDRESS_3, 4) << 32;
	EXPECT_EQ(PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH,
		  bar2 & ~PCI_BASE_ADDRESS_MEM_MASK);
	EXPECT_EQ(self->devmem_size, ~(bar2 & PCI_BASE_ADDRESS_MEM_MASK) + 1);

	/* Unimplemented BARs and the ROM BAR read 0 whatever is written. */
	for (i = 1; i < 6; i++) {
		if (i == 2 || i == 3)
			continue;
		mdl_cfg_write(d, PCI_BASE_ADDRESS_0 + 4 * i, 4, 0xffffffff);
		EXPECT_EQ(0, mdl_cfg_read(d, PCI_BASE_ADDRESS_0 + 4 * i, 4))
			TH_LOG("BAR%u", i);
	}
	mdl_cfg_write(d, PCI_ROM_ADDRESS, 4, 0xffffffff);
	EXPECT_EQ(0, mdl_cfg_read(d, PCI_ROM_ADDRESS, 4));

	/* An address is stored, low type bits kept. */
	mdl_cfg_write(d, PCI_BASE_ADDRESS_0, 4, 0xfe000000);
	EXPECT_EQ(0xfe000000, mdl_cfg_read(d, PCI_BASE_ADDRESS_0, 4));
	mdl_cfg_write(d, PCI_BASE_ADDRESS_2, 4, 0);
	mdl_cfg_write(d, PCI_BASE_ADDRESS_3, 4, 0x1);
	EXPECT_EQ(PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH,
		  mdl_cfg_read(d, PCI_BASE_ADDRESS_2, 4));
	EXPECT_EQ(1, mdl_cfg_read(d, PCI_BASE_ADDRESS_3, 4));
	/* Byte writes into a BAR respect its mask too. */
	mdl_cfg_write(d, PCI_BASE_ADDRESS_0, 1, 0xff);
	EXPECT_EQ(0xfe000000, mdl_cfg_read(d, PCI_BASE_ADDRESS_0, 4));
}

/* Walk the list: PM, MSI-X, PCIe, in bounds, aligned, no loop. */
TEST_F(dev, capability_list)
{
	struct mdl_dev *d = &self->d;
	unsigned int ids[16], n = 0, pos, msix = 0;

	pos = mdl_cfg_read(d, PCI_CAPABILITY_LIST, 1);
	while (pos) {
		ASSERT_LT(n, 16) TH_LOG("capability list loops");
		ASSERT_GE(pos, 0x40);
		ASSERT_LE(pos, 0xfc);
		ASSERT_EQ(0, pos & 3);
		ids[n++] = mdl_cfg_read(d, pos, 1);
		if (ids[n - 1] == PCI_CAP_ID_MSIX)
			msix = pos;
		pos = mdl_cfg_read(d, pos + 1, 1);
	}
	ASSERT_EQ(3, n);
	EXPECT_EQ(PCI_CAP_ID_PM, ids[0]);
	EXPECT_EQ(PCI_CAP_ID_MSIX, ids[1]);
	EXPECT_EQ(PCI_CAP_ID_EXP, ids[2]);

	EXPECT_EQ(self->nr_queues,
		  mdl_cfg_read(d, msix + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE);
	EXPECT_EQ(MIGDEV_MSIX_TABLE_OFFSET | 0, mdl_cfg_read(d, msix + PCI_MSIX_TABLE, 4));
	EXPECT_EQ(MIGDEV_MSIX_PBA_OFFSET | 0, mdl_cfg_read(d, msix + PCI_MSIX_PBA, 4));
	EXPECT_EQ(PCI_EXP_TYPE_ENDPOINT,
		  (mdl_cfg_read(d, MIGDEV_CAP_EXP + PCI_EXP_FLAGS, 2) &
		   PCI_EXP_FLAGS_TYPE) >> 4);
	EXPECT_TRUE(mdl_cfg_read(d, MIGDEV_CAP_EXP + PCI_EXP_DEVCAP, 4) &
		    PCI_EXP_DEVCAP_FLR);
	/* No extended capabilities. */
	EXPECT_EQ(0, mdl_cfg_read(d, 0x100, 4));
	EXPECT_EQ(0, mdl_cfg_read(d, 0xffc, 4));
}

/* QEMU reads config space in one pread(); it must match dword reads. */
TEST_F(dev, whole_space_read)
{
	static uint8_t all[MIGDEV_CFG_SIZE];
	unsigned int off;
	uint32_t v;

	ASSERT_EQ(MIGDEV_CFG_SIZE, mdl_pread(&self->d, VFIO_PCI_CONFIG_REGION_INDEX,
					     0, all, sizeof(all)));
	for (off = 0; off < MIGDEV_CFG_SIZE; off += 4) {
		memcpy(&v, all + off, 4);
		EXPECT_EQ(mdl_cfg_read(&self->d, off, 4), v) TH_LOG("0x%x", off);
	}
	/* Unaligned multi-byte reads are split, not refused. */
	ASSERT_EQ(3, mdl_pread(&self->d, VFIO_PCI_CONFIG_REGION_INDEX, 1, &v, 3));
	EXPECT_EQ(0, memcmp(&v, all + 1, 3));
}

TEST_F(dev, status_write_one_to_clear)
{
	struct mdl_dev *d = &self->d;
	uint16_t st = mdl_cfg_read(d, PCI_STATUS, 2);

	/* Error bits start clear; writing ones clears, never sets. */
	mdl_cfg_write(d, PCI_STATUS, 2, 0xffff);
	EXPECT_EQ(st, mdl_cfg_read(d, PCI_STATUS, 2));
	EXPECT_EQ(0, mdl_cfg_read(d, MIGDEV_CAP_EXP + PCI_EXP_DEVSTA, 2));
}

TEST_F(dev, function_level_reset)
{
	struct mdl_dev *d = &self->d;
	uint16_t devctl;
	char byte = 3;

	mdl_cfg_write(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	mdl_cfg_write(d, PCI_BASE_ADDRESS_0, 4, 0xfe000000);
	mdl_write64(d, MIGDEV_REG_SCRATCH, 5);
	ASSERT_EQ(1, mdl_pwrite(d, VFIO_PCI_BAR2_REGION_INDEX, 4096, &byte, 1));

	devctl = mdl_cfg_read(d, MIGDEV_CAP_EXP + PCI_EXP_DEVCTL, 2);
	mdl_cfg_write(d, MIGDEV_CAP_EXP + PCI_EXP_DEVCTL, 2,
		      devctl | PCI_EXP_DEVCTL_BCR_FLR);
	/* Initiate FLR always reads 0; the function is back to defaults. */
	EXPECT_EQ(0, mdl_cfg_read(d, MIGDEV_CAP_EXP + PCI_EXP_DEVCTL, 2) &
		  PCI_EXP_DEVCTL_BCR_FLR);
	EXPECT_EQ(0, mdl_cfg_read(d, PCI_COMMAND, 2));
	EXPECT_EQ(0, mdl_cfg_read(d, PCI_BASE_ADDRESS_0, 4));
	EXPECT_EQ(0, mdl_read64(d, MIGDEV_REG_SCRATCH));
	EXPECT_EQ(0, mdl_attr(self->uuid, "devmem_resident"));
	EXPECT_EQ(MIGDEV_PCI_VENDOR_ID, mdl_cfg_read(d, PCI_VENDOR_ID, 2));
}

TEST_F(dev, power_state)
{
	struct mdl_dev *d = &self->d;
	unsigned int pmcsr = MIGDEV_CAP_PM + PCI_PM_CTRL;

	mdl_cfg_write(d, pmcsr, 2, 3);
	EXPECT_EQ(3, mdl_cfg_read(d, pmcsr, 2) & PCI_PM_CTRL_STATE_MASK);
	EXPECT_TRUE(mdl_cfg_read(d, pmcsr, 2) & PCI_PM_CTRL_NO_SOFT_RESET);
	mdl_cfg_write(d, pmcsr, 2, 0);
	EXPECT_EQ(0, mdl_cfg_read(d, pmcsr, 2) & PCI_PM_CTRL_STATE_MASK);
}

TEST_HARNESS_MAIN
