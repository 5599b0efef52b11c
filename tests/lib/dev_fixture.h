/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fixture most tests share: one open instance of each type, in a
 * type1 container; and a small one through the vfio cdev and iommufd
 * (skipped where the kernel has no vfio cdev), so that every test runs on
 * both IOMMU backends.  Include after kselftest_harness.h.
 */
#ifndef MIGDEV_DEV_FIXTURE_H
#define MIGDEV_DEV_FIXTURE_H

#include "migdev_lib.h"

FIXTURE(dev) {
	char uuid[MDL_UUID_LEN];
	struct mdl_dev d;
	uint32_t nr_queues;
	uint64_t devmem_size;
};

FIXTURE_VARIANT(dev) {
	unsigned int type;
	enum mdl_backend backend;
};

FIXTURE_VARIANT_ADD(dev, small) { .type = MIGDEV_TYPE_SMALL };
FIXTURE_VARIANT_ADD(dev, medium) { .type = MIGDEV_TYPE_MEDIUM };
FIXTURE_VARIANT_ADD(dev, large) { .type = MIGDEV_TYPE_LARGE };
FIXTURE_VARIANT_ADD(dev, xlarge) { .type = MIGDEV_TYPE_XLARGE };
FIXTURE_VARIANT_ADD(dev, small_iommufd) {
	.type = MIGDEV_TYPE_SMALL, .backend = MDL_IOMMUFD,
};

FIXTURE_SETUP(dev)
{
	int ret;

	ret = __mdl_create_open(variant->type, variant->backend, self->uuid,
				&self->d);
	if (ret == -ENODEV)
		SKIP(return, MDL_NO_CDEV);	/* and no teardown */
	ASSERT_EQ(0, ret);
	self->nr_queues = MIGDEV_TYPE_NR_QUEUES(variant->type);
	self->devmem_size = MIGDEV_TYPE_DEVMEM_SIZE(variant->type);
}

FIXTURE_TEARDOWN(dev)
{
	mdl_close(&self->d);
	if (self->uuid[0] && mdl_exists(self->uuid))
		EXPECT_EQ(0, __mdl_remove(self->uuid));
}

#endif /* MIGDEV_DEV_FIXTURE_H */
