// SPDX-License-Identifier: GPL-2.0-only
/*
 * The parent, its types and instances, through sysfs as mdevctl uses it:
 * attributes, capacity shared across types, creation and removal, bad
 * input, and a thousand instances.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "migdev_lib.h"

#define TYPES "/sys/class/mdev_bus/migdev0/mdev_supported_types"

static const struct { uint32_t queues; uint64_t mb; } shape[] = {
	{ 1, 4 }, { 2, 64 }, { 4, 256 }, { 8, 1024 },
};

static void type_attr(const char *type, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), TYPES "/%s/%s", type, attr);
	if (mdl_sysfs_read(path, buf, len))
		buf[0] = 0;
}

/* available_instances of every type, as the capacity model predicts it. */
static void expect_available(struct __test_metadata *_metadata,
			     uint64_t mb_left, uint32_t q_left)
{
	unsigned int t;

	for (t = 0; t < MIGDEV_NUM_TYPES; t++) {
		uint64_t by_mem = mb_left / shape[t].mb;
		uint64_t by_q = q_left / shape[t].queues;

		EXPECT_EQ(by_mem < by_q ? by_mem : by_q,
			  mdl_available(mdl_parent(), t))
			TH_LOG("type %s", mdl_type_name(t));
	}
}

static uint64_t param(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/module/migdev/parameters/%s", name);
	return mdl_sysfs_read_ll(path);
}

TEST(parent_registered)
{
	char buf[256];

	ASSERT_EQ(0, access("/sys/class/migdev/migdev0", F_OK));
	ASSERT_EQ(0, access("/sys/class/mdev_bus/migdev0", F_OK));
	ASSERT_EQ(0, mdl_sysfs_read(TYPES "/migdev-small/device_api", buf,
				    sizeof(buf)));
	EXPECT_STREQ("vfio-pci", buf);
}

TEST(type_attributes)
{
	static const char *const pretty[] = {
		"migdev-1q-4M", "migdev-2q-64M", "migdev-4q-256M", "migdev-8q-1G",
	};
	char buf[256], want[64];
	unsigned int t;

	for (t = 0; t < MIGDEV_NUM_TYPES; t++) {
		const char *type = mdl_type_name(t);

		type_attr(type, "name", buf, sizeof(buf));
		EXPECT_STREQ(pretty[t], buf);
		type_attr(type, "device_api", buf, sizeof(buf));
		EXPECT_STREQ("vfio-pci", buf);
		type_attr(type, "description", buf, sizeof(buf));
		snprintf(want, sizeof(want), "%llu MiB device memory",
			 (unsigned long long)shape[t].mb);
		EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("%s: '%s'", type, buf);
		type_attr(type, "available_instances", buf, sizeof(buf));
		EXPECT_NE(0, buf[0]);
	}
}

TEST(only_known_types)
{
	struct dirent *e;
	int n = 0;
	DIR *d = opendir(TYPES);

	ASSERT_NE(NULL, d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	EXPECT_EQ(MIGDEV_NUM_TYPES, n);
}

TEST(available_follows_capacity)
{
	uint64_t mb = param("parent_devmem_mb");
	uint32_t q = param("parent_queues");
	char a[MDL_UUID_LEN], b[MDL_UUID_LEN];

	expect_available(_metadata, mb, q);
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_LARGE, a));
	expect_available(_metadata, mb - 256, q - 4);
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, b));
	expect_available(_metadata, mb - 260, q - 5);
	EXPECT_EQ(0, __mdl_remove(a));
	expect_available(_metadata, mb - 4, q - 1);
	EXPECT_EQ(0, __mdl_remove(b));
	expect_available(_metadata, mb, q);
}

/* Fill the parent with the biggest type; one more is refused. */
TEST(create_until_full)
{
	long long n = mdl_available(mdl_parent(), MIGDEV_TYPE_XLARGE);
	char uuid[16][MDL_UUID_LEN], extra[MDL_UUID_LEN];
	long long i;

	ASSERT_GT(n, 0);
	ASSERT_LE(n, 16);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_XLARGE, uuid[i]));
	EXPECT_EQ(0, mdl_available(mdl_parent(), MIGDEV_TYPE_XLARGE));
	EXPECT_EQ(0, mdl_available(mdl_parent(), MIGDEV_TYPE_SMALL));
	EXPECT_EQ(-ENOSPC, __mdl_create(mdl_parent(), MIGDEV_TYPE_XLARGE, extra));
	EXPECT_EQ(-ENOSPC, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, extra));
	EXPECT_FALSE(mdl_exists(extra));
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, __mdl_remove(uuid[i]));
	EXPECT_EQ(n, mdl_available(mdl_parent(), MIGDEV_TYPE_XLARGE));
}

TEST(create_bad_input)
{
	char uuid[MDL_UUID_LEN];
	long long before = mdl_available(mdl_parent(), MIGDEV_TYPE_SMALL);

	EXPECT_EQ(-EINVAL, mdl_sysfs_write(TYPES "/migdev-small/create",
					   "not-a-uuid"));
	EXPECT_EQ(-EINVAL, mdl_sysfs_write(TYPES "/migdev-small/create",
					   "zzzzzzzz-1111-2222-3333-444444444444"));
	EXPECT_EQ(-EINVAL, mdl_sysfs_write(TYPES "/migdev-small/create", "\n"));
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, uuid));
	/* The same UUID twice. */
	EXPECT_EQ(-EEXIST, mdl_sysfs_write(TYPES "/migdev-medium/create", uuid));
	EXPECT_EQ(before - 1, mdl_available(mdl_parent(), MIGDEV_TYPE_SMALL));
	EXPECT_EQ(0, __mdl_remove(uuid));
	EXPECT_EQ(-ENOENT, __mdl_remove(uuid));
	EXPECT_EQ(before, mdl_available(mdl_parent(), MIGDEV_TYPE_SMALL));
}

TEST(instance_attributes)
{
	char uuid[MDL_UUID_LEN], path[PATH_MAX], buf[64];
	unsigned int t;

	for (t = 0; t < MIGDEV_NUM_TYPES; t++) {
		ASSERT_EQ(0, __mdl_create(mdl_parent(), t, uuid));
		snprintf(path, sizeof(path),
			 "/sys/bus/mdev/devices/%s/migdev/type", uuid);
		ASSERT_EQ(0, mdl_sysfs_read(path, buf, sizeof(buf)));
		EXPECT_STREQ(mdl_type_name(t) + strlen("migdev-"), buf);
		EXPECT_EQ(shape[t].queues, mdl_attr(uuid, "queues"));
		EXPECT_EQ(shape[t].mb << 20, mdl_attr(uuid, "devmem_size"));
		EXPECT_EQ(0, mdl_attr(uuid, "devmem_resident"));
		snprintf(path, sizeof(path),
			 "/sys/bus/mdev/devices/%s/mdev_type/name", uuid);
		EXPECT_EQ(0, mdl_sysfs_read(path, buf, sizeof(buf)));
		EXPECT_EQ(0, __mdl_remove(uuid));
		EXPECT_FALSE(mdl_exists(uuid));
	}
}

/* The pre-flight check: an instance's or a type's file @name. */
static void compat_path(const char *target, const char *name, char *path,
			size_t len)
{
	if (!strncmp(target, "migdev-", 7))
		snprintf(path, len, TYPES "/%s/migdev/%s", target, name);
	else
		snprintf(path, len, "/sys/bus/mdev/devices/%s/migdev/%s",
			 target, name);
}

/* @target's description (migration_compat). */
static int compat_read(const char *target, char *buf, size_t len)
{
	char path[PATH_MAX];

	compat_path(target, "migration_compat", path, sizeof(path));
	return mdl_sysfs_read(path, buf, len);
}

/* Ask @target (migration_compat_check): 0 if it would take @text's. */
static int compat_write(const char *target, const char *text)
{
	char path[PATH_MAX];

	compat_path(target, "migration_compat_check", path, sizeof(path));
	return mdl_sysfs_write(path, text);
}

/* @desc with line @key's value replaced by @value. */
static void compat_edit(const char *desc, const char *key, const char *value,
			char *out, size_t len)
{
	const char *at = strstr(desc, key), *end;

	if (!at) {
		snprintf(out, len, "%s", desc);
		return;
	}
	at += strlen(key);
	end = strchr(at, '\n');
	snprintf(out, len, "%.*s%s%s", (int)(at - desc), desc, value,
		 end ? end : "");
}

TEST(migration_compat)
{
	char a[MDL_UUID_LEN], b[MDL_UUID_LEN], c[MDL_UUID_LEN];
	char desc[512], other[512], bad[9000], want[512], after[512];
	static const struct { const char *key, *value; int err; } edits[] = {
		{ "migdev-compat=", "2", -EPROTONOSUPPORT },
		{ "migdev-compat=", "0", -EINVAL },
		{ "pci=", "1b36:0111", -ENODEV },
		{ "pci=", "1B36:0110", -EINVAL },
		{ "pci=", "1b36:110", -EINVAL },
		{ "abi=", "2.0", -EPROTONOSUPPORT },
		{ "abi=", "1.65535", -EPROTONOSUPPORT },
		{ "abi=", "1", -EINVAL },
		{ "type=", "migdev-medium", -ENODEV },
		{ "type=", "", -EINVAL },
		{ "queues=", "2", -ENODEV },
		{ "queues=", "4294967296", -EINVAL },
		{ "queues=", "01", -EINVAL },
		{ "devmem=", "4194305", -ENODEV },
		{ "devmem=", "18446744073709551616", -EINVAL },
		{ "devmem=", "-1", -EINVAL },
		{ "stream=", "2.0", -EINVAL },	/* accept= says 1.x */
		{ "stream=", "1.5", -EPROTONOSUPPORT },
		{ "stream=", "1.65536", -EINVAL },
		{ "accept=", "1.4-1.0", -EINVAL },
		{ "accept=", "2.0-2.4", -EINVAL },
		{ "accept=", "1.0", -EINVAL },
	};
	unsigned int i;

	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, a));
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, b));
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_MEDIUM, c));

	/* What a destination must match, in the documented form. */
	ASSERT_EQ(0, compat_read(a, desc, sizeof(desc)));
	snprintf(want, sizeof(want),
		 "migdev-compat=1\npci=%04x:%04x\nabi=%u.%u\ntype=migdev-small\nqueues=1\ndevmem=4194304\nstream=1.%u\naccept=1.0-1.%u",
		 MIGDEV_PCI_VENDOR_ID, MIGDEV_PCI_DEVICE_ID, MIGDEV_ABI_MAJOR,
		 MIGDEV_ABI_MINOR, (unsigned int)param("stream_minor"),
		 (unsigned int)param("stream_minor"));
	EXPECT_STREQ(want, desc);
	/* The type says the same before any instance exists. */
	ASSERT_EQ(0, compat_read("migdev-small", other, sizeof(other)));
	EXPECT_STREQ(desc, other);

	/* The same type takes it; another type does not. */
	EXPECT_EQ(0, compat_write(b, desc));
	EXPECT_EQ(0, compat_write("migdev-small", desc));
	EXPECT_EQ(-ENODEV, compat_write(c, desc));
	EXPECT_EQ(-ENODEV, compat_write("migdev-medium", desc));
	ASSERT_EQ(0, compat_read(c, other, sizeof(other)));
	EXPECT_EQ(-ENODEV, compat_write(a, other));

	/*
	 * Stream versions: an instance set to emit 1.3 migrates to one that
	 * takes 1.4; one that takes only 1.3 refuses what emits 1.4, and the
	 * type (1.4) takes both.
	 */
	snprintf(want, sizeof(want), "/sys/bus/mdev/devices/%s/migdev/migration_minor", b);
	ASSERT_EQ(0, mdl_sysfs_write(want, "3"));
	ASSERT_EQ(0, compat_read(b, other, sizeof(other)));
	EXPECT_NE(NULL, strstr(other, "\nstream=1.3\naccept=1.0-1.3"));
	EXPECT_EQ(0, compat_write(a, other));
	EXPECT_EQ(-EPROTONOSUPPORT, compat_write(b, desc));
	EXPECT_EQ(0, compat_write("migdev-small", other));

	/* Each key wrong in turn. */
	for (i = 0; i < ARRAY_SIZE(edits); i++) {
		compat_edit(desc, edits[i].key, edits[i].value, bad, sizeof(bad));
		EXPECT_EQ(edits[i].err, compat_write(a, bad))
			TH_LOG("%s%s", edits[i].key, edits[i].value);
	}
	/* A newer major version, consistently described. */
	compat_edit(desc, "stream=", "2.0", other, sizeof(other));
	compat_edit(other, "accept=", "2.0-2.0", bad, sizeof(bad));
	EXPECT_EQ(-EPROTONOSUPPORT, compat_write(a, bad));
	/* Not a description, or more or less than one. */
	EXPECT_EQ(-EINVAL, compat_write(a, "hello"));
	EXPECT_EQ(-EINVAL, compat_write(a, "\n"));
	snprintf(bad, sizeof(bad), "%s\nextra=1\n", desc);
	EXPECT_EQ(-EINVAL, compat_write(a, bad));
	snprintf(bad, sizeof(bad), "%.*s", (int)(strrchr(desc, '\n') - desc), desc);
	EXPECT_EQ(-EINVAL, compat_write(a, bad));
	snprintf(bad, sizeof(bad), "%s\n", desc);
	EXPECT_EQ(0, compat_write(a, bad));
	memset(bad, 'x', sizeof(bad) - 1);
	bad[sizeof(bad) - 1] = 0;
	EXPECT_EQ(-EINVAL, compat_write(a, bad));

	/* One file to read, one to write: neither does the other's job. */
	compat_path(a, "migration_compat", want, sizeof(want));
	EXPECT_EQ(-EACCES, mdl_sysfs_write(want, desc));
	compat_path("migdev-small", "migration_compat_check", want, sizeof(want));
	EXPECT_EQ(-EACCES, mdl_sysfs_read(want, other, sizeof(other)));
	/* Nothing changed by any of it. */
	ASSERT_EQ(0, compat_read(a, after, sizeof(after)));
	EXPECT_STREQ(desc, after);
	EXPECT_EQ(3, mdl_attr(b, "migration_minor"));
	EXPECT_EQ(param("stream_minor"), mdl_attr(a, "migration_minor"));
	EXPECT_EQ(0, __mdl_remove(a));
	EXPECT_EQ(0, __mdl_remove(b));
	EXPECT_EQ(0, __mdl_remove(c));
}

static long long read_meminfo(const char *key)
{
	char line[256];
	long long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) &&
		    line[strlen(key)] == ':')
			v = atoll(line + strlen(key) + 1);
	fclose(f);
	return v;
}

FIXTURE(bulk) {
	int unused;
};

FIXTURE_SETUP(bulk)
{
}

FIXTURE_TEARDOWN(bulk)
{
}

/* A thousand idle instances: created, counted, and removed again. */
TEST_F_TIMEOUT(bulk, thousand_instances, 900)
{
	enum { N = 1000 };
	static char uuid[N][MDL_UUID_LEN];
	long long avail = mdl_available(mdl_parent(), MIGDEV_TYPE_SMALL);
	long long before, after;
	int i, made = 0;

	if (avail < N)
		SKIP(return, "parent holds only %lld small instances", avail);

	system("sync; echo 3 > /proc/sys/vm/drop_caches");
	before = read_meminfo("MemAvailable");
	for (i = 0; i < N; i++) {
		if (__mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, uuid[i]))
			break;
		made++;
	}
	EXPECT_EQ(N, made);
	EXPECT_EQ(avail - N, mdl_available(mdl_parent(), MIGDEV_TYPE_SMALL));
	after = read_meminfo("MemAvailable");
	/* A figure, not a pass/fail criterion. */
	printf("# %d idle instances cost %lld KiB of MemAvailable: %lld bytes each\n",
	       made, before - after, made ? (before - after) * 1024 / made : 0);
	for (i = 0; i < made; i++)
		EXPECT_EQ(0, mdl_attr(uuid[i], "devmem_resident"));
	for (i = 0; i < made; i++)
		EXPECT_EQ(0, __mdl_remove(uuid[i]));
	EXPECT_EQ(avail, mdl_available(mdl_parent(), MIGDEV_TYPE_SMALL));
}

TEST_HARNESS_MAIN
