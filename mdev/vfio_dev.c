// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the VFIO device of one instance: its lifetime (probe, init,
 * release, remove), open and close, and the ioctl dispatch.
 */
#include <linux/module.h>
#include <linux/uaccess.h>

#include "migdev.h"

static int migdev_init_dev(struct vfio_device *vdev)
{
	struct migdev_device *mvdev = vdev_to_migdev(vdev);
	struct mdev_device *mdev = to_mdev_device(vdev->dev);
	struct migdev_type *type =
		container_of(mdev->type, struct migdev_type, mtype);
	struct migdev_parent *parent =
		container_of(mdev->type->parent, struct migdev_parent,
			     mparent);
	struct migdev_geom geom = {
		.type_id = type->id,
		.nr_queues = type->profile->nr_queues,
		.devmem_size = type->profile->devmem_size,
	};
	int ret;

	ret = migdev_capacity_reserve(parent, type->profile);
	if (ret) {
		dev_info_ratelimited(vdev->dev,
				     "no capacity left on %s for a %s instance\n",
				     dev_name(parent->dev), type->profile->sysfs_name);
		return ret;
	}
	migdev_parent_get(parent);
	mvdev->parent = parent;
	mvdev->type = type;
	ratelimit_state_init(&mvdev->log_rs, DEFAULT_RATELIMIT_INTERVAL,
			     MIGDEV_LOG_BURST);
	ratelimit_set_flags(&mvdev->log_rs, RATELIMIT_MSG_ON_RELEASE);
	migdev_irq_init(mvdev);
	migdev_mig_init(mvdev);
	migdev_faults_init(mvdev);
	mvdev->writer = NULL;
	migdev_v1_init(mvdev);
	migdev_dma_log_init(mvdev);
	migdev_worker_init(mvdev);
	migdev_pins_init(&mvdev->pins);
	ret = migdev_emul_init(&mvdev->emul, &geom, &migdev_host_ops, mvdev);
	if (ret) {
		migdev_pins_fini(&mvdev->pins);
		migdev_dma_log_fini(mvdev);
		mutex_destroy(&mvdev->mig.state_mutex);
		mutex_destroy(&mvdev->irq.lock);
		migdev_capacity_release(parent, type->profile);
		migdev_parent_put(parent);
		return ret;
	}
	return 0;
}

static void migdev_release_dev(struct vfio_device *vdev)
{
	struct migdev_device *mvdev = vdev_to_migdev(vdev);

	ratelimit_state_exit(&mvdev->log_rs);	/* says what it held back */
	migdev_pins_fini(&mvdev->pins);
	migdev_dma_log_fini(mvdev);
	mutex_destroy(&mvdev->mig.state_mutex);
	mutex_destroy(&mvdev->irq.lock);
	migdev_faults_fini(mvdev);
	migdev_writer_fini(mvdev);
	migdev_emul_fini(&mvdev->emul);
	migdev_capacity_release(mvdev->parent, mvdev->type->profile);
	/* After the parent's removal, maybe: the last file went late. */
	migdev_parent_put(mvdev->parent);
}

static int migdev_open_device(struct vfio_device *vdev)
{
	struct migdev_device *mvdev = vdev_to_migdev(vdev);
	int ret;

	/* Every user starts from a device fresh out of power-on reset. */
	ret = migdev_emul_open(&mvdev->emul);
	if (ret)
		return ret;
	/* The engine runs in a thread of the opening process. */
	ret = migdev_worker_start(mvdev);
	if (ret) {
		migdev_emul_close(&mvdev->emul);
		return ret;
	}
	migdev_mig_open(mvdev);
	migdev_faults_open(mvdev);
	return 0;
}

static void migdev_close_device(struct vfio_device *vdev)
{
	struct migdev_device *mvdev = vdev_to_migdev(vdev);

	/* A chunk waiting for the user's memory ends; no more execute. */
	migdev_worker_stop(mvdev);
	migdev_mig_close(mvdev);
	/* Its data_fds are dead: no fault rule can defer a reset any more. */
	migdev_faults_close(mvdev);
	/* Clear all work, give back the device memory the user wrote. */
	migdev_emul_close(&mvdev->emul);
	/* No step or register write reaches guest memory any more. */
	migdev_pins_flush(mvdev);
	migdev_irq_disable_all(mvdev);
	/* The engine is stopped: nothing records into the log any more. */
	migdev_dma_log_close(mvdev);
}

static int migdev_ioctl_get_info(struct migdev_device *mvdev,
				 struct vfio_device_info __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info = {};

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = MIGDEV_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;

	minsz = min_t(size_t, info.argsz, sizeof(info));
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

/* The device is cleared and migration goes back to RUNNING, together. */
static int migdev_ioctl_reset(struct migdev_device *mvdev)
{
	return migdev_mig_reset(mvdev, MIGDEV_RESET_DEVICE);
}

static long migdev_ioctl(struct vfio_device *vdev, unsigned int cmd,
			 unsigned long arg)
{
	struct migdev_device *mvdev = vdev_to_migdev(vdev);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return migdev_ioctl_get_info(mvdev, uarg);
	case VFIO_DEVICE_GET_REGION_INFO:	/* where the core passes it on */
		return migdev_region_ioctl_get_info(mvdev, uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return migdev_irq_ioctl_get_info(mvdev, uarg);
	case VFIO_DEVICE_SET_IRQS:
		return migdev_irq_ioctl_set(mvdev, uarg);
	case VFIO_DEVICE_RESET:
		return migdev_ioctl_reset(mvdev);
	}
	return -ENOTTY;
}

static const struct vfio_device_ops migdev_dev_ops = {
	.name = "migdev",
	.init = migdev_init_dev,
	.release = migdev_release_dev,
	.open_device = migdev_open_device,
	.close_device = migdev_close_device,
	.read = migdev_read,
	.write = migdev_write,
	.ioctl = migdev_ioctl,
#ifdef MIGDEV_HAVE_GET_REGION_INFO_CAPS
	.get_region_info_caps = migdev_region_get_info_caps,
#endif
	.mmap = migdev_mmap,
	.request = migdev_request,
	.dma_unmap = migdev_host_dma_unmap,
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
};

static int migdev_probe(struct mdev_device *mdev)
{
	struct migdev_device *mvdev;
	int ret;

	mvdev = vfio_alloc_device(migdev_device, vdev, &mdev->dev,
				  &migdev_dev_ops);
	if (IS_ERR(mvdev))
		return PTR_ERR(mvdev);

	ret = vfio_register_emulated_iommu_dev(&mvdev->vdev);
	if (ret)
		goto out_put_vdev;
	dev_set_drvdata(&mdev->dev, mvdev);
	migdev_debugfs_add(mvdev);
	return 0;

out_put_vdev:
	vfio_put_device(&mvdev->vdev);
	return ret;
}

/*
 * Unregistering waits until no user holds the device, calling
 * migdev_request() meanwhile to ask them to let go.
 */
static void migdev_remove(struct mdev_device *mdev)
{
	struct migdev_device *mvdev = dev_get_drvdata(&mdev->dev);

	migdev_debugfs_remove(mvdev);
	vfio_unregister_group_dev(&mvdev->vdev);
	vfio_put_device(&mvdev->vdev);
}

struct mdev_driver migdev_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name = "migdev",
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
		.dev_groups = migdev_dev_groups,
	},
	.probe = migdev_probe,
	.remove = migdev_remove,
	.get_available = migdev_types_available,
	.show_description = migdev_types_description,
};
