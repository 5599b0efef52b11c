// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: parents, whatever device they are.
 *
 * A parent is one emulated physical device: its capacity (device memory
 * and DMA queues), its execution engines and its types.  It lends the
 * identity of a struct device to the mdev core, which puts the types
 * under <device>/mdev_supported_types and the instances below it.  Two
 * kinds of device can be a parent, and only their setup differs:
 *
 * - a virtual one, /sys/class/migdev/migdev<N>, made at load for each of
 *   nr_parents (main.c);
 * - a PCI function the administrator binds to the migdev PCI driver
 *   (pci.c), as a GPU is given to its vendor's driver: what libvirt's
 *   node devices, and the orchestrators on top, take as an mdev parent.
 *
 * Lifetime: a parent is counted (@ref): one reference for its
 * registration, dropped by migdev_parent_remove(), and one for each
 * instance, dropped when the instance is released.  The instance's
 * release may come after its parent was removed: the VFIO core drops its
 * last reference to a device when the last file on it goes, which can be
 * after the mdev core's remove returned.
 */
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "migdev.h"

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

/**
 * migdev_parent_params_check() - check the parents' module parameters
 *
 * Return: 0, or -EINVAL with a log line that names the parameter.
 */
int migdev_parent_params_check(void)
{
	if (!engines || engines > 64) {
		pr_err("migdev: engines=%u: must be 1 to 64\n", engines);
		return -EINVAL;
	}
	if (!parent_queues || (u64)parent_devmem_mb << 20 < SZ_4M) {
		pr_err("migdev: parent_queues=%u parent_devmem_mb=%u: a parent must hold at least one instance of the smallest type\n",
		       parent_queues, parent_devmem_mb);
		return -EINVAL;
	}
	return 0;
}

/**
 * migdev_parent_params_show() - log what each parent has
 * @nr_virtual: virtual parents made
 */
void migdev_parent_params_show(unsigned int nr_virtual)
{
	pr_info("migdev: %u virtual parent(s); each parent %u MiB device memory, %u queues, %u engines\n",
		nr_virtual, parent_devmem_mb, parent_queues, engines);
}

/**
 * migdev_parent_add() - make @dev a parent
 * @dev: the device whose identity the parent takes; held until the
 *	 parent's last reference goes
 *
 * Registers the types with the mdev core (so instances can be made at
 * once) and adds the types' pre-flight files.
 *
 * Return: the parent, or an ERR_PTR().
 */
struct migdev_parent *migdev_parent_add(struct device *dev)
{
	struct migdev_parent *parent;
	int ret;

	parent = kzalloc(sizeof(*parent), GFP_KERNEL);
	if (!parent)
		return ERR_PTR(-ENOMEM);

	kref_init(&parent->ref);
	parent->dev = get_device(dev);
	mutex_init(&parent->cap_lock);
	parent->devmem_total = (u64)parent_devmem_mb << 20;
	parent->queues_total = parent_queues;
	migdev_types_init(parent);
	migdev_engines_init(&parent->engines, engines);

	ret = mdev_register_parent(&parent->mparent, dev, &migdev_driver,
				   parent->type_ptrs, MIGDEV_NUM_TYPES);
	if (ret)
		goto out_put;
	ret = migdev_preflight_add_types(parent);
	if (ret)
		goto out_unreg;
	return parent;

out_unreg:
	mdev_unregister_parent(&parent->mparent);
out_put:
	migdev_parent_put(parent);
	return ERR_PTR(ret);
}

/**
 * migdev_parent_remove() - undo migdev_parent_add()
 * @parent: parent
 *
 * Removes every instance first.  The removal of one that a process holds
 * open waits for it, asking it to let go through the device request
 * eventfd (see migdev_request()).
 */
void migdev_parent_remove(struct migdev_parent *parent)
{
	migdev_preflight_remove_types(parent);
	mdev_unregister_parent(&parent->mparent);
	migdev_parent_put(parent);
}

/**
 * migdev_parent_get() - one more reference, for an instance
 * @parent: parent
 */
void migdev_parent_get(struct migdev_parent *parent)
{
	kref_get(&parent->ref);
}

static void migdev_parent_release(struct kref *ref)
{
	struct migdev_parent *parent =
		container_of(ref, struct migdev_parent, ref);

	migdev_engines_fini(&parent->engines);
	mutex_destroy(&parent->cap_lock);
	put_device(parent->dev);
	kfree(parent);
}

/**
 * migdev_parent_put() - drop a reference; the last one frees the parent
 * @parent: parent
 */
void migdev_parent_put(struct migdev_parent *parent)
{
	kref_put(&parent->ref, migdev_parent_release);
}
