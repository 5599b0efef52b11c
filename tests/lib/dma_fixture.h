/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The DMA tests' fixture: one open instance of each type, bus mastering
 * on, queue 0 ready, and two 8 MiB buffers of guest memory, in a type1
 * container; and a small one through the vfio cdev and an iommufd IOAS
 * (skipped where the kernel has no vfio cdev).  Include after
 * kselftest_harness.h.
 */
#ifndef MIGDEV_DMA_FIXTURE_H
#define MIGDEV_DMA_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "migdev_lib.h"

#define BUF_SIZE	(8u << 20)

FIXTURE(dma) {
	char uuid[MDL_UUID_LEN];
	struct mdl_dev d;
	struct mdl_queue q;
	struct mdl_dma a, b;
	uint32_t nr_queues;
	uint64_t devmem_size;
};

FIXTURE_VARIANT(dma) {
	unsigned int type;
	enum mdl_backend backend;
};

FIXTURE_VARIANT_ADD(dma, small) { .type = MIGDEV_TYPE_SMALL };
FIXTURE_VARIANT_ADD(dma, large) { .type = MIGDEV_TYPE_LARGE };
FIXTURE_VARIANT_ADD(dma, xlarge) { .type = MIGDEV_TYPE_XLARGE };
FIXTURE_VARIANT_ADD(dma, small_iommufd) {
	.type = MIGDEV_TYPE_SMALL, .backend = MDL_IOMMUFD,
};

FIXTURE_SETUP(dma)
{
	unsigned int i;
	int ret;

	ret = __mdl_create_open(variant->type, variant->backend, self->uuid,
				&self->d);
	if (ret == -ENODEV)
		SKIP(return, MDL_NO_CDEV);	/* and no teardown */
	ASSERT_EQ(0, ret);
	self->nr_queues = MIGDEV_TYPE_NR_QUEUES(variant->type);
	self->devmem_size = MIGDEV_TYPE_DEVMEM_SIZE(variant->type);
	mdl_bus_master(&self->d, 1);
	ASSERT_EQ(0, __mdl_queue_init(&self->d, 0, 64, &self->q));
	ASSERT_EQ(0, __mdl_dma_map(&self->d, BUF_SIZE, &self->a));
	ASSERT_EQ(0, __mdl_dma_map(&self->d, BUF_SIZE, &self->b));
	srandom(variant->type * 7 + 1);
	for (i = 0; i < BUF_SIZE / 4; i++)
		((uint32_t *)self->a.va)[i] = random();
}

FIXTURE_TEARDOWN(dma)
{
	mdl_close(&self->d);
	if (self->uuid[0] && mdl_exists(self->uuid))
		EXPECT_EQ(0, __mdl_remove(self->uuid));
}

#endif /* MIGDEV_DMA_FIXTURE_H */
