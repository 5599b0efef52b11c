// SPDX-License-Identifier: GPL-2.0-only
/*
 * Faults on demand (debugfs migdev/<uuid>/faults): the rule language's
 * refusals, and each point and action doing what it says when it says,
 * with what happens after it checked: the error a VMM gets, the state the
 * device is left in, and a migration retried after the rule is spent (or
 * cleared) that brings the whole device across.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "migdev_lib.h"

#define BAR2	VFIO_PCI_BAR2_REGION_INDEX

FIXTURE(fault) {
	char su[MDL_UUID_LEN], du[MDL_UUID_LEN];
	struct mdl_dev src, dst;
	uint8_t *s;
	size_t cap;
};

static int faults_path(const char *uuid, char *path, size_t len)
{
	return snprintf(path, len, "/sys/kernel/debug/migdev/%s/faults", uuid);
}

static int rule(const char *uuid, const char *text)
{
	return mdl_fault(uuid, text);
}

/* Rule @i's hits and fired counts, from reading the file back. */
static int counts(const char *uuid, unsigned int i, unsigned long long *hits,
		  unsigned long long *fired)
{
	char path[256], buf[4096], tag[16];
	const char *p;

	faults_path(uuid, path, sizeof(path));
	if (mdl_sysfs_read(path, buf, sizeof(buf)))
		return -1;
	snprintf(tag, sizeof(tag), "%u: ", i);
	for (p = buf; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, tag, strlen(tag))) {
			const char *h = strstr(p, " hits=");

			if (!h || sscanf(h, " hits=%llu fired=%llu", hits, fired) != 2)
				return -1;
			return 0;
		}
	}
	return -1;
}

static unsigned long long fired_of(const char *uuid, unsigned int i)
{
	unsigned long long h = 0, f = ~0ULL;

	counts(uuid, i, &h, &f);
	return f;
}

static void set_src(struct _test_data_fault *self)
{
	static uint8_t page[4096];
	unsigned int i;

	for (i = 0; i < 8; i++) {
		memset(page, 0x30 + i, sizeof(page));
		mdl_pwrite(&self->src, BAR2, (uint64_t)i * 5 << 12, page,
			   sizeof(page));
	}
	mdl_write64(&self->src, MIGDEV_REG_SCRATCH, 0xfa017ULL);
}

/* The destination holds what set_src() gave the source. */
static void expect_dst_has_src(struct __test_metadata *_metadata,
			       struct _test_data_fault *self)
{
	uint8_t b[1];
	unsigned int i;

	EXPECT_EQ(0xfa017ULL, mdl_read64(&self->dst, MIGDEV_REG_SCRATCH));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(1, mdl_pread(&self->dst, BAR2,
				       ((uint64_t)i * 5 << 12) + 4095, b, 1));
		EXPECT_EQ(0x30 + i, b[0]);
	}
}

/* Save the source (STOP_COPY) and load it into the destination. */
static int migrate(struct _test_data_fault *self, size_t chunk)
{
	ssize_t len = mdl_save(&self->src, &self->s, &self->cap);
	int ret;

	if (len < 0)
		return len;
	ret = __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL);
	return ret ?: mdl_load(&self->dst, self->s, len, chunk);
}

/* Save the source in reads of @chunk bytes: the length, or -errno. */
static ssize_t save_in(struct _test_data_fault *self, size_t chunk)
{
	size_t len = 0;
	ssize_t n;
	int fd, ret;

	if (!self->cap) {
		self->cap = 4 << 20;
		self->s = malloc(self->cap);
		if (!self->s)
			return -ENOMEM;
	}
	ret = __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	if (ret)
		return ret;
	while (len + chunk <= self->cap &&
	       (n = read(fd, self->s + len, chunk)) > 0)
		len += n;
	close(fd);
	ret = __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL);
	return ret ?: (ssize_t)len;
}

FIXTURE_SETUP(fault)
{
	char path[256];

	self->src.fd = -1;
	self->dst.fd = -1;
	self->s = NULL;
	self->cap = 0;
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, self->su));
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, self->du));
	ASSERT_EQ(0, __mdl_open(self->su, &self->src));
	ASSERT_EQ(0, __mdl_open(self->du, &self->dst));
	faults_path(self->su, path, sizeof(path));
	ASSERT_EQ(0, access(path, W_OK));
	set_src(self);
}

FIXTURE_TEARDOWN(fault)
{
	mdl_close(&self->src);
	mdl_close(&self->dst);
	free(self->s);
	if (mdl_exists(self->su))
		__mdl_remove(self->su);
	if (mdl_exists(self->du))
		__mdl_remove(self->du);
}

TEST_F(fault, language)
{
	static const char *const bad[] = {
		"", "nothing fail=EIO", "arc RUNNING fail=EIO",
		"arc RUNNING NOWHERE fail=EIO", "arc * *", "read",
		"read fail=EIO eof", "read error", "write eof", "write corrupt",
		"data_size short=4", "read fail=EWHAT", "read fail=0",
		"read fail=4096", "read delay=60001", "read short=0",
		"read eof prob=101", "read eof prob=0", "read eof seed=3",
		"read eof nth=2 every=3", "arc * * fail=EIO at=10",
		"read eof nth=x", "read eof bogus=1", "commit fail=EIO extra",
		"read reset=1", "arc * * req_irq fail=EIO", "read scale=5",
		"data_size dirty=5", "precopy_info scale=100001",
		"precopy_info scale=0", "precopy_info dirty=0",
		"now fail=EIO", "now delay=1", "now err_irq nth=1",
		"now reset times=2", "now req_irq prob=5", "err_irq",
		"dma_log_start short=4", "now", "read err_irq=1",
	};
	static const char *const good[] = {
		"arc RUNNING PRE_COPY fail=EAGAIN nth=2",
		"arc * STOP_COPY error", "dma_log_start delay=0",
		"read short=100 times=3", "read eof at=5000",
		"read corrupt every=7", "write fail=ENOSPC",
		"write short=1000 prob=50 seed=9", "precopy_info fail=5",
		"data_size fail=EIO prob=100", "commit fail=EBUSY nth=1",
		"quiesce delay=1", "read reset every=9", "commit err_irq",
		"precopy_info scale=200", "v1_state delay=3",
	};
	char path[256], buf[4096];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, rule(self->su, bad[i])) TH_LOG("bad rule %u", i);
	faults_path(self->su, path, sizeof(path));
	ASSERT_EQ(0, mdl_sysfs_read(path, buf, sizeof(buf)));
	EXPECT_EQ(0, buf[0]) TH_LOG("refused rules were armed");

	for (i = 0; i < ARRAY_SIZE(good); i++)
		EXPECT_EQ(0, rule(self->su, good[i])) TH_LOG("good rule %u", i);
	ASSERT_EQ(0, mdl_sysfs_read(path, buf, sizeof(buf)));
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		char line[160];

		snprintf(line, sizeof(line), "%u: %s hits=0 fired=0", i, good[i]);
		EXPECT_TRUE(!!strstr(buf, line)) TH_LOG("rule %u missing", i);
	}
	for (; i < 16; i++)
		EXPECT_EQ(0, rule(self->su, "read eof nth=1000")) TH_LOG("rule %u", i);
	EXPECT_EQ(-ENOSPC, rule(self->su, "read eof nth=1000"));
	EXPECT_EQ(0, rule(self->su, "clear"));
	ASSERT_EQ(0, mdl_sysfs_read(path, buf, sizeof(buf)));
	EXPECT_EQ(0, buf[0]);
	/* Cleared: nothing fires, the device migrates. */
	ASSERT_EQ(0, migrate(self, 1 << 20));
	expect_dst_has_src(_metadata, self);
}

TEST_F(fault, arc_fails_on_the_nth_time)
{
	int fd;

	ASSERT_EQ(0, rule(self->su, "arc RUNNING PRE_COPY fail=EAGAIN nth=2"));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_EQ(-EAGAIN, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, mdl_mig_get(&self->src));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_EQ(1, fired_of(self->su, 0));
	/* Other arcs are not its: a whole migration goes through. */
	ASSERT_EQ(0, migrate(self, 1 << 20));
	expect_dst_has_src(_metadata, self);
}

TEST_F(fault, arc_to_error_until_reset)
{
	uint8_t buf[4096];
	int fd;

	ASSERT_EQ(0, rule(self->su, "arc PRE_COPY_P2P STOP_COPY error"));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY_P2P, NULL));
	EXPECT_EQ(-EIO, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_STOP_COPY, NULL));
	EXPECT_EQ(VFIO_DEVICE_STATE_ERROR, mdl_mig_get(&self->src));
	/* The data_fd is dead, and only a reset leaves ERROR. */
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(ENODEV, errno);
	close(fd);
	EXPECT_NE(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_EQ(VFIO_DEVICE_STATE_ERROR, mdl_mig_get(&self->src));
	ASSERT_EQ(0, ioctl(self->src.fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, mdl_mig_get(&self->src));
	/* The reset cleared the device: give it its state again, migrate. */
	ASSERT_EQ(0, rule(self->su, "clear"));
	set_src(self);
	ASSERT_EQ(0, migrate(self, 1 << 20));
	expect_dst_has_src(_metadata, self);
}

TEST_F(fault, read_short_then_whole)
{
	size_t len = 0, cap = 1 << 20;
	uint8_t *buf = malloc(cap);
	unsigned int i = 0;
	ssize_t n;
	int fd;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, rule(self->su, "read short=100 times=3"));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_STOP_COPY, &fd));
	while ((n = read(fd, buf + len, 65536)) > 0) {
		/* The first three reads move at most 100 bytes. */
		EXPECT_GE(i < 3 ? 100 : n, n);
		i++;
		len += n;
	}
	EXPECT_EQ(0, n);
	close(fd);
	EXPECT_EQ(3, fired_of(self->su, 0));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	/* Short reads lose nothing. */
	ASSERT_EQ(0, mdl_load(&self->dst, buf, len, 4096));
	expect_dst_has_src(_metadata, self);
	free(buf);
}

TEST_F(fault, read_eof_and_corrupt_are_refused)
{
	ssize_t len;
	int fd, ret;

	/* The stream ends early: the destination refuses it, whole. */
	ASSERT_EQ(0, rule(self->su, "read eof at=5000"));
	len = save_in(self, 4096);
	ASSERT_EQ(8192, len) TH_LOG("the stream did not end at the first read past 5000");
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RESUMING, &fd));
	ret = mdl_write_all(fd, self->s, len, 1 << 20);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(-EINVAL, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_STOP, NULL));
	close(fd);
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));

	/* A byte of the second read changed: refused at its record. */
	ASSERT_EQ(0, rule(self->su, "clear"));
	ASSERT_EQ(0, rule(self->su, "read corrupt nth=2"));
	len = save_in(self, 4096);
	ASSERT_GT(len, 8192);
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RESUMING, &fd));
	ret = mdl_write_all(fd, self->s, len, 1 << 20);
	if (!ret)
		ret = __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_STOP, NULL);
	EXPECT_TRUE(ret == -EBADMSG || ret == -EINVAL) TH_LOG("%d", ret);
	close(fd);
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(1, fired_of(self->su, 0));

	/* Spent: the next migration brings the device across. */
	ASSERT_EQ(0, migrate(self, 1 << 20));
	expect_dst_has_src(_metadata, self);
}

TEST_F(fault, write_fails_and_short_writes)
{
	ssize_t len, w;
	size_t done = 0;
	unsigned int i = 0;
	int fd;

	len = mdl_save(&self->src, &self->s, &self->cap);
	ASSERT_GT(len, 0);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, rule(self->du, "write fail=ENOSPC nth=3"));
	ASSERT_EQ(0, rule(self->du, "write short=1000 at=20000"));
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RESUMING, &fd));
	while (done < (size_t)len) {
		size_t n = len - done < 8192 ? len - done : 8192;

		w = write(fd, self->s + done, n);
		if (++i == 3) {
			/* Failed, and took nothing: the same bytes again. */
			EXPECT_EQ(-1, w);
			EXPECT_EQ(ENOSPC, errno);
			continue;
		}
		ASSERT_GT(w, 0);
		/* From 20000 bytes on, at most 1000 a write. */
		EXPECT_EQ(done >= 20000 && n > 1000 ? 1000 : (ssize_t)n, w);
		done += w;
	}
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RUNNING, NULL));
	expect_dst_has_src(_metadata, self);
	EXPECT_EQ(1, fired_of(self->du, 0));
	EXPECT_LT(0, fired_of(self->du, 1));
}

TEST_F(fault, ioctls_and_commit)
{
	uint64_t initial, dirty, size;
	ssize_t len;
	int fd;

	ASSERT_EQ(0, rule(self->su, "precopy_info fail=EPROTO nth=1"));
	ASSERT_EQ(0, rule(self->su, "data_size fail=ETIMEDOUT nth=1"));
	EXPECT_EQ(-ETIMEDOUT, __mdl_mig_data_size(&self->src, &size));
	EXPECT_EQ(0, __mdl_mig_data_size(&self->src, &size));
	EXPECT_LT(0, size);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	EXPECT_EQ(-EPROTO, __mdl_precopy_info(fd, &initial, &dirty));
	EXPECT_EQ(0, __mdl_precopy_info(fd, &initial, &dirty));
	EXPECT_LT(0, initial);
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));

	/* The commit fails once; the device stays RESUMING, and the retry takes. */
	len = mdl_save(&self->src, &self->s, &self->cap);
	ASSERT_GT(len, 0);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, rule(self->du, "commit fail=EBUSY nth=1"));
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RESUMING, &fd));
	ASSERT_EQ(0, mdl_write_all(fd, self->s, len, 1 << 20));
	EXPECT_EQ(-EBUSY, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_STOP, NULL));
	EXPECT_EQ(VFIO_DEVICE_STATE_RESUMING, mdl_mig_get(&self->dst));
	EXPECT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RUNNING, NULL));
	close(fd);
	expect_dst_has_src(_metadata, self);
}

TEST_F(fault, probability_is_reproducible)
{
	char a[65], b[65], c[65];
	uint64_t size;
	unsigned int i, n = 0;

	ASSERT_EQ(0, rule(self->su, "data_size fail=EIO prob=50 seed=7"));
	for (i = 0; i < 64; i++)
		a[i] = __mdl_mig_data_size(&self->src, &size) ? 'x' : '.';
	ASSERT_EQ(0, rule(self->su, "clear"));
	ASSERT_EQ(0, rule(self->su, "data_size fail=EIO prob=50 seed=7"));
	for (i = 0; i < 64; i++)
		b[i] = __mdl_mig_data_size(&self->src, &size) ? 'x' : '.';
	ASSERT_EQ(0, rule(self->su, "clear"));
	ASSERT_EQ(0, rule(self->su, "data_size fail=EIO prob=50 seed=8"));
	for (i = 0; i < 64; i++)
		c[i] = __mdl_mig_data_size(&self->src, &size) ? 'x' : '.';
	a[64] = 0;
	b[64] = 0;
	c[64] = 0;
	TH_LOG("seed 7: %s", a);
	TH_LOG("seed 8: %s", c);
	EXPECT_STREQ(a, b);
	EXPECT_STRNE(a, c);
	for (i = 0; i < 64; i++)
		n += a[i] == 'x';
	EXPECT_LT(8, n);
	EXPECT_GT(56, n);
}

TEST_F(fault, slow_quiesce_and_delays_fire)
{
	int fd;

	ASSERT_EQ(0, rule(self->su, "quiesce delay=50"));
	ASSERT_EQ(0, rule(self->su, "precopy_info delay=10 times=2"));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY_P2P, NULL));
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING_P2P, NULL));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_EQ(1, fired_of(self->su, 0));
	ASSERT_EQ(0, migrate(self, 1 << 20));
	expect_dst_has_src(_metadata, self);
	/* STOP_COPY's quiesce is RUNNING -> RUNNING_P2P: the rule's second. */
	EXPECT_EQ(2, fired_of(self->su, 0));
}

/* Wrong estimates: too low, too high, and a pre-copy that never ends. */
TEST_F(fault, estimates_scaled_and_never_converging)
{
	uint64_t size, size10, initial, dirty, initial2, dirty2;
	uint8_t buf[1 << 16];
	int fd;

	ASSERT_EQ(0, __mdl_mig_data_size(&self->src, &size));
	ASSERT_EQ(0, rule(self->su, "data_size scale=1000 nth=1"));
	ASSERT_EQ(0, __mdl_mig_data_size(&self->src, &size10));
	EXPECT_EQ(size * 10, size10);
	ASSERT_EQ(0, __mdl_mig_data_size(&self->src, &size10));
	EXPECT_EQ(size, size10);

	ASSERT_EQ(0, rule(self->su, "precopy_info scale=50 nth=2"));
	ASSERT_EQ(0, rule(self->su, "precopy_info dirty=1000000"));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	/* The first answer: the truth, and the dirty rule's extra. */
	ASSERT_EQ(0, __mdl_precopy_info(fd, &initial, &dirty));
	EXPECT_LT(0, initial);
	EXPECT_EQ(1000000, dirty);
	/* The second: half of it (the scale rule comes first). */
	ASSERT_EQ(0, __mdl_precopy_info(fd, &initial2, &dirty2));
	EXPECT_EQ(initial / 2, initial2);
	EXPECT_EQ(0, dirty2);
	/* Drained: nothing left, and still a million dirty bytes said. */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	EXPECT_EQ(ENOMSG, errno);
	ASSERT_EQ(0, __mdl_precopy_info(fd, &initial, &dirty));
	EXPECT_EQ(0, initial);
	EXPECT_EQ(1000000, dirty);
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, rule(self->su, "clear"));
	ASSERT_EQ(0, migrate(self, 1 << 20));
	expect_dst_has_src(_metadata, self);
}

/*
 * reset: the device resets just after the point, as when the guest
 * reboots in the middle of pre-copy; the migration's data_fd is dead,
 * the device RUNNING and cleared, and it migrates again once it has its
 * state back.
 */
TEST_F(fault, reset_in_precopy)
{
	uint64_t initial, dirty;
	uint8_t buf[4096], b;
	unsigned int i;
	int fd, ret;

	ASSERT_EQ(0, rule(self->su, "precopy_info reset nth=2"));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	ASSERT_EQ(0, __mdl_precopy_info(fd, &initial, &dirty));
	EXPECT_LT(0, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(VFIO_DEVICE_STATE_PRE_COPY, mdl_mig_get(&self->src));
	/*
	 * The second call fires it: the reset comes at once, so the call
	 * itself may already find the data_fd dead.
	 */
	ret = __mdl_precopy_info(fd, &initial, &dirty);
	EXPECT_TRUE(ret == 0 || ret == -ENODEV) TH_LOG("%d", ret);
	for (i = 0; i < 500 && mdl_mig_get(&self->src) != VFIO_DEVICE_STATE_RUNNING; i++)
		usleep(10000);
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, mdl_mig_get(&self->src));
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(ENODEV, errno);
	close(fd);
	EXPECT_EQ(1, fired_of(self->su, 0));
	/* Cleared, as a reset clears it. */
	ASSERT_EQ(1, mdl_pread(&self->src, BAR2, 4095, &b, 1));
	EXPECT_EQ(0, b);
	EXPECT_EQ(0, mdl_read64(&self->src, MIGDEV_REG_SCRATCH));
	set_src(self);
	ASSERT_EQ(0, migrate(self, 1 << 20));
	expect_dst_has_src(_metadata, self);
}

/* req_irq: the request interrupt fires, as when the instance is removed. */
TEST_F(fault, request_interrupt)
{
	int efd = mdl_eventfd(), fd;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, __mdl_set_irq_eventfds(&self->src, VFIO_PCI_REQ_IRQ_INDEX,
					    0, 1, &efd));
	ASSERT_EQ(0, rule(self->su, "arc RUNNING PRE_COPY req_irq"));
	EXPECT_EQ(0, mdl_eventfd_read(efd));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	EXPECT_EQ(1, mdl_eventfd_wait(efd, 5000));
	EXPECT_EQ(1, mdl_eventfd_read(efd));
	/* The arc itself went through, and the migration goes on. */
	EXPECT_EQ(VFIO_DEVICE_STATE_PRE_COPY, mdl_mig_get(&self->src));
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, migrate(self, 1 << 20));
	expect_dst_has_src(_metadata, self);
	close(efd);
}

/*
 * err_irq: the error interrupt fires, as a real device's uncorrectable
 * error would raise it, and only the error interrupt; "now" fires it at
 * once, only while the device is open, and is not kept.
 */
TEST_F(fault, error_interrupt)
{
	int efd = mdl_eventfd(), req = mdl_eventfd(), fd;
	char path[256], buf[4096];
	unsigned int i;

	ASSERT_LE(0, efd);
	ASSERT_LE(0, req);
	ASSERT_EQ(0, __mdl_set_irq_eventfds(&self->src, VFIO_PCI_ERR_IRQ_INDEX,
					    0, 1, &efd));
	ASSERT_EQ(0, __mdl_set_irq_eventfds(&self->src, VFIO_PCI_REQ_IRQ_INDEX,
					    0, 1, &req));
	ASSERT_EQ(0, rule(self->su, "arc RUNNING PRE_COPY err_irq"));
	EXPECT_EQ(0, mdl_eventfd_read(efd));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	EXPECT_EQ(1, mdl_eventfd_wait(efd, 5000));
	EXPECT_EQ(1, mdl_eventfd_read(efd));
	EXPECT_EQ(VFIO_DEVICE_STATE_PRE_COPY, mdl_mig_get(&self->src));
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_EQ(1, fired_of(self->su, 0));
	ASSERT_EQ(0, rule(self->su, "clear"));

	/* At once, twice; not kept: the file lists no rule. */
	ASSERT_EQ(0, rule(self->su, "now err_irq"));
	EXPECT_EQ(1, mdl_eventfd_wait(efd, 5000));
	EXPECT_EQ(1, mdl_eventfd_read(efd));
	ASSERT_EQ(0, rule(self->su, "now req_irq"));
	EXPECT_EQ(1, mdl_eventfd_wait(req, 5000));
	EXPECT_EQ(1, mdl_eventfd_read(req));
	EXPECT_EQ(0, mdl_eventfd_read(efd));
	faults_path(self->su, path, sizeof(path));
	ASSERT_EQ(0, mdl_sysfs_read(path, buf, sizeof(buf)));
	EXPECT_EQ(0, buf[0]);
	/* A reset now: the device's state is gone, it still migrates. */
	ASSERT_NE(0, mdl_read64(&self->src, MIGDEV_REG_SCRATCH));
	ASSERT_EQ(0, rule(self->su, "now reset"));
	for (i = 0; i < 500 && mdl_read64(&self->src, MIGDEV_REG_SCRATCH); i++)
		usleep(10000);
	EXPECT_EQ(0, mdl_read64(&self->src, MIGDEV_REG_SCRATCH));
	EXPECT_EQ(0, mdl_eventfd_read(efd));

	/* Closed, there is nobody to tell: refused, nothing fires later. */
	mdl_close(&self->src);
	EXPECT_EQ(-ENODEV, rule(self->su, "now err_irq"));
	EXPECT_EQ(-ENODEV, rule(self->su, "now reset"));
	ASSERT_EQ(0, __mdl_open(self->su, &self->src));
	EXPECT_EQ(0, mdl_eventfd_read(efd));
	EXPECT_EQ(0, mdl_eventfd_read(req));
	set_src(self);
	ASSERT_EQ(0, migrate(self, 1 << 20));
	expect_dst_has_src(_metadata, self);
	close(efd);
	close(req);
}

/* The v1 migration region's fields, as QEMU 7.2 drives them. */
TEST_F(fault, v1_region_fields)
{
	struct mdl_v1_segs segs = {};
	uint64_t v;

	ASSERT_EQ(0, rule(self->su, "v1_state fail=EBUSY nth=1"));
	ASSERT_EQ(0, rule(self->su, "v1_pending fail=EIO nth=1"));
	ASSERT_EQ(0, rule(self->su, "v1_data_size fail=EAGAIN nth=1"));
	/* The first device_state write fails, and changes nothing. */
	EXPECT_EQ(-EBUSY, mdl_v1_set(&self->src, VFIO_DEVICE_STATE_V1_SAVING |
				     VFIO_DEVICE_STATE_V1_RUNNING));
	EXPECT_EQ(VFIO_DEVICE_STATE_V1_RUNNING, mdl_v1_state(&self->src));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, mdl_mig_get(&self->src));
	ASSERT_EQ(0, mdl_v1_set(&self->src, VFIO_DEVICE_STATE_V1_SAVING));
	EXPECT_EQ(-EIO, mdl_v1_get64(&self->src, MDL_V1_PENDING, &v));
	EXPECT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_PENDING, &v));
	EXPECT_LT(0, v);
	EXPECT_EQ(-EAGAIN, mdl_v1_get64(&self->src, MDL_V1_SIZE, &v));
	/* Then the save and a restore go through whole. */
	ASSERT_EQ(0, mdl_v1_drain(&self->src, &segs, 1 << 20));
	ASSERT_EQ(0, mdl_v1_set(&self->src, 0));
	EXPECT_EQ(1, fired_of(self->su, 0));
	EXPECT_EQ(1, fired_of(self->su, 1));
	EXPECT_EQ(1, fired_of(self->su, 2));
	ASSERT_EQ(0, mdl_v1_set(&self->src, VFIO_DEVICE_STATE_V1_RUNNING));
	ASSERT_EQ(0, mdl_v1_load(&self->dst, &segs));
	expect_dst_has_src(_metadata, self);
	mdl_v1_segs_free(&segs);
}

TEST_HARNESS_MAIN
