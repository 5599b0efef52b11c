// SPDX-License-Identifier: GPL-2.0-only
/*
 * A PCI parent that goes while its instances are in use.  One thread
 * binds the test VM's spare function ($MIGDEV_SPARE_PCI) to migdev and
 * unbinds it, over and over, as an administrator or a hot-unplug would.
 * Meanwhile user threads create instances on it, open them (through
 * their group, or their vfio cdev where the kernel has one), give each a
 * request eventfd and let go when it fires (as QEMU does once its guest
 * has given the device up), and in between move them through migration
 * states, read their data_fds, reset them, keep a data_fd past the
 * device's close and read it there, and remove them; another thread reads
 * and writes the parent's and its types' sysfs files.
 *
 * Each unbind must end: its users let go when asked.  Nothing may crash,
 * hang or leak (the debug kernel's KASAN, lockdep and kmemleak watch).
 * Afterwards the function binds again, holds nothing of before, and a
 * stream saved from one of its instances restores into another.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mig_check.h"
#include "migdev_lib.h"

#define USERS	3

struct race {
	const char *addr;
	atomic_int stop;
	/* What happened, for the log and the checks. */
	atomic_int binds, unbinds, created, opened, answered, kept_reads;
	atomic_int sysfs_ops;
	atomic_int bind_errors;
	/* When the unbind under way started (mdl_now(), in ms), or 0. */
	atomic_llong unbind_since_ms;
	double unbind_max;
};

struct user {
	pthread_t t;
	struct race *r;
	unsigned int seed;
};

static unsigned int rnd(unsigned int *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static int bound(const char *addr)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", addr);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return 0;
	link[n] = 0;
	return !strcmp(strrchr(link, '/') + 1, "migdev");
}

static int bind_fn(const char *addr)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 addr);
	ret = mdl_sysfs_write(path, "migdev");
	if (!ret)
		ret = mdl_sysfs_write("/sys/bus/pci/drivers_probe", addr);
	return ret ? ret : bound(addr) ? 0 : -ENODEV;
}

static int unbind_fn(const char *addr)
{
	return mdl_sysfs_write("/sys/bus/pci/drivers/migdev/unbind", addr);
}

static void *admin_thread(void *arg)
{
	struct user *u = arg;
	struct race *r = u->r;

	while (!atomic_load(&r->stop)) {
		double t0;

		if (bind_fn(r->addr)) {
			atomic_fetch_add(&r->bind_errors, 1);
			usleep(10000);
			continue;
		}
		atomic_fetch_add(&r->binds, 1);
		usleep(5000 + rnd(&u->seed) % 40000);
		t0 = mdl_now();
		atomic_store(&r->unbind_since_ms, (long long)(t0 * 1000));
		if (!unbind_fn(r->addr))
			atomic_fetch_add(&r->unbinds, 1);
		atomic_store(&r->unbind_since_ms, 0);
		if (mdl_now() - t0 > r->unbind_max)
			r->unbind_max = mdl_now() - t0;
		usleep(rnd(&u->seed) % 10000);
	}
	return NULL;
}

/* One user's go at an instance, until done or asked to let go. */
static void use_instance(struct user *u, int *kept)
{
	struct race *r = u->r;
	char uuid[MDL_UUID_LEN];
	struct mdl_dev d;
	int32_t efd;
	int i, n, fd;

	if (__mdl_create(r->addr, rnd(&u->seed) % 2 ? 0 : 2, uuid)) {
		usleep(1000);
		return;
	}
	atomic_fetch_add(&r->created, 1);
	/*
	 * Half through the vfio cdev where the kernel has one: the cdev's
	 * file keeps the VFIO device until after its release, so the
	 * device can be released after its parent went.
	 */
	if (__mdl_open_backend(uuid, &d, rnd(&u->seed) % 2 ? MDL_IOMMUFD :
			       MDL_GROUP) && __mdl_open(uuid, &d)) {
		__mdl_remove(uuid);
		return;
	}
	atomic_fetch_add(&r->opened, 1);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd >= 0)
		__mdl_set_irq_eventfds(&d, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &efd);
	n = 5 + rnd(&u->seed) % 40;
	for (i = 0; i < n && !atomic_load(&r->stop); i++) {
		struct pollfd p = { .fd = efd, .events = POLLIN };
		uint8_t buf[4096];

		if (efd >= 0 && poll(&p, 1, 0) == 1) {
			atomic_fetch_add(&r->answered, 1);
			break;
		}
		switch (rnd(&u->seed) % 6) {
		case 0:	/* a stream, read a little, maybe kept */
			__mdl_mig_set(&d, VFIO_DEVICE_STATE_RUNNING, NULL);
			fd = -1;
			if (!__mdl_mig_set(&d, rnd(&u->seed) % 2 ?
					   VFIO_DEVICE_STATE_PRE_COPY :
					   VFIO_DEVICE_STATE_STOP_COPY, &fd) &&
			    fd >= 0) {
				if (read(fd, buf, sizeof(buf)) < 0)
					(void)0;
				if (*kept < 0 && rnd(&u->seed) % 2)
					*kept = fd;
				else
					close(fd);
			}
			break;
		case 1:
			__mdl_mig_set(&d, VFIO_DEVICE_STATE_RUNNING, NULL);
			break;
		case 2:
			ioctl(d.fd, VFIO_DEVICE_RESET);
			break;
		case 3:
			mdl_dirty_device(&d, rnd(&u->seed));
			break;
		case 4:
			mdl_pread(&d, VFIO_PCI_CONFIG_REGION_INDEX, 0, buf, 256);
			break;
		default:
			usleep(1000 + rnd(&u->seed) % 4000);
			break;
		}
	}
	mdl_close(&d);
	if (efd >= 0)
		close(efd);
	/* The stream outlives its device: reads end, nothing breaks. */
	if (*kept >= 0 && rnd(&u->seed) % 2) {
		uint8_t buf[4096];

		if (read(*kept, buf, sizeof(buf)) < 0)
			(void)0;
		atomic_fetch_add(&r->kept_reads, 1);
		close(*kept);
		*kept = -1;
	}
	__mdl_remove(uuid);
}

static void *user_thread(void *arg)
{
	struct user *u = arg;
	int kept = -1;

	while (!atomic_load(&u->r->stop))
		use_instance(u, &kept);
	if (kept >= 0)
		close(kept);
	return NULL;
}

static void *sysfs_thread(void *arg)
{
	struct user *u = arg;
	struct race *r = u->r;
	char path[PATH_MAX], buf[512];

	while (!atomic_load(&r->stop)) {
		unsigned int t = rnd(&u->seed) % MIGDEV_NUM_TYPES;
		const char *type = mdl_type_name(t);
		int fd;

		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/mdev_supported_types/%s/available_instances",
			 r->addr, type);
		mdl_sysfs_read(path, buf, sizeof(buf));
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/mdev_supported_types/%s/migdev/migration_compat",
			 r->addr, type);
		if (!mdl_sysfs_read(path, buf, sizeof(buf))) {
			snprintf(path, sizeof(path),
				 "/sys/bus/pci/devices/%s/mdev_supported_types/%s/migdev/migration_compat_check",
				 r->addr, mdl_type_name(rnd(&u->seed) % MIGDEV_NUM_TYPES));
			fd = open(path, O_WRONLY);
			if (fd >= 0) {
				if (write(fd, buf, strlen(buf)) < 0)
					(void)0;
				close(fd);
			}
		}
		snprintf(path, sizeof(path), "/sys/class/mdev_bus/%s/mdev_supported_types",
			 r->addr);
		{
			DIR *dir = opendir(path);

			if (dir) {
				while (readdir(dir))
					;
				closedir(dir);
			}
		}
		atomic_fetch_add(&r->sysfs_ops, 1);
		usleep(rnd(&u->seed) % 2000);
	}
	return NULL;
}

static int race_seconds(void)
{
	const char *s = getenv("MIGDEV_RACE_SECONDS");

	return s && atoi(s) > 0 ? atoi(s) : 10;
}

/* Instances left under the function: directories named as UUIDs. */
static int instances_under(const char *addr)
{
	char path[PATH_MAX];
	struct dirent *e;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", addr);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((e = readdir(dir)))
		if (strlen(e->d_name) == MDL_UUID_LEN - 1 && e->d_name[8] == '-')
			n++;
	closedir(dir);
	return n;
}

FIXTURE(parent) {
	const char *addr;
};

FIXTURE_SETUP(parent)
{
	self->addr = getenv("MIGDEV_SPARE_PCI");
	if (!self->addr || !*self->addr || access("/sys/bus/pci/drivers/migdev", F_OK))
		SKIP(return, "no spare PCI function (tests/vm/run.sh makes one)");
	if (bound(self->addr))
		ASSERT_EQ(0, unbind_fn(self->addr));
}

FIXTURE_TEARDOWN(parent)
{
	char path[PATH_MAX];

	if (!self->addr || !*self->addr)
		return;
	if (bound(self->addr))
		unbind_fn(self->addr);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 self->addr);
	mdl_sysfs_write(path, "\n");
}

TEST_F_TIMEOUT(parent, unbind_races_users, 300)
{
	struct user t[USERS + 2];
	struct race r = { .addr = self->addr };
	char a[MDL_UUID_LEN], b[MDL_UUID_LEN];
	struct mdl_dev src, dst;
	uint8_t *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	double end;
	long long since;
	int i;

	for (i = 0; i < USERS + 2; i++) {
		t[i].r = &r;
		t[i].seed = 0x9a7e47 + i * 7919;
		ASSERT_EQ(0, pthread_create(&t[i].t, NULL,
					    i == 0 ? admin_thread :
					    i == 1 ? sysfs_thread : user_thread,
					    &t[i]));
	}
	end = mdl_now() + race_seconds();
	while (mdl_now() < end) {
		usleep(100000);
		/* A user that was asked lets go: an unbind never sticks. */
		since = atomic_load(&r.unbind_since_ms);
		if (since && mdl_now() * 1000 - since > 60000) {
			atomic_store(&r.stop, 1);
			ASSERT_TRUE(0)
				TH_LOG("an unbind has waited %.0f s for users %s",
				       mdl_now() - since / 1000.0,
				       "that were asked to let go");
		}
	}
	atomic_store(&r.stop, 1);
	for (i = 0; i < USERS + 2; i++)
		pthread_join(t[i].t, NULL);
	ksft_print_msg("%d binds, %d unbinds (longest %.0f ms),\n", r.binds,
		       r.unbinds, r.unbind_max * 1000);
	ksft_print_msg("%d instances made, %d opened, %d let go when asked,\n",
		       r.created, r.opened, r.answered);
	ksft_print_msg("%d data_fds read after their device went, %d sysfs rounds\n",
		       r.kept_reads, r.sysfs_ops);
	EXPECT_EQ(0, r.bind_errors);
	EXPECT_LT(0, r.unbinds);
	EXPECT_LT(0, r.opened);
	/* At least one unbind came while an instance was open. */
	EXPECT_LT(0, r.answered);

	/* Afterwards: bound again, nothing of before, and it migrates. */
	if (bound(self->addr))
		ASSERT_EQ(0, unbind_fn(self->addr));
	ASSERT_EQ(0, bind_fn(self->addr));
	EXPECT_EQ(0, instances_under(self->addr));
	EXPECT_EQ(mdl_available("migdev0", 0), mdl_available(self->addr, 0));
	mdl_create(self->addr, 1, a);
	mdl_create(self->addr, 1, b);
	mdl_open(a, &src);
	mdl_open(b, &dst);
	mdl_dirty_device(&src, 77);
	len = mdl_save(&src, &buf, &cap);
	ASSERT_LT(0, len);
	ASSERT_EQ(0, mdl_load(&dst, buf, len, 32768));
	ASSERT_EQ(0, __mdl_mig_set(&src, VFIO_DEVICE_STATE_RUNNING, NULL));
	expect_same_device(_metadata, &src, &dst, 64 << 20);
	free(buf);
	mdl_close(&src);
	mdl_close(&dst);
	mdl_remove(a);
	mdl_remove(b);
}

TEST_HARNESS_MAIN
