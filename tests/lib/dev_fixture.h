/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fixture most tests share: one open instance of each type.
 * Include after kselftest_harness.h.
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
};

FIXTURE_VARIANT_ADD(dev, small) { .type = MIGDEV_TYPE_SMALL };
FIXTURE_VARIANT_ADD(dev, medium) { .type = MIGDEV_TYPE_MEDIUM };
FIXTURE_VARIANT_ADD(dev, large) { .type = MIGDEV_TYPE_LARGE };
FIXTURE_VARIANT_ADD(dev, xlarge) { .type = MIGDEV_TYPE_XLARGE };

FIXTURE_SETUP(dev)
{
	self->d.fd = -1;
	ASSERT_EQ(0, __mdl_create(mdl_parent(), variant->type, self->uuid));
	ASSERT_EQ(0, __mdl_open(self->uuid, &self->d));
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
