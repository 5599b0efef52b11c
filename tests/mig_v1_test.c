// SPDX-License-Identifier: GPL-2.0-only
/*
 * The v1 migration region (VFIO_REGION_TYPE_MIGRATION_DEPRECATED), as
 * QEMU 7.2 drives it: every device_state transition, valid and invalid;
 * failed writes undone (or ERROR, then reset) with the debugfs mig_fail
 * knob; saving and resuming through the region, and across to the v2
 * data_fd and back (one stream); one interface at a time; the NDMA
 * quiesce; and hostile accesses, each refused with the state unchanged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "migdev_lib.h"
#include "mig_check.h"

#define RUN	VFIO_DEVICE_STATE_V1_RUNNING
#define SAV	VFIO_DEVICE_STATE_V1_SAVING
#define RES	VFIO_DEVICE_STATE_V1_RESUMING
#define NDMA	MIGDEV_MIG_STATE_V1_NDMA
#define V1_ERR	(SAV | RES)

#define MIG	MIGDEV_MIG_REGION_INDEX
#define BAR2	VFIO_PCI_BAR2_REGION_INDEX
#define BUF	(4u << 20)
#define SMALL_DEVMEM	(4u << 20)	/* a migdev-small's device memory */

/* Every valid device_state value. */
static const uint32_t valid[] = {
	0, RUN, SAV, SAV | RUN, RES,
	NDMA, RUN | NDMA, SAV | NDMA, SAV | RUN | NDMA, RES | NDMA,
};

static int fail_arm(const char *uuid, unsigned int fail, unsigned int skip)
{
	char path[256], val[32];

	snprintf(path, sizeof(path), "/sys/kernel/debug/migdev/%s/mig_fail", uuid);
	snprintf(val, sizeof(val), "%u %u", fail, skip);
	return mdl_sysfs_write(path, val);
}

FIXTURE(v1) {
	char su[MDL_UUID_LEN], du[MDL_UUID_LEN];
	struct mdl_dev src, dst;
	struct mdl_queue q;
	struct mdl_dma a, b;
	uint8_t *stream;	/* a v2 stream of src, for RESUMING */
	size_t cap;
	ssize_t len;
};

FIXTURE_SETUP(v1)
{
	self->src.fd = -1;
	self->dst.fd = -1;
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, self->su));
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, self->du));
	ASSERT_EQ(0, __mdl_open(self->su, &self->src));
	ASSERT_EQ(0, __mdl_open(self->du, &self->dst));
	mdl_bus_master(&self->src, 1);
	ASSERT_EQ(0, __mdl_queue_init(&self->src, 0, 64, &self->q));
	ASSERT_EQ(0, __mdl_dma_map(&self->src, BUF, &self->a));
	ASSERT_EQ(0, __mdl_dma_map(&self->src, BUF, &self->b));
	mdl_fill_random(self->a.va, BUF, 7);
	/* The destination sees the same guest memory at the same addresses. */
	ASSERT_EQ(0, __mdl_dma_mirror(&self->dst, &self->q, &self->a, &self->b));
}

FIXTURE_TEARDOWN(v1)
{
	fail_arm(self->su, 0, 0);
	fail_arm(self->du, 0, 0);
	mdl_close(&self->src);
	mdl_close(&self->dst);
	free(self->stream);
	if (mdl_exists(self->su))
		__mdl_remove(self->su);
	if (mdl_exists(self->du))
		__mdl_remove(self->du);
}

/* A valid stream of @src, taken through v2, for the RESUMING cases. */
static ssize_t take_stream(struct mdl_dev *src, uint8_t **stream, size_t *cap)
{
	ssize_t len;

	mdl_dirty_device(src, 1);
	len = mdl_save(src, stream, cap);
	if (len > 0 && __mdl_mig_set(src, VFIO_DEVICE_STATE_RUNNING, NULL))
		return -EIO;
	return len;
}

/* The region is found by its type, with the NDMA capability. */
TEST_F(v1, region_info)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	uint8_t buf[512];
	struct vfio_region_info *ri = (void *)buf;
	int type = 0, ndma = 0, sparse = 0;
	uint32_t off;

	ASSERT_EQ(0, ioctl(self->src.fd, VFIO_DEVICE_GET_INFO, &di));
	EXPECT_EQ(MIG + 1, di.num_regions);

	/* Too small for the capabilities: told how much is needed. */
	memset(buf, 0, sizeof(buf));
	ri->argsz = sizeof(*ri);
	ri->index = MIG;
	ASSERT_EQ(0, ioctl(self->src.fd, VFIO_DEVICE_GET_REGION_INFO, ri));
	EXPECT_TRUE(ri->flags & VFIO_REGION_INFO_FLAG_CAPS);
	EXPECT_GT(ri->argsz, sizeof(*ri));
	EXPECT_EQ(0, ri->cap_offset);
	/* Shorter than the structure: refused. */
	ri->argsz = sizeof(*ri) - 1;
	EXPECT_EQ(-1, ioctl(self->src.fd, VFIO_DEVICE_GET_REGION_INFO, ri));
	EXPECT_EQ(EINVAL, errno);

	memset(buf, 0, sizeof(buf));
	ri->argsz = sizeof(buf);
	ri->index = MIG;
	ASSERT_EQ(0, ioctl(self->src.fd, VFIO_DEVICE_GET_REGION_INFO, ri));
	EXPECT_EQ(mdl_region_off(MIG), ri->offset);
	EXPECT_EQ(MIGDEV_MIG_REGION_SIZE, ri->size);
	EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		  VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS, ri->flags);
	ASSERT_NE(0, ri->cap_offset);
	for (off = ri->cap_offset; off; ) {
		struct vfio_info_cap_header *h = (void *)(buf + off);

		ASSERT_LT(off + sizeof(*h), sizeof(buf));
		if (h->id == VFIO_REGION_INFO_CAP_TYPE) {
			struct vfio_region_info_cap_type *t = (void *)h;

			EXPECT_EQ(VFIO_REGION_TYPE_MIGRATION_DEPRECATED, t->type);
			EXPECT_EQ(VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED, t->subtype);
			type++;
		} else if (h->id == VFIO_REGION_INFO_CAP_MIG_NDMA) {
			EXPECT_EQ(1, h->version);
			ndma++;
		} else if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			struct vfio_region_info_cap_sparse_mmap *sp = (void *)h;

			/* The data section, and nothing else, is mappable. */
			ASSERT_EQ(1, sp->nr_areas);
			EXPECT_EQ(MIGDEV_MIG_DATA_OFFSET, sp->areas[0].offset);
			EXPECT_EQ(MIGDEV_MIG_DATA_SIZE, sp->areas[0].size);
			sparse++;
		}
		off = h->next;
	}
	EXPECT_EQ(1, type);
	EXPECT_EQ(1, ndma);
	EXPECT_EQ(1, sparse);
}

/* Map the data section of @d, read and write. */
static uint8_t *v1_map(struct mdl_dev *d)
{
	void *p = mmap(NULL, MIGDEV_MIG_DATA_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, d->fd,
		       mdl_region_off(MIG) + MIGDEV_MIG_DATA_OFFSET);

	return p == MAP_FAILED ? NULL : p;
}

/* Only the data section maps, and only shared. */
TEST_F(v1, data_section_mmap_refusals)
{
	off_t base = mdl_region_off(MIG);
	uint8_t *map;
	uint64_t v;
	void *p;

	/* The fields: refused. */
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->src.fd, base);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* Past the end of the section. */
	p = mmap(NULL, MIGDEV_MIG_DATA_SIZE + 4096, PROT_READ, MAP_SHARED,
		 self->src.fd, base + MIGDEV_MIG_DATA_OFFSET);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, self->src.fd,
		 base + MIGDEV_MIG_DATA_OFFSET + MIGDEV_MIG_DATA_SIZE - 4096);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* Private. */
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->src.fd,
		 base + MIGDEV_MIG_DATA_OFFSET);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* The last page alone is fine. */
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->src.fd,
		 base + MIGDEV_MIG_DATA_OFFSET + MIGDEV_MIG_DATA_SIZE - 4096);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, 4096);

	/* Nothing changed: the region still saves and the device runs. */
	map = v1_map(&self->src);
	ASSERT_NE(NULL, map);
	EXPECT_EQ(RUN, mdl_v1_state(&self->src));
	ASSERT_EQ(0, mdl_v1_set(&self->src, SAV));
	ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_PENDING, &v));
	EXPECT_GT(v, 0);
	ASSERT_EQ(0, mdl_v1_set(&self->src, RUN));
	munmap(map, MIGDEV_MIG_DATA_SIZE);
}

/*
 * QEMU 7.2's fast path: the data section mapped before the session starts,
 * segments copied from and into the mapping.  What the mapping shows is
 * what pread() shows; a stream saved that way restores the device.
 */
TEST_F_TIMEOUT(v1, save_and_restore_through_mmap, 300)
{
	uint8_t *smap, *dmap, *copy = malloc(MIGDEV_MIG_DATA_SIZE);
	struct mdl_v1_segs s = {};
	uint64_t pending, off, size;
	size_t i, pos;

	ASSERT_NE(NULL, copy);
	mdl_dirty_device(&self->src, 9);
	smap = v1_map(&self->src);
	ASSERT_NE(NULL, smap);
	dmap = v1_map(&self->dst);
	ASSERT_NE(NULL, dmap);

	ASSERT_EQ(0, mdl_v1_set(&self->src, SAV));
	for (;;) {
		ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_PENDING, &pending));
		if (!pending)
			break;
		ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_OFFSET, &off));
		EXPECT_EQ(MIGDEV_MIG_DATA_OFFSET, off);
		ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_SIZE, &size));
		ASSERT_GT(size, 0);
		ASSERT_LE(size, MIGDEV_MIG_DATA_SIZE);
		ASSERT_EQ((ssize_t)size, mdl_pread(&self->src, MIG, off, copy, size));
		ASSERT_EQ(0, memcmp(copy, smap, size))
			TH_LOG("segment %zu: the mapping and pread() differ", s.n);
		ASSERT_EQ(0, mdl_v1_segs_add(&s, size));
		memcpy(s.buf + s.len, smap, size);
		s.len += size;
	}
	ASSERT_EQ(0, mdl_v1_set(&self->src, 0));
	ASSERT_GT(s.n, 0);

	ASSERT_EQ(0, mdl_v1_set(&self->dst, RES));
	for (i = 0, pos = 0; i < s.n; pos += s.sz[i++]) {
		ASSERT_EQ(0, mdl_v1_get64(&self->dst, MDL_V1_OFFSET, &off));
		memcpy(dmap, s.buf + pos, s.sz[i]);
		/* The kernel took its copy: scribbling now changes nothing. */
		ASSERT_EQ(0, mdl_v1_set64(&self->dst, MDL_V1_SIZE, s.sz[i]));
		memset(dmap, 0xff, s.sz[i]);
	}
	ASSERT_EQ(0, mdl_v1_set(&self->dst, RUN));
	expect_same_device(_metadata, &self->src, &self->dst, SMALL_DEVMEM);

	munmap(smap, MIGDEV_MIG_DATA_SIZE);
	munmap(dmap, MIGDEV_MIG_DATA_SIZE);
	mdl_v1_segs_free(&s);
	free(copy);
}

TEST_F(v1, initial_fields)
{
	uint64_t v;
	uint32_t r = 1;

	EXPECT_EQ(RUN, mdl_v1_state(&self->src));
	ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_PENDING, &v));
	EXPECT_EQ(0, v);
	ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_OFFSET, &v));
	EXPECT_EQ(MIGDEV_MIG_DATA_OFFSET, v);
	ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_SIZE, &v));
	EXPECT_EQ(0, v);
	ASSERT_EQ(4, mdl_pread(&self->src, MIG, MDL_V1_RESERVED, &r, 4));
	EXPECT_EQ(0, r);
}

/*
 * Every pair of valid values: the write succeeds and lands in the right
 * v2 state, except stop-and-copy -> pre-copy, refused with the state
 * unchanged.
 */
TEST_F_TIMEOUT(v1, every_valid_transition, 900)
{
	unsigned int i, j, n = 0;

	self->len = take_stream(&self->src, &self->stream, &self->cap);
	ASSERT_GT(self->len, 64);
	for (i = 0; i < ARRAY_SIZE(valid); i++) {
		for (j = 0; j < ARRAY_SIZE(valid); j++) {
			uint32_t from = valid[i], to = valid[j];
			int refused = (from & (SAV | RUN)) == SAV &&
				      (to & (SAV | RUN)) == (SAV | RUN);
			int ret;

			ASSERT_EQ(0, mdl_v1_set(&self->dst, from)) TH_LOG("reaching 0x%x", from);
			if ((from & RES) && !(to & RES))
				ASSERT_EQ(0, mdl_v1_put_stream(&self->dst,
							       self->stream,
							       self->len,
							       1 << 20));
			ret = mdl_v1_set(&self->dst, to);
			if (refused) {
				EXPECT_EQ(-EINVAL, ret) TH_LOG("0x%x -> 0x%x", from, to);
				EXPECT_EQ(from, mdl_v1_state(&self->dst));
				EXPECT_EQ(mdl_v1_to_v2(from), mdl_mig_get(&self->dst));
			} else {
				EXPECT_EQ(0, ret) TH_LOG("0x%x -> 0x%x", from, to);
				EXPECT_EQ(to, mdl_v1_state(&self->dst))
					TH_LOG("0x%x -> 0x%x", from, to);
				EXPECT_EQ(mdl_v1_to_v2(to), mdl_mig_get(&self->dst))
					TH_LOG("0x%x -> 0x%x", from, to);
				n++;
			}
			/* A saving session starts with data to read. */
			if (!ret && (to & SAV) && !(from & SAV)) {
				uint64_t pending = 0;

				EXPECT_EQ(0, mdl_v1_get64(&self->dst, MDL_V1_PENDING, &pending));
				EXPECT_GT(pending, 0) TH_LOG("0x%x -> 0x%x", from, to);
			}
			if (mdl_v1_state(&self->dst) & RES)
				ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
			ASSERT_EQ(0, mdl_v1_set(&self->dst, RUN))
				TH_LOG("back from 0x%x -> 0x%x", from, to);
			ASSERT_EQ(RUN, mdl_v1_state(&self->dst));
			ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, mdl_mig_get(&self->dst));
		}
	}
	TH_LOG("%u valid transitions", n);
}

/* Invalid values are refused from every state, which stays as it was. */
TEST_F_TIMEOUT(v1, every_invalid_value, 600)
{
	static const uint32_t bad[] = {
		RES | RUN, RES | SAV, RES | SAV | RUN, RES | RUN | NDMA,
		RES | SAV | NDMA, RES | SAV | RUN | NDMA, 1u << 4, 1u << 31,
		RUN | (1u << 8), SAV | 0x10, 0xffffffff,
	};
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(valid); i++) {
		uint32_t from = valid[i];

		ASSERT_EQ(0, mdl_v1_set(&self->dst, from));
		for (j = 0; j < ARRAY_SIZE(bad); j++) {
			EXPECT_EQ(-EINVAL, mdl_v1_set(&self->dst, bad[j]))
				TH_LOG("0x%x -> 0x%x", from, bad[j]);
			EXPECT_EQ(from, mdl_v1_state(&self->dst));
			EXPECT_EQ(mdl_v1_to_v2(from), mdl_mig_get(&self->dst));
		}
		ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
		ASSERT_EQ(RUN, mdl_v1_state(&self->dst));
	}
}

/* RUNNING -> STOP is two arcs: the second fails, the first is undone. */
TEST_F(v1, unwind_to_previous_state)
{
	char path[256], buf[64];

	ASSERT_EQ(0, fail_arm(self->su, 1, 1));
	EXPECT_EQ(-EIO, mdl_v1_set(&self->src, 0));
	EXPECT_EQ(RUN, mdl_v1_state(&self->src));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, mdl_mig_get(&self->src));
	snprintf(path, sizeof(path), "/sys/kernel/debug/migdev/%s/mig_fail", self->su);
	ASSERT_EQ(0, mdl_sysfs_read(path, buf, sizeof(buf)));
	EXPECT_STREQ("skip 0 fail 0", buf);
	/* The device works and migrates. */
	EXPECT_EQ(0, mdl_v1_set(&self->src, SAV | RUN));
	EXPECT_EQ(0, mdl_v1_set(&self->src, RUN));
}

/* The undo fails too: ERROR, which only a reset leaves. */
TEST_F(v1, unwind_fails_error_until_reset)
{
	struct mdl_v1_segs s = {};

	mdl_dirty_device(&self->src, 3);
	ASSERT_EQ(0, fail_arm(self->su, 2, 1));
	EXPECT_EQ(-EIO, mdl_v1_set(&self->src, 0));
	EXPECT_EQ(V1_ERR, mdl_v1_state(&self->src));
	EXPECT_EQ(VFIO_DEVICE_STATE_ERROR, mdl_mig_get(&self->src));
	/* Nothing moves it: neither interface. */
	EXPECT_EQ(-EINVAL, mdl_v1_set(&self->src, RUN));
	EXPECT_EQ(-EINVAL, mdl_v1_set(&self->src, 0));
	EXPECT_EQ(-EBUSY, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	EXPECT_EQ(V1_ERR, mdl_v1_state(&self->src));
	/* Reset: RUNNING, a fresh device that migrates again. */
	ASSERT_EQ(0, ioctl(self->src.fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(RUN, mdl_v1_state(&self->src));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, mdl_mig_get(&self->src));
	EXPECT_EQ(0, mdl_read64(&self->src, MIGDEV_REG_SCRATCH));
	mdl_write64(&self->src, MIGDEV_REG_SCRATCH, 42);
	ASSERT_EQ(0, mdl_v1_save(&self->src, &s));
	EXPECT_GT(s.len, 64);
	ASSERT_EQ(0, mdl_v1_load(&self->dst, &s));
	EXPECT_EQ(42, mdl_read64(&self->dst, MIGDEV_REG_SCRATCH));
	mdl_v1_segs_free(&s);
}

/*
 * Every transition between the main values, failing at each arc in turn:
 * with one failure the undo works and the previous value reads back; with
 * two, the undo fails (ERROR) unless nothing had moved yet.
 */
TEST_F_TIMEOUT(v1, unwind_at_every_arc, 1200)
{
	static const uint32_t st[] = {
		0, RUN, SAV, SAV | RUN, RES, RUN | NDMA, SAV | RUN | NDMA,
	};
	unsigned int i, j, k, fails, undone = 0, errors = 0;

	self->len = take_stream(&self->src, &self->stream, &self->cap);
	ASSERT_GT(self->len, 64);
	for (fails = 1; fails <= 2; fails++) {
		for (i = 0; i < ARRAY_SIZE(st); i++) {
			for (j = 0; j < ARRAY_SIZE(st); j++) {
				uint32_t from = st[i], to = st[j];

				if (from == to || ((from & (SAV | RUN)) == SAV &&
						   (to & (SAV | RUN)) == (SAV | RUN)))
					continue;
				for (k = 0; k < 16; k++) {
					int ret;

					ASSERT_EQ(0, mdl_v1_set(&self->dst, from));
					if ((from & RES) && !(to & RES))
						ASSERT_EQ(0,
							  mdl_v1_put_stream(&self->dst,
									    self->stream,
									    self->len,
									    1 << 20));
					ASSERT_EQ(0, fail_arm(self->du, fails, k));
					ret = mdl_v1_set(&self->dst, to);
					ASSERT_EQ(0, fail_arm(self->du, 0, 0));
					if (!ret) {
						/* k is past the last arc. */
						EXPECT_EQ(to, mdl_v1_state(&self->dst));
						break;
					}
					EXPECT_EQ(-EIO, ret)
						TH_LOG("0x%x -> 0x%x arc %u", from, to, k);
					if (fails == 1 || k == 0) {
						EXPECT_EQ(from, mdl_v1_state(&self->dst))
							TH_LOG("0x%x -> 0x%x arc %u fails %u",
							       from, to, k, fails);
						EXPECT_EQ(mdl_v1_to_v2(from),
							  mdl_mig_get(&self->dst));
						undone++;
					} else {
						EXPECT_EQ(V1_ERR, mdl_v1_state(&self->dst))
							TH_LOG("0x%x -> 0x%x arc %u fails %u",
							       from, to, k, fails);
						EXPECT_EQ(VFIO_DEVICE_STATE_ERROR,
							  mdl_mig_get(&self->dst));
						errors++;
					}
					ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
					ASSERT_EQ(RUN, mdl_v1_state(&self->dst));
				}
				ASSERT_LT(k, 16);
				if (mdl_v1_state(&self->dst) & RES)
					ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
				ASSERT_EQ(0, mdl_v1_set(&self->dst, RUN));
			}
		}
	}
	TH_LOG("%u failed writes undone, %u ended in ERROR", undone, errors);
	EXPECT_GT(undone, 0);
	EXPECT_GT(errors, 0);
}

/* A bad stream: clearing RESUMING fails and RESUMING reads back. */
TEST_F(v1, bad_stream_keeps_resuming)
{
	static uint8_t junk[4096];

	mdl_fill_random(junk, sizeof(junk), 5);
	ASSERT_EQ(0, mdl_v1_set(&self->dst, RES));
	/* A header that is not one is refused when its segment arrives. */
	EXPECT_GT(0, mdl_v1_put_stream(&self->dst, junk, sizeof(junk), sizeof(junk)));
	EXPECT_EQ(RES, mdl_v1_state(&self->dst));
	/* Nothing (valid) was received: RUNNING is refused, RESUMING stays. */
	EXPECT_GT(0, mdl_v1_set(&self->dst, RUN));
	EXPECT_EQ(RES, mdl_v1_state(&self->dst));
	EXPECT_EQ(VFIO_DEVICE_STATE_RESUMING, mdl_mig_get(&self->dst));
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(RUN, mdl_v1_state(&self->dst));
	/* An empty stream too. */
	ASSERT_EQ(0, mdl_v1_set(&self->dst, RES));
	EXPECT_GT(0, mdl_v1_set(&self->dst, RUN));
	EXPECT_EQ(RES, mdl_v1_state(&self->dst));
}

/*
 * Live migration as QEMU 7.2 does it, region to region: device memory
 * written by DMA, pre-copy while a long fill runs, stop-and-copy with the
 * fill in flight, and the destination finishing it in guest memory.
 */
TEST_F_TIMEOUT(v1, save_and_restore_through_region, 600)
{
	const size_t big_size = 64u << 20;
	struct mdl_v1_segs s = {};
	struct mdl_dma big;
	struct migdev_desc d;
	uint64_t pending, off;
	uint8_t page[4096];
	uint32_t slot;
	size_t i;

	/* Device memory from guest memory, by DMA. */
	d = mdl_desc(MIGDEV_OP_TO_DEV, self->a.iova, 0, BUF, 0);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	mdl_dirty_device(&self->src, 4);
	ASSERT_EQ(0, __mdl_dma_map(&self->src, big_size, &big));
	ASSERT_EQ(0, __mdl_dma_map_at(&self->dst, big.va, big_size, big.iova));

	ASSERT_EQ(0, mdl_v1_set(&self->src, SAV | RUN));
	d = mdl_desc(MIGDEV_OP_FILL, 0, big.iova, big_size, 0);
	d.pattern = htole64(0x5a5a5a5a5a5a5a5aULL);
	slot = mdl_submit(&self->q, &d);
	ASSERT_EQ(0, mdl_v1_drain(&self->src, &s, 4096));
	ASSERT_GT(s.len, BUF);
	/* Stop-and-copy with the fill checkpointed in the stream. */
	ASSERT_EQ(0, mdl_v1_set(&self->src, SAV));
	ASSERT_EQ(0, le32toh(mdl_cpl(&self->q, slot)->status))
		TH_LOG("the fill finished before the stop");
	ASSERT_EQ(0, mdl_v1_drain(&self->src, &s, 1 << 16));
	ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_PENDING, &pending));
	EXPECT_EQ(0, pending);
	ASSERT_EQ(0, mdl_v1_set(&self->src, 0));
	TH_LOG("%zu bytes in %zu segments", s.len, s.n);

	mdl_bus_master(&self->dst, 1);
	ASSERT_EQ(0, mdl_v1_set(&self->dst, RES));
	ASSERT_EQ(0, mdl_v1_put(&self->dst, s.buf, s.sz, s.n, 4096));
	ASSERT_EQ(0, mdl_v1_set(&self->dst, RUN));
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_wait(&self->q, slot, 120000));
	EXPECT_EQ(big_size, le64toh(mdl_cpl(&self->q, slot)->bytes));
	for (i = 0; i < big_size; i++)
		if (((uint8_t *)big.va)[i] != 0x5a)
			break;
	EXPECT_EQ(big_size, i) TH_LOG("guest memory wrong at 0x%zx", i);
	/* Device memory: what DMA wrote, where nothing wrote since (pages 1-5). */
	for (off = 4096; off < 6 * 4096; off += 4096) {
		ASSERT_EQ(4096, mdl_pread(&self->dst, BAR2, off, page, 4096));
		EXPECT_EQ(0, memcmp(page, (uint8_t *)self->a.va + off, 4096));
	}
	expect_same_device(_metadata, &self->src, &self->dst, SMALL_DEVMEM);
	mdl_dma_free(&self->src, &big);
	mdl_v1_segs_free(&s);
}

/* The data section in QEMU's pieces: 8, 4, 2 and 1 bytes, any alignment. */
TEST_F_TIMEOUT(v1, data_section_any_width, 300)
{
	static const size_t w[] = { 8, 4, 2, 1, 3, 8, 7, 4096 };
	struct mdl_v1_segs s = {};
	uint64_t off, size, done, pending;
	unsigned int k = 0;

	mdl_dirty_device(&self->src, 8);
	ASSERT_EQ(0, mdl_v1_set(&self->src, SAV));
	for (;;) {
		ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_PENDING, &pending));
		if (!pending)
			break;
		ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_OFFSET, &off));
		ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_SIZE, &size));
		ASSERT_GT(size, 0);
		ASSERT_EQ(0, mdl_v1_segs_add(&s, size));
		for (done = 0; done < size; k++) {
			size_t n = w[k % ARRAY_SIZE(w)];

			if (n > size - done)
				n = size - done;
			ASSERT_EQ(n, mdl_pread(&self->src, MIG, off + done,
					       s.buf + s.len + done, n));
			done += n;
		}
		s.len += size;
	}
	ASSERT_EQ(0, mdl_v1_set(&self->src, 0));
	ASSERT_EQ(0, mdl_load(&self->dst, s.buf, s.len, 32 << 10));
	ASSERT_EQ(0, mdl_v1_set(&self->src, RUN));
	expect_same_device(_metadata, &self->src, &self->dst, SMALL_DEVMEM);
	mdl_v1_segs_free(&s);
}

/* pending_bytes in pre-copy: 0 when drained, non-zero again when dirtied. */
TEST_F_TIMEOUT(v1, precopy_pending, 300)
{
	static uint8_t page[4096];
	struct mdl_v1_segs s = {};
	uint64_t pending, off, size;

	mdl_dirty_device(&self->src, 10);
	ASSERT_EQ(0, mdl_v1_set(&self->src, SAV | RUN));
	ASSERT_EQ(0, mdl_v1_drain(&self->src, &s, 1 << 20));
	ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_PENDING, &pending));
	EXPECT_EQ(0, pending);
	/* Nothing now: an empty segment, not the end. */
	ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_OFFSET, &off));
	ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_SIZE, &size));
	EXPECT_EQ(0, size);
	mdl_fill_random(page, sizeof(page), 77);
	ASSERT_EQ(4096, mdl_pwrite(&self->src, BAR2, 9 << 12, page, 4096));
	ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_PENDING, &pending));
	EXPECT_GE(pending, 4096);
	ASSERT_EQ(0, mdl_v1_drain(&self->src, &s, 1 << 20));
	/* Stopped: the device state is still to come, then the end. */
	ASSERT_EQ(0, mdl_v1_set(&self->src, SAV));
	ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_PENDING, &pending));
	EXPECT_GT(pending, 0);
	ASSERT_EQ(0, mdl_v1_drain(&self->src, &s, 1 << 20));
	ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_PENDING, &pending));
	EXPECT_EQ(0, pending);
	ASSERT_EQ(0, mdl_v1_set(&self->src, 0));
	ASSERT_EQ(0, mdl_v1_load(&self->dst, &s));
	ASSERT_EQ(0, mdl_v1_set(&self->src, RUN));
	expect_same_device(_metadata, &self->src, &self->dst, SMALL_DEVMEM);
	mdl_v1_segs_free(&s);
}

/* One stream: saved through the region, restored through data_fd. */
TEST_F_TIMEOUT(v1, region_to_data_fd, 600)
{
	struct mdl_v1_segs s = {};

	mdl_dirty_device(&self->src, 5);
	ASSERT_EQ(0, mdl_v1_save(&self->src, &s));
	ASSERT_EQ(0, mdl_load(&self->dst, s.buf, s.len, 32 << 10));
	expect_same_device(_metadata, &self->src, &self->dst, SMALL_DEVMEM);
	mdl_v1_segs_free(&s);
}

/* And saved through data_fd, restored through the region, in any cuts. */
TEST_F_TIMEOUT(v1, data_fd_to_region, 600)
{
	static const size_t cuts[] = { MIGDEV_MIG_DATA_SIZE, 65536, 4097, 64 };
	unsigned int i;

	mdl_dirty_device(&self->src, 6);
	self->len = mdl_save(&self->src, &self->stream, &self->cap);
	ASSERT_GT(self->len, 64);
	for (i = 0; i < ARRAY_SIZE(cuts); i++) {
		ASSERT_EQ(0, mdl_v1_set(&self->dst, RES));
		ASSERT_EQ(0, mdl_v1_put_stream(&self->dst, self->stream, self->len, cuts[i]))
			TH_LOG("segments of %zu", cuts[i]);
		ASSERT_EQ(0, mdl_v1_set(&self->dst, RUN));
		expect_same_device(_metadata, &self->src, &self->dst, SMALL_DEVMEM);
		ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	}
}

/* One interface at a time. */
TEST_F(v1, v1_v2_exclusion)
{
	int fd;

	/* v2 is migrating: the region refuses to start. */
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	EXPECT_EQ(-EBUSY, mdl_v1_set(&self->src, SAV | RUN));
	EXPECT_EQ(-EBUSY, mdl_v1_set(&self->src, RUN));
	EXPECT_EQ(SAV | RUN, mdl_v1_state(&self->src));	/* reads are fine */
	EXPECT_EQ(VFIO_DEVICE_STATE_PRE_COPY, mdl_mig_get(&self->src));
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));

	/* The region is migrating: v2 refuses, in every state it reaches. */
	ASSERT_EQ(0, mdl_v1_set(&self->src, RUN | NDMA));
	EXPECT_EQ(-EBUSY, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, mdl_v1_set(&self->src, SAV | RUN));
	EXPECT_EQ(-EBUSY, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_STOP, NULL));
	EXPECT_EQ(-EBUSY, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_PRE_COPY, NULL));
	EXPECT_EQ(VFIO_DEVICE_STATE_PRE_COPY, mdl_mig_get(&self->src));
	ASSERT_EQ(0, mdl_v1_set(&self->src, 0));
	EXPECT_EQ(-EBUSY, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	/* Back to RUNNING through the region: v2 may start. */
	ASSERT_EQ(0, mdl_v1_set(&self->src, RUN));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_STOP, NULL));
	EXPECT_EQ(0, mdl_v1_state(&self->src));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	/* A reset ends the region's migration too. */
	ASSERT_EQ(0, mdl_v1_set(&self->src, SAV));
	ASSERT_EQ(0, ioctl(self->src.fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
}

/* RUNNING | NDMA: no DMA and no completion until NDMA clears. */
TEST_F_TIMEOUT(v1, ndma_quiesces, 300)
{
	struct mdl_dma big;
	struct migdev_desc d;
	uint64_t done1, done2;
	uint32_t slot;

	ASSERT_EQ(0, __mdl_dma_map(&self->src, 64u << 20, &big));
	d = mdl_desc(MIGDEV_OP_FILL, 0, big.iova, 64u << 20, 0);
	d.pattern = htole64(0x5a5a5a5a5a5a5a5aULL);
	slot = mdl_submit(&self->q, &d);
	mdl_wait_in_flight(&self->q, slot, 30000);
	ASSERT_EQ(0, mdl_v1_set(&self->src, RUN | NDMA));
	if (le32toh(mdl_cpl(&self->q, slot)->status))
		SKIP(return, "the fill finished before NDMA was set");
	done1 = mdl_read64(&self->src, MIGDEV_REG_QUEUE(0) + MIGDEV_Q_COMPLETED);
	usleep(200 * 1000);
	done2 = mdl_read64(&self->src, MIGDEV_REG_QUEUE(0) + MIGDEV_Q_COMPLETED);
	EXPECT_EQ(done1, done2);
	EXPECT_EQ(0, le32toh(mdl_cpl(&self->q, slot)->status));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING_P2P, mdl_mig_get(&self->src));
	/* The device still answers. */
	EXPECT_EQ(MIGDEV_ID_MAGIC, mdl_read32(&self->src, MIGDEV_REG_ID));
	ASSERT_EQ(0, mdl_v1_set(&self->src, RUN));
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_wait(&self->q, slot, 120000));
	EXPECT_EQ(0x5a, ((uint8_t *)big.va)[(64u << 20) - 1]);
	mdl_dma_free(&self->src, &big);
}

/* Accesses the region refuses, each with nothing changed. */
TEST_F(v1, hostile_accesses)
{
	static const struct { uint64_t off; size_t len; } bad[] = {
		{ 1, 4 }, { 2, 2 }, { 3, 1 }, { 0, 1 }, { 0, 2 }, { 0, 8 },
		{ 0, 16 }, { 0, 32 }, { 4, 8 }, { 5, 4 }, { 8, 4 }, { 12, 4 },
		{ 16, 4 }, { 20, 4 }, { 24, 4 }, { 8, 16 }, { 28, 4 }, { 32, 4 },
		{ 100, 8 }, { MIGDEV_MIG_DATA_OFFSET - 4, 4 },
		{ MIGDEV_MIG_DATA_OFFSET - 4, 8 }, { MIGDEV_MIG_REGION_SIZE, 1 },
		{ MIGDEV_MIG_REGION_SIZE - 1, 2 }, { MIGDEV_MIG_REGION_SIZE + 4096, 8 },
		{ (1ULL << 40) - 8, 8 },
	};
	static uint8_t data[8192];
	uint64_t v, big = MIGDEV_MIG_DATA_SIZE + 1;
	unsigned int i;
	uint32_t r;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, mdl_pread(&self->src, MIG, bad[i].off, data, bad[i].len))
			TH_LOG("read of %zu at 0x%llx", bad[i].len,
			       (unsigned long long)bad[i].off);
		EXPECT_EQ(-EINVAL, mdl_pwrite(&self->src, MIG, bad[i].off, data, bad[i].len))
			TH_LOG("write of %zu at 0x%llx", bad[i].len,
			       (unsigned long long)bad[i].off);
	}
	/* Read-only fields. */
	EXPECT_EQ(-EINVAL, mdl_v1_set64(&self->src, MDL_V1_PENDING, 1));
	EXPECT_EQ(-EINVAL, mdl_v1_set64(&self->src, MDL_V1_OFFSET, 0));
	/* reserved reads 0 and ignores writes. */
	r = 0xdead;
	EXPECT_EQ(4, mdl_pwrite(&self->src, MIG, MDL_V1_RESERVED, &r, 4));
	ASSERT_EQ(4, mdl_pread(&self->src, MIG, MDL_V1_RESERVED, &r, 4));
	EXPECT_EQ(0, r);
	/* data_size and the data section outside their states. */
	EXPECT_EQ(-EINVAL, mdl_v1_set64(&self->src, MDL_V1_SIZE, 16));
	EXPECT_EQ(-EINVAL, mdl_pwrite(&self->src, MIG, MIGDEV_MIG_DATA_OFFSET, data, 16));
	EXPECT_EQ(-EINVAL, mdl_pread(&self->src, MIG, MIGDEV_MIG_DATA_OFFSET, data, 16));
	EXPECT_EQ(RUN, mdl_v1_state(&self->src));

	/* Saving: no reads before data_offset, none past the segment. */
	ASSERT_EQ(0, mdl_v1_set(&self->src, SAV));
	EXPECT_EQ(-EINVAL, mdl_pread(&self->src, MIG, MIGDEV_MIG_DATA_OFFSET, data, 8));
	ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_OFFSET, &v));
	ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_SIZE, &v));
	ASSERT_GT(v, 0);
	EXPECT_EQ(-EINVAL, mdl_pread(&self->src, MIG, MIGDEV_MIG_DATA_OFFSET + v, data, 1));
	EXPECT_EQ(-EINVAL, mdl_pread(&self->src, MIG, MIGDEV_MIG_DATA_OFFSET + v - 4, data, 8));
	EXPECT_EQ(4, mdl_pread(&self->src, MIG, MIGDEV_MIG_DATA_OFFSET + v - 4, data, 4));
	EXPECT_EQ(-EINVAL, mdl_pwrite(&self->src, MIG, MIGDEV_MIG_DATA_OFFSET, data, 8));
	EXPECT_EQ(-EINVAL, mdl_v1_set64(&self->src, MDL_V1_SIZE, 8));
	/* Collected: the segment is gone. */
	ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_PENDING, &v));
	EXPECT_EQ(-EINVAL, mdl_pread(&self->src, MIG, MIGDEV_MIG_DATA_OFFSET, data, 8));
	EXPECT_EQ(SAV, mdl_v1_state(&self->src));
	ASSERT_EQ(0, mdl_v1_set(&self->src, RUN));

	/* Resuming: data_size past the section, and reads, are refused. */
	ASSERT_EQ(0, mdl_v1_set(&self->dst, RES));
	EXPECT_EQ(-EINVAL, mdl_v1_set64(&self->dst, MDL_V1_SIZE, big));
	EXPECT_EQ(-EINVAL, mdl_v1_set64(&self->dst, MDL_V1_SIZE, ~0ULL));
	EXPECT_EQ(-EINVAL, mdl_pread(&self->dst, MIG, MIGDEV_MIG_DATA_OFFSET, data, 8));
	EXPECT_EQ(RES, mdl_v1_state(&self->dst));
	/* Nothing was fed to the stream: a real one still loads. */
	mdl_dirty_device(&self->src, 9);
	self->len = mdl_save(&self->src, &self->stream, &self->cap);
	ASSERT_GT(self->len, 64);
	ASSERT_EQ(0, mdl_v1_put_stream(&self->dst, self->stream, self->len, 100000));
	ASSERT_EQ(0, mdl_v1_set(&self->dst, RUN));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	expect_same_device(_metadata, &self->src, &self->dst, SMALL_DEVMEM);
}

/* A reset or a close in the middle of saving: RUNNING, nothing handed out. */
TEST_F(v1, reset_and_close_mid_save)
{
	uint64_t v;
	uint8_t b[8];

	ASSERT_EQ(0, mdl_v1_set(&self->src, SAV | RUN));
	ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_OFFSET, &v));
	ASSERT_EQ(0, ioctl(self->src.fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(RUN, mdl_v1_state(&self->src));
	ASSERT_EQ(0, mdl_v1_get64(&self->src, MDL_V1_PENDING, &v));
	EXPECT_EQ(0, v);
	EXPECT_EQ(-EINVAL, mdl_pread(&self->src, MIG, MIGDEV_MIG_DATA_OFFSET, b, 8));

	ASSERT_EQ(0, mdl_v1_set(&self->src, SAV));
	mdl_close(&self->src);
	ASSERT_EQ(0, __mdl_open(self->su, &self->src));
	EXPECT_EQ(RUN, mdl_v1_state(&self->src));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, mdl_mig_get(&self->src));
}

TEST_HARNESS_MAIN
