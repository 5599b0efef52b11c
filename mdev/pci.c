// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the PCI driver, whose functions become parents.
 *
 * An administrator gives migdev a spare PCI function the way a GPU is
 * given to its vendor's driver, or a function to vfio-pci: by
 * driver_override (or new_id), then a probe.  The driver matches nothing
 * by itself, so it never takes a function nobody gave it.  The function
 * then is a parent like a virtual one (parent.c): its types appear under
 * /sys/bus/pci/devices/<address>/mdev_supported_types, which is what
 * libvirt's node devices, and Nova and KubeVirt on top of them, expect of
 * an mdev parent.
 *
 * The function's own hardware is not used: the instances are emulated,
 * and the function lends them its place in the device tree.  Unbinding
 * it, or its hot-unplug, removes its instances; the removal of one a
 * process holds open asks that process to let go through the request
 * interrupt, and waits for it, as vfio-pci does.
 */
#include <linux/module.h>
#include <linux/pci.h>

#include "migdev.h"

static int migdev_pci_probe(struct pci_dev *pdev,
			    const struct pci_device_id *id)
{
	struct migdev_parent *parent;

	/* A bridge's children need it: only an endpoint can be given. */
	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL) {
		pci_info(pdev, "not an endpoint (header type %u): not a parent\n",
			 pdev->hdr_type);
		return -EINVAL;
	}
	parent = migdev_parent_add(&pdev->dev);
	if (IS_ERR(parent))
		return PTR_ERR(parent);
	pci_set_drvdata(pdev, parent);
	pci_info(pdev, "a parent of mediated devices\n");
	return 0;
}

static void migdev_pci_remove(struct pci_dev *pdev)
{
	migdev_parent_remove(pci_get_drvdata(pdev));
	pci_set_drvdata(pdev, NULL);
}

/* Empty: only driver_override or new_id binds a function. */
static const struct pci_device_id migdev_pci_ids[] = {
	{ }
};
MODULE_DEVICE_TABLE(pci, migdev_pci_ids);

static struct pci_driver migdev_pci_driver = {
	.name = "migdev",
	.id_table = migdev_pci_ids,
	.probe = migdev_pci_probe,
	.remove = migdev_pci_remove,
};

/**
 * migdev_pci_register() - register the PCI driver
 *
 * Return: 0, or an errno.
 */
int migdev_pci_register(void)
{
	return pci_register_driver(&migdev_pci_driver);
}

/**
 * migdev_pci_unregister() - unregister it, removing its parents
 */
void migdev_pci_unregister(void)
{
	pci_unregister_driver(&migdev_pci_driver);
}
