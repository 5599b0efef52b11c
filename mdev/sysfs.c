// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: per-instance attributes, /sys/bus/mdev/devices/<uuid>/migdev/.
 */
#include <linux/sysfs.h>

#include "migdev.h"

static struct migdev_device *migdev_sysfs_dev(struct device *dev)
{
	return dev_get_drvdata(dev);
}

static ssize_t type_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  migdev_sysfs_dev(dev)->type->profile->sysfs_name);
}
static DEVICE_ATTR_RO(type);

static ssize_t queues_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%u\n", migdev_sysfs_dev(dev)->emul.geom.nr_queues);
}
static DEVICE_ATTR_RO(queues);

static ssize_t devmem_size_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  migdev_sysfs_dev(dev)->emul.geom.devmem_size);
}
static DEVICE_ATTR_RO(devmem_size);

/* Bytes of device memory backed by host pages right now. */
static ssize_t devmem_resident_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  migdev_devmem_resident(&migdev_sysfs_dev(dev)->emul.devmem));
}
static DEVICE_ATTR_RO(devmem_resident);

/*
 * The stream minor version this instance emits, and the newest it
 * accepts: set it to an older minor to migrate to an older module.  At
 * most the module's stream_minor parameter.
 */
static ssize_t migration_minor_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct migdev_device *mvdev = migdev_sysfs_dev(dev);

	/*
	 * Without state_mutex: the file is world-readable, and a reader
	 * must not wait for an arc that waits for a user's stalled memory.
	 */
	return sysfs_emit(buf, "%u\n", READ_ONCE(mvdev->mig.minor));
}

static ssize_t migration_minor_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *buf, size_t count)
{
	struct migdev_device *mvdev = migdev_sysfs_dev(dev);
	u16 minor;
	int ret;

	ret = kstrtou16(buf, 0, &minor);
	if (ret)
		return ret;
	if (minor > migdev_stream_minor) {
		dev_err_ratelimited(dev, "migration_minor %u: this module speaks stream versions up to 1.%u\n",
				    minor, migdev_stream_minor);
		return -EINVAL;
	}
	if (mutex_lock_killable(&mvdev->mig.state_mutex))
		return -EINTR;
	if (mvdev->mig.save || mvdev->mig.resume)
		ret = -EBUSY;
	else
		WRITE_ONCE(mvdev->mig.minor, minor);
	mutex_unlock(&mvdev->mig.state_mutex);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(migration_minor);

/*
 * Whether the instance offers VFIO_MIGRATION_PRE_COPY (1, the default) or
 * migrates by stop-copy alone (0), as a device without pre-copy would:
 * what pre-copy saves a VMM can be measured on one device.  Set while
 * nobody has the device open: the VFIO core checks every arc against
 * these flags, and they must not change under a migration.  vfio's
 * dev_set lock is the one it holds to open and close the device.
 */
static ssize_t migration_precopy_show(struct device *dev,
				      struct device_attribute *attr, char *buf)
{
	struct migdev_device *mvdev = migdev_sysfs_dev(dev);

	return sysfs_emit(buf, "%d\n",
			  !!(READ_ONCE(mvdev->vdev.migration_flags) &
			     VFIO_MIGRATION_PRE_COPY));
}

static ssize_t migration_precopy_store(struct device *dev,
				       struct device_attribute *attr,
				       const char *buf, size_t count)
{
	struct migdev_device *mvdev = migdev_sysfs_dev(dev);
	struct vfio_device_set *dev_set = mvdev->vdev.dev_set;
	u32 flags;
	bool on;
	int ret;

	ret = kstrtobool(buf, &on);
	if (ret)
		return ret;
	if (mutex_lock_killable(&dev_set->lock))
		return -EINTR;
	if (mvdev->vdev.open_count) {
		dev_err_ratelimited(dev, "migration_precopy: the device is open; set it before the VMM opens it\n");
		ret = -EBUSY;
	} else {
		flags = mvdev->vdev.migration_flags & ~VFIO_MIGRATION_PRE_COPY;
		WRITE_ONCE(mvdev->vdev.migration_flags,
			   flags | (on ? VFIO_MIGRATION_PRE_COPY : 0));
	}
	mutex_unlock(&dev_set->lock);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(migration_precopy);

/*
 * The pre-flight compatibility check (preflight.c): migration_compat is
 * the instance's description; a source's written to
 * migration_compat_check fails unless this instance would take that
 * source's stream.
 */
static ssize_t migration_compat_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	return migdev_preflight_instance_show(migdev_sysfs_dev(dev), buf);
}
static DEVICE_ATTR_RO(migration_compat);

static ssize_t migration_compat_check_store(struct device *dev,
					    struct device_attribute *attr,
					    const char *buf, size_t count)
{
	return migdev_preflight_instance_store(migdev_sysfs_dev(dev), buf,
					       count);
}
static DEVICE_ATTR_WO(migration_compat_check);

static struct attribute *migdev_dev_attrs[] = {
	&dev_attr_type.attr,
	&dev_attr_queues.attr,
	&dev_attr_devmem_size.attr,
	&dev_attr_devmem_resident.attr,
	&dev_attr_migration_minor.attr,
	&dev_attr_migration_precopy.attr,
	&dev_attr_migration_compat.attr,
	&dev_attr_migration_compat_check.attr,
	NULL,
};

static const struct attribute_group migdev_dev_group = {
	.name = "migdev",
	.attrs = migdev_dev_attrs,
};

const struct attribute_group *migdev_dev_groups[] = {
	&migdev_dev_group,
	NULL,
};
