// SPDX-License-Identifier: GPL-2.0-only
/*
 * A kernel bug, not migdev's: the legacy VFIO container passes type1's
 * ioctls (VFIO_IOMMU_*) through without container->group_lock, while the
 * last group leaving the container frees type1's struct vfio_iommu under
 * that lock.  An IOMMU ioctl racing the close of the last group then runs
 * in freed memory.  Any VFIO group will do; a migdev instance gives one.
 * See "Kernel bugs found" in Documentation/migdev.rst, and the fix in
 * kernel-patches/6.12/.
 *
 * close_waits_for_ioctl is deterministic and safe on any kernel: the
 * ioctl's argument is on a userfaultfd page, so type1 waits in
 * copy_from_user() while another thread closes the group.  On a fixed
 * kernel that close waits for the ioctl.  On an affected kernel it
 * returns at once, having freed what the ioctl uses; the test then lets
 * the ioctl fail its argument check, before it touches the freed memory,
 * and reports the bug (XFAIL, "known kernel bug present in <release>"),
 * or FAIL where the kernel is meant to carry the fix
 * (MIGDEV_KERNEL_FIXES names "vfio-container-group-lock").
 *
 * The race tests hammer the same window from threads, as the fuzzer
 * found it: on an affected kernel they oops it within seconds, so they
 * run only where the fix is expected or MIGDEV_RACE_UNSAFE=1 says that
 * an oops is wanted (tests/kernel_bugs_test.sh, in a throw-away VM).
 *
 * unmap_races_device_open shows a second kernel bug of the same container:
 * type1 takes its iommu->lock and device_list_lock in both orders around
 * an emulated device's dma_unmap(), which deadlocks once the device holds
 * pins (MIGDEV_KERNEL_FIXES names "vfio-type1-lock-order" for the fix).
 * unmap_races_unmap keeps that fix from bringing a use after free of its
 * own (its first version did).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "migdev_lib.h"

/* Far from libmigdev's IOVAs (from 4 GiB up), one window per thread. */
#define RACE_IOVA	0x100000000000ULL
#define RACE_SIZE	(64u << 10)

/* The kernel is meant to carry the fix: the bug is a failure there. */
static int fix_expected(void)
{
	return mdl_kernel_has_fix(MDL_FIX_CONTAINER_GROUP_LOCK);
}

static const char *release(void)
{
	static struct utsname u;

	if (!u.release[0])
		uname(&u);
	return u.release;
}

/* End the test as an expected failure, with @reason. */
#define XFAIL_NOW(statement, fmt, ...) do {				\
	snprintf(_metadata->results->reason,				\
		 sizeof(_metadata->results->reason), fmt, ##__VA_ARGS__); \
	ksft_print_msg("      XFAIL  %s\n", _metadata->results->reason); \
	_metadata->exit_code = KSFT_XFAIL;				\
	statement;							\
} while (0)

static int type1_set(int group, int container)
{
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		return -errno;
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -errno;
	return 0;
}

/* --- close_waits_for_ioctl --- */

struct stalled_info {
	pthread_t t;
	int container;
	struct vfio_iommu_type1_info *info;	/* on the stalled page */
	atomic_int done;
	int ret;
};

static void *info_thread(void *arg)
{
	struct stalled_info *c = arg;

	c->ret = ioctl(c->container, VFIO_IOMMU_GET_INFO, c->info) ? -errno : 0;
	atomic_store(&c->done, 1);
	return NULL;
}

struct closer {
	pthread_t t;
	int fd;
	atomic_int done;
};

static void *close_thread(void *arg)
{
	struct closer *c = arg;

	close(c->fd);
	atomic_store(&c->done, 1);
	return NULL;
}

/* Wait up to @ms for *@flag: 1 if it came. */
static int wait_flag(atomic_int *flag, int ms)
{
	for (; ms > 0; ms -= 5) {
		if (atomic_load(flag))
			return 1;
		usleep(5000);
	}
	return atomic_load(flag);
}

FIXTURE(container) {
	char uuid[MDL_UUID_LEN];
	char uuid2[MDL_UUID_LEN];
	char group[PATH_MAX];
	char group2[PATH_MAX];
};

FIXTURE_SETUP(container)
{
	mdl_create(mdl_parent(), 0, self->uuid);
	mdl_create(mdl_parent(), 0, self->uuid2);
	ASSERT_EQ(0, mdl_group_path(self->uuid, self->group, sizeof(self->group)));
	ASSERT_EQ(0, mdl_group_path(self->uuid2, self->group2, sizeof(self->group2)));
}

FIXTURE_TEARDOWN(container)
{
	mdl_remove(self->uuid);
	mdl_remove(self->uuid2);
}

/*
 * A VFIO_IOMMU_GET_INFO in flight in type1 (stalled on its argument) and
 * the close of the container's only group: the close must wait for it.
 */
TEST_F(container, close_waits_for_ioctl)
{
	long page = sysconf(_SC_PAGESIZE);
	struct vfio_iommu_type1_info *arg;
	struct stalled_info io = { 0 };
	struct closer cl = { 0 };
	struct mdl_stall s;
	struct mdl_dev d;
	int container, group, ret, early;
	uint8_t *buf;

	ret = mdl_stall_init(&s);
	if (ret)
		SKIP(return, "no userfaultfd: %s", strerror(-ret));
	container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, container);
	group = open(self->group, O_RDWR);
	ASSERT_LE(0, group);
	ASSERT_EQ(0, type1_set(group, container));

	io.container = container;
	io.info = (void *)s.page;
	ASSERT_EQ(0, pthread_create(&io.t, NULL, info_thread, &io));
	/* The fault comes from type1's copy_from_user() of the argument. */
	ASSERT_EQ(1, mdl_stall_wait_fault(&s, 10000));
	ASSERT_EQ(0, atomic_load(&io.done));

	cl.fd = group;
	ASSERT_EQ(0, pthread_create(&cl.t, NULL, close_thread, &cl));
	early = wait_flag(&cl.done, 500);

	buf = calloc(1, page);
	ASSERT_NE(NULL, buf);
	arg = (void *)buf;
	/*
	 * Fixed: the ioctl goes on with a valid argument and must answer.
	 * Affected: argsz 0 makes type1 refuse it (EINVAL) before it takes
	 * the freed vfio_iommu's lock, so the test corrupts nothing.
	 */
	arg->argsz = early ? 0 : sizeof(*arg);
	mdl_stall_release_with(&s, buf);
	ASSERT_EQ(0, pthread_join(io.t, NULL));
	ASSERT_EQ(0, pthread_join(cl.t, NULL));

	if (early) {
		ASSERT_EQ(-EINVAL, io.ret);
		close(container);
		mdl_stall_fini(&s);
		free(buf);
		/* Where the fix should be: the close did not wait for type1. */
		if (fix_expected())
			ASSERT_FALSE(early) TH_LOG("kernel %s lacks the fix", release());
		XFAIL_NOW(return, "known kernel bug present in %s", release());
	}
	/* The ioctl answered, from intact data. */
	ASSERT_EQ(0, io.ret);
	ASSERT_TRUE(io.info->flags & VFIO_IOMMU_INFO_PGSIZES);
	ASSERT_NE(0, io.info->iova_pgsizes);
	/* The container lost its IOMMU with its last group. */
	EXPECT_EQ(-1, ioctl(container, VFIO_IOMMU_GET_INFO, buf));
	close(container);
	mdl_stall_fini(&s);
	free(buf);

	/* And the instance works through a new container. */
	ASSERT_EQ(0, __mdl_open(self->uuid, &d));
	EXPECT_EQ(MIGDEV_PCI_VENDOR_ID, mdl_cfg_read(&d, PCI_VENDOR_ID, 2));
	mdl_close(&d);
}

/* --- the race, from threads --- */

struct race {
	int container;
	const char *groups[2];
	const char *uuid;	/* with_device: the instance doing DMA */
	int with_device;
	atomic_int stop;
	atomic_long cycles;	/* groups attached, IOMMU set, closed */
	atomic_long answered;	/* IOMMU ioctls type1 answered with 0 */
	atomic_long dma_ok;	/* with_device: copies checked */
	atomic_long dma_bad;
	uint8_t *buf;		/* mapped by the ioctl threads */
};

struct racer {
	pthread_t t;
	struct race *r;
	unsigned int seed;
	unsigned int id;
};

/* A DMA copy through the instance, on the race's container: 1 if right. */
static int race_dma(struct race *r, int group, unsigned int seed)
{
	struct mdl_dma a = { 0 }, b = { 0 };
	struct mdl_queue q = { 0 };
	struct migdev_desc d;
	struct mdl_dev dev;
	int ok = 0;

	memset(&dev, 0, sizeof(dev));
	dev.container = r->container;
	dev.group = group;
	dev.iommufd = -1;
	dev.next_iova = 1ull << 32;
	snprintf(dev.uuid, sizeof(dev.uuid), "%s", r->uuid);
	dev.fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, r->uuid);
	if (dev.fd < 0)
		return 0;
	mdl_bus_master(&dev, 1);
	if (__mdl_queue_init(&dev, 0, 16, &q) ||
	    __mdl_dma_map(&dev, 4096, &a) || __mdl_dma_map(&dev, 4096, &b))
		goto out;
	mdl_fill_random(a.va, 4096, seed);
	d = mdl_desc(MIGDEV_OP_COPY, a.iova, b.iova, 4096, 0);
	ok = mdl_run(&q, &d) == MIGDEV_STATUS_OK && !memcmp(a.va, b.va, 4096);
out:
	mdl_dma_free(&dev, &a);
	mdl_dma_free(&dev, &b);
	mdl_queue_fini(&q);
	/* The device fd holds the group: its close may be the last one. */
	close(dev.fd);
	return ok;
}

/*
 * Attach the groups, set the IOMMU (with_device: take the device and do
 * DMA), then detach them (UNSET_CONTAINER or close, in a random order):
 * the last one out frees type1's data.
 */
static void *lifecycle_thread(void *arg)
{
	struct racer *me = arg;
	struct race *r = me->r;
	int g[2], i, n = r->groups[1] ? 2 : 1;

	while (!atomic_load(&r->stop)) {
		for (i = 0; i < n; i++) {
			g[i] = open(r->groups[i], O_RDWR);
			if (g[i] >= 0)
				ioctl(g[i], VFIO_GROUP_SET_CONTAINER, &r->container);
		}
		ioctl(r->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
		if (r->with_device && g[0] >= 0) {
			if (race_dma(r, g[0], rand_r(&me->seed)))
				atomic_fetch_add(&r->dma_ok, 1);
			else
				atomic_fetch_add(&r->dma_bad, 1);
		}
		i = rand_r(&me->seed) % n;
		for (int k = 0; k < n; k++, i = (i + 1) % n) {
			if (g[i] < 0)
				continue;
			if (rand_r(&me->seed) & 1)
				ioctl(g[i], VFIO_GROUP_UNSET_CONTAINER);
			close(g[i]);
		}
		atomic_fetch_add(&r->cycles, 1);
	}
	return NULL;
}

/* VFIO_IOMMU_GET_INFO, MAP_DMA and UNMAP_DMA on the container. */
static void *iommu_thread(void *arg)
{
	struct racer *me = arg;
	struct race *r = me->r;
	uint64_t iova = RACE_IOVA + (uint64_t)me->id * RACE_SIZE;
	struct vfio_iommu_type1_info info;
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)r->buf + me->id * RACE_SIZE,
		.iova = iova, .size = RACE_SIZE,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = iova, .size = RACE_SIZE,
	};
	int ret;

	while (!atomic_load(&r->stop)) {
		switch (rand_r(&me->seed) % 3) {
		case 0:
			memset(&info, 0, sizeof(info));
			info.argsz = sizeof(info);
			ret = ioctl(r->container, VFIO_IOMMU_GET_INFO, &info);
			break;
		case 1:
			ret = ioctl(r->container, VFIO_IOMMU_MAP_DMA, &map);
			break;
		default:
			ret = ioctl(r->container, VFIO_IOMMU_UNMAP_DMA, &unmap);
			break;
		}
		if (!ret)
			atomic_fetch_add(&r->answered, 1);
	}
	return NULL;
}

static int race_seconds(void)
{
	const char *s = getenv("MIGDEV_RACE_SECONDS");

	return s && atoi(s) > 0 ? atoi(s) : 10;
}

#define IOMMU_THREADS	3

static void run_race(struct __test_metadata *_metadata,
		     const struct _test_data_container *self, int two_groups,
		     int with_device)
{
	struct racer t[1 + IOMMU_THREADS];
	struct race r = { 0 };
	struct mdl_dev d;
	int i, secs = race_seconds();
	double end;

	if (!fix_expected() && !getenv("MIGDEV_RACE_UNSAFE"))
		SKIP(return, "would oops %s (known bug, see kernel_bugs_test.sh)",
		     release());
	r.container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, r.container);
	r.groups[0] = self->group;
	r.groups[1] = two_groups ? self->group2 : NULL;
	r.uuid = self->uuid;
	r.with_device = with_device;
	r.buf = mmap(NULL, IOMMU_THREADS * RACE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, r.buf);

	for (i = 0; i <= IOMMU_THREADS; i++) {
		t[i].r = &r;
		t[i].id = i ? i - 1 : 0;
		t[i].seed = 0x5eed + i;
		ASSERT_EQ(0, pthread_create(&t[i].t, NULL,
					    i ? iommu_thread : lifecycle_thread,
					    &t[i]));
	}
	end = mdl_now() + secs;
	while (mdl_now() < end)
		usleep(100000);
	atomic_store(&r.stop, 1);
	for (i = 0; i <= IOMMU_THREADS; i++)
		ASSERT_EQ(0, pthread_join(t[i].t, NULL));
	ksft_print_msg("%d s: %ld cycles, %ld ioctls answered, %ld copies checked\n",
		       secs, atomic_load(&r.cycles), atomic_load(&r.answered),
		       atomic_load(&r.dma_ok));
	close(r.container);
	munmap(r.buf, IOMMU_THREADS * RACE_SIZE);

	/* Both sides of the race ran, and DMA was right each time. */
	EXPECT_LT(0, atomic_load(&r.cycles));
	EXPECT_LT(0, atomic_load(&r.answered));
	if (with_device) {
		EXPECT_LT(0, atomic_load(&r.dma_ok));
		EXPECT_EQ(0, atomic_load(&r.dma_bad));
	}
	/* The instances work after it. */
	ASSERT_EQ(0, __mdl_open(self->uuid, &d));
	EXPECT_EQ(MIGDEV_PCI_VENDOR_ID, mdl_cfg_read(&d, PCI_VENDOR_ID, 2));
	mdl_close(&d);
	ASSERT_EQ(0, __mdl_open(self->uuid2, &d));
	EXPECT_EQ(MIGDEV_PCI_VENDOR_ID, mdl_cfg_read(&d, PCI_VENDOR_ID, 2));
	mdl_close(&d);
}

/* The reproducer: one group in and out, IOMMU ioctls from 3 threads. */
TEST_F_TIMEOUT(container, ioctls_race_last_group_close, 300)
{
	run_race(_metadata, self, 0, 0);
}

/* Two instances' groups share the container; either may leave last. */
TEST_F_TIMEOUT(container, ioctls_race_two_groups, 300)
{
	run_race(_metadata, self, 1, 0);
}

/*
 * With a device fd taken and DMA done each cycle: the group is released
 * by the device's close, and UNMAP_DMA meets an open device.
 */
TEST_F_TIMEOUT(container, ioctls_race_device_close, 300)
{
	run_race(_metadata, self, 1, 1);
}

/* --- type1's lock order: an unmap's notifier against a device's open --- */

#define PINNED_SIZE	(256u * 4096)	/* 256 pages, each unpinned alone */

/*
 * The engine's side of the unmap races, on @dev: bus mastering, queue 0 in
 * @q, a buffer to copy into in @dst, and the PINNED_SIZE buffer to copy
 * from, returned and described in @src at RACE_IOVA, where each cycle
 * maps and unmaps it.
 */
static uint8_t *pinned_setup(struct __test_metadata *_metadata,
			     struct mdl_dev *dev, struct mdl_queue *q,
			     struct mdl_dma *dst, struct mdl_dma *src)
{
	uint8_t *buf;

	mdl_bus_master(dev, 1);
	ASSERT_EQ(0, __mdl_queue_init(dev, 0, 16, q));
	ASSERT_EQ(0, __mdl_dma_map(dev, PINNED_SIZE, dst));
	buf = mmap(NULL, PINNED_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	src->va = buf;
	src->iova = RACE_IOVA;
	src->size = PINNED_SIZE;
	return buf;
}

/*
 * VFIO_IOMMU_UNMAP_DMA of [RACE_IOVA, + PINNED_SIZE) from @container:
 * the bytes unmapped, or -1.
 */
static long long race_unmap(int container)
{
	struct vfio_iommu_type1_dma_unmap um = {
		.argsz = sizeof(um), .iova = RACE_IOVA, .size = PINNED_SIZE,
	};

	return ioctl(container, VFIO_IOMMU_UNMAP_DMA, &um) ? -1 : (long long)um.size;
}

struct opener {
	pthread_t t;
	int group;
	const char *uuid;
	atomic_int stop;
	atomic_long opens;
};

/* Take the second instance's device fd and close it, again and again. */
static void *opener_thread(void *arg)
{
	struct opener *o = arg;
	int fd;

	while (!atomic_load(&o->stop)) {
		fd = ioctl(o->group, VFIO_GROUP_GET_DEVICE_FD, o->uuid);
		if (fd >= 0) {
			close(fd);
			atomic_fetch_add(&o->opens, 1);
		}
	}
	return NULL;
}

/*
 * Two instances' groups in one type1 container.  The first instance's
 * engine copies a buffer, which pins its pages; the buffer is then
 * unmapped, so type1 calls the device's dma_unmap() with its
 * device_list_lock held, and the device unpins page by page, each time
 * taking type1's iommu->lock.  Meanwhile another thread opens and closes
 * the second instance's device, which takes iommu->lock and then
 * device_list_lock (type1's register_device()).  On a kernel without the
 * lock-order fix the two deadlock in uninterruptible sleeps: so this runs
 * only where the fix is expected, or where MIGDEV_RACE_UNSAFE=1 asks for
 * the hang (tests/kernel_bugs_test.sh, whose VM panics on a hung task).
 */
TEST_F_TIMEOUT(container, unmap_races_device_open, 300)
{
	struct opener op = { .uuid = self->uuid2 };
	struct mdl_dma src = { 0 }, dst = { 0 };
	struct mdl_queue q = { 0 };
	long cycles = 0, bad = 0;
	struct migdev_desc desc;
	struct mdl_dev dev, d2;
	int group2, secs = race_seconds();
	uint8_t *buf;
	double end;

	if (!mdl_kernel_has_fix(MDL_FIX_TYPE1_LOCK_ORDER) &&
	    !getenv("MIGDEV_RACE_UNSAFE"))
		SKIP(return, "would deadlock %s (known bug, see kernel_bugs_test.sh)",
		     release());
	memset(&dev, 0, sizeof(dev));
	dev.iommufd = -1;
	dev.next_iova = 1ull << 32;
	snprintf(dev.uuid, sizeof(dev.uuid), "%s", self->uuid);
	dev.container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, dev.container);
	dev.group = open(self->group, O_RDWR);
	ASSERT_LE(0, dev.group);
	group2 = open(self->group2, O_RDWR);
	ASSERT_LE(0, group2);
	ASSERT_EQ(0, type1_set(dev.group, dev.container));
	ASSERT_EQ(0, ioctl(group2, VFIO_GROUP_SET_CONTAINER, &dev.container));
	dev.fd = ioctl(dev.group, VFIO_GROUP_GET_DEVICE_FD, self->uuid);
	ASSERT_LE(0, dev.fd);
	buf = pinned_setup(_metadata, &dev, &q, &dst, &src);

	op.group = group2;
	ASSERT_EQ(0, pthread_create(&op.t, NULL, opener_thread, &op));
	end = mdl_now() + secs;
	while (mdl_now() < end) {
		ASSERT_EQ(0, __mdl_dma_map_at(&dev, buf, PINNED_SIZE, RACE_IOVA));
		mdl_fill_random(buf, PINNED_SIZE, cycles);
		desc = mdl_desc(MIGDEV_OP_COPY, RACE_IOVA, dst.iova, PINNED_SIZE, 0);
		if (mdl_run(&q, &desc) != MIGDEV_STATUS_OK ||
		    memcmp(buf, dst.va, PINNED_SIZE))
			bad++;
		/* At once, while the engine still holds the pins. */
		ASSERT_EQ(0, __mdl_dma_unmap_iova(&dev, &src));
		cycles++;
	}
	atomic_store(&op.stop, 1);
	ASSERT_EQ(0, pthread_join(op.t, NULL));
	ksft_print_msg("%d s: %ld unmaps of pinned buffers, %ld device opens\n",
		       secs, cycles, atomic_load(&op.opens));
	/* Both sides ran, and every copy was right. */
	EXPECT_LT(0, cycles);
	EXPECT_LT(0, atomic_load(&op.opens));
	EXPECT_EQ(0, bad);

	mdl_dma_free(&dev, &dst);
	mdl_queue_fini(&q);
	close(dev.fd);
	close(group2);
	close(dev.group);
	close(dev.container);
	munmap(buf, PINNED_SIZE);
	/* The instances work after it. */
	ASSERT_EQ(0, __mdl_open(self->uuid, &d2));
	EXPECT_EQ(MIGDEV_PCI_VENDOR_ID, mdl_cfg_read(&d2, PCI_VENDOR_ID, 2));
	mdl_close(&d2);
	ASSERT_EQ(0, __mdl_open(self->uuid2, &d2));
	EXPECT_EQ(MIGDEV_PCI_VENDOR_ID, mdl_cfg_read(&d2, PCI_VENDOR_ID, 2));
	mdl_close(&d2);
}

struct unmapper {
	pthread_t t;
	int container;
	atomic_int stop;
	atomic_long unmaps;
};

/* Unmap [RACE_IOVA, + PINNED_SIZE) from @arg's container, again and again. */
static void *unmapper_thread(void *arg)
{
	struct unmapper *u = arg;

	while (!atomic_load(&u->stop))
		if (race_unmap(u->container) > 0)
			atomic_fetch_add(&u->unmaps, 1);
	return NULL;
}

/*
 * Two unmaps of one pinned range at once.  With the lock-order fix, the
 * notifier drops iommu->lock before it takes device_list_lock, so a second
 * UNMAP_DMA of the range can notify too, and free the vfio_dma as soon as
 * the first notification unpinned it: the notifier must not read the
 * vfio_dma after dropping the lock.  The first version of the fix did,
 * and KASAN reported the use after free in vfio_iommu_type1_ioctl (the
 * run's kernel log scan fails on it).  Without the fix the two unmaps
 * deadlock, as in unmap_races_device_open.  The engine copies the range,
 * pinning its 256 pages, and it is unmapped at once from this thread and
 * another; the device works after.
 */
TEST_F_TIMEOUT(container, unmap_races_unmap, 300)
{
	struct unmapper u = { 0 };
	struct mdl_dma src = { 0 }, dst = { 0 };
	struct mdl_queue q = { 0 };
	struct migdev_desc desc;
	int secs = race_seconds();
	long cycles = 0;
	struct mdl_dev dev;
	uint8_t *buf;
	double end;
	uint32_t n;

	if (!mdl_kernel_has_fix(MDL_FIX_TYPE1_LOCK_ORDER) &&
	    !getenv("MIGDEV_RACE_UNSAFE"))
		SKIP(return, "would deadlock %s (known bug, see kernel_bugs_test.sh)",
		     release());
	ASSERT_EQ(0, __mdl_open(self->uuid, &dev));
	buf = pinned_setup(_metadata, &dev, &q, &dst, &src);

	u.container = dev.container;
	ASSERT_EQ(0, pthread_create(&u.t, NULL, unmapper_thread, &u));
	end = mdl_now() + secs;
	while (mdl_now() < end) {
		/* EEXIST while the last map is not unmapped yet. */
		if (__mdl_dma_map_at(&dev, buf, PINNED_SIZE, RACE_IOVA))
			continue;
		desc = mdl_desc(MIGDEV_OP_COPY, RACE_IOVA, dst.iova, PINNED_SIZE, 0);
		n = mdl_submit(&q, &desc);
		race_unmap(dev.container);
		/* Done, or failed: the range went under it. */
		mdl_wait(&q, n, 20000);
		cycles++;
	}
	atomic_store(&u.stop, 1);
	ASSERT_EQ(0, pthread_join(u.t, NULL));
	ksft_print_msg("%d s: %ld maps of a pinned buffer, %ld of its unmaps by the other thread\n",
		       secs, cycles, atomic_load(&u.unmaps));
	EXPECT_LT(0, cycles);
	EXPECT_LT(0, atomic_load(&u.unmaps));

	/* The device copies right after it. */
	__mdl_dma_unmap_iova(&dev, &src);
	ASSERT_EQ(0, __mdl_dma_map_at(&dev, buf, PINNED_SIZE, RACE_IOVA));
	mdl_fill_random(buf, PINNED_SIZE, 7);
	desc = mdl_desc(MIGDEV_OP_COPY, RACE_IOVA, dst.iova, PINNED_SIZE, 0);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&q, &desc));
	EXPECT_EQ(0, memcmp(buf, dst.va, PINNED_SIZE));
	ASSERT_EQ(0, __mdl_dma_unmap_iova(&dev, &src));
	mdl_dma_free(&dev, &dst);
	mdl_queue_fini(&q);
	mdl_close(&dev);
	munmap(buf, PINNED_SIZE);
}

TEST_HARNESS_MAIN
