// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the pre-flight compatibility check, as sysfs files: an
 * instance's (/sys/bus/mdev/devices/<uuid>/migdev/), and each type's, in a
 * "migdev" directory under the mdev core's type directory
 * (/sys/class/mdev_bus/<parent>/mdev_supported_types/migdev-<t>/migdev/),
 * which says what an instance of that type would be before one exists.
 * migration_compat (read-only) is the description (emul/preflight.h);
 * writing a source's description to migration_compat_check (write-only)
 * succeeds if this instance or type would take that source's stream, and
 * otherwise fails with the errno and a log line that says what differs.
 * Neither takes a lock: a description is made of what never changes and
 * the instance's stream version, read once.
 */
#include <linux/kobject.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "migdev.h"
#include "../emul/preflight.h"

/* A type's description: what a new instance of it emits and takes. */
static void migdev_preflight_of_type(const struct migdev_type *t, u16 minor,
				     struct migdev_preflight *p)
{
	char name[MIGDEV_PREFLIGHT_TYPE_LEN];

	snprintf(name, sizeof(name), "migdev-%s", t->profile->sysfs_name);
	migdev_preflight_init(p, name, t->profile->nr_queues,
			      t->profile->devmem_size, minor, minor);
}

static ssize_t migdev_preflight_show(const struct migdev_preflight *p,
				     char *buf)
{
	return migdev_preflight_format(p, buf, PAGE_SIZE);
}

static ssize_t migdev_preflight_store(struct device *dev, const char *what,
				      const struct migdev_preflight *dst,
				      const char *buf, size_t count)
{
	char why[MIGDEV_PREFLIGHT_WHY];
	int ret;

	ret = migdev_preflight_check(dst, buf, count, why, sizeof(why));
	if (ret) {
		dev_info_ratelimited(dev, "%smigration_compat_check: would not take that source: %s\n",
				     what, why);
		return ret;
	}
	return count;
}

/*
 * An instance emits, and takes at most, its migration_minor (read once,
 * without state_mutex, as migration_minor_show() does).
 */
static void migdev_preflight_of_instance(struct migdev_device *mvdev,
					 struct migdev_preflight *p)
{
	u16 minor = READ_ONCE(mvdev->mig.minor);

	migdev_preflight_of_type(mvdev->type, minor, p);
	p->nr_queues = mvdev->emul.geom.nr_queues;
	p->devmem_size = mvdev->emul.geom.devmem_size;
}

/**
 * migdev_preflight_instance_show() - an instance's description
 * @mvdev: the instance
 * @buf: sysfs buffer
 *
 * Return: bytes written.
 */
ssize_t migdev_preflight_instance_show(struct migdev_device *mvdev, char *buf)
{
	struct migdev_preflight p;

	migdev_preflight_of_instance(mvdev, &p);
	return migdev_preflight_show(&p, buf);
}

/**
 * migdev_preflight_instance_store() - would this instance take a source?
 * @mvdev: the instance
 * @buf: the source's description
 * @count: its length
 *
 * Return: @count if it would, else -EINVAL, -ENODEV or -EPROTONOSUPPORT.
 */
ssize_t migdev_preflight_instance_store(struct migdev_device *mvdev,
					const char *buf, size_t count)
{
	struct migdev_preflight p;

	migdev_preflight_of_instance(mvdev, &p);
	return migdev_preflight_store(migdev_dev(mvdev), "", &p, buf, count);
}

/*
 * A type's "migdev" directory: a kobject of its own under the mdev core's
 * type kobject, whose attributes the core's sysfs_ops would not know.
 */
struct migdev_preflight_dir {
	struct kobject kobj;
	struct migdev_parent *parent;
	const struct migdev_type *type;
};

static struct migdev_preflight_dir *migdev_preflight_dir(struct kobject *kobj)
{
	return container_of(kobj, struct migdev_preflight_dir, kobj);
}

static ssize_t migration_compat_show(struct kobject *kobj,
				     struct kobj_attribute *attr, char *buf)
{
	struct migdev_preflight p;

	migdev_preflight_of_type(migdev_preflight_dir(kobj)->type,
				 READ_ONCE(migdev_stream_minor), &p);
	return migdev_preflight_show(&p, buf);
}

static ssize_t migration_compat_check_store(struct kobject *kobj,
					    struct kobj_attribute *attr,
					    const char *buf, size_t count)
{
	struct migdev_preflight_dir *d = migdev_preflight_dir(kobj);
	struct migdev_preflight p;
	char what[MIGDEV_PREFLIGHT_TYPE_LEN + 8];

	migdev_preflight_of_type(d->type, READ_ONCE(migdev_stream_minor), &p);
	snprintf(what, sizeof(what), "%s: ", p.type);
	return migdev_preflight_store(d->parent->dev, what, &p, buf, count);
}

static struct kobj_attribute migdev_preflight_attr = __ATTR_RO(migration_compat);
static struct kobj_attribute migdev_preflight_check_attr =
	__ATTR_WO(migration_compat_check);

static struct attribute *migdev_preflight_type_attrs[] = {
	&migdev_preflight_attr.attr,
	&migdev_preflight_check_attr.attr,
	NULL,
};
ATTRIBUTE_GROUPS(migdev_preflight_type);

static void migdev_preflight_dir_release(struct kobject *kobj)
{
	kfree(migdev_preflight_dir(kobj));
}

static const struct kobj_type migdev_preflight_dir_ktype = {
	.release = migdev_preflight_dir_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = migdev_preflight_type_groups,
};

/**
 * migdev_preflight_remove_types() - remove the types' "migdev" directories
 * @parent: parent, before mdev_unregister_parent()
 *
 * kobject_del() waits for a reader or writer of the file to finish.
 */
void migdev_preflight_remove_types(struct migdev_parent *parent)
{
	unsigned int i;

	for (i = 0; i < MIGDEV_NUM_TYPES; i++) {
		struct kobject *kobj = parent->types[i].preflight;

		if (!kobj)
			continue;
		kobject_del(kobj);
		kobject_put(kobj);
		parent->types[i].preflight = NULL;
	}
}

/**
 * migdev_preflight_add_types() - add each type's "migdev" directory
 * @parent: parent, after mdev_register_parent() made the types' kobjects
 *
 * Return: 0, or an errno (with none added).
 */
int migdev_preflight_add_types(struct migdev_parent *parent)
{
	unsigned int i;
	int ret;

	for (i = 0; i < MIGDEV_NUM_TYPES; i++) {
		struct migdev_preflight_dir *d = kzalloc(sizeof(*d), GFP_KERNEL);

		if (!d) {
			ret = -ENOMEM;
			goto undo;
		}
		d->parent = parent;
		d->type = &parent->types[i];
		ret = kobject_init_and_add(&d->kobj, &migdev_preflight_dir_ktype,
					   &parent->types[i].mtype.kobj,
					   "migdev");
		if (ret) {
			kobject_put(&d->kobj);
			goto undo;
		}
		parent->types[i].preflight = &d->kobj;
	}
	return 0;

undo:
	migdev_preflight_remove_types(parent);
	return ret;
}
