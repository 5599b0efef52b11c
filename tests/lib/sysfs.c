// SPDX-License-Identifier: GPL-2.0-only
/*
 * libmigdev (see migdev_lib.h): instances through sysfs: parents, types,
 * create and remove, attributes.
 */
#include "mdl_internal.h"

int mdl_sysfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = 0;
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	return 0;
}

int mdl_sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return 0;
}

long long mdl_sysfs_read_ll(const char *path)
{
	char buf[64];
	int ret = mdl_sysfs_read(path, buf, sizeof(buf));

	if (ret)
		return ret;
	return strtoll(buf, NULL, 0);
}

const char *mdl_parent(void)
{
	const char *parent = getenv("MIGDEV_PARENT");

	return parent && *parent ? parent : "migdev0";
}

int mdl_kernel_has_fix(const char *name)
{
	const char *fixes = getenv("MIGDEV_KERNEL_FIXES"), *p;
	size_t n = strlen(name);

	/* A whole word of the space-separated list. */
	for (p = fixes; p && (p = strstr(p, name)); p += n)
		if ((p == fixes || p[-1] == ' ') && (!p[n] || p[n] == ' '))
			return 1;
	return 0;
}

const char *mdl_type_name(unsigned int type)
{
	static char names[MIGDEV_NUM_TYPES][16];

	if (type >= MIGDEV_NUM_TYPES)
		return "migdev-none";
	if (!names[type][0])
		snprintf(names[type], sizeof(names[type]), "migdev-%s",
			 MIGDEV_TYPE_SUFFIX(type));
	return names[type];
}

long long mdl_available(const char *parent, unsigned int type)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path),
		 "/sys/class/mdev_bus/%s/mdev_supported_types/%s/available_instances",
		 parent, mdl_type_name(type));
	return mdl_sysfs_read_ll(path);
}

void mdl_new_uuid(char uuid[MDL_UUID_LEN])
{
	if (mdl_sysfs_read("/proc/sys/kernel/random/uuid", uuid, MDL_UUID_LEN))
		mdl_die("cannot read a random uuid\n");
}

int __mdl_create(const char *parent, unsigned int type,
		 char uuid[MDL_UUID_LEN])
{
	char path[PATH_MAX];

	mdl_new_uuid(uuid);
	snprintf(path, sizeof(path),
		 "/sys/class/mdev_bus/%s/mdev_supported_types/%s/create",
		 parent, mdl_type_name(type));
	return mdl_sysfs_write(path, uuid);
}

void mdl_create(const char *parent, unsigned int type, char uuid[MDL_UUID_LEN])
{
	int ret = __mdl_create(parent, type, uuid);

	if (ret)
		mdl_die("creating a %s on %s: %s\n", mdl_type_name(type),
			parent, strerror(-ret));
}

int __mdl_remove(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), MDL_DEVICES "/%s/remove", uuid);
	return mdl_sysfs_write(path, "1");
}

void mdl_remove(const char *uuid)
{
	int ret = __mdl_remove(uuid);

	if (ret)
		mdl_die("removing %s: %s\n", uuid, strerror(-ret));
}

int mdl_exists(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), MDL_DEVICES "/%s", uuid);
	return access(path, F_OK) == 0;
}

long long mdl_attr(const char *uuid, const char *attr)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), MDL_DEVICES "/%s/migdev/%s", uuid, attr);
	return mdl_sysfs_read_ll(path);
}
