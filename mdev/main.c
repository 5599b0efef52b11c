// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: a VFIO mediated-device parent driver whose instances are
 * software-emulated, live-migratable PCI devices.
 *
 * Loading the module creates nr_parents parent devices,
 * /sys/class/migdev/migdev<N>, each registered with the mdev core (so it
 * also appears in /sys/class/mdev_bus/) with the types in types.c.
 */
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include "migdev.h"

static unsigned int nr_parents = 1;
module_param(nr_parents, uint, 0444);
MODULE_PARM_DESC(nr_parents, "Number of parent devices to create (1-16)");

static unsigned int parent_devmem_mb = 4096;
module_param(parent_devmem_mb, uint, 0444);
MODULE_PARM_DESC(parent_devmem_mb,
		 "Device memory of each parent, MiB, shared by its instances");

static unsigned int parent_queues = 1024;
module_param(parent_queues, uint, 0444);
MODULE_PARM_DESC(parent_queues,
		 "DMA queues of each parent, shared by its instances");

static unsigned int engines = 2;
module_param(engines, uint, 0444);
MODULE_PARM_DESC(engines,
		 "Execution engines of each parent, shared by its instances (1-64)");

/* Read-only once the module is loaded. */
unsigned int migdev_pin_cache_mb = 256;
module_param_named(pin_cache_mb, migdev_pin_cache_mb, uint, 0444);
MODULE_PARM_DESC(pin_cache_mb,
		 "Guest memory an open instance keeps pinned for its DMA engine, MiB (at least 1): more is faster for large transfers, and reported dirty for longer by type1");

/* Read-only once the module is loaded. */
unsigned short migdev_stream_minor = MIGDEV_STREAM_MINOR;
module_param_named(stream_minor, migdev_stream_minor, ushort, 0444);
MODULE_PARM_DESC(stream_minor,
		 "Newest migration stream version 1.N that instances emit and accept (default: the newest this module knows); an older one makes the module speak as an older release does");

#define MIGDEV_MAX_PARENTS 16

static const struct class migdev_class = {
	.name = "migdev",
};

/* Written only at load and unload. */
static struct migdev_parent *migdev_parents[MIGDEV_MAX_PARENTS];

static void migdev_parent_release(struct device *dev)
{
	struct migdev_parent *parent =
		container_of(dev, struct migdev_parent, dev);

	migdev_engines_fini(&parent->engines);
	mutex_destroy(&parent->cap_lock);
	kfree(parent);
}

static struct migdev_parent *migdev_parent_create(unsigned int index)
{
	struct migdev_parent *parent;
	char name[24];
	int ret;

	parent = kzalloc(sizeof(*parent), GFP_KERNEL);
	if (!parent)
		return ERR_PTR(-ENOMEM);

	mutex_init(&parent->cap_lock);
	parent->devmem_total = (u64)parent_devmem_mb << 20;
	parent->queues_total = parent_queues;
	migdev_types_init(parent);
	snprintf(name, sizeof(name), "migdev%u", index);
	migdev_engines_init(&parent->engines, engines);

	device_initialize(&parent->dev);
	parent->dev.class = &migdev_class;
	parent->dev.release = migdev_parent_release;
	ret = dev_set_name(&parent->dev, "%s", name);
	if (ret)
		goto out_put;
	ret = device_add(&parent->dev);
	if (ret)
		goto out_put;

	ret = mdev_register_parent(&parent->mparent, &parent->dev,
				   &migdev_driver, parent->type_ptrs,
				   MIGDEV_NUM_TYPES);
	if (ret)
		goto out_del;
	ret = migdev_preflight_add_types(parent);
	if (ret)
		goto out_unreg;
	return parent;

out_unreg:
	mdev_unregister_parent(&parent->mparent);
out_del:
	device_del(&parent->dev);
out_put:
	put_device(&parent->dev);
	return ERR_PTR(ret);
}

/*
 * Unregistering the parent removes its instances; the removal of one that
 * a process holds open waits for it, asking it to let go through the
 * device request eventfd (see migdev_request()).
 */
static void migdev_parent_destroy(struct migdev_parent *parent)
{
	migdev_preflight_remove_types(parent);
	mdev_unregister_parent(&parent->mparent);
	device_unregister(&parent->dev);
}

static void migdev_destroy_parents(void)
{
	int i;

	for (i = MIGDEV_MAX_PARENTS - 1; i >= 0; i--) {
		if (migdev_parents[i])
			migdev_parent_destroy(migdev_parents[i]);
		migdev_parents[i] = NULL;
	}
}

static int __init migdev_init(void)
{
	unsigned int i;
	int ret;

	if (!nr_parents || nr_parents > MIGDEV_MAX_PARENTS) {
		pr_err("migdev: nr_parents=%u: must be 1 to %u\n", nr_parents,
		       MIGDEV_MAX_PARENTS);
		return -EINVAL;
	}
	if (migdev_stream_minor > MIGDEV_STREAM_MINOR) {
		pr_err("migdev: stream_minor=%u: this module knows stream versions up to 1.%u\n",
		       migdev_stream_minor, MIGDEV_STREAM_MINOR);
		return -EINVAL;
	}
	if (!engines || engines > 64) {
		pr_err("migdev: engines=%u: must be 1 to 64\n", engines);
		return -EINVAL;
	}
	if (!parent_queues || (u64)parent_devmem_mb << 20 < SZ_4M) {
		pr_err("migdev: parent_queues=%u parent_devmem_mb=%u: a parent must hold at least one instance of the smallest type\n",
		       parent_queues, parent_devmem_mb);
		return -EINVAL;
	}

	migdev_debugfs_init();
	ret = mdev_register_driver(&migdev_driver);
	if (ret)
		goto out_debugfs;
	ret = class_register(&migdev_class);
	if (ret)
		goto out_driver;

	for (i = 0; i < nr_parents; i++) {
		struct migdev_parent *parent = migdev_parent_create(i);

		if (IS_ERR(parent)) {
			ret = PTR_ERR(parent);
			pr_err("migdev: creating parent %u: %pe\n", i, parent);
			goto out_parents;
		}
		migdev_parents[i] = parent;
	}
	pr_info("migdev: %u parent(s), each %u MiB device memory, %u queues, %u engines\n",
		nr_parents, parent_devmem_mb, parent_queues, engines);
	return 0;

out_parents:
	migdev_destroy_parents();
	class_unregister(&migdev_class);
out_driver:
	mdev_unregister_driver(&migdev_driver);
out_debugfs:
	migdev_debugfs_exit();
	return ret;
}

static void __exit migdev_exit(void)
{
	migdev_destroy_parents();
	class_unregister(&migdev_class);
	mdev_unregister_driver(&migdev_driver);
	migdev_debugfs_exit();
	/* DMA logs freed after a grace period (dma_log.c) are gone. */
	rcu_barrier();
}

module_init(migdev_init);
module_exit(migdev_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Live-migratable emulated PCI devices as VFIO mediated devices");
