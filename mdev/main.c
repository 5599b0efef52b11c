// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: a VFIO mediated-device parent driver whose instances are
 * software-emulated, live-migratable PCI devices.
 *
 * Loading the module creates nr_parents virtual parent devices,
 * /sys/class/migdev/migdev<N>, and registers the migdev PCI driver, whose
 * functions are parents too (parent.c, pci.c).  Each parent is registered
 * with the mdev core (so it also appears in /sys/class/mdev_bus/) with the
 * types in types.c.
 */
#include <linux/module.h>
#include <linux/rcupdate.h>

#include "migdev.h"

static unsigned int nr_parents = 1;
module_param(nr_parents, uint, 0444);
MODULE_PARM_DESC(nr_parents,
		 "Number of virtual parent devices to create (0-16); PCI functions bound to the migdev PCI driver are parents too");

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

/*
 * The virtual parents, each with a class device that is nothing but a
 * name for it (parent->dev).  Written only at load and unload.
 */
static struct migdev_parent *migdev_virtual[MIGDEV_MAX_PARENTS];

static struct migdev_parent *migdev_virtual_create(unsigned int index)
{
	struct migdev_parent *parent;
	struct device *dev;

	dev = device_create(&migdev_class, NULL, MKDEV(0, 0), NULL,
			    "migdev%u", index);
	if (IS_ERR(dev))
		return ERR_CAST(dev);
	parent = migdev_parent_add(dev);
	if (IS_ERR(parent))
		device_unregister(dev);
	return parent;
}

static void migdev_virtual_destroy_all(void)
{
	int i;

	for (i = MIGDEV_MAX_PARENTS - 1; i >= 0; i--) {
		struct migdev_parent *parent = migdev_virtual[i];
		struct device *dev;

		if (!parent)
			continue;
		/* Removing may free the parent; its device is still ours. */
		dev = parent->dev;
		migdev_parent_remove(parent);
		device_unregister(dev);
		migdev_virtual[i] = NULL;
	}
}

static int __init migdev_init(void)
{
	unsigned int i;
	int ret;

	if (nr_parents > MIGDEV_MAX_PARENTS) {
		pr_err("migdev: nr_parents=%u: must be 0 to %u\n", nr_parents,
		       MIGDEV_MAX_PARENTS);
		return -EINVAL;
	}
	if (migdev_stream_minor > MIGDEV_STREAM_MINOR) {
		pr_err("migdev: stream_minor=%u: this module knows stream versions up to 1.%u\n",
		       migdev_stream_minor, MIGDEV_STREAM_MINOR);
		return -EINVAL;
	}
	ret = migdev_parent_params_check();
	if (ret)
		return ret;

	migdev_debugfs_init();
	ret = mdev_register_driver(&migdev_driver);
	if (ret)
		goto out_debugfs;
	ret = class_register(&migdev_class);
	if (ret)
		goto out_driver;

	for (i = 0; i < nr_parents; i++) {
		struct migdev_parent *parent = migdev_virtual_create(i);

		if (IS_ERR(parent)) {
			ret = PTR_ERR(parent);
			pr_err("migdev: creating parent %u: %pe\n", i, parent);
			goto out_parents;
		}
		migdev_virtual[i] = parent;
	}
	/* Last: a function bound now becomes a parent at once. */
	ret = migdev_pci_register();
	if (ret)
		goto out_parents;
	migdev_parent_params_show(nr_parents);
	return 0;

out_parents:
	migdev_virtual_destroy_all();
	class_unregister(&migdev_class);
out_driver:
	mdev_unregister_driver(&migdev_driver);
out_debugfs:
	migdev_debugfs_exit();
	return ret;
}

static void __exit migdev_exit(void)
{
	migdev_pci_unregister();
	migdev_virtual_destroy_all();
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
