// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hostile users: one regression test for each finding of the review that
 * read the module as an attacker would (issue "Trust").  Each one fails,
 * hangs or crashes the host on the module before its fix, and each checks
 * that the device still works afterwards.
 *
 * Stalled user memory is made with userfaultfd: a page registered for
 * missing faults blocks any access to it, the kernel's copy_from_user()
 * included, until the test resolves the fault.  That is what a VMM whose
 * buffers are FUSE- or userfaultfd-backed does to the module.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "dma_fixture.h"

#define PAGE		4096u

static uint32_t st(struct mdl_queue *q, uint32_t n)
{
	return le32toh(mdl_cpl(q, n)->status);
}

/* The device still does DMA: a page from a to b, checked. */
static int copy_works(struct mdl_queue *q, struct mdl_dma *a, struct mdl_dma *b)
{
	struct migdev_desc d = mdl_desc(MIGDEV_OP_COPY, a->iova, b->iova, PAGE, 0);

	memset(b->va, 0, PAGE);
	return mdl_run(q, &d) == MIGDEV_STATUS_OK && !memcmp(a->va, b->va, PAGE);
}

/* --- a call run in a thread, so that a test can time it out --- */

struct call {
	pthread_t t;
	void *(*fn)(struct call *c);
	struct mdl_dev *dev;
	const char *uuid;
	int fd;
	void *buf;
	size_t len;
	off_t off;
	long ret;
	int err;
	int done;	/* __atomic */
};

static void *call_thread(void *arg)
{
	struct call *c = arg;

	c->fn(c);
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int call_done(struct call *c)
{
	return __atomic_load_n(&c->done, __ATOMIC_ACQUIRE);
}

static void call_start(struct call *c)
{
	__atomic_store_n(&c->done, 0, __ATOMIC_RELEASE);
	pthread_create(&c->t, NULL, call_thread, c);
}

/* 1 if the call returned within @ms (and is joined), else 0. */
static int call_wait(struct call *c, int ms)
{
	int i;

	for (i = 0; i < ms && !call_done(c); i++)
		usleep(1000);
	if (!call_done(c))
		return 0;
	pthread_join(c->t, NULL);
	return 1;
}

static void *do_pwrite(struct call *c)
{
	c->ret = pwrite(c->fd, c->buf, c->len, c->off);
	c->err = errno;
	return NULL;
}

static void *do_read(struct call *c)
{
	c->ret = read(c->fd, c->buf, c->len);
	c->err = errno;
	return NULL;
}

static void *do_write(struct call *c)
{
	c->ret = write(c->fd, c->buf, c->len);
	c->err = errno;
	return NULL;
}

static void *do_delayed_pwrite(struct call *c)
{
	usleep(300000);
	return do_pwrite(c);
}

static void *do_close(struct call *c)
{
	mdl_close(c->dev);
	return NULL;
}

static void *do_mig_p2p(struct call *c)
{
	c->ret = __mdl_mig_set(c->dev, VFIO_DEVICE_STATE_PRE_COPY_P2P, NULL);
	return NULL;
}

static void *do_precopy_info(struct call *c)
{
	uint64_t initial, dirty;

	c->ret = __mdl_precopy_info(c->fd, &initial, &dirty);
	return NULL;
}

static void *do_read_minor(struct call *c)
{
	c->ret = mdl_attr(c->uuid, "migration_minor");
	return NULL;
}

static void *do_mig_running(struct call *c)
{
	c->ret = __mdl_mig_set(c->dev, VFIO_DEVICE_STATE_RUNNING, NULL);
	return NULL;
}

static void *do_mig_stop(struct call *c)
{
	c->ret = __mdl_mig_set(c->dev, VFIO_DEVICE_STATE_STOP, NULL);
	return NULL;
}

/*
 * Finding 1: SET_IRQS INTx UNMASK with an eventfd and count 0 has no data;
 * the module dereferenced it and oopsed the host.  Every index, action and
 * data type with count 0 is refused or is a teardown, and INTx works after.
 */
TEST_F(dma, set_irqs_count_zero)
{
	static const uint32_t data_types[] = { VFIO_IRQ_SET_DATA_NONE,
		VFIO_IRQ_SET_DATA_BOOL, VFIO_IRQ_SET_DATA_EVENTFD };
	static const uint32_t actions[] = { VFIO_IRQ_SET_ACTION_MASK,
		VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_ACTION_TRIGGER };
	unsigned int index, a, t;
	int32_t efd = mdl_eventfd();
	uint8_t one = 1;

	ASSERT_EQ(0, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_INTX_IRQ_INDEX,
					    0, 1, &efd));
	EXPECT_EQ(-EINVAL, __mdl_set_irqs(&self->d, VFIO_IRQ_SET_DATA_EVENTFD |
					  VFIO_IRQ_SET_ACTION_UNMASK,
					  VFIO_PCI_INTX_IRQ_INDEX, 0, 0, NULL, 0));
	for (index = 0; index < VFIO_PCI_NUM_IRQS; index++)
		for (a = 0; a < ARRAY_SIZE(actions); a++)
			for (t = 0; t < ARRAY_SIZE(data_types); t++) {
				/* Count 0 with DATA_NONE tears INTx down. */
				if (index == VFIO_PCI_INTX_IRQ_INDEX &&
				    data_types[t] == VFIO_IRQ_SET_DATA_NONE &&
				    actions[a] == VFIO_IRQ_SET_ACTION_TRIGGER)
					continue;
				__mdl_set_irqs(&self->d, data_types[t] | actions[a],
					       index, 0, 0, NULL, 0);
			}
	/* INTx is still set up, and it fires and auto-masks as before. */
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, VFIO_IRQ_SET_DATA_BOOL |
				    VFIO_IRQ_SET_ACTION_TRIGGER,
				    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &one, 1));
	EXPECT_EQ(1, mdl_eventfd_wait(efd, 1000));
	EXPECT_EQ(0, __mdl_set_irqs(&self->d, VFIO_IRQ_SET_DATA_NONE |
				    VFIO_IRQ_SET_ACTION_UNMASK,
				    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	close(efd);
}

struct precopy_racer {
	int fd;
	int stop;	/* __atomic */
	int last_err;
	unsigned long calls;
};

static void *precopy_race(void *arg)
{
	struct precopy_racer *r = arg;
	uint64_t initial, dirty;
	char buf[512];
	int ret;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		ret = __mdl_precopy_info(r->fd, &initial, &dirty);
		if (ret)
			r->last_err = -ret;
		if (read(r->fd, buf, sizeof(buf)) < 0 && errno != ENOMSG)
			r->last_err = errno;
		r->calls++;
	}
	return NULL;
}

/*
 * Finding 2: PRECOPY_INFO on a data_fd while another thread closes the
 * device and removes the instance.  The ioctl used to take the device's
 * state_mutex after it let go of the file's lock, with nothing keeping the
 * device alive: a use after free (KASAN on the debug kernel).  Afterwards
 * the data_fd answers -ENODEV, and a new instance works.
 */
TEST_F_TIMEOUT(dma, precopy_info_races_removal, 300)
{
	struct precopy_racer r[2];
	char uuid[MDL_UUID_LEN];
	struct mdl_dev d;
	pthread_t t[2];
	unsigned int round, i;
	int fd;

	for (round = 0; round < 12; round++) {
		ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, uuid));
		ASSERT_EQ(0, __mdl_open(uuid, &d));
		mdl_dirty_device(&d, round);
		ASSERT_EQ(0, __mdl_mig_set(&d, VFIO_DEVICE_STATE_PRE_COPY, &fd));
		for (i = 0; i < 2; i++) {
			memset(&r[i], 0, sizeof(r[i]));
			r[i].fd = fd;
			pthread_create(&t[i], NULL, precopy_race, &r[i]);
		}
		usleep(1000 * (round % 4));
		mdl_close(&d);
		ASSERT_EQ(0, __mdl_remove(uuid));
		usleep(20000);
		for (i = 0; i < 2; i++) {
			__atomic_store_n(&r[i].stop, 1, __ATOMIC_RELEASE);
			pthread_join(t[i], NULL);
			EXPECT_EQ(ENODEV, r[i].last_err);
		}
		close(fd);
	}
	/* The parent is whole: a new instance saves and loads itself. */
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, uuid));
	ASSERT_EQ(0, __mdl_open(uuid, &d));
	ASSERT_EQ(0, __mdl_mig_set(&d, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	EXPECT_EQ(0, __mdl_precopy_info(fd, &(uint64_t){0}, &(uint64_t){0}));
	close(fd);
	mdl_close(&d);
	EXPECT_EQ(0, __mdl_remove(uuid));
}

/*
 * A 4 KiB TO_DEV from @s's page, mapped at 1 TiB, on the fixture's queue:
 * returns once the device's chunk waits in the page's fault, with the
 * descriptor's counter.  A userfaultfd page cannot be pinned, and memory
 * that cannot be pinned is refused at once in a type1 v2 container
 * (unpinnable_memory_refused); so the fixture's device is opened again in
 * a v1 container, which refuses pinning, and where the device still
 * copies through vfio_dma_rw(), as it did everywhere before pinning.
 */
static uint32_t stalled_chunk(struct __test_metadata *_metadata,
			      struct _test_data_dma *self, struct mdl_stall *s)
{
	const uint64_t iova = 1ULL << 40;
	struct migdev_desc desc = mdl_desc(MIGDEV_OP_TO_DEV, iova, 0, PAGE, 0);
	uint32_t n;

	mdl_queue_fini(&self->q);
	mdl_close(&self->d);
	ASSERT_EQ(0, __mdl_open_iommu(self->uuid, &self->d, VFIO_TYPE1_IOMMU));
	mdl_bus_master(&self->d, 1);
	ASSERT_EQ(0, __mdl_queue_init(&self->d, 0, 64, &self->q));
	ASSERT_EQ(0, __mdl_dma_map_at(&self->d, self->a.va, BUF_SIZE, self->a.iova));
	ASSERT_EQ(0, __mdl_dma_map_at(&self->d, self->b.va, BUF_SIZE, self->b.iova));
	ASSERT_EQ(0, __mdl_dma_map_at(&self->d, s->page, PAGE, iova));
	n = mdl_submit(&self->q, &desc);
	ASSERT_EQ(1, mdl_stall_wait_fault(s, 10000));
	return n;
}

/*
 * An instance of its own in a type1 v1 container (VFIO_TYPE1_IOMMU), with
 * a 4 KiB TO_DEV from @s's page on queue 0, returning once the chunk
 * waits in the page's fault, with the descriptor's counter.  A v1
 * container refuses vfio_pin_pages(): it is the one place left where the
 * device copies with vfio_dma_rw() under its lock, so a chunk there holds
 * the lock (and an arc that waits for it, state_mutex) for as long as the
 * test likes.
 */
static uint32_t v1_stalled_chunk(struct __test_metadata *_metadata,
				 char *uuid, struct mdl_dev *d,
				 struct mdl_queue *q, struct mdl_stall *s)
{
	const uint64_t iova = 1ULL << 40;
	struct migdev_desc desc = mdl_desc(MIGDEV_OP_TO_DEV, iova, 0, PAGE, 0);
	uint32_t n;

	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, uuid));
	ASSERT_EQ(0, __mdl_open_iommu(uuid, d, VFIO_TYPE1_IOMMU));
	mdl_bus_master(d, 1);
	ASSERT_EQ(0, __mdl_queue_init(d, 0, 16, q));
	ASSERT_EQ(0, __mdl_dma_map_at(d, s->page, PAGE, iova));
	n = mdl_submit(q, &desc);
	ASSERT_EQ(1, mdl_stall_wait_fault(s, 10000));
	return n;
}

/*
 * Finding 2, made deterministic: the use after free needed PRECOPY_INFO
 * to wait for state_mutex after it let go of the file.  Here an arc holds
 * state_mutex for as long as the test wants (PRE_COPY -> PRE_COPY_P2P
 * waits for a chunk stalled on user memory): PRECOPY_INFO answers anyway,
 * so there is no window in which the device can go.
 */
TEST_F_TIMEOUT(dma, precopy_info_needs_no_state_mutex, 120)
{
	struct call arc = { .fn = do_mig_p2p }, info = { .fn = do_precopy_info };
	char uuid[MDL_UUID_LEN];
	struct mdl_stall s;
	struct mdl_queue q;
	struct mdl_dev d;
	int fd, ret;

	ret = mdl_stall_init(&s);
	if (ret)
		SKIP(return, "no userfaultfd: %s", strerror(-ret));
	d.fd = -1;
	v1_stalled_chunk(_metadata, uuid, &d, &q, &s);
	ASSERT_EQ(0, __mdl_mig_set(&d, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	arc.dev = &d;
	call_start(&arc);	/* holds state_mutex, waits for the chunk */
	usleep(200000);
	EXPECT_EQ(0, call_done(&arc)) TH_LOG("the arc did not wait for the chunk");
	info.fd = fd;
	call_start(&info);
	EXPECT_EQ(1, call_wait(&info, 5000)) TH_LOG("PRECOPY_INFO waited for the arc");
	mdl_stall_release(&s);
	ASSERT_EQ(1, call_wait(&arc, 20000));
	if (!call_done(&info))
		call_wait(&info, 20000);
	EXPECT_EQ(0, info.ret);
	EXPECT_EQ(0, arc.ret);
	EXPECT_EQ(VFIO_DEVICE_STATE_PRE_COPY_P2P, mdl_mig_get(&d));
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&d, VFIO_DEVICE_STATE_RUNNING, NULL));
	mdl_close(&d);
	EXPECT_EQ(0, __mdl_remove(uuid));
	mdl_stall_fini(&s);
}

/* Lines in the kernel log since @fd was opened that contain @needle. */
static int kmsg_count(int fd, const char *needle)
{
	char line[2048];
	ssize_t n;
	int count = 0;

	for (;;) {
		n = read(fd, line, sizeof(line) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten: go on */
		if (n <= 0)
			break;
		line[n] = 0;
		if (strstr(line, needle))
			count++;
	}
	return count;
}

/*
 * Finding 5: every refusal a user can cause in a loop is rate-limited.
 * 150 hostile resumes (garbage stream, commit refused, reset) each logged
 * two lines before; now a device's lines are held to MIGDEV_LOG_BURST
 * (50) every 5 s.  The limit is the device's: another device's refusal
 * right after the flood is still logged.
 */
TEST_F_TIMEOUT(dma, refusals_rate_limited, 300)
{
	const unsigned int rounds = 150;
	char other[MDL_UUID_LEN];
	uint8_t junk[256];
	double t0, secs;
	struct mdl_dev o;
	unsigned int i;
	int kmsg, fd, lines, allowed;

	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg < 0)
		SKIP(return, "no /dev/kmsg");
	lseek(kmsg, 0, SEEK_END);
	memset(junk, 0x5a, sizeof(junk));
	t0 = mdl_now();
	for (i = 0; i < rounds; i++) {
		ASSERT_EQ(0, __mdl_mig_set(&self->d, VFIO_DEVICE_STATE_RESUMING, &fd));
		EXPECT_GT(0, write(fd, junk, sizeof(junk)));
		EXPECT_NE(0, __mdl_mig_set(&self->d, VFIO_DEVICE_STATE_STOP, NULL));
		close(fd);
		ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
	}
	secs = mdl_now() - t0;
	lines = kmsg_count(kmsg, self->uuid);
	close(kmsg);
	allowed = 50 * (int)(secs / 5 + 1);
	TH_LOG("%d log lines for %u refused resumes in %.1f s (allowed %d)",
	       lines, rounds, secs, allowed);
	EXPECT_LE(lines, allowed);
	EXPECT_LT(lines, (int)rounds);

	/* Another device's user is heard. */
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, kmsg);
	lseek(kmsg, 0, SEEK_END);
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, other));
	ASSERT_EQ(0, __mdl_open(other, &o));
	ASSERT_EQ(0, __mdl_mig_set(&o, VFIO_DEVICE_STATE_RESUMING, &fd));
	EXPECT_GT(0, write(fd, junk, sizeof(junk)));
	close(fd);
	EXPECT_LE(1, kmsg_count(kmsg, other)) TH_LOG("the other device was silenced");
	close(kmsg);
	mdl_close(&o);
	EXPECT_EQ(0, __mdl_remove(other));
	/* The device works (the reset took its queue). */
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, mdl_mig_get(&self->d));
	mdl_queue_fini(&self->q);
	ASSERT_EQ(0, __mdl_queue_init(&self->d, 0, 64, &self->q));
	EXPECT_TRUE(copy_works(&self->q, &self->a, &self->b));
}

/*
 * Finding 6, the v1 region: a data-section write from a buffer that
 * faults forever held state_mutex, and every sysfs reader of
 * migration_minor (world-readable) and every state change hung behind it.
 */
TEST_F_TIMEOUT(dma, v1_stalled_buffer_blocks_nobody, 120)
{
	uint32_t resuming = VFIO_DEVICE_STATE_V1_RESUMING, running =
		VFIO_DEVICE_STATE_V1_RUNNING, state;
	off_t mig = mdl_region_off(MIGDEV_MIG_REGION_INDEX);
	struct call w = { .fn = do_pwrite }, m = { .fn = do_read_minor };
	struct mdl_stall s;
	int ret;

	ret = mdl_stall_init(&s);
	if (ret)
		SKIP(return, "no userfaultfd: %s", strerror(-ret));
	ASSERT_EQ(4, pwrite(self->d.fd, &resuming, 4, mig));
	w.fd = self->d.fd;
	w.buf = s.page;
	w.len = PAGE;
	w.off = mig + MIGDEV_MIG_DATA_OFFSET;
	call_start(&w);
	ASSERT_EQ(1, mdl_stall_wait_fault(&s, 10000));
	/* The writer sits in the fault; others go on. */
	m.uuid = self->uuid;
	call_start(&m);
	EXPECT_EQ(1, call_wait(&m, 5000)) TH_LOG("migration_minor hung");
	if (call_done(&m))	/* else this would hang too */
		EXPECT_EQ(VFIO_DEVICE_STATE_RESUMING, mdl_mig_get(&self->d));
	mdl_stall_release(&s);
	ASSERT_EQ(1, call_wait(&w, 10000));
	EXPECT_EQ((long)PAGE, w.ret);
	if (!call_done(&m))
		call_wait(&m, 10000);
	EXPECT_GE(m.ret, 0);
	/*
	 * A page of zeros is no stream: leaving RESUMING is refused, and
	 * the region stays RESUMING; a reset brings the device back.
	 */
	EXPECT_EQ(-1, pwrite(self->d.fd, &running, 4, mig));
	ASSERT_EQ(4, pread(self->d.fd, &state, 4, mig));
	EXPECT_EQ(resuming, state);
	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(4, pread(self->d.fd, &state, 4, mig));
	EXPECT_EQ(running, state);
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, mdl_mig_get(&self->d));
	mdl_queue_fini(&self->q);
	ASSERT_EQ(0, __mdl_queue_init(&self->d, 0, 64, &self->q));
	EXPECT_TRUE(copy_works(&self->q, &self->a, &self->b));
	mdl_stall_fini(&s);
}

/*
 * @io, a read or write through the stalled page of @s, waits in its fault
 * while @arc runs: the arc must return within 5 s.  Then the page is
 * served and both finish.
 */
static void arc_beside_stalled_io(struct __test_metadata *_metadata,
				  struct mdl_stall *s, struct call *io,
				  struct call *arc, const char *what)
{
	io->buf = s->page;
	io->len = PAGE;
	call_start(io);
	ASSERT_EQ(1, mdl_stall_wait_fault(s, 10000));
	call_start(arc);
	EXPECT_EQ(1, call_wait(arc, 5000)) TH_LOG("%s hung", what);
	mdl_stall_release(s);
	ASSERT_EQ(1, call_wait(io, 10000));
	if (!call_done(arc))
		call_wait(arc, 10000);
}

/* A stall of @kind: 0 userfaultfd, 1 FUSE.  0 or -errno. */
static int stall_init(struct mdl_stall *s, unsigned int kind)
{
	return kind ? mdl_stall_init_fuse_at(s, NULL) : mdl_stall_init(s);
}

static const char *const stall_names[] = { "userfaultfd", "FUSE" };

/*
 * Finding 6, the data_fds: read() and write() held the file's lock across
 * the user copy, and the arcs that disable or commit the file waited for
 * it, holding state_mutex: one stalled buffer hung migration and sysfs.
 * The buffer stalls on a userfaultfd, and on a FUSE file whose daemon
 * holds the read (the copy then waits uninterruptibly).
 */
TEST_F_TIMEOUT(dma, data_fd_stalled_buffer_blocks_no_arc, 120)
{
	struct call rd = { .fn = do_read }, arc = { .fn = do_mig_running };
	struct call wr = { .fn = do_write }, stop = { .fn = do_mig_stop };
	struct mdl_stall s;
	unsigned int kind;
	int fd, ret;

	for (kind = 0; kind < 2; kind++) {
		ret = stall_init(&s, kind);
		if (ret) {
			TH_LOG("no %s: %s", stall_names[kind], strerror(-ret));
			mdl_stall_fini(&s);
			continue;
		}
		/* Saving: a read into the stalled page, then PRE_COPY -> RUNNING. */
		mdl_dirty_device(&self->d, 3);
		ASSERT_EQ(0, __mdl_mig_set(&self->d, VFIO_DEVICE_STATE_PRE_COPY, &fd));
		rd.fd = fd;
		arc.dev = &self->d;
		arc_beside_stalled_io(_metadata, &s, &rd, &arc, "PRE_COPY -> RUNNING");
		EXPECT_EQ(0, arc.ret) TH_LOG("%s", stall_names[kind]);
		/* The read got the bytes it copied, or the disabled file's -ENODEV. */
		EXPECT_TRUE(rd.ret > 0 || (rd.ret < 0 && rd.err == ENODEV));
		/* The file is disabled now. */
		EXPECT_EQ(-1, read(fd, s.page, 16));
		EXPECT_EQ(ENODEV, errno);
		close(fd);
		mdl_stall_fini(&s);

		/* Resuming: a write from the stalled page, then RESUMING -> STOP. */
		ret = stall_init(&s, kind);
		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, __mdl_mig_set(&self->d, VFIO_DEVICE_STATE_RESUMING, &fd));
		wr.fd = fd;
		stop.dev = &self->d;
		arc_beside_stalled_io(_metadata, &s, &wr, &stop, "RESUMING -> STOP");
		/* Nothing was written before the commit: an empty stream, refused. */
		EXPECT_NE(0, stop.ret);
		EXPECT_EQ(VFIO_DEVICE_STATE_RESUMING, mdl_mig_get(&self->d));
		close(fd);
		mdl_stall_fini(&s);
		ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
		EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, mdl_mig_get(&self->d));
	}
}

struct reset_racer {
	struct mdl_dev *dev;
	int stop;	/* __atomic */
	unsigned long resets;
};

static void *reset_race(void *arg)
{
	struct reset_racer *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		ioctl(r->dev->fd, VFIO_DEVICE_RESET);
		r->resets++;
		usleep(r->resets % 3 * 200);
	}
	return NULL;
}

/*
 * Finding 8: a reset racing a resume's commit.  The device was reset
 * outside state_mutex, so a commit could load migrated state after the
 * reset, and the reset's clearing of device memory dropped the commit's
 * reserved slots.  Loads race resets here; after the last reset the device
 * is reset (no device memory, RUNNING), and a load after it is exact.
 */
TEST_F_TIMEOUT(dma, reset_races_commit, 600)
{
	struct reset_racer r = { .dev = &self->d };
	uint8_t *stream = NULL, *again = NULL;
	size_t cap = 0, cap2 = 0;
	char su[MDL_UUID_LEN];
	struct mdl_dev src;
	unsigned int i, ok = 0;
	pthread_t t;
	ssize_t n, n2;

	ASSERT_EQ(0, __mdl_create(mdl_parent(), variant->type, su));
	ASSERT_EQ(0, __mdl_open(su, &src));
	mdl_dirty_device(&src, 11);
	n = mdl_save(&src, &stream, &cap);
	ASSERT_GT(n, 0);
	pthread_create(&t, NULL, reset_race, &r);
	for (i = 0; i < 60; i++)
		ok += !mdl_load(&self->d, stream, n, 32768);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	TH_LOG("%u of 60 loads survived %lu resets", ok, r.resets);
	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, mdl_mig_get(&self->d));
	EXPECT_EQ(0, mdl_attr(self->uuid, "devmem_resident"));
	/* A clean load now gives the source's stream back, byte for byte. */
	ASSERT_EQ(0, mdl_load(&self->d, stream, n, 32768));
	n2 = mdl_save(&self->d, &again, &cap2);
	ASSERT_GT(n2, 0);
	EXPECT_EQ(mdl_attr(su, "devmem_resident"),
		  mdl_attr(self->uuid, "devmem_resident"));
	free(stream);
	free(again);
	mdl_close(&src);
	EXPECT_EQ(0, __mdl_remove(su));
}

/*
 * Finding 8, made deterministic: a commit that holds state_mutex while
 * the reset runs.  The stream's last bytes come from a stalled page, so
 * the commit (RESUMING -> STOP) is under way when VFIO_DEVICE_RESET comes.
 * Before, the reset cleared the device at once and the commit then loaded
 * the stream into it: after the reset the device held migrated state.
 * Whatever the order, after the reset the device is reset.
 */
TEST_F_TIMEOUT(dma, reset_during_commit_resets, 120)
{
	struct call wr = { .fn = do_write }, stop = { .fn = do_mig_stop };
	uint8_t *stream = NULL, tail[PAGE];
	size_t cap = 0, head, rest;
	char su[MDL_UUID_LEN];
	struct mdl_dev src;
	struct mdl_stall s;
	ssize_t n;
	int fd, ret;

	ret = mdl_stall_init(&s);
	if (ret)
		SKIP(return, "no userfaultfd: %s", strerror(-ret));
	ASSERT_EQ(0, __mdl_create(mdl_parent(), variant->type, su));
	ASSERT_EQ(0, __mdl_open(su, &src));
	mdl_dirty_device(&src, 21);
	n = mdl_save(&src, &stream, &cap);
	ASSERT_GT(n, 64);
	rest = n < PAGE ? n / 2 : PAGE / 2;
	head = n - rest;
	memset(tail, 0, sizeof(tail));
	memcpy(tail, stream + head, rest);

	ASSERT_EQ(0, __mdl_mig_set(&self->d, VFIO_DEVICE_STATE_RESUMING, &fd));
	ASSERT_EQ(0, mdl_write_all(fd, stream, head, 32768));
	wr.fd = fd;
	wr.buf = s.page;
	wr.len = rest;
	call_start(&wr);	/* the stream's end, from the stalled page */
	ASSERT_EQ(1, mdl_stall_wait_fault(&s, 10000));
	stop.dev = &self->d;
	call_start(&stop);	/* the commit */
	usleep(200000);
	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
	mdl_stall_release_with(&s, tail);
	ASSERT_EQ(1, call_wait(&wr, 20000));
	ASSERT_EQ(1, call_wait(&stop, 20000));
	/* The reset was the last word: nothing migrated survives it. */
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, mdl_mig_get(&self->d));
	EXPECT_EQ(0, mdl_read64(&self->d, MIGDEV_REG_SCRATCH));
	EXPECT_EQ(0, mdl_attr(self->uuid, "devmem_resident"));
	close(fd);
	/* And the stream still loads whole. */
	EXPECT_EQ(0, mdl_load(&self->d, stream, n, 32768));
	EXPECT_EQ(0xabcdef0000000000ULL | 21, mdl_read64(&self->d, MIGDEV_REG_SCRATCH));
	free(stream);
	mdl_close(&src);
	EXPECT_EQ(0, __mdl_remove(su));
	mdl_stall_fini(&s);
}

/*
 * Finding 9: poll() on a pre-copy data_fd slept through new dirty data.
 * Once the stream ran dry, a write to device memory wakes it.
 */
TEST_F_TIMEOUT(dma, precopy_poll_wakes, 60)
{
	struct pollfd p = { .events = POLLIN };
	struct call w = { .fn = do_delayed_pwrite };
	uint8_t buf[65536];
	uint64_t val = 0x1122334455667788ULL;
	ssize_t n;
	int fd, i;

	mdl_dirty_device(&self->d, 5);
	ASSERT_EQ(0, __mdl_mig_set(&self->d, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	p.fd = fd;
	EXPECT_EQ(1, poll(&p, 1, 0));	/* the initial pass is there */
	for (i = 0; i < 10000; i++) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0)
			break;
	}
	ASSERT_EQ(-1, n);
	ASSERT_EQ(ENOMSG, errno);
	p.revents = 0;
	EXPECT_EQ(0, poll(&p, 1, 100)) TH_LOG("ready with nothing to read");
	w.fd = self->d.fd;
	w.buf = &val;
	w.len = 8;
	w.off = mdl_region_off(VFIO_PCI_BAR2_REGION_INDEX) + 8 * PAGE;
	call_start(&w);	/* while poll() sleeps */
	/*
	 * No timeout: poll() looks once more when its timeout expires, so a
	 * timeout would hide a wake-up that never comes.  Without one, the
	 * harness's timeout fails the test.
	 */
	EXPECT_EQ(1, poll(&p, 1, -1)) TH_LOG("poll slept through new data");
	EXPECT_TRUE(p.revents & POLLIN);
	ASSERT_EQ(1, call_wait(&w, 10000));
	EXPECT_EQ(8, w.ret);
	n = read(fd, buf, sizeof(buf));
	EXPECT_GT(n, 0);
	close(fd);
	EXPECT_EQ(0, __mdl_mig_set(&self->d, VFIO_DEVICE_STATE_RUNNING, NULL));
}

/* A 64 MiB fill with an interrupt, in flight; returns its counter. */
static uint32_t start_big_fill(struct mdl_queue *q, struct mdl_dma *big,
			       uint32_t len)
{
	struct migdev_desc d = mdl_desc(MIGDEV_OP_FILL, 0, big->iova, len,
					MIGDEV_DESC_F_IRQ);
	uint32_t n;

	d.pattern = htole64(0x3c3c3c3c3c3c3c3cULL);
	n = mdl_submit(q, &d);
	mdl_wait_in_flight(q, n, 10000);
	return n;
}

/*
 * Finding 11: disabling a queue aborts the descriptor in flight with a
 * completion and an interrupt, but with bus mastering off, or with the
 * engine quiesced for migration, the device may do neither: no DMA, no
 * MSI.  With bus mastering off the descriptor goes without a completion
 * record; quiesced, the record is due (BUSY) and written, with its
 * interrupt, once the device runs again (issue 25: the engine writes
 * what a register write cannot at once).
 */
TEST_F_TIMEOUT(dma, abort_without_dma_when_stopped, 300)
{
	const uint32_t len = 64u << 20;
	struct mdl_dma big;
	unsigned int how;
	int32_t efd;
	uint32_t n;

	ASSERT_EQ(0, __mdl_dma_map(&self->d, len, &big));
	efd = mdl_eventfd();
	ASSERT_EQ(0, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_MSIX_IRQ_INDEX,
					    0, 1, &efd));
	for (how = 0; how < 2; how++) {
		n = start_big_fill(&self->q, &big, len);
		if (st(&self->q, n))
			SKIP(goto out, "the fill finished before the disable");
		if (how == 0)
			mdl_bus_master(&self->d, 0);
		else
			ASSERT_EQ(0, __mdl_mig_set(&self->d,
						   VFIO_DEVICE_STATE_RUNNING_P2P,
						   NULL));
		mdl_qwrite32(&self->d, 0, MIGDEV_Q_CTRL, 0);
		usleep(100000);
		EXPECT_EQ(0, st(&self->q, n)) TH_LOG("completion written (%s)",
						     how ? "P2P" : "no bus master");
		EXPECT_EQ(0, mdl_eventfd_count(efd, 1, 200));
		EXPECT_EQ(how ? MIGDEV_Q_STATUS_BUSY : 0,
			  mdl_qread32(&self->d, 0, MIGDEV_Q_STATUS));
		if (how == 0) {
			mdl_bus_master(&self->d, 1);
			/* Nothing comes later either. */
			usleep(100000);
			EXPECT_EQ(0, st(&self->q, n));
			EXPECT_EQ(0, mdl_eventfd_count(efd, 1, 100));
		} else {
			ASSERT_EQ(0, __mdl_mig_set(&self->d,
						   VFIO_DEVICE_STATE_RUNNING,
						   NULL));
			/* Running again, the device writes it, and signals. */
			EXPECT_EQ(MIGDEV_STATUS_ABORTED, mdl_wait(&self->q, n, 10000));
			EXPECT_EQ(1, mdl_eventfd_count(efd, 1, 5000));
			EXPECT_EQ(0, mdl_qread32(&self->d, 0, MIGDEV_Q_STATUS));
		}
		/* Enabled again, the queue works. */
		mdl_queue_fini(&self->q);
		ASSERT_EQ(0, __mdl_queue_init(&self->d, 0, 64, &self->q));
		EXPECT_TRUE(copy_works(&self->q, &self->a, &self->b));
	}
out:
	close(efd);
	mdl_dma_free(&self->d, &big);
}

/* The clock and its latch start over for each user of an instance. */
TEST_F(dma, clock_starts_over_per_user)
{
	uint64_t before, after;

	usleep(300000);
	before = mdl_read64(&self->d, MIGDEV_REG_CLOCK);
	ASSERT_GE(before, 300000000ULL);
	mdl_close(&self->d);
	ASSERT_EQ(0, __mdl_open(self->uuid, &self->d));
	after = mdl_read64(&self->d, MIGDEV_REG_CLOCK);
	EXPECT_LT(after, before);
	usleep(10000);
	EXPECT_GT(mdl_read64(&self->d, MIGDEV_REG_CLOCK), after);
}

/*
 * Reading debugfs devmem_dirty collects the bitmap: during a migration it
 * would steal pages pre-copy must send.  It is refused then.
 */
TEST_F(dma, debugfs_dirty_leaves_migration_alone)
{
	uint64_t bits[(4u << 20) / PAGE / 64];
	int fd;

	mdl_dirty_device(&self->d, 9);
	ASSERT_EQ(0, __mdl_mig_set(&self->d, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	EXPECT_EQ(-EBUSY, mdl_collect_dirty(self->uuid, bits, sizeof(bits) * 8));
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->d, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_LE(0, mdl_collect_dirty(self->uuid, bits, sizeof(bits) * 8));
}

/*
 * Issue 25: the engine moved its user's memory on shared kworkers, so one
 * tenant's stalled buffer held a kernel thread that other tenants' DMA and
 * the tenant's own close then waited for.  The engine runs in a thread of
 * the process that opened the device now: the fault on a stalled buffer is
 * taken by a thread of the user's own (named after the device), only that
 * thread waits, and serving the memory lets it finish.  (Here in a v1
 * container, see stalled_chunk(); with pinning, the pin that waits is the
 * same thread's: fuse_frozen_completion_spares_others.)
 */
TEST_F_TIMEOUT(dma, stalled_memory_waits_in_users_thread, 60)
{
	char path[64], comm[32] = "";
	struct mdl_stall s;
	uint32_t n;
	int ret;

	ret = mdl_stall_init(&s);
	if (ret)
		SKIP(return, "no userfaultfd: %s", strerror(-ret));
	n = stalled_chunk(_metadata, self, &s);
	if (!s.ptid) {
		mdl_stall_release(&s);
		SKIP(return, "the kernel does not say which thread faulted");
	}
	snprintf(path, sizeof(path), "/proc/self/task/%u/comm", s.ptid);
	EXPECT_EQ(0, mdl_sysfs_read(path, comm, sizeof(comm)))
		TH_LOG("thread %u, which waits for the user's memory, is not the user's",
		       s.ptid);
	EXPECT_EQ(0, strncmp(comm, "migdev-", 7)) TH_LOG("it is \"%s\"", comm);
	mdl_stall_release(&s);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_wait(&self->q, n, 20000));
	EXPECT_TRUE(copy_works(&self->q, &self->a, &self->b));
	mdl_stall_fini(&s);
}

/*
 * Issue 25, item 6: root's debugfs waited for the device's lock without
 * letting go when killed, so a tenant's stalled chunk held root's shell
 * too.  With pinned memory no chunk holds the lock while it waits (see
 * stalled_memory_blocks_no_control_path); in a v1 container one still
 * does, and a pause written meanwhile gives up when killed (the pause
 * holds from the next step on).
 */
TEST_F_TIMEOUT(dma, debugfs_pause_waits_killably, 60)
{
	char uuid[MDL_UUID_LEN];
	struct mdl_stall s;
	struct mdl_queue q;
	struct mdl_dev d;
	int wstatus, i, ret;
	uint32_t n;
	pid_t pid;

	ret = mdl_stall_init(&s);
	if (ret)
		SKIP(return, "no userfaultfd: %s", strerror(-ret));
	d.fd = -1;
	n = v1_stalled_chunk(_metadata, uuid, &d, &q, &s);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(mdl_pause(uuid, 1) ? 1 : 0);
	usleep(500000);
	kill(pid, SIGKILL);
	for (i = 0; i < 500; i++) {
		if (waitpid(pid, &wstatus, WNOHANG) == pid)
			break;
		usleep(10000);
	}
	EXPECT_NE(500, i) TH_LOG("a killed writer of engine_pause did not exit");
	mdl_stall_release(&s);
	if (i == 500)
		waitpid(pid, &wstatus, 0);
	EXPECT_TRUE(WIFSIGNALED(wstatus));
	/* The pause took hold; a resume lets the descriptor finish. */
	EXPECT_EQ(0, mdl_pause(uuid, 0));
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_wait(&q, n, 20000));
	EXPECT_TRUE(copy_works(&self->q, &self->a, &self->b));
	mdl_close(&d);
	EXPECT_EQ(0, __mdl_remove(uuid));
	mdl_stall_fini(&s);
}

/*
 * Issue 25, item 1: a tenant freezes its own memory under the device: a
 * page of a FUSE file whose daemon holds the read.  On the module before,
 * disabling the queue with a descriptor in flight whose completion area
 * was on such a page wrote the ABORTED completion there from the tenant's
 * thread, holding the device's lock; the device's work item blocked on the
 * lock on an engine kworker, and as many such tenants as engines stopped
 * every other instance's DMA until the daemon answered.  Now the tenant's
 * own worker pins the memory a step needs before the step, holding nothing:
 * that is the only read the daemon holds, the tenant's register accesses,
 * arcs, disable and reset return, and the others run on.  Whichever page
 * of its memory the tenant freezes (enum fuse_where), and however the
 * freeze ends (enum fuse_end), the tenant's close then returns, and its
 * instance goes.
 */
enum fuse_where {
	FUSE_COMPLETION,	/* the completion area */
	FUSE_RING,		/* the descriptor ring */
	FUSE_SOURCE,		/* a copy's source */
	FUSE_DESTINATION,	/* a fill's destination */
	FUSE_NR_WHERE,
};

enum fuse_end {
	FUSE_ANSWERS,		/* the daemon answers */
	FUSE_DIES,		/* the daemon dies: /dev/fuse closed */
	FUSE_ABORTED,		/* root aborts the connection (fusectl) */
	FUSE_NR_END,
};

static const char *const fuse_where_names[] = {
	"completion", "ring", "source", "destination",
};

static const char *const fuse_end_names[] = {
	"answers", "dies", "is aborted",
};

/*
 * A tenant for fuse_frozen_tenants_spare_others, in a process of its own
 * (a thread frozen in a FUSE fault holds its process's mmap_lock):
 * instance @uuid, with page @i of @fs's file where @where says, and work
 * submitted that needs it.  @sh[0] says it submitted; once the test sets
 * @sh[2], it reads a register, stops and restarts the device, disables the
 * queue and resets the device, and sets @sh[1] when all that returned.
 * Exit status: 0, or the line that failed.
 */
static int fuse_tenant(const char *uuid, struct mdl_fuse *fs, unsigned int i,
		       enum fuse_where where, int *sh)
{
	const uint64_t fuse_iova = 1ULL << 40, big_iova = 1ULL << 41;
	const size_t big_len = 1ULL << 30;
	struct migdev_desc desc;
	struct mdl_queue q;
	struct mdl_dev d;
	uint8_t *file, *big;
	uint32_t zero = 0;
	int fd;

	/* The daemon's /dev/fuse is the test's: its death ends the file. */
	close(fs->fd);
	fd = open(fs->path, O_RDWR);
	if (fd < 0)
		return __LINE__;
	/*
	 * Private: the kernel refuses a long-term pin of a shared mapping of
	 * a file that needs dirty tracking (unpinnable_memory_refused); a
	 * private one is read from the file, by the daemon, when pinned.  The
	 * tenant never touches it: only the device's pin reads it.
	 */
	file = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
		    (off_t)i << 20);
	big = mmap(NULL, big_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (file == MAP_FAILED || big == MAP_FAILED || __mdl_open(uuid, &d))
		return __LINE__;
	mdl_bus_master(&d, 1);
	if (__mdl_queue_init(&d, 0, 16, &q) ||
	    __mdl_dma_map_at(&d, file, PAGE, fuse_iova) ||
	    __mdl_dma_map_at(&d, big, big_len, big_iova))
		return __LINE__;
	switch (where) {
	case FUSE_COMPLETION:
		/* A 1 GiB fill, its completion record on the FUSE page. */
		mdl_qwrite32(&d, 0, MIGDEV_Q_CTRL, 0);
		mdl_qwrite64(&d, 0, MIGDEV_Q_COMPL_BASE, fuse_iova);
		mdl_qwrite32(&d, 0, MIGDEV_Q_CTRL, MIGDEV_Q_CTRL_ENABLE);
		q.tail = 0;
		desc = mdl_desc(MIGDEV_OP_FILL, 0, big_iova, big_len - 4096, 0);
		mdl_submit(&q, &desc);
		break;
	case FUSE_RING:
		/* The ring on the FUSE page: whatever the file holds there. */
		mdl_qwrite32(&d, 0, MIGDEV_Q_CTRL, 0);
		mdl_qwrite64(&d, 0, MIGDEV_Q_RING_BASE, fuse_iova);
		mdl_qwrite32(&d, 0, MIGDEV_Q_CTRL, MIGDEV_Q_CTRL_ENABLE);
		mdl_qwrite32(&d, 0, MIGDEV_Q_TAIL, 1);
		break;
	case FUSE_SOURCE:
		desc = mdl_desc(MIGDEV_OP_COPY, fuse_iova, big_iova, PAGE, 0);
		mdl_submit(&q, &desc);
		break;
	default:
		desc = mdl_desc(MIGDEV_OP_FILL, 0, fuse_iova, PAGE, 0);
		mdl_submit(&q, &desc);
		break;
	}
	__atomic_store_n(&sh[0], 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&sh[2], __ATOMIC_ACQUIRE))
		usleep(1000);
	/*
	 * The daemon holds the read of the FUSE page, which the tenant's
	 * worker is pinning: every control path answers.
	 */
	if (mdl_read32(&d, MIGDEV_REG_ID) == 0 ||
	    __mdl_mig_set(&d, VFIO_DEVICE_STATE_STOP, NULL) ||
	    mdl_mig_get(&d) != VFIO_DEVICE_STATE_STOP ||
	    __mdl_mig_set(&d, VFIO_DEVICE_STATE_RUNNING, NULL))
		return __LINE__;
	if (pwrite(d.fd, &zero, 4, mdl_region_off(VFIO_PCI_BAR0_REGION_INDEX) +
		   MIGDEV_REG_QUEUE(0) + MIGDEV_Q_CTRL) != 4)
		return __LINE__;
	if (ioctl(d.fd, VFIO_DEVICE_RESET))
		return __LINE__;
	__atomic_store_n(&sh[1], 1, __ATOMIC_RELEASE);
	/* The close waits for the worker's read, as a read of the file would. */
	mdl_close(&d);
	return 0;
}

/*
 * One round: as many tenants as engines freeze @where; another instance
 * (the fixture's) copies and migrates meanwhile; then the freeze ends as
 * @end says, and every tenant exits and its instance goes.  Returns the
 * seconds from the end of the freeze to the last instance removed.
 */
static double fuse_round(struct __test_metadata *_metadata,
			 struct mdl_dev *other, struct mdl_queue *oq,
			 struct mdl_dma *a, struct mdl_dma *b, unsigned int k,
			 enum fuse_where where, enum fuse_end end_how)
{
	char uuid[8][MDL_UUID_LEN], path[64];
	int wstatus[8], alive, *sh;
	struct migdev_desc desc;
	struct mdl_fuse fs;
	pid_t pid[8];
	unsigned int i;
	double t0, end;
	uint32_t mine;

	/* A page each, 1 MiB apart: each tenant's fault is a read of its own. */
	if (mdl_fuse_start(&fs, k << 20))
		return -1;
	sh = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	if (sh == MAP_FAILED)
		return -1;
	memset(sh, 0, PAGE);
	mdl_fuse_freeze(&fs, 1);
	for (i = 0; i < k; i++) {
		pid[i] = -1;
		if (__mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, uuid[i]))
			break;
		pid[i] = fork();
		if (pid[i] < 0)
			break;
		if (!pid[i])
			_exit(fuse_tenant(uuid[i], &fs, i, where, sh + 4 * i));
		EXPECT_LE(i + 1, mdl_fuse_wait_held(&fs, i + 1, 20000))
			TH_LOG("tenant %u's %s did not reach the daemon", i,
			       fuse_where_names[where]);
		for (end = mdl_now() + 10;
		     !__atomic_load_n(&sh[4 * i], __ATOMIC_ACQUIRE) && mdl_now() < end;)
			usleep(1000);
		EXPECT_EQ(1, __atomic_load_n(&sh[4 * i], __ATOMIC_ACQUIRE));
		/* The read held is the tenant's own thread's. */
		snprintf(path, sizeof(path), "/proc/%d/task/%u", pid[i], fs.held_tid);
		EXPECT_EQ(0, access(path, F_OK))
			TH_LOG("thread %u, not tenant %d's, waits for its file",
			       fs.held_tid, pid[i]);
		/* Its register writes do not wait for the frozen page. */
		__atomic_store_n(&sh[4 * i + 2], 1, __ATOMIC_RELEASE);
		for (end = mdl_now() + 10;
		     !__atomic_load_n(&sh[4 * i + 1], __ATOMIC_ACQUIRE) && mdl_now() < end;)
			usleep(1000);
		EXPECT_EQ(1, __atomic_load_n(&sh[4 * i + 1], __ATOMIC_ACQUIRE))
			TH_LOG("tenant %u's control paths waited for its frozen %s",
			       i, fuse_where_names[where]);
	}
	EXPECT_EQ(k, i);
	k = i;

	/* Every engine's tenant is frozen: this instance still runs... */
	desc = mdl_desc(MIGDEV_OP_COPY, a->iova, b->iova, PAGE, 0);
	memset(b->va, 0, PAGE);
	mine = mdl_submit(oq, &desc);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_wait(oq, mine, 20000))
		TH_LOG("an instance with ordinary memory waited for frozen tenants");
	EXPECT_EQ(0, memcmp(a->va, b->va, PAGE));
	/* ...and stops and runs for a migration. */
	EXPECT_EQ(0, __mdl_mig_set(other, VFIO_DEVICE_STATE_STOP, NULL));
	EXPECT_EQ(0, __mdl_mig_set(other, VFIO_DEVICE_STATE_RUNNING, NULL));

	/* The freeze ends: the tenants' closes return, and all goes. */
	t0 = mdl_now();
	if (end_how == FUSE_ANSWERS)
		mdl_fuse_freeze(&fs, 0);
	else
		EXPECT_EQ(0, mdl_fuse_kill(&fs, end_how == FUSE_ABORTED));
	for (end = mdl_now() + 30, alive = k; alive && mdl_now() < end;) {
		for (i = 0, alive = 0; i < k; i++)
			if (pid[i] > 0 && waitpid(pid[i], &wstatus[i], WNOHANG) == pid[i])
				pid[i] = 0;
			else if (pid[i] > 0)
				alive++;
		usleep(1000);
	}
	for (i = 0; i < k; i++) {
		EXPECT_EQ(0, pid[i]) TH_LOG("tenant %u did not exit", i);
		if (pid[i] > 0) {
			kill(pid[i], SIGKILL);
			waitpid(pid[i], &wstatus[i], 0);
			continue;
		}
		EXPECT_TRUE(WIFEXITED(wstatus[i]));
		EXPECT_EQ(0, WEXITSTATUS(wstatus[i]))
			TH_LOG("tenant %u: line %d", i, WEXITSTATUS(wstatus[i]));
		EXPECT_EQ(0, __mdl_remove(uuid[i]));
	}
	t0 = mdl_now() - t0;
	mdl_fuse_stop(&fs);
	munmap(sh, PAGE);
	return t0;
}

TEST_F_TIMEOUT(dma, fuse_frozen_tenants_spare_others, 600)
{
	char avail_path[160];
	unsigned int where, end_how, k;
	long long engines, avail;
	struct mdl_fuse fs;
	double secs;
	int ret;

	if (variant->type != MIGDEV_TYPE_SMALL)
		SKIP(return, "the tenants' instances are small whatever the fixture's");
	engines = mdl_sysfs_read_ll("/sys/module/migdev/parameters/engines");
	ASSERT_GT(engines, 0);
	if (engines > 8)
		SKIP(return, "%lld engines: the test freezes at most 8", engines);
	k = engines;
	ret = mdl_fuse_start(&fs, 1 << 20);
	if (ret)
		SKIP(return, "no FUSE: %s", strerror(-ret));
	mdl_fuse_stop(&fs);
	snprintf(avail_path, sizeof(avail_path),
		 "/sys/class/mdev_bus/%s/mdev_supported_types/migdev-small/available_instances",
		 mdl_parent());
	avail = mdl_sysfs_read_ll(avail_path);
	for (where = 0; where < FUSE_NR_WHERE; where++) {
		for (end_how = 0; end_how < FUSE_NR_END; end_how++) {
			secs = fuse_round(_metadata, &self->d, &self->q, &self->a,
					  &self->b, k, where, end_how);
			ASSERT_LE(0, secs);
			/* The parent's capacity is back. */
			EXPECT_EQ(avail, mdl_sysfs_read_ll(avail_path));
			printf("# %s frozen, daemon %s: %lld tenants gone in %.3f s\n",
			       fuse_where_names[where], fuse_end_names[end_how],
			       engines, secs);
		}
	}
	EXPECT_TRUE(copy_works(&self->q, &self->a, &self->b));
}

/*
 * Issue 25: the device reaches guest memory only through pinned pages, and
 * the kernel does not pin every kind: a userfaultfd-registered page is
 * refused (its fault cannot wait inside a pin), and so is a shared mapping
 * of a file that needs dirty tracking.  Such memory, which the device's
 * user controls and could stall the engine with, fails the descriptor at
 * once (BAD_ADDRESS) and nobody waits: the fault never reaches the user's
 * handler.  The queue goes on, and ordinary memory works after.
 */
TEST_F_TIMEOUT(dma, unpinnable_memory_refused, 60)
{
	const uint64_t iova = 1ULL << 40;
	struct migdev_desc desc;
	struct mdl_stall s;
	struct mdl_fuse fs;
	uint8_t *file;
	uint32_t n;
	int ret, fd;

	/*
	 * iommufd pins such a page as the page's fault handler answers: the
	 * descriptor then waits for the user, in the user's thread, which
	 * stalled_memory_waits_in_users_thread checks.
	 */
	if (self->d.container < 0)
		SKIP(return, "iommufd pins userfaultfd memory: not a type1 container");
	ret = mdl_stall_init(&s);
	if (ret)
		SKIP(return, "no userfaultfd: %s", strerror(-ret));
	ASSERT_EQ(0, __mdl_dma_map_at(&self->d, s.page, PAGE, iova));
	desc = mdl_desc(MIGDEV_OP_TO_DEV, iova, 0, PAGE, 0);
	n = mdl_submit(&self->q, &desc);
	EXPECT_EQ(MIGDEV_STATUS_BAD_ADDRESS, mdl_wait(&self->q, n, 20000));
	EXPECT_EQ(0, mdl_stall_wait_fault(&s, 100)) TH_LOG("the fault reached the handler");
	desc = mdl_desc(MIGDEV_OP_COPY, self->a.iova, iova, PAGE, 0);
	n = mdl_submit(&self->q, &desc);
	EXPECT_EQ(MIGDEV_STATUS_BAD_ADDRESS, mdl_wait(&self->q, n, 20000));
	EXPECT_EQ(0, mdl_qread32(&self->d, 0, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_HALTED);
	EXPECT_TRUE(copy_works(&self->q, &self->a, &self->b));
	mdl_stall_fini(&s);

	/* A shared mapping of a FUSE file: refused too, without a read. */
	if (mdl_fuse_start(&fs, 1 << 20))
		return;
	fd = open(fs.path, O_RDWR);
	ASSERT_LE(0, fd);
	file = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, file);
	ASSERT_EQ(0, __mdl_dma_map_at(&self->d, file, PAGE, iova + PAGE));
	desc = mdl_desc(MIGDEV_OP_COPY, self->a.iova, iova + PAGE, PAGE, 0);
	n = mdl_submit(&self->q, &desc);
	EXPECT_EQ(MIGDEV_STATUS_BAD_ADDRESS, mdl_wait(&self->q, n, 20000));
	EXPECT_TRUE(copy_works(&self->q, &self->a, &self->b));
	munmap(file, PAGE);
	close(fd);
	mdl_fuse_stop(&fs);
}

/*
 * Finding 4: the parent's engines are shared, and a chunk whose guest
 * memory faults for ever (a userfaultfd-backed buffer nobody serves) held
 * its engine: as many such users as engines stalled every instance of the
 * parent.  A stalled chunk stops counting as an engine; others run on.
 * With pinning, no step holds an engine while it waits for memory; the
 * instances here are in v1 containers, where chunks still copy through
 * vfio_dma_rw() (stalled_chunk()).
 */
TEST_F_TIMEOUT(dma, stalled_engines_spare_others, 180)
{
	const uint64_t iova = 1ULL << 40;
	char uuid[8][MDL_UUID_LEN], path[128];
	struct mdl_stall s[8];
	struct mdl_dev d[8];
	struct mdl_queue q[8];
	struct migdev_desc desc;
	struct call cl = { .fn = do_close };
	uint32_t n[8], mine;
	long long engines;
	unsigned int i, k;
	double t0;
	int ret;

	snprintf(path, sizeof(path), "/sys/module/migdev/parameters/engines");
	engines = mdl_sysfs_read_ll(path);
	ASSERT_GT(engines, 0);
	if (engines > 8)
		SKIP(return, "%lld engines: the test stalls at most 8", engines);
	k = engines;
	ret = mdl_stall_init(&s[0]);
	if (ret)
		SKIP(return, "no userfaultfd: %s", strerror(-ret));
	mdl_stall_fini(&s[0]);
	/* One instance per engine, each with a copy from stalled memory. */
	for (i = 0; i < k; i++) {
		ASSERT_EQ(0, mdl_stall_init(&s[i]));
		ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, uuid[i]));
		/* v1: no pinning, see stalled_chunk() */
		ASSERT_EQ(0, __mdl_open_iommu(uuid[i], &d[i], VFIO_TYPE1_IOMMU));
		mdl_bus_master(&d[i], 1);
		ASSERT_EQ(0, __mdl_queue_init(&d[i], 0, 16, &q[i]));
		ASSERT_EQ(0, __mdl_dma_map_at(&d[i], s[i].page, PAGE, iova));
		desc = mdl_desc(MIGDEV_OP_TO_DEV, iova, 0, PAGE, 0);
		n[i] = mdl_submit(&q[i], &desc);
		ASSERT_EQ(1, mdl_stall_wait_fault(&s[i], 10000))
			TH_LOG("instance %u's chunk did not reach its memory", i);
	}
	/* Every engine is in a stalled chunk: this one still runs. */
	t0 = mdl_now();
	desc = mdl_desc(MIGDEV_OP_COPY, self->a.iova, self->b.iova, PAGE, 0);
	mine = mdl_submit(&self->q, &desc);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_wait(&self->q, mine, 20000))
		TH_LOG("an instance with ordinary memory waited for stalled ones");
	TH_LOG("ran in %.2f s with %u engines stalled", mdl_now() - t0, k);
	EXPECT_EQ(0, memcmp(self->a.va, self->b.va, PAGE));
	/*
	 * The first one's user lets go without serving its memory.  The
	 * chunk runs in the user's own thread, and so does the close: it
	 * waits for the user's memory (killably), as a read of the user's
	 * own stalled file would, and the others run on meanwhile.  Served,
	 * the close finishes, and the removal too.
	 */
	cl.dev = &d[0];
	call_start(&cl);
	EXPECT_EQ(0, call_wait(&cl, 1000)) TH_LOG("the close did not wait for the chunk");
	EXPECT_TRUE(copy_works(&self->q, &self->a, &self->b));
	mdl_stall_release(&s[0]);
	EXPECT_EQ(1, call_wait(&cl, 10000)) TH_LOG("the close hung after the memory came");
	EXPECT_EQ(0, __mdl_remove(uuid[0]));
	mdl_stall_fini(&s[0]);
	/* Served, the other stalled chunks finish. */
	for (i = 1; i < k; i++) {
		mdl_stall_release(&s[i]);
		EXPECT_EQ(MIGDEV_STATUS_OK, mdl_wait(&q[i], n[i], 20000));
		mdl_close(&d[i]);
		EXPECT_EQ(0, __mdl_remove(uuid[i]));
		mdl_stall_fini(&s[i]);
	}
	/* The engines count as before: the device runs at full speed. */
	EXPECT_TRUE(copy_works(&self->q, &self->a, &self->b));
}

/*
 * A user dies while a chunk of its device waits for the user's own
 * userfaultfd, opened before the device.  An exiting task releases its
 * files last opened first: the device before the userfaultfd.  The close
 * waited for the chunk, which waited for the userfaultfd, which would be
 * released only after the close: the user could never exit, and the
 * instance never be removed.  The chunk runs in a thread of the user now,
 * which dies with it, and its fault ends at once.
 */
TEST_F_TIMEOUT(dma, user_dies_with_stalled_memory, 120)
{
	const uint64_t iova = 1ULL << 40;
	char uuid[MDL_UUID_LEN];
	int *flag, wstatus, i;
	pid_t pid;

	flag = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		    -1, 0);
	ASSERT_NE(MAP_FAILED, flag);
	*flag = 0;
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, uuid));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct migdev_desc desc;
		struct mdl_queue q;
		struct mdl_dev d;
		struct mdl_stall s;

		/* v1: no pinning, see stalled_chunk() */
		if (mdl_stall_init(&s) ||
		    __mdl_open_iommu(uuid, &d, VFIO_TYPE1_IOMMU))
			_exit(1);
		mdl_bus_master(&d, 1);
		if (__mdl_queue_init(&d, 0, 16, &q) ||
		    __mdl_dma_map_at(&d, s.page, PAGE, iova))
			_exit(2);
		desc = mdl_desc(MIGDEV_OP_TO_DEV, iova, 0, PAGE, 0);
		mdl_submit(&q, &desc);
		if (mdl_stall_wait_fault(&s, 10000) != 1)
			_exit(3);
		__atomic_store_n(flag, 1, __ATOMIC_RELEASE);
		_exit(0);	/* with the chunk stalled on s */
	}
	for (i = 0; i < 2000; i++) {
		if (waitpid(pid, &wstatus, WNOHANG) == pid)
			break;
		usleep(10000);
	}
	ASSERT_NE(2000, i) TH_LOG("the user could not exit (pid %d)", pid);
	EXPECT_TRUE(WIFEXITED(wstatus));
	EXPECT_EQ(0, WEXITSTATUS(wstatus));
	EXPECT_EQ(1, *flag) TH_LOG("the chunk never stalled");
	EXPECT_EQ(0, __mdl_remove(uuid));
	munmap(flag, PAGE);
}

/* --- memory cgroups --- */

#define CG_ROOT	"/sys/fs/cgroup"

static int cg_write(const char *cg, const char *file, const char *val)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	return mdl_sysfs_write(path, val);
}

/* A field of a flat-keyed file (memory.events), or -1. */
static long long cg_key(const char *cg, const char *file, const char *key)
{
	char path[512], k[64];
	long long v;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", k, &v) == 2)
		if (!strcmp(k, key)) {
			fclose(f);
			return v;
		}
	fclose(f);
	return -1;
}

/* A cgroup v2 with the memory controller, or 0 with @why set. */
static int cg_make(char *cg, size_t len, const char **why)
{
	if (access(CG_ROOT "/cgroup.controllers", F_OK) &&
	    system("mount -t cgroup2 none " CG_ROOT " 2>/dev/null")) {
		*why = "no cgroup2";
		return 0;
	}
	cg_write(CG_ROOT, "cgroup.subtree_control", "+memory");
	snprintf(cg, len, CG_ROOT "/migdev-memcg-%d", getpid());
	if (mkdir(cg, 0755) && errno != EEXIST) {
		*why = "cannot make a cgroup";
		return 0;
	}
	if (cg_key(cg, "memory.events", "oom_kill") < 0) {
		rmdir(cg);
		*why = "no memory controller";
		return 0;
	}
	return 1;
}

/*
 * The user in @cg: opens the instance and fills its device memory by DMA
 * (TO_DEV, which the device's worker executes) until the device refuses.
 * Then its cgroup is full, and anything it allocates (a pipe's buffer, a
 * page of stack) would invoke the OOM killer on it: it only tells the
 * parent through memory the parent already paid for (@sh), waits, and
 * closes the device, which gives the memory back.  Exit status: 0, or the
 * line that failed.
 */
struct memcg_shared {
	int state;		/* 1: the user filled it, 2: the parent looked */
	uint32_t status;	/* the fill's status at the end */
};

static int memcg_user(const char *cg, const char *uuid, uint64_t devmem,
		      struct memcg_shared *sh)
{
	char pid[32];
	struct mdl_dev d;
	struct mdl_queue q;
	struct mdl_dma src;
	struct migdev_desc desc;
	uint32_t status = MIGDEV_STATUS_OK;
	uint64_t off;

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (cg_write(cg, "cgroup.procs", pid))
		return __LINE__;
	if (__mdl_open(uuid, &d))
		return __LINE__;
	mdl_bus_master(&d, 1);
	if (__mdl_queue_init(&d, 0, 64, &q) || __mdl_dma_map(&d, 1u << 20, &src))
		return __LINE__;
	memset(src.va, 0xa5, 1u << 20);
	for (off = 0; off < devmem && status == MIGDEV_STATUS_OK; off += 1u << 20) {
		desc = mdl_desc(MIGDEV_OP_TO_DEV, src.iova, off, 1u << 20, 0);
		status = mdl_run(&q, &desc);
	}
	sh->status = status;
	__atomic_store_n(&sh->state, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&sh->state, __ATOMIC_ACQUIRE) != 2)
		usleep(10000);
	mdl_close(&d);
	return 0;
}

/*
 * Finding 3: device memory that DMA writes was allocated by the engines'
 * kworkers, in the root cgroup, and charged to nobody: a user in a small
 * cgroup could make the host hold its whole device memory.  It is charged
 * to the user now, refused past the limit with NO_MEMORY, and the device
 * kills nobody for it (not the user either: it fails the allocation
 * instead of invoking the OOM killer).
 */
TEST(memcg_bounds_device_memory)
{
	const uint64_t limit = 32u << 20, devmem = 256u << 20;
	char cg[256], uuid[MDL_UUID_LEN], val[32];
	struct memcg_shared *sh;
	const char *why = NULL;
	long long resident;
	int wstatus, i;
	pid_t pid;

	if (!cg_make(cg, sizeof(cg), &why))
		SKIP(return, "%s", why);
	snprintf(val, sizeof(val), "%llu", (unsigned long long)limit);
	ASSERT_EQ(0, cg_write(cg, "memory.max", val));
	cg_write(cg, "memory.swap.max", "0");
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_LARGE, uuid));
	sh = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, PAGE);	/* paid for here, outside the cgroup */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(memcg_user(cg, uuid, devmem, sh));
	for (i = 0; i < 12000 && !__atomic_load_n(&sh->state, __ATOMIC_ACQUIRE); i++) {
		if (waitpid(pid, &wstatus, WNOHANG) == pid)
			break;
		usleep(10000);
	}
	ASSERT_EQ(1, __atomic_load_n(&sh->state, __ATOMIC_ACQUIRE))
		TH_LOG("the user did not get to fill its device (oom_kill %lld)",
		       cg_key(cg, "memory.events", "oom_kill"));
	resident = mdl_attr(uuid, "devmem_resident");
	TH_LOG("%lld MiB of device memory resident under a %llu MiB limit, then status %u",
	       resident >> 20, (unsigned long long)limit >> 20, sh->status);
	EXPECT_EQ(MIGDEV_STATUS_NO_MEMORY, sh->status);
	EXPECT_LE(resident, (long long)limit);
	EXPECT_GT(resident, 0);
	EXPECT_EQ(0, cg_key(cg, "memory.events", "oom_kill"));
	__atomic_store_n(&sh->state, 2, __ATOMIC_RELEASE);
	ASSERT_EQ(pid, waitpid(pid, &wstatus, 0));
	EXPECT_TRUE(WIFEXITED(wstatus))
		TH_LOG("the user died of signal %d", WTERMSIG(wstatus));
	EXPECT_EQ(0, WEXITSTATUS(wstatus))
		TH_LOG("failed at hostile_test.c:%d", WEXITSTATUS(wstatus));
	EXPECT_EQ(0, cg_key(cg, "memory.events", "oom_kill"));
	/* Closed, the device gave the memory back, and it works for others. */
	EXPECT_EQ(0, mdl_attr(uuid, "devmem_resident"));
	EXPECT_EQ(0, __mdl_remove(uuid));
	munmap(sh, PAGE);
	rmdir(cg);
}

TEST_HARNESS_MAIN
