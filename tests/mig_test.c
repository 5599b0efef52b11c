// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO migration (v2): every pair of states, data_fd semantics, pre-copy,
 * saving and restoring a device with a descriptor in flight, resets in
 * every state, and streams that are corrupted, truncated, foreign,
 * random, empty, over-long or cut into any pieces: each refused with the
 * destination unchanged.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "migdev_lib.h"
#include "mig_check.h"

#define S_STOP		VFIO_DEVICE_STATE_STOP
#define S_RUNNING	VFIO_DEVICE_STATE_RUNNING
#define S_STOP_COPY	VFIO_DEVICE_STATE_STOP_COPY
#define S_RESUMING	VFIO_DEVICE_STATE_RESUMING
#define S_RUNNING_P2P	VFIO_DEVICE_STATE_RUNNING_P2P
#define S_PRE_COPY	VFIO_DEVICE_STATE_PRE_COPY
#define S_PRE_COPY_P2P	VFIO_DEVICE_STATE_PRE_COPY_P2P
#define S_ERROR		VFIO_DEVICE_STATE_ERROR

#define BUF	(4u << 20)

FIXTURE(mig) {
	char su[MDL_UUID_LEN], du[MDL_UUID_LEN];
	struct mdl_dev src, dst;
	struct mdl_queue q;
	struct mdl_dma a, b;
	uint8_t *stream;
	size_t cap;
	ssize_t len;
	uint64_t devmem_size;
	unsigned int type;
};

FIXTURE_VARIANT(mig) {
	unsigned int type;
};

FIXTURE_VARIANT_ADD(mig, small) { .type = MIGDEV_TYPE_SMALL };
FIXTURE_VARIANT_ADD(mig, large) { .type = MIGDEV_TYPE_LARGE };

FIXTURE_SETUP(mig)
{
	self->src.fd = -1;
	self->dst.fd = -1;
	self->type = variant->type;
	self->devmem_size = MIGDEV_TYPE_DEVMEM_SIZE(variant->type);
	ASSERT_EQ(0, __mdl_create(mdl_parent(), variant->type, self->su));
	ASSERT_EQ(0, __mdl_create(mdl_parent(), variant->type, self->du));
	ASSERT_EQ(0, __mdl_open(self->su, &self->src));
	ASSERT_EQ(0, __mdl_open(self->du, &self->dst));
	mdl_bus_master(&self->src, 1);
	ASSERT_EQ(0, __mdl_queue_init(&self->src, 0, 64, &self->q));
	ASSERT_EQ(0, __mdl_dma_map(&self->src, BUF, &self->a));
	ASSERT_EQ(0, __mdl_dma_map(&self->src, BUF, &self->b));
	mdl_fill_random(self->a.va, BUF, variant->type + 1);
	/* The destination's guest memory is the same memory, at the same
	 * addresses, as after QEMU migrated the guest's RAM.
	 */
	ASSERT_EQ(0, __mdl_dma_mirror(&self->dst, &self->q, &self->a, &self->b));
}

FIXTURE_TEARDOWN(mig)
{
	mdl_close(&self->src);
	mdl_close(&self->dst);
	free(self->stream);
	if (mdl_exists(self->su))
		__mdl_remove(self->su);
	if (mdl_exists(self->du))
		__mdl_remove(self->du);
}

TEST_F(mig, migration_feature)
{
	uint64_t flags;

	ASSERT_EQ(0, __mdl_mig_flags(&self->src, &flags));
	EXPECT_EQ(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
		  VFIO_MIGRATION_PRE_COPY, flags);
	EXPECT_EQ(S_RUNNING, mdl_mig_get(&self->src));
}

/*
 * migration_precopy 0: the instance offers no PRE_COPY (the VFIO core
 * then refuses the PRE_COPY states) and migrates by stop-copy alone, all
 * its memory in it.  It changes only while nobody has the device open,
 * and 1 gives PRE_COPY back.
 */
TEST_F(mig, precopy_switched_off)
{
	char path[256];
	uint64_t flags;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/migdev/migration_precopy",
		 self->su);
	EXPECT_EQ(1, mdl_attr(self->su, "migration_precopy"));
	/* Open: refused, nothing changed. */
	EXPECT_EQ(-EBUSY, mdl_sysfs_write(path, "0"));
	ASSERT_EQ(0, __mdl_mig_flags(&self->src, &flags));
	EXPECT_TRUE(flags & VFIO_MIGRATION_PRE_COPY);

	mdl_close(&self->src);
	EXPECT_EQ(-EINVAL, mdl_sysfs_write(path, "maybe"));
	ASSERT_EQ(0, mdl_sysfs_write(path, "0"));
	EXPECT_EQ(0, mdl_attr(self->su, "migration_precopy"));
	ASSERT_EQ(0, __mdl_open(self->su, &self->src));
	ASSERT_EQ(0, __mdl_mig_flags(&self->src, &flags));
	EXPECT_EQ(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P, flags);
	EXPECT_EQ(-EINVAL, __mdl_mig_set(&self->src, S_PRE_COPY, &fd));
	EXPECT_EQ(S_RUNNING, mdl_mig_get(&self->src));
	/* Stop-copy carries everything; the destination takes it. */
	mdl_dirty_device(&self->src, 5);
	mdl_write64(&self->src, MIGDEV_REG_SCRATCH, 0xfeedf00d);
	self->len = mdl_save(&self->src, &self->stream, &self->cap);
	ASSERT_GT(self->len, 5 * 4096);
	ASSERT_EQ(0, mdl_load(&self->dst, self->stream, self->len, 65536));
	EXPECT_EQ(0xfeedf00d, mdl_read64(&self->dst, MIGDEV_REG_SCRATCH));

	mdl_close(&self->src);
	ASSERT_EQ(0, mdl_sysfs_write(path, "1"));
	ASSERT_EQ(0, __mdl_open(self->su, &self->src));
	ASSERT_EQ(0, __mdl_mig_flags(&self->src, &flags));
	EXPECT_TRUE(flags & VFIO_MIGRATION_PRE_COPY);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_PRE_COPY, &fd));
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_RUNNING, NULL));
}

/* Go from RUNNING to @s; for RESUMING, bring the fd back. */
static int goto_state(struct mdl_dev *d, uint32_t s, int *fd)
{
	*fd = -1;
	return __mdl_mig_set(d, s, fd);
}

/*
 * Every (from, to) pair of the seven reachable states: the invalid ones
 * (to ERROR, STOP_COPY to PRE_COPY*) fail with EINVAL and leave the state;
 * the others end in @to, with a new data_fd exactly when a new saving or
 * resuming session starts.
 */
TEST_F_TIMEOUT(mig, every_pair_of_states, 600)
{
	static const uint32_t st[] = { S_STOP, S_RUNNING, S_STOP_COPY, S_RESUMING,
				       S_RUNNING_P2P, S_PRE_COPY, S_PRE_COPY_P2P,
				       S_ERROR };
	unsigned int i, j;

	mdl_dirty_device(&self->src, 1);
	self->len = mdl_save(&self->src, &self->stream, &self->cap);
	ASSERT_GT(self->len, 0);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_RUNNING, NULL));

	for (i = 0; i < 7; i++) {
		for (j = 0; j < 8; j++) {
			uint32_t from = st[i], to = st[j];
			int fd, nfd, ret;
			bool valid = to != S_ERROR &&
				     !(from == S_STOP_COPY &&
				       (to == S_PRE_COPY || to == S_PRE_COPY_P2P));
			bool new_fd = from != to &&
				      (to == S_RESUMING ||
				       ((to == S_PRE_COPY || to == S_PRE_COPY_P2P ||
					 to == S_STOP_COPY) &&
					from != S_PRE_COPY && from != S_PRE_COPY_P2P));

			ASSERT_EQ(0, goto_state(&self->dst, from, &fd))
				TH_LOG("reaching %u", from);
			if (from == S_RESUMING)
				ASSERT_EQ(0, mdl_write_all(fd, self->stream, self->len, 1 << 20));
			ret = __mdl_mig_set(&self->dst, to, &nfd);
			if (valid) {
				EXPECT_EQ(0, ret) TH_LOG("%u -> %u", from, to);
				EXPECT_EQ(to, mdl_mig_get(&self->dst)) TH_LOG("%u -> %u", from, to);
				EXPECT_EQ(new_fd, nfd >= 0)
					TH_LOG("%u -> %u: data_fd %d", from, to, nfd);
			} else {
				EXPECT_EQ(-EINVAL, ret) TH_LOG("%u -> %u", from, to);
				EXPECT_EQ(from, mdl_mig_get(&self->dst))
					TH_LOG("%u -> %u", from, to);
			}
			if (nfd >= 0)
				close(nfd);
			if (fd >= 0)
				close(fd);
			/* Back to RUNNING; RESUMING needs a stream again. */
			if (mdl_mig_get(&self->dst) == S_RESUMING)
				ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
			ASSERT_EQ(0, __mdl_mig_set(&self->dst, S_RUNNING, NULL))
				TH_LOG("back from %u -> %u", from, to);
		}
	}
}

TEST_F_TIMEOUT(mig, data_fd_semantics, 600)
{
	uint8_t buf[4096];
	uint64_t init, dirty;
	struct pollfd p;
	int fd, rfd;
	ssize_t n;

	mdl_dirty_device(&self->src, 2);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_STOP_COPY, &fd));
	ASSERT_GE(fd, 0);
	/* Positioned I/O is refused; the save fd does not take writes. */
	EXPECT_EQ(-1, pread(fd, buf, 16, 0));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-1, write(fd, buf, 16));
	/* PRECOPY_INFO only in PRE_COPY states. */
	EXPECT_EQ(-EINVAL, __mdl_precopy_info(fd, &init, &dirty));
	/* Readable in STOP_COPY, to the end, then 0 for ever. */
	p.fd = fd;
	p.events = POLLIN;
	EXPECT_EQ(1, poll(&p, 1, 0));
	self->len = mdl_read_all(fd, &self->stream, &self->cap);
	ASSERT_GT(self->len, 64);
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(1, poll(&p, 1, 0));
	/* Leaving the state disables the fd. */
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_STOP, NULL));
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(ENODEV, errno);
	close(fd);

	/* The resume fd: write only, no positioned writes, -ENODEV after. */
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, S_RESUMING, &rfd));
	EXPECT_EQ(-1, read(rfd, buf, 16));
	EXPECT_EQ(-1, pwrite(rfd, self->stream, 16, 0));
	EXPECT_EQ(ESPIPE, errno);
	ASSERT_EQ(0, mdl_write_all(rfd, self->stream, self->len, 32 << 10));
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, S_STOP, NULL));
	n = write(rfd, self->stream, 16);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(ENODEV, errno);
	close(rfd);
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, S_RUNNING, NULL));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_RUNNING, NULL));
	expect_same_device(_metadata, &self->src, &self->dst, self->devmem_size);
}

/* Pre-copy: the initial pass, ENOMSG when drained, dirty pages again. */
TEST_F_TIMEOUT(mig, precopy_rounds, 600)
{
	uint64_t init0, init, dirty, size0, size1;
	static uint8_t page[4096];
	uint8_t buf[1 << 16];
	int fd, rounds = 0;
	ssize_t n;

	mdl_dirty_device(&self->src, 3);
	ASSERT_EQ(0, __mdl_mig_data_size(&self->src, &size0));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_PRE_COPY, &fd));
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, __mdl_precopy_info(fd, &init0, &dirty));
	EXPECT_GT(init0, 24 * 4096);	/* 24 pages and the header */
	EXPECT_EQ(0, dirty);
	n = read(fd, buf, sizeof(buf));
	ASSERT_EQ(sizeof(buf), n);
	ASSERT_EQ(0, __mdl_precopy_info(fd, &init, &dirty));
	EXPECT_LT(init, init0);
	ASSERT_EQ(0, __mdl_mig_data_size(&self->src, &size1));
	EXPECT_LT(size1, size0);
	/* Drain: the temporary end of stream is ENOMSG. */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	EXPECT_EQ(-1, n);
	EXPECT_EQ(ENOMSG, errno);
	ASSERT_EQ(0, __mdl_precopy_info(fd, &init, &dirty));
	EXPECT_EQ(0, init);
	EXPECT_EQ(0, dirty);
	/* The device keeps running: new writes show up as dirty bytes. */
	mdl_fill_random(page, sizeof(page), 99);
	ASSERT_EQ(4096, mdl_pwrite(&self->src, VFIO_PCI_BAR2_REGION_INDEX, 7 << 12, page, 4096));
	ASSERT_EQ(0, __mdl_precopy_info(fd, &init, &dirty));
	EXPECT_GE(dirty, 4096);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		rounds++;
	EXPECT_EQ(ENOMSG, errno);
	EXPECT_GT(rounds, 0);
	/* Stop-copy after convergence is small: no device memory left. */
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_STOP_COPY, NULL));
	ASSERT_EQ(0, __mdl_mig_data_size(&self->src, &size1));
	EXPECT_LT(size1, 8192);
	TH_LOG("stop-copy estimate after pre-copy: %llu bytes", (unsigned long long)size1);
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_RUNNING, NULL));
}

/* VFIO_MIG_GET_PRECOPY_INFO with @flags in: the flags it gives back. */
static uint32_t precopy_flags(struct __test_metadata *_metadata, int fd,
			      uint32_t flags)
{
	struct vfio_precopy_info info = {
		.argsz = sizeof(info), .flags = flags,
		.initial_bytes = ~0ULL, .dirty_bytes = ~0ULL,
	};

	EXPECT_EQ(0, ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info));
	EXPECT_NE(~0ULL, info.initial_bytes);
	EXPECT_NE(~0ULL, info.dirty_bytes);
	return info.flags;
}

/*
 * The flags of VFIO_MIG_GET_PRECOPY_INFO.  Until the user opts in to
 * VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2 (Linux 7.1) they are reserved
 * and come back as the user passed them, as they always have (QEMU before
 * 11.1 relies on nothing else).  After it they are output: with no
 * reconfiguration (discard_restarts_initial_data), no
 * VFIO_PRECOPY_INFO_REINIT, whatever came in.  The opt-in lasts until the
 * device is closed.  On a kernel without it the feature is ENOTTY and the
 * flags stay reserved.
 */
TEST_F_TIMEOUT(mig, precopy_info_flags, 120)
{
	struct vfio_device_feature f = {
		.argsz = sizeof(f),
		.flags = VFIO_DEVICE_FEATURE_SET |
			 MDL_FEATURE_PRECOPY_INFO_V2,
	};
	int fd, ret;

	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_PRE_COPY, &fd));
	EXPECT_EQ(0xa5a5a5a5, precopy_flags(_metadata, fd, 0xa5a5a5a5));
	EXPECT_EQ(MDL_PRECOPY_INFO_REINIT,
		  precopy_flags(_metadata, fd, MDL_PRECOPY_INFO_REINIT));
	ret = ioctl(self->src.fd, VFIO_DEVICE_FEATURE, &f) ? -errno : 0;
	if (ret == -ENOTTY) {
		/* Before Linux 7.1: still reserved. */
		EXPECT_EQ(0x5a, precopy_flags(_metadata, fd, 0x5a));
		close(fd);
		ASSERT_EQ(0, __mdl_mig_set(&self->src, S_RUNNING, NULL));
		SKIP(return, "no VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2 (before Linux 7.1)");
	}
	ASSERT_EQ(0, ret);
	/* Output now, on the data_fd opened before the opt-in too. */
	EXPECT_EQ(0, precopy_flags(_metadata, fd, 0xa5a5a5a5));
	EXPECT_EQ(0, precopy_flags(_metadata, fd, MDL_PRECOPY_INFO_REINIT));
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_RUNNING, NULL));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_PRE_COPY, &fd));
	EXPECT_EQ(0, precopy_flags(_metadata, fd, 0xffffffff));
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_RUNNING, NULL));

	/* Closing the device ends the opt-in: reserved again. */
	mdl_close(&self->src);
	ASSERT_EQ(0, __mdl_open(self->su, &self->src));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_PRE_COPY, &fd));
	EXPECT_EQ(0xa5a5a5a5, precopy_flags(_metadata, fd, 0xa5a5a5a5));
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_RUNNING, NULL));
}

/* Read @fd until it has nothing (ENOMSG in pre-copy, 0 at the end). */
static ssize_t append_stream(struct __test_metadata *_metadata,
			     struct _test_data_mig *self, int fd)
{
	ssize_t n;

	for (;;) {
		if (self->len + (2 << 20) > self->cap) {
			self->cap = self->cap * 2 + (4 << 20);
			self->stream = realloc(self->stream, self->cap);
			if (!self->stream)
				return -ENOMEM;
		}
		n = read(fd, self->stream + self->len, 1 << 20);
		if (n <= 0)
			return n < 0 ? -errno : 0;
		self->len += n;
	}
}

static struct vfio_precopy_info precopy_info(struct __test_metadata *_metadata,
					     int fd, uint32_t flags)
{
	struct vfio_precopy_info info = {
		.argsz = sizeof(info), .flags = flags,
	};

	EXPECT_EQ(0, ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info));
	return info;
}

/*
 * A device that discards its memory (MIGDEV_REG_DEVMEM_CTRL) while it is
 * saved reconfigures itself: the stream starts its initial data again,
 * zeros over what it sent, then the pages written since.  After the
 * PRECOPY_INFOv2 opt-in, the next VFIO_MIG_GET_PRECOPY_INFO says
 * VFIO_PRECOPY_INFO_REINIT, once, with new initial bytes; without it,
 * the flags stay as the user passed them and the new data is dirty
 * bytes, and so it is after the opt-in when the device is in
 * PRE_COPY_P2P by the time the user asks (the switchover is under way:
 * QEMU 11.1 fails a migration that reinitialises then).  Either way the
 * destination ends with what the source has: the pages the stream carried
 * before the discard read zeros there.
 * @mid_pass: discard when the initial pass is half read, not done.
 * @p2p: ask in PRE_COPY_P2P first, then in PRE_COPY again.
 */
static void discard_during_precopy(struct __test_metadata *_metadata,
				   struct _test_data_mig *self, bool opt_in,
				   bool mid_pass, bool p2p)
{
	struct vfio_device_feature f = {
		.argsz = sizeof(f),
		.flags = VFIO_DEVICE_FEATURE_SET | MDL_FEATURE_PRECOPY_INFO_V2,
	};
	static uint8_t page[4096], back[4096], zero[4096];
	struct vfio_precopy_info info;
	uint32_t in = opt_in ? 0x5a : 0xa5a5a5a4, out;
	bool v2 = false, reinit;
	int fd, rfd;
	ssize_t n;

	mdl_dirty_device(&self->src, 7);
	EXPECT_TRUE(mdl_read64(&self->src, MIGDEV_REG_FEATURES) &
		    MIGDEV_FEATURE_DEVMEM_DISCARD);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_PRE_COPY, &fd));
	if (opt_in) {
		v2 = !ioctl(self->src.fd, VFIO_DEVICE_FEATURE, &f);
		if (!v2) {
			EXPECT_EQ(ENOTTY, errno);
			close(fd);
			ASSERT_EQ(0, __mdl_mig_set(&self->src, S_RUNNING, NULL));
			SKIP(return, "no MIG_PRECOPY_INFOv2 (before Linux 7.1)");
		}
	}
	/* The flags without REINIT: output (0) after the opt-in, else as passed. */
	out = v2 ? 0 : in;
	reinit = v2 && !p2p;
	self->len = 0;
	if (mid_pass) {
		self->cap = 8 << 20;
		self->stream = realloc(self->stream, self->cap);
		ASSERT_NE(NULL, self->stream);
		n = read(fd, self->stream, 64 << 10);
		ASSERT_EQ(64 << 10, n);
		self->len = n;
		info = precopy_info(_metadata, fd, in);
		EXPECT_GT(info.initial_bytes, 0);
	} else {
		ASSERT_EQ(-ENOMSG, append_stream(_metadata, self, fd));
		info = precopy_info(_metadata, fd, in);
		EXPECT_EQ(0, info.initial_bytes);
		EXPECT_EQ(0, info.dirty_bytes);
	}
	EXPECT_EQ(out, info.flags);

	/* The device discards its memory: it reads zeros at once. */
	ASSERT_EQ(4096, mdl_pread(&self->src, VFIO_PCI_BAR2_REGION_INDEX, 0, back, 4096));
	EXPECT_NE(0, memcmp(back, zero, 4096));
	mdl_write32(&self->src, MIGDEV_REG_DEVMEM_CTRL, MIGDEV_DEVMEM_CTRL_DISCARD);
	ASSERT_EQ(4096, mdl_pread(&self->src, VFIO_PCI_BAR2_REGION_INDEX, 0, back, 4096));
	EXPECT_EQ(0, memcmp(back, zero, 4096));
	EXPECT_EQ(0, mdl_read32(&self->src, MIGDEV_REG_DEVMEM_CTRL));

	/* Told in PRE_COPY_P2P: dirty data, and so it stays in PRE_COPY. */
	if (p2p) {
		ASSERT_EQ(0, __mdl_mig_set(&self->src, S_PRE_COPY_P2P, NULL));
		info = precopy_info(_metadata, fd, in);
		EXPECT_EQ(out, info.flags);
		EXPECT_EQ(0, info.initial_bytes);
		EXPECT_GE(info.dirty_bytes, 40);
		ASSERT_EQ(0, __mdl_mig_set(&self->src, S_PRE_COPY, NULL));
	}
	info = precopy_info(_metadata, fd, in);
	if (reinit) {
		EXPECT_EQ(MDL_PRECOPY_INFO_REINIT, info.flags);
		/* Zeros over what went out: at least one record. */
		EXPECT_GE(info.initial_bytes, 40);
		EXPECT_EQ(0, info.dirty_bytes);
		/* Once per discard. */
		info = precopy_info(_metadata, fd, in);
		EXPECT_EQ(0, info.flags);
		EXPECT_GE(info.initial_bytes, 40);
	} else {
		EXPECT_EQ(out, info.flags);
		EXPECT_EQ(0, info.initial_bytes);
		EXPECT_GE(info.dirty_bytes, 40);
	}
	/* The driver starts again; a page written now is initial data too. */
	mdl_fill_random(page, sizeof(page), 1234);
	ASSERT_EQ(4096, mdl_pwrite(&self->src, VFIO_PCI_BAR2_REGION_INDEX, 5 << 12, page, 4096));
	info = precopy_info(_metadata, fd, in);
	EXPECT_GE(reinit ? info.initial_bytes : info.dirty_bytes, 4096);
	EXPECT_EQ(out, info.flags);
	ASSERT_EQ(-ENOMSG, append_stream(_metadata, self, fd));
	info = precopy_info(_metadata, fd, in);
	EXPECT_EQ(0, info.initial_bytes);
	EXPECT_EQ(0, info.dirty_bytes);
	EXPECT_EQ(out, info.flags);

	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_STOP_COPY, NULL));
	ASSERT_EQ(0, append_stream(_metadata, self, fd));
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_STOP, NULL));

	ASSERT_EQ(0, __mdl_mig_set(&self->dst, S_RESUMING, &rfd));
	ASSERT_EQ(0, mdl_write_all(rfd, self->stream, self->len, 32 << 10));
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, S_STOP, NULL));
	close(rfd);
	ASSERT_EQ(4096, mdl_pread(&self->dst, VFIO_PCI_BAR2_REGION_INDEX, 0, back, 4096));
	EXPECT_EQ(0, memcmp(back, zero, 4096));
	ASSERT_EQ(4096, mdl_pread(&self->dst, VFIO_PCI_BAR2_REGION_INDEX, 5 << 12, back, 4096));
	EXPECT_EQ(0, memcmp(back, page, 4096));
	expect_same_device(_metadata, &self->src, &self->dst, self->devmem_size);
}

TEST_F_TIMEOUT(mig, discard_restarts_initial_data, 300)
{
	discard_during_precopy(_metadata, self, true, false, false);
}

TEST_F_TIMEOUT(mig, discard_mid_pass_restarts_initial_data, 300)
{
	discard_during_precopy(_metadata, self, true, true, false);
}

TEST_F_TIMEOUT(mig, discard_without_opt_in_is_dirty_data, 300)
{
	discard_during_precopy(_metadata, self, false, false, false);
}

TEST_F_TIMEOUT(mig, discard_seen_in_p2p_is_dirty_data, 300)
{
	discard_during_precopy(_metadata, self, true, false, true);
}

/*
 * A copy paused half way moves to the destination and finishes there;
 * pre-copy and stop-copy are read as one stream, as QEMU does.
 */
TEST_F_TIMEOUT(mig, descriptor_in_flight_moves, 600)
{
	struct migdev_desc d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, self->b.iova,
					BUF, MIGDEV_DESC_F_IRQ);
	uint64_t clock_src, clock_dst, init, dirty;
	int fd, rfd, efd[MIGDEV_MAX_QUEUES + 1], i, nvec;
	ssize_t n;
	uint32_t c, slot;

	(void)c;

	memset(self->b.va, 0, BUF);
	mdl_dirty_device(&self->src, 4);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_PRE_COPY, &fd));
	/*
	 * Start the copy, then hold the engine (debugfs engine_pause) so that
	 * it cannot finish during pre-copy however slow the reads are (a
	 * debug kernel is).  Should it finish before the pause takes hold,
	 * copy again.
	 */
	for (i = 0; i < 10; i++) {
		slot = mdl_submit(&self->q, &d);
		mdl_wait_in_flight(&self->q, slot, 30000);
		ASSERT_EQ(0, mdl_pause(self->src.uuid, 1));
		if (!mdl_cpl(&self->q, slot)->status)
			break;
		TH_LOG("attempt %d: the copy finished before the pause", i);
		ASSERT_EQ(0, mdl_pause(self->src.uuid, 0));
	}
	ASSERT_LT(i, 10);
	/* Pre-copy while the copy runs (as one stream with stop-copy). */
	self->len = 0;
	for (;;) {
		if (self->len + (2 << 20) > self->cap) {
			self->cap = self->cap * 2 + (4 << 20);
			self->stream = realloc(self->stream, self->cap);
			ASSERT_NE(NULL, self->stream);
		}
		n = read(fd, self->stream + self->len, 1 << 20);
		if (n <= 0)
			break;
		self->len += n;
	}
	ASSERT_EQ(ENOMSG, errno);
	ASSERT_EQ(0, __mdl_precopy_info(fd, &init, &dirty));
	/* Stop mid-copy; stop-copy continues the same fd. */
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_STOP_COPY, NULL));
	ASSERT_EQ(0, le32toh(mdl_cpl(&self->q, slot)->status))
		TH_LOG("the copy finished before the stop");
	clock_src = mdl_read64(&self->src, MIGDEV_REG_CLOCK);
	for (;;) {
		if (self->len + (2 << 20) > self->cap) {
			self->cap = self->cap * 2 + (4 << 20);
			self->stream = realloc(self->stream, self->cap);
			ASSERT_NE(NULL, self->stream);
		}
		n = read(fd, self->stream + self->len, 1 << 20);
		ASSERT_GE(n, 0);
		if (!n)
			break;
		self->len += n;
	}
	close(fd);
	/* The source is left stopped: the copy must finish on the destination. */
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_STOP, NULL));

	mdl_bus_master(&self->dst, 1);
	nvec = mdl_read32(&self->dst, MIGDEV_REG_NUM_VECTORS);
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, S_RESUMING, &rfd));
	ASSERT_EQ(0, mdl_write_all(rfd, self->stream, self->len, 32 << 10));
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, S_STOP, NULL));
	close(rfd);
	/* QEMU sets up interrupts while the destination is not running. */
	for (i = 0; i < nvec; i++)
		efd[i] = mdl_eventfd();
	ASSERT_EQ(0, __mdl_set_irq_eventfds(&self->dst, VFIO_PCI_MSIX_IRQ_INDEX, 0, nvec, efd));
	clock_dst = mdl_read64(&self->dst, MIGDEV_REG_CLOCK);
	EXPECT_GE(clock_dst, clock_src);
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, S_RUNNING, NULL));
	c = mdl_wait(&self->q, slot, 60000);
	EXPECT_EQ(MIGDEV_STATUS_OK, c);
	EXPECT_EQ(BUF, le64toh(mdl_cpl(&self->q, slot)->bytes));
	EXPECT_EQ(0, memcmp(self->a.va, self->b.va, BUF));
	EXPECT_TRUE(mdl_eventfd_wait(efd[0], 5000));
	EXPECT_EQ(1, mdl_eventfd_read(efd[0]));
	EXPECT_GE(mdl_read64(&self->dst, MIGDEV_REG_CLOCK), clock_dst);
	EXPECT_EQ(slot + 1, mdl_qread32(&self->dst, 0, MIGDEV_Q_HEAD));
	for (i = 0; i < nvec; i++)
		close(efd[i]);
}

static void set_minor(struct __test_metadata *_metadata, const char *uuid,
		      unsigned int minor)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/bus/mdev/devices/%s/migdev/migration_minor", uuid);
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "%u\n", minor);
	ASSERT_EQ(0, fclose(f));
}

/*
 * A queue disabled while migration holds the device (RUNNING_P2P) keeps
 * its descriptor BUSY, and the ABORTED record is written by whichever
 * device runs next: the source, when the migration is cancelled, and the
 * destination, which a 1.3 stream tells.  A 1.2 stream cannot say it: the
 * record is dropped, and the destination's queue is idle.  On the module
 * before, the descriptor went without its record, wherever it ran.
 */
TEST_F_TIMEOUT(mig, aborted_record_moves, 600)
{
	struct migdev_desc d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, self->b.iova,
					BUF, 0);
	static const unsigned int minors[] = { MIGDEV_STREAM_MINOR, 2 };
	struct migdev_completion *cpl;
	unsigned int m, i;
	uint32_t slot = 0;
	uint64_t bytes;
	int fd;

	mdl_bus_master(&self->dst, 1);
	for (m = 0; m < ARRAY_SIZE(minors); m++) {
		set_minor(_metadata, self->su, minors[m]);
		/* The queue afresh: the destination maps the same ring. */
		mdl_qwrite32(&self->src, 0, MIGDEV_Q_CTRL, 0);
		mdl_qwrite32(&self->src, 0, MIGDEV_Q_CTRL, MIGDEV_Q_CTRL_ENABLE);
		self->q.tail = 0;
		memset(self->q.compl.va, 0, self->q.compl.size);
		for (i = 0; i < 10; i++) {
			memset(self->b.va, 0, BUF);
			slot = mdl_submit(&self->q, &d);
			mdl_wait_in_flight(&self->q, slot, 30000);
			ASSERT_EQ(0, __mdl_mig_set(&self->src, S_RUNNING_P2P, NULL));
			if (!mdl_cpl(&self->q, slot)->status)
				break;
			TH_LOG("attempt %u: the copy finished before the stop", i);
			ASSERT_EQ(0, __mdl_mig_set(&self->src, S_RUNNING, NULL));
		}
		ASSERT_LT(i, 10);
		cpl = mdl_cpl(&self->q, slot);
		/* Held: the disable leaves the record due. */
		mdl_qwrite32(&self->src, 0, MIGDEV_Q_CTRL, 0);
		EXPECT_EQ(MIGDEV_Q_STATUS_BUSY,
			  mdl_qread32(&self->src, 0, MIGDEV_Q_STATUS));
		self->len = mdl_save(&self->src, &self->stream, &self->cap);
		ASSERT_GT(self->len, 0);
		EXPECT_EQ(minors[m],
			  ((struct migdev_stream_header *)self->stream)->minor);
		EXPECT_EQ(0, cpl->status);

		/* Cancelled: the source runs again and writes it. */
		ASSERT_EQ(0, __mdl_mig_set(&self->src, S_RUNNING, NULL));
		EXPECT_EQ(MIGDEV_STATUS_ABORTED, mdl_wait(&self->q, slot, 10000));
		bytes = le64toh(cpl->bytes);
		EXPECT_LT(bytes, BUF);
		EXPECT_EQ(0, mdl_qread32(&self->src, 0, MIGDEV_Q_STATUS));
		EXPECT_EQ(slot + 1, mdl_qread32(&self->src, 0, MIGDEV_Q_HEAD));
		EXPECT_EQ(0, ((uint8_t *)self->b.va)[BUF - 1]);

		/* The destination writes it from a 1.3 stream only. */
		memset(cpl, 0, sizeof(*cpl));
		ASSERT_EQ(0, __mdl_mig_set(&self->dst, S_RESUMING, &fd));
		ASSERT_EQ(0, mdl_write_all(fd, self->stream, self->len, 64 << 10));
		close(fd);
		ASSERT_EQ(0, __mdl_mig_set(&self->dst, S_STOP, NULL));
		EXPECT_EQ(minors[m] >= 3 ? MIGDEV_Q_STATUS_BUSY : 0,
			  mdl_qread32(&self->dst, 0, MIGDEV_Q_STATUS));
		ASSERT_EQ(0, __mdl_mig_set(&self->dst, S_RUNNING, NULL));
		if (minors[m] >= 3) {
			EXPECT_EQ(MIGDEV_STATUS_ABORTED,
				  mdl_wait(&self->q, slot, 10000));
			EXPECT_EQ(bytes, le64toh(cpl->bytes));
			EXPECT_EQ(slot + 1, mdl_qread32(&self->dst, 0, MIGDEV_Q_HEAD));
			EXPECT_EQ(MIGDEV_STATUS_ABORTED,
				  mdl_qread32(&self->dst, 0, MIGDEV_Q_ERROR));
		} else {
			usleep(200 * 1000);
			EXPECT_EQ(0, cpl->status);
			EXPECT_EQ(slot, mdl_qread32(&self->dst, 0, MIGDEV_Q_HEAD));
		}
		EXPECT_EQ(0, mdl_qread32(&self->dst, 0, MIGDEV_Q_STATUS));
	}
}

/*
 * An interrupt the user has not read when the device stops is taken back,
 * shows pending, and is delivered once when a device runs: this one again
 * (a cancelled migration), or the destination.  QEMU without KVM reads its
 * eventfds in the thread that a migration's stop holds off; before this,
 * such an edge reached a guest that was already saved, and the migrated
 * guest never saw it.
 */
TEST_F_TIMEOUT(mig, unread_interrupt_survives_stop, 600)
{
	struct migdev_desc d = mdl_desc(MIGDEV_OP_NOP, 0, 0, 0, MIGDEV_DESC_F_IRQ);
	int32_t sfd[MIGDEV_MAX_QUEUES + 1], dfd[MIGDEV_MAX_QUEUES + 1];
	unsigned int i, nvec = mdl_read32(&self->src, MIGDEV_REG_NUM_VECTORS);
	ssize_t len;

	for (i = 0; i < nvec; i++) {
		sfd[i] = mdl_eventfd();
		dfd[i] = mdl_eventfd();
	}
	ASSERT_EQ(0, __mdl_set_irq_eventfds(&self->src, VFIO_PCI_MSIX_IRQ_INDEX,
					    0, nvec, sfd));
	ASSERT_EQ(0, __mdl_set_irq_eventfds(&self->dst, VFIO_PCI_MSIX_IRQ_INDEX,
					    0, nvec, dfd));

	/* Unread at the stop: taken back, pending, delivered on RUNNING. */
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	ASSERT_TRUE(mdl_eventfd_wait(sfd[0], 5000));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_STOP, NULL));
	EXPECT_EQ(0, mdl_eventfd_read(sfd[0]));
	EXPECT_EQ(1, mdl_read32(&self->src, MIGDEV_MSIX_PBA_OFFSET));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_RUNNING, NULL));
	EXPECT_EQ(1, mdl_eventfd_read(sfd[0]));
	EXPECT_EQ(0, mdl_read32(&self->src, MIGDEV_MSIX_PBA_OFFSET));
	usleep(10000);
	EXPECT_EQ(0, mdl_eventfd_read(sfd[0]));

	/* Read before the stop: nothing comes back. */
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	ASSERT_TRUE(mdl_eventfd_wait(sfd[0], 5000));
	EXPECT_EQ(1, mdl_eventfd_read(sfd[0]));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_STOP, NULL));
	EXPECT_EQ(0, mdl_read32(&self->src, MIGDEV_MSIX_PBA_OFFSET));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_RUNNING, NULL));
	usleep(10000);
	EXPECT_EQ(0, mdl_eventfd_read(sfd[0]));

	/* Unread when a migration stops the source: the destination has it. */
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	ASSERT_TRUE(mdl_eventfd_wait(sfd[0], 5000));
	len = mdl_save(&self->src, &self->stream, &self->cap);
	ASSERT_GT(len, 0);
	EXPECT_EQ(0, mdl_eventfd_read(sfd[0]));
	ASSERT_EQ(0, mdl_load(&self->dst, self->stream, len, 1 << 20));
	EXPECT_TRUE(mdl_eventfd_wait(dfd[0], 5000));
	EXPECT_EQ(1, mdl_eventfd_read(dfd[0]));
	EXPECT_EQ(0, mdl_read32(&self->dst, MIGDEV_MSIX_PBA_OFFSET));
	usleep(10000);
	EXPECT_EQ(0, mdl_eventfd_read(dfd[0]));
	/* The source, stopped, delivers nothing. */
	EXPECT_EQ(0, mdl_eventfd_read(sfd[0]));
	for (i = 0; i < nvec; i++) {
		close(sfd[i]);
		close(dfd[i]);
	}
}

/* Ways to reset the device: VFIO_DEVICE_RESET, and an FLR in config space. */
static void reset_ioctl(struct __test_metadata *_metadata, struct mdl_dev *d)
{
	ASSERT_EQ(0, ioctl(d->fd, VFIO_DEVICE_RESET));
}

static void reset_flr(struct __test_metadata *_metadata, struct mdl_dev *d)
{
	uint16_t devctl = mdl_cfg_read(d, MIGDEV_CAP_EXP + PCI_EXP_DEVCTL, 2);

	mdl_cfg_write(d, MIGDEV_CAP_EXP + PCI_EXP_DEVCTL, 2,
		      devctl | PCI_EXP_DEVCTL_BCR_FLR);
}

/*
 * Put @d in state @st with @seed's state in it (mid pre-copy in the
 * pre-copy states), reset it with @reset, and check that it is back in
 * RUNNING with its saving or resuming file dead.
 */
static void reset_in_state(struct __test_metadata *_metadata, struct mdl_dev *d,
			   uint32_t st, unsigned int seed,
			   void (*reset)(struct __test_metadata *, struct mdl_dev *))
{
	uint8_t buf[256];
	int fd;

	mdl_dirty_device(d, seed);
	ASSERT_EQ(0, goto_state(d, st, &fd)) TH_LOG("state %u", st);
	if (st == S_PRE_COPY || st == S_PRE_COPY_P2P)
		ASSERT_GT(read(fd, buf, sizeof(buf)), 0);	/* mid pre-copy */
	reset(_metadata, d);
	EXPECT_EQ(S_RUNNING, mdl_mig_get(d)) TH_LOG("state %u", st);
	if (fd >= 0) {
		EXPECT_EQ(-1, st == S_RESUMING ? write(fd, buf, 8) :
				read(fd, buf, sizeof(buf)));
		EXPECT_EQ(ENODEV, errno) TH_LOG("state %u", st);
		close(fd);
	}
}

static const uint32_t every_state[] = { S_STOP, S_STOP_COPY, S_RESUMING,
					S_RUNNING_P2P, S_PRE_COPY, S_PRE_COPY_P2P };

/* A reset in any state: back to RUNNING, fds dead, device usable. */
TEST_F_TIMEOUT(mig, reset_in_every_state, 600)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(every_state); i++) {
		reset_in_state(_metadata, &self->src, every_state[i], 10 + i, reset_ioctl);
		EXPECT_EQ(0, mdl_read64(&self->src, MIGDEV_REG_SCRATCH));
		/* And it migrates again. */
		self->len = mdl_save(&self->src, &self->stream, &self->cap);
		EXPECT_GT(self->len, 0);
		ASSERT_EQ(0, __mdl_mig_set(&self->src, S_RUNNING, NULL));
	}
}

/*
 * An FLR through config space is a reset too (vfio-pci's reset_done()
 * takes mlx5 and pds back to RUNNING): in any state it leaves the device
 * in RUNNING with its files dead, never a stopped or resuming device
 * whose state the FLR just cleared.
 */
TEST_F_TIMEOUT(mig, flr_in_every_state, 600)
{
	struct migdev_desc d;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(every_state); i++) {
		reset_in_state(_metadata, &self->src, every_state[i], 20 + i, reset_flr);
		/* Reset as an FLR resets: config space too. */
		EXPECT_EQ(0, mdl_read64(&self->src, MIGDEV_REG_SCRATCH));
		EXPECT_EQ(0, mdl_cfg_read(&self->src, PCI_BASE_ADDRESS_0, 4));
		EXPECT_EQ(0, mdl_cfg_read(&self->src, PCI_COMMAND, 2));
		/* And it works and migrates again. */
		mdl_bus_master(&self->src, 1);
		mdl_queue_fini(&self->q);
		ASSERT_EQ(0, __mdl_queue_init(&self->src, 0, 64, &self->q));
		d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, self->b.iova, 4096, 0);
		memset(self->b.va, 0, 4096);
		EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
		EXPECT_EQ(0, memcmp(self->a.va, self->b.va, 4096));
		self->len = mdl_save(&self->src, &self->stream, &self->cap);
		EXPECT_GT(self->len, 0);
		ASSERT_EQ(0, __mdl_mig_set(&self->src, S_RUNNING, NULL));
	}
}

struct reader {
	int fd;
	uint8_t *buf;
	size_t cap, len;
	int stop_seen;	/* set by the main thread once in STOP_COPY */
	int err;
};

/* Read until the permanent end of stream, riding out ENOMSG. */
static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	ssize_t n;

	for (;;) {
		if (r->len + (1 << 20) > r->cap) {
			r->cap = r->cap * 2 + (4 << 20);
			r->buf = realloc(r->buf, r->cap);
		}
		n = read(r->fd, r->buf + r->len, 1 << 16);
		if (n > 0) {
			r->len += n;
		} else if (n < 0 && errno == ENOMSG) {
			if (__atomic_load_n(&r->stop_seen, __ATOMIC_SEQ_CST)) {
				r->err = ENOMSG;	/* never in STOP_COPY */
				return NULL;
			}
			usleep(200);
		} else if (n < 0) {
			r->err = errno;
			return NULL;
		} else if (__atomic_load_n(&r->stop_seen, __ATOMIC_SEQ_CST)) {
			return NULL;
		}
	}
}

/* QEMU 10's multifd reads data_fd from another thread than the ioctls. */
TEST_F_TIMEOUT(mig, read_from_another_thread, 600)
{
	struct reader r = {};
	pthread_t th;
	int i;

	mdl_dirty_device(&self->src, 6);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_PRE_COPY, &r.fd));
	ASSERT_EQ(0, pthread_create(&th, NULL, reader_thread, &r));
	for (i = 0; i < 20; i++) {
		mdl_dirty_device(&self->src, 100 + i);	/* keeps dirtying */
		usleep(2000);
	}
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_STOP_COPY, NULL));
	__atomic_store_n(&r.stop_seen, 1, __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0, r.err);
	close(r.fd);
	ASSERT_EQ(0, mdl_load(&self->dst, r.buf, r.len, 32 << 10));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, S_RUNNING, NULL));
	expect_same_device(_metadata, &self->src, &self->dst, self->devmem_size);
	free(r.buf);
}

TEST_HARNESS_MAIN
