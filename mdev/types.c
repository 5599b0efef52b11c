// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: types (profiles) and the parent's finite capacity.
 *
 * Like GPU profiles, the types cut one parent's resources into instances
 * of different sizes: device memory and DMA queues.  An instance reserves
 * its type's share when it is created and returns it when it is released,
 * so available_instances of every type follows what is left.
 */
#include <linux/minmax.h>
#include <linux/sizes.h>
#include <linux/sysfs.h>

#include "migdev.h"

const struct migdev_profile migdev_profiles[MIGDEV_NUM_TYPES] = {
	[MIGDEV_TYPE_SMALL] = {
		.sysfs_name = MIGDEV_TYPE_SUFFIX(MIGDEV_TYPE_SMALL),
		.pretty_name = "migdev-1q-4M",
		.nr_queues = MIGDEV_TYPE_NR_QUEUES(MIGDEV_TYPE_SMALL),
		.devmem_size = MIGDEV_TYPE_DEVMEM_SIZE(MIGDEV_TYPE_SMALL),
	},
	[MIGDEV_TYPE_MEDIUM] = {
		.sysfs_name = MIGDEV_TYPE_SUFFIX(MIGDEV_TYPE_MEDIUM),
		.pretty_name = "migdev-2q-64M",
		.nr_queues = MIGDEV_TYPE_NR_QUEUES(MIGDEV_TYPE_MEDIUM),
		.devmem_size = MIGDEV_TYPE_DEVMEM_SIZE(MIGDEV_TYPE_MEDIUM),
	},
	[MIGDEV_TYPE_LARGE] = {
		.sysfs_name = MIGDEV_TYPE_SUFFIX(MIGDEV_TYPE_LARGE),
		.pretty_name = "migdev-4q-256M",
		.nr_queues = MIGDEV_TYPE_NR_QUEUES(MIGDEV_TYPE_LARGE),
		.devmem_size = MIGDEV_TYPE_DEVMEM_SIZE(MIGDEV_TYPE_LARGE),
	},
	[MIGDEV_TYPE_XLARGE] = {
		.sysfs_name = MIGDEV_TYPE_SUFFIX(MIGDEV_TYPE_XLARGE),
		.pretty_name = "migdev-8q-1G",
		.nr_queues = MIGDEV_TYPE_NR_QUEUES(MIGDEV_TYPE_XLARGE),
		.devmem_size = MIGDEV_TYPE_DEVMEM_SIZE(MIGDEV_TYPE_XLARGE),
	},
};

static_assert(MIGDEV_MAX_QUEUES >= 8);

/**
 * migdev_types_init() - fill in a parent's type objects
 * @parent: parent, before mdev_register_parent()
 */
void migdev_types_init(struct migdev_parent *parent)
{
	unsigned int i;

	for (i = 0; i < MIGDEV_NUM_TYPES; i++) {
		struct migdev_type *t = &parent->types[i];

		t->id = i;
		t->profile = &migdev_profiles[i];
		t->mtype.sysfs_name = t->profile->sysfs_name;
		t->mtype.pretty_name = t->profile->pretty_name;
		parent->type_ptrs[i] = &t->mtype;
	}
}

/**
 * migdev_capacity_reserve() - take one instance's share of the parent
 * @parent: parent
 * @profile: the instance's type
 *
 * Return: 0, or -ENOSPC when what is left does not hold one more instance.
 */
int migdev_capacity_reserve(struct migdev_parent *parent,
			    const struct migdev_profile *profile)
{
	int ret = 0;

	mutex_lock(&parent->cap_lock);
	if (parent->devmem_used + profile->devmem_size > parent->devmem_total ||
	    parent->queues_used + profile->nr_queues > parent->queues_total) {
		ret = -ENOSPC;
	} else {
		parent->devmem_used += profile->devmem_size;
		parent->queues_used += profile->nr_queues;
		parent->nr_instances++;
	}
	mutex_unlock(&parent->cap_lock);
	return ret;
}

/**
 * migdev_capacity_release() - return one instance's share
 * @parent: parent
 * @profile: the instance's type
 */
void migdev_capacity_release(struct migdev_parent *parent,
			     const struct migdev_profile *profile)
{
	mutex_lock(&parent->cap_lock);
	parent->devmem_used -= profile->devmem_size;
	parent->queues_used -= profile->nr_queues;
	parent->nr_instances--;
	mutex_unlock(&parent->cap_lock);
}

/**
 * migdev_types_available() - instances of a type that still fit
 * @mtype: type
 *
 * Return: the count for available_instances.
 */
unsigned int migdev_types_available(struct mdev_type *mtype)
{
	struct migdev_type *t = container_of(mtype, struct migdev_type, mtype);
	struct migdev_parent *parent =
		container_of(mtype->parent, struct migdev_parent, mparent);
	u64 by_mem, by_queues;

	mutex_lock(&parent->cap_lock);
	by_mem = (parent->devmem_total - parent->devmem_used) /
		 t->profile->devmem_size;
	by_queues = (parent->queues_total - parent->queues_used) /
		    t->profile->nr_queues;
	mutex_unlock(&parent->cap_lock);
	return min3(by_mem, by_queues, (u64)UINT_MAX);
}

/**
 * migdev_types_description() - the type's description attribute
 * @mtype: type
 * @buf: sysfs buffer
 *
 * Return: bytes written.
 */
ssize_t migdev_types_description(struct mdev_type *mtype, char *buf)
{
	struct migdev_type *t = container_of(mtype, struct migdev_type, mtype);

	return sysfs_emit(buf,
			  "DMA engine with %u queue%s, %llu MiB device memory, MSI-X %u vectors\n",
			  t->profile->nr_queues,
			  t->profile->nr_queues == 1 ? "" : "s",
			  t->profile->devmem_size >> 20,
			  t->profile->nr_queues + 1);
}
