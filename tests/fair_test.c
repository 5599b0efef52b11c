// SPDX-License-Identifier: GPL-2.0-only
/*
 * The parent's shared engines: many instances at once, fairness (busy
 * instances do not starve another), and pausing one instance without
 * stalling the others.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "migdev_lib.h"

#define BIG	(256u << 20)

struct inst {
	char uuid[MDL_UUID_LEN];
	struct mdl_dev d;
	struct mdl_queue q;
	struct mdl_dma src, dst;
};

static int inst_up(struct inst *in, size_t bufsize)
{
	int ret = __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, in->uuid);

	if (!ret)
		ret = __mdl_open(in->uuid, &in->d);
	if (ret)
		return ret;
	mdl_bus_master(&in->d, 1);
	ret = __mdl_queue_init(&in->d, 0, 64, &in->q);
	if (!ret)
		ret = __mdl_dma_map(&in->d, bufsize, &in->src);
	if (!ret)
		ret = __mdl_dma_map(&in->d, bufsize, &in->dst);
	return ret;
}

static void inst_down(struct inst *in)
{
	mdl_close(&in->d);
	if (in->uuid[0] && mdl_exists(in->uuid))
		__mdl_remove(in->uuid);
}

/* No shared setup: a fixture only so the tests can have a timeout. */
FIXTURE(engines) {
	int unused;
};

FIXTURE_SETUP(engines)
{
}

FIXTURE_TEARDOWN(engines)
{
}

static int busy(struct inst *in)
{
	return mdl_qread32(&in->d, 0, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_BUSY;
}

/*
 * Two instances each run a 256 MiB fill, enough to keep both engines busy
 * for a long time; a third instance's small copies still complete, one
 * after the other, while both fills are in flight.
 */
TEST_F_TIMEOUT(engines, busy_instances_do_not_starve_another, 900)
{
	static struct inst hog[2], small;
	struct migdev_desc d;
	uint32_t hn[2], i, n;
	double t0, worst = 0;

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, inst_up(&hog[i], BIG));
		d = mdl_desc(MIGDEV_OP_FILL, 0, hog[i].dst.iova, BIG, 0);
		d.pattern = htole64(0x1111111111111111ULL * (i + 1));
		hn[i] = mdl_submit(&hog[i].q, &d);
	}
	/* Both fills in flight before the small copies start. */
	for (i = 0; i < 100000 && !(busy(&hog[0]) && busy(&hog[1])); i++)
		usleep(100);
	ASSERT_EQ(0, inst_up(&small, 1 << 20));
	memset(small.src.va, 0x5a, 1 << 20);
	for (i = 0; i < 20; i++) {
		d = mdl_desc(MIGDEV_OP_COPY, small.src.iova, small.dst.iova,
			     64 << 10, 0);
		t0 = mdl_now();
		n = mdl_submit(&small.q, &d);
		ASSERT_EQ(MIGDEV_STATUS_OK, mdl_wait(&small.q, n, 60000));
		if (mdl_now() - t0 > worst)
			worst = mdl_now() - t0;
		/* Both fills are still running: small got turns between. */
		ASSERT_TRUE(busy(&hog[0]) && busy(&hog[1])) TH_LOG("copy %u", i);
	}
	EXPECT_EQ(0, memcmp(small.src.va, small.dst.va, 64 << 10));
	printf("# 20 copies of 64 KiB beside two 256 MiB fills: worst latency %.1f ms\n",
	       worst * 1e3);
	for (i = 0; i < 2; i++) {
		unsigned char want = 0x11 * (i + 1);

		ASSERT_EQ(MIGDEV_STATUS_OK, mdl_wait(&hog[i].q, hn[i], 600000));
		EXPECT_EQ(want, ((unsigned char *)hog[i].dst.va)[0]);
		EXPECT_EQ(want, ((unsigned char *)hog[i].dst.va)[BIG - 1]);
	}
	inst_down(&hog[0]);
	inst_down(&hog[1]);
	inst_down(&small);
}

/* Eight instances copying at once, each with its own data. */
TEST_F_TIMEOUT(engines, eight_instances_at_once, 900)
{
	static struct inst in[8];
	uint32_t n[8], i, j;

	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, inst_up(&in[i], 4 << 20));
		for (j = 0; j < (4 << 20) / 4; j++)
			((uint32_t *)in[i].src.va)[j] = j * 2654435761u + i;
	}
	for (i = 0; i < 8; i++) {
		struct migdev_desc d = mdl_desc(MIGDEV_OP_COPY, in[i].src.iova,
						in[i].dst.iova, 4 << 20, 0);

		n[i] = mdl_submit(&in[i].q, &d);
	}
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(MIGDEV_STATUS_OK, mdl_wait(&in[i].q, n[i], 120000));
		EXPECT_EQ(0, memcmp(in[i].src.va, in[i].dst.va, 4 << 20))
			TH_LOG("instance %u", i);
	}
	for (i = 0; i < 8; i++)
		inst_down(&in[i]);
}

/* Pausing one instance with a big descriptor in flight does not stall
 * another; the paused one makes no progress, then finishes correctly.
 */
TEST_F_TIMEOUT(engines, pause_one_not_the_others, 900)
{
	static struct inst a, b;
	struct migdev_desc d;
	uint32_t na, nb, c1, i;
	long long ns;

	ASSERT_EQ(0, inst_up(&a, 64 << 20));
	ASSERT_EQ(0, inst_up(&b, 1 << 20));
	for (i = 0; i < (64 << 20) / 4; i++)
		((uint32_t *)a.src.va)[i] = i ^ 0xdeadbeef;
	d = mdl_desc(MIGDEV_OP_COPY, a.src.iova, a.dst.iova, 64 << 20, 0);
	na = mdl_submit(&a.q, &d);
	while (!busy(&a))
		usleep(100);
	ASSERT_EQ(0, mdl_pause(a.uuid, 1));
	ns = mdl_last_pause_ns(a.uuid);
	printf("# pause with a 64 MiB copy in flight took %lld us\n", ns / 1000);
	c1 = mdl_crc32c(a.dst.va, 64 << 20);
	for (i = 0; i < 10; i++) {
		d = mdl_desc(MIGDEV_OP_COPY, b.src.iova, b.dst.iova, 1 << 20, 0);
		nb = mdl_submit(&b.q, &d);
		ASSERT_EQ(MIGDEV_STATUS_OK, mdl_wait(&b.q, nb, 60000));
	}
	EXPECT_EQ(0, le32toh(mdl_cpl(&a.q, na)->status));
	EXPECT_EQ(c1, mdl_crc32c(a.dst.va, 64 << 20));
	ASSERT_EQ(0, mdl_pause(a.uuid, 0));
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_wait(&a.q, na, 120000));
	EXPECT_EQ(0, memcmp(a.src.va, a.dst.va, 64 << 20));
	inst_down(&a);
	inst_down(&b);
}

TEST_HARNESS_MAIN
