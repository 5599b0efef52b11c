// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device's writer (debugfs migdev/<uuid>/writer): its settings'
 * refusals; blocks that say what they are, inside the range only; no
 * write while the device is paused, stopped or closed; pre-copy that sees
 * its writes dirty; and a destination that holds exactly what the source
 * held at switchover, block for block and by digest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "migdev_lib.h"

#define BAR2	VFIO_PCI_BAR2_REGION_INDEX
#define BLOCK	4096
#define MAGIC	0x6d69676465767772ULL

FIXTURE(writer) {
	char su[MDL_UUID_LEN], du[MDL_UUID_LEN];
	struct mdl_dev src, dst;
	uint8_t *s;
	size_t cap;
};

struct wstat {
	unsigned long long off, len, rate, written, errors, paused, digest;
};

static int wpath(const char *uuid, char *path, size_t len)
{
	return snprintf(path, len, "/sys/kernel/debug/migdev/%s/writer", uuid);
}

static int wset(const char *uuid, const char *text)
{
	return mdl_debugfs_write(uuid, "writer", text);
}

/* The number after @name in @buf, base 16 for the digest. */
static int field(const char *buf, const char *name, unsigned long long *v)
{
	const char *p = strstr(buf, name);

	if (!p)
		return -1;
	*v = strtoull(p + strlen(name), NULL, strcmp(name, " digest=") ? 10 : 16);
	return 0;
}

static int wget(const char *uuid, struct wstat *w)
{
	char path[256], buf[512];

	wpath(uuid, path, sizeof(path));
	if (mdl_sysfs_read(path, buf, sizeof(buf)))
		return -1;
	if (strncmp(buf, "off=", 4))
		return -1;
	return field(buf, "off=", &w->off) || field(buf, " len=", &w->len) ||
	       field(buf, " rate=", &w->rate) ||
	       field(buf, " written=", &w->written) ||
	       field(buf, " errors=", &w->errors) ||
	       field(buf, " paused=", &w->paused) ||
	       field(buf, " digest=", &w->digest) ? -1 : 0;
}

static unsigned long long written(const char *uuid)
{
	struct wstat w = {};

	return wget(uuid, &w) ? ~0ULL : w.written;
}

/* Wait until the writer has written more than @than: 0, or -1 on timeout. */
static int wait_written(const char *uuid, unsigned long long than)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (written(uuid) != ~0ULL && written(uuid) > than)
			return 0;
		usleep(10000);
	}
	return -1;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/*
 * Block @page of device memory as read through BAR2: 0 if never written,
 * 1 if a whole block of the writer's with a sequence number below @seq,
 * -1 if anything else (torn, foreign, or from the future).
 */
static int block_state(struct mdl_dev *d, uint64_t page, uint64_t seed,
		       uint64_t seq)
{
	uint64_t w[BLOCK / 8], x, zero = 0;
	unsigned int i;

	if (mdl_pread(d, BAR2, page * BLOCK, w, BLOCK) != BLOCK)
		return -1;
	for (i = 0; i < BLOCK / 8; i++)
		zero |= w[i];
	if (!zero)
		return 0;
	if (w[0] != MAGIC || w[1] != page || w[2] >= seq)
		return -1;
	x = (seed ^ (page * 0x9e3779b97f4a7c15ULL) ^
	     (w[2] * 0xbf58476d1ce4e5b9ULL)) | 1;
	for (i = 3; i < BLOCK / 8; i++)
		if (w[i] != xorshift(&x))
			return -1;
	return 1;
}

FIXTURE_SETUP(writer)
{
	self->src.fd = -1;
	self->dst.fd = -1;
	self->s = NULL;
	self->cap = 0;
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, self->su));
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, self->du));
	ASSERT_EQ(0, __mdl_open(self->su, &self->src));
	ASSERT_EQ(0, __mdl_open(self->du, &self->dst));
}

FIXTURE_TEARDOWN(writer)
{
	mdl_close(&self->src);
	mdl_close(&self->dst);
	free(self->s);
	if (mdl_exists(self->su))
		__mdl_remove(self->su);
	if (mdl_exists(self->du))
		__mdl_remove(self->du);
}

TEST_F(writer, settings)
{
	static const char *const bad[] = {
		"", "rate", "off=0", "off=0 len=4096", "rate=1 off=4095",
		"rate=1 off=4194304", "rate=1 len=4194305", "rate=1 len=100",
		"rate=1 off=4096 len=4194304", "rate=262145",
		"rate=1 pattern=hot", "rate=1 hot=4", "rate=1 pattern=warm",
		"rate=1 pattern=hot hot=2 len=4096", "rate=1 hot=0 pattern=hot",
		"rate=x", "rate=1 bogus=2", "stop now",
	};
	struct wstat w = {};
	unsigned int i;

	/* Never set: it says so, and nothing was written. */
	ASSERT_EQ(0, wget(self->su, &w));
	EXPECT_EQ(0, w.len);
	EXPECT_EQ(0, w.written);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, wset(self->su, bad[i])) TH_LOG("bad %u", i);
	EXPECT_EQ(0, wget(self->su, &w));
	EXPECT_EQ(0, w.rate);
	EXPECT_EQ(0, w.written);
	EXPECT_EQ(0, wset(self->su, "rate=0 off=8192 len=16384"));
	ASSERT_EQ(0, wget(self->su, &w));
	EXPECT_EQ(8192, w.off);
	EXPECT_EQ(16384, w.len);
	EXPECT_EQ(0, wset(self->su, "rate=262144 off=1048576 pattern=hot hot=3"));
	ASSERT_EQ(0, wget(self->su, &w));
	EXPECT_EQ(3 << 20, w.len);
	EXPECT_EQ(262144, w.rate);
	EXPECT_EQ(0, wset(self->su, "stop"));
	ASSERT_EQ(0, wget(self->su, &w));
	EXPECT_EQ(0, w.rate);
	EXPECT_EQ(1048576, w.off);
	/* A refused line changed nothing. */
	EXPECT_EQ(-EINVAL, wset(self->su, "rate=5 off=12"));
	ASSERT_EQ(0, wget(self->su, &w));
	EXPECT_EQ(0, w.rate);
	EXPECT_EQ(1048576, w.off);
}

/*
 * Every block of the range the writer wrote says what it is; nothing
 * outside the range changed; a paused device writes nothing, and one
 * that runs again goes on.
 */
TEST_F(writer, blocks_in_range_only_while_running)
{
	unsigned long long n, n2;
	struct wstat w = {};
	uint64_t p, found = 0;

	ASSERT_EQ(0, wset(self->su, "off=65536 len=131072 rate=20000 seed=7"));
	ASSERT_EQ(0, wait_written(self->su, 64));
	ASSERT_EQ(0, mdl_pause(self->su, 1));
	n = written(self->su);
	usleep(100000);
	ASSERT_EQ(0, wget(self->su, &w));
	EXPECT_EQ(n, w.written);
	EXPECT_LT(0, w.paused);
	EXPECT_EQ(0, w.errors);
	for (p = 0; p < 16 + 32 + 16; p++) {
		int st = block_state(&self->src, p, 7, w.written);
		int inside = p >= 16 && p < 48;

		EXPECT_EQ(inside, st) TH_LOG("block %llu", (unsigned long long)p);
		found += st == 1;
	}
	EXPECT_EQ(32, found);
	ASSERT_EQ(0, mdl_pause(self->su, 0));
	ASSERT_EQ(0, wait_written(self->su, n));
	/* Closed, it writes nothing; opened again, it goes on. */
	mdl_close(&self->src);
	n2 = written(self->su);
	usleep(100000);
	EXPECT_EQ(n2, written(self->su));
	ASSERT_EQ(0, __mdl_open(self->su, &self->src));
	EXPECT_EQ(0, wait_written(self->su, n2));
}

/*
 * A migration while the writer runs (random pattern): pre-copy sees its
 * writes as dirty again and again; it stops at the quiesce; the
 * destination holds the source's blocks at switchover exactly.
 */
TEST_F(writer, migration_takes_the_switchover_state)
{
	uint64_t initial, dirty, p, n = 0;
	struct wstat ws = {}, wd = {};
	int fd, rounds = 0;
	ssize_t len;

	ASSERT_EQ(0, wset(self->su, "off=1048576 len=1048576 rate=50000 pattern=random seed=3"));
	ASSERT_EQ(0, wait_written(self->su, 16));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	/* Drain what pre-copy offers, several times: the writer refills it. */
	while (rounds < 5) {
		uint8_t buf[65536];
		ssize_t r;

		ASSERT_EQ(0, __mdl_precopy_info(fd, &initial, &dirty));
		if (!initial && dirty)
			rounds++;
		/* ENOMSG: nothing new yet; the writer makes more. */
		r = read(fd, buf, sizeof(buf));
		ASSERT_TRUE(r > 0 || errno == ENOMSG) TH_LOG("read: %s", strerror(errno));
		if (r < 0)
			usleep(20000);
		ASSERT_LT(n++, 100000);
	}
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	len = mdl_save(&self->src, &self->s, &self->cap);
	ASSERT_LT(0, len);
	/* Stopped (STOP_COPY): nothing more is written. */
	ASSERT_EQ(0, wget(self->su, &ws));
	usleep(50000);
	EXPECT_EQ(ws.written, written(self->su));
	ASSERT_EQ(0, mdl_load(&self->dst, self->s, len, 1 << 20));
	/* The destination's writer names the range and writes nothing. */
	ASSERT_EQ(0, wset(self->du, "off=1048576 len=1048576 rate=0"));
	ASSERT_EQ(0, wget(self->du, &wd));
	EXPECT_EQ(0, wd.written);
	EXPECT_EQ(ws.digest, wd.digest);
	for (p = 256; p < 512; p++) {
		uint8_t a[BLOCK], b[BLOCK];

		ASSERT_EQ(BLOCK, mdl_pread(&self->src, BAR2, p * BLOCK, a, BLOCK));
		ASSERT_EQ(BLOCK, mdl_pread(&self->dst, BAR2, p * BLOCK, b, BLOCK));
		EXPECT_EQ(0, memcmp(a, b, BLOCK)) TH_LOG("block %llu", (unsigned long long)p);
		EXPECT_LE(0, block_state(&self->dst, p, 3, ws.written));
	}
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	/* The source runs again, and so does its writer. */
	EXPECT_EQ(0, wait_written(self->su, ws.written));
}

/*
 * Append what @fd gives until ENOMSG (pre-copy), its end, or @max bytes
 * (a writer may dirty faster than a slow kernel reads): bytes, or -errno.
 */
static ssize_t drain(int fd, uint8_t **buf, size_t *cap, size_t *len,
		     size_t max)
{
	ssize_t r, got = 0;

	while ((size_t)got < max) {
		if (*len + 65536 > *cap) {
			uint8_t *nb = realloc(*buf, *cap * 2 + 65536);

			if (!nb)
				return -ENOMEM;
			*buf = nb;
			*cap = *cap * 2 + 65536;
		}
		r = read(fd, *buf + *len, 65536);
		if (r < 0)
			return errno == ENOMSG ? got : -errno;
		if (!r)
			return got;
		*len += r;
		got += r;
	}
	return got;
}

/*
 * As QEMU migrates: one data_fd from PRE_COPY through STOP_COPY, whose
 * stop-copy part holds only what was written since pre-copy read it;
 * then a destination opened afresh; hop after hop, back and forth, each
 * former source closed and opened again as the next destination.  The
 * writer runs on each source; each destination holds its source's range
 * exactly.
 */
TEST_F(writer, hops_as_qemu_makes_them)
{
	struct mdl_dev *d[2] = { &self->src, &self->dst };
	const char *u[2] = { self->su, self->du };
	const char *on = "off=1048576 rate=5000 pattern=random seed=9";
	const char *named = "off=1048576 rate=0";
	int hop;

	for (hop = 0; hop < 6; hop++) {
		struct mdl_dev *from = d[hop % 2], *to = d[(hop + 1) % 2];
		const char *fu = u[hop % 2], *tu = u[(hop + 1) % 2];
		struct wstat ws = {}, wd = {};
		size_t len = 0;
		int fd, i;

		/* The destination: a new user's device, as a new QEMU's. */
		mdl_close(to);
		ASSERT_EQ(0, __mdl_open(tu, to));
		ASSERT_EQ(0, wset(tu, named));
		ASSERT_EQ(0, wset(fu, on));
		ASSERT_EQ(0, wait_written(fu, written(fu) + 32));
		ASSERT_EQ(0, __mdl_mig_set(from, VFIO_DEVICE_STATE_PRE_COPY, &fd));
		for (i = 0; i < 4; i++) {
			ASSERT_LE(0, drain(fd, &self->s, &self->cap, &len, 4 << 20));
			usleep(20000);
		}
		ASSERT_EQ(0, __mdl_mig_set(from, VFIO_DEVICE_STATE_PRE_COPY_P2P, NULL));
		ASSERT_LE(0, drain(fd, &self->s, &self->cap, &len, SIZE_MAX));
		ASSERT_EQ(0, __mdl_mig_set(from, VFIO_DEVICE_STATE_STOP_COPY, NULL));
		ASSERT_LE(0, drain(fd, &self->s, &self->cap, &len, SIZE_MAX));
		close(fd);
		ASSERT_EQ(0, __mdl_mig_set(from, VFIO_DEVICE_STATE_STOP, NULL));
		ASSERT_EQ(0, mdl_load(to, self->s, len, 1 << 20));
		ASSERT_EQ(0, wget(fu, &ws));
		ASSERT_EQ(0, wget(tu, &wd));
		EXPECT_EQ(ws.digest, wd.digest) TH_LOG("hop %d", hop);
		ASSERT_EQ(0, wset(fu, "stop"));
	}
}

static int opaque_set(const char *uuid, const char *text)
{
	return mdl_debugfs_write(uuid, "opaque", text);
}

/*
 * Opaque state (debugfs opaque): MIG_DATA_SIZE counts it, pre-copy never
 * sends it, stop-copy sends all of it, and the destination takes every
 * byte (its stats say how much).  Settings out of range are refused and
 * change nothing; 0 turns it off.
 */
TEST_F(writer, opaque_state_only_in_stop_copy)
{
	/* A record header and a 16-byte header per 4 KiB block. */
	const uint64_t per_block = sizeof(struct migdev_stream_record) + 16 + 4096;
	uint64_t before, after, initial, dirty, pre = 0;
	char path[256], buf[64];
	uint8_t *s = NULL;
	size_t cap = 0, len = 0;
	ssize_t r, stop;
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/debug/migdev/%s/opaque", self->su);
	ASSERT_EQ(0, __mdl_mig_data_size(&self->src, &before));
	EXPECT_EQ(-EINVAL, opaque_set(self->su, "4095"));
	EXPECT_EQ(-EINVAL, opaque_set(self->su, "268439552"));
	EXPECT_EQ(-EINVAL, opaque_set(self->su, "x"));
	ASSERT_EQ(0, mdl_sysfs_read(path, buf, sizeof(buf)));
	EXPECT_STREQ("bytes 0 seed 0", buf);
	ASSERT_EQ(0, opaque_set(self->su, "1048576 7"));
	ASSERT_EQ(0, mdl_sysfs_read(path, buf, sizeof(buf)));
	EXPECT_STREQ("bytes 1048576 seed 7", buf);
	ASSERT_EQ(0, __mdl_mig_data_size(&self->src, &after));
	EXPECT_EQ(256 * per_block, after - before);

	mdl_dirty_device(&self->src, 5);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	ASSERT_EQ(0, __mdl_precopy_info(fd, &initial, &dirty));
	EXPECT_GT(1 << 20, initial + dirty);
	/* Pre-copy: what there is, and no opaque state in it. */
	r = drain(fd, &s, &cap, &len, SIZE_MAX);
	ASSERT_LT(0, r);
	pre = len;
	EXPECT_GT(1 << 20, pre);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY_P2P, NULL));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_STOP_COPY, NULL));
	ASSERT_EQ(0, __mdl_mig_data_size(&self->src, &after));
	EXPECT_LE(256 * per_block, after);
	stop = drain(fd, &s, &cap, &len, SIZE_MAX);
	EXPECT_LE(256 * per_block, (uint64_t)stop);
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, mdl_load(&self->dst, s, len, 100000));
	EXPECT_EQ(1 << 20, mdl_stat(self->du, "opaque_loaded"));
	/* Off again: nothing more to send or take. */
	ASSERT_EQ(0, opaque_set(self->su, "0"));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, __mdl_mig_data_size(&self->src, &after));
	EXPECT_GT(1 << 20, after);
	free(s);
}

TEST_HARNESS_MAIN
