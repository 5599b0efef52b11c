/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The migration tests' (v2 and the v1 region) check that a destination
 * shows what its source had.  Include after kselftest_harness.h.
 */
#ifndef MIGDEV_MIG_CHECK_H
#define MIGDEV_MIG_CHECK_H

#include <string.h>

#include "migdev_lib.h"

/*
 * Scratch register, config space, and device memory: all of it up to
 * 8 MiB, or @devmem_size if smaller.
 */
static inline void expect_same_device(struct __test_metadata *_metadata,
				      struct mdl_dev *a, struct mdl_dev *b,
				      uint64_t devmem_size)
{
	static uint8_t pa[1 << 20], pb[1 << 20];
	uint64_t off;

	EXPECT_EQ(mdl_read64(a, MIGDEV_REG_SCRATCH), mdl_read64(b, MIGDEV_REG_SCRATCH));
	ASSERT_EQ(256, mdl_pread(a, VFIO_PCI_CONFIG_REGION_INDEX, 0, pa, 256));
	ASSERT_EQ(256, mdl_pread(b, VFIO_PCI_CONFIG_REGION_INDEX, 0, pb, 256));
	EXPECT_EQ(0, memcmp(pa, pb, 256));
	for (off = 0; off < devmem_size && off < (8u << 20); off += sizeof(pa)) {
		ASSERT_EQ(sizeof(pa), mdl_pread(a, VFIO_PCI_BAR2_REGION_INDEX,
						off, pa, sizeof(pa)));
		ASSERT_EQ(sizeof(pb), mdl_pread(b, VFIO_PCI_BAR2_REGION_INDEX,
						off, pb, sizeof(pb)));
		ASSERT_EQ(0, memcmp(pa, pb, sizeof(pa)))
			TH_LOG("device memory at 0x%llx", (unsigned long long)off);
	}
}

#endif /* MIGDEV_MIG_CHECK_H */
