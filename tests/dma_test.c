// SPDX-License-Identifier: GPL-2.0-only
/*
 * The DMA engine: every operation with its data verified, many queues and
 * instances at once, every kind of bad descriptor and ring, unmapped and
 * unmapped-while-running memory, reset and disable mid-transfer, bus
 * mastering, pause and resume mid-descriptor.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "dma_fixture.h"

static uint32_t st(struct mdl_queue *q, uint32_t n)
{
	return le32toh(mdl_cpl(q, n)->status);
}

TEST_F_TIMEOUT(dma, copy, 600)
{
	static const struct { uint32_t off, dst, len; } cases[] = {
		{ 0, 0, 1 }, { 3, 5, 4097 }, { 4096, 0, 4096 },
		{ 1, 8191, 1 << 20 }, { 0, 0, BUF_SIZE },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct migdev_desc d = mdl_desc(MIGDEV_OP_COPY,
						self->a.iova + cases[i].off,
						self->b.iova + cases[i].dst,
						cases[i].len, 0);
		uint32_t n;

		memset(self->b.va, 0xee, BUF_SIZE);
		d.cookie = htole64(0xc0c0 + i);
		n = mdl_submit(&self->q, &d);
		ASSERT_EQ(MIGDEV_STATUS_OK, mdl_wait(&self->q, n, 60000));
		EXPECT_EQ(0xc0c0 + i, le64toh(mdl_cpl(&self->q, n)->cookie));
		EXPECT_EQ(cases[i].len, le64toh(mdl_cpl(&self->q, n)->bytes));
		EXPECT_EQ(0, memcmp((char *)self->a.va + cases[i].off,
				    (char *)self->b.va + cases[i].dst,
				    cases[i].len)) TH_LOG("case %u", i);
		/* Not a byte more. */
		if (cases[i].dst)
			EXPECT_EQ(0xee, ((unsigned char *)self->b.va)[cases[i].dst - 1]);
		if (cases[i].dst + cases[i].len < BUF_SIZE)
			EXPECT_EQ(0xee, ((unsigned char *)self->b.va)
				  [cases[i].dst + cases[i].len]);
	}
}

TEST_F(dma, fill)
{
	const uint64_t pat = 0x0123456789abcdefULL;
	unsigned char *b = self->b.va;
	struct migdev_desc d;
	uint32_t i, len = 100003;

	memset(b, 0xee, BUF_SIZE);
	d = mdl_desc(MIGDEV_OP_FILL, 0, self->b.iova + 5, len, 0);
	d.pattern = htole64(pat);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	for (i = 0; i < len; i++)
		ASSERT_EQ((uint8_t)(pat >> (8 * (i % 8))), b[5 + i])
			TH_LOG("byte %u", i);
	EXPECT_EQ(0xee, b[4]);
	EXPECT_EQ(0xee, b[5 + len]);
}

TEST_F_TIMEOUT(dma, crc32c, 600)
{
	static const char check[] = "123456789";
	struct migdev_desc d;
	uint32_t n;

	memcpy(self->b.va, check, 9);
	d = mdl_desc(MIGDEV_OP_CRC32C, self->b.iova, 0, 9, 0);
	n = mdl_submit(&self->q, &d);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_wait(&self->q, n, 60000));
	EXPECT_EQ(0xe3069283, le64toh(mdl_cpl(&self->q, n)->result));
	EXPECT_EQ(0xe3069283, mdl_crc32c(check, 9));

	/* Across many chunks, at an odd offset. */
	d = mdl_desc(MIGDEV_OP_CRC32C, self->a.iova + 7, 0, BUF_SIZE - 7, 0);
	n = mdl_submit(&self->q, &d);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_wait(&self->q, n, 60000));
	EXPECT_EQ(mdl_crc32c((char *)self->a.va + 7, BUF_SIZE - 7),
		  le64toh(mdl_cpl(&self->q, n)->result));
}

/* Guest -> device memory -> guest, checked three ways. */
TEST_F_TIMEOUT(dma, device_memory_round_trip, 600)
{
	uint64_t off = self->devmem_size - (1 << 20) - 123;
	uint32_t len = 1 << 20, n;
	struct migdev_desc d;
	static unsigned char back[1 << 20];

	d = mdl_desc(MIGDEV_OP_TO_DEV, self->a.iova + 11, off, len, 0);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	memset(self->b.va, 0, len);
	d = mdl_desc(MIGDEV_OP_FROM_DEV, off, self->b.iova, len, 0);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(0, memcmp((char *)self->a.va + 11, self->b.va, len));
	/* The region sees what DMA wrote. */
	ASSERT_EQ(len, mdl_pread(&self->d, VFIO_PCI_BAR2_REGION_INDEX, off,
				 back, len));
	EXPECT_EQ(0, memcmp((char *)self->a.va + 11, back, len));
	/* And the device's own checksum of its memory agrees. */
	d = mdl_desc(MIGDEV_OP_DEV_CRC32C, off, 0, len, 0);
	n = mdl_submit(&self->q, &d);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_wait(&self->q, n, 60000));
	EXPECT_EQ(mdl_crc32c((char *)self->a.va + 11, len),
		  le64toh(mdl_cpl(&self->q, n)->result));
	/* Device memory never written reads as zeros through DMA. */
	memset(self->b.va, 0xee, 4096);
	d = mdl_desc(MIGDEV_OP_FROM_DEV, 0, self->b.iova, 4096, 0);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(0, ((unsigned char *)self->b.va)[0]);
	EXPECT_EQ(0, ((unsigned char *)self->b.va)[4095]);
}

/* Every queue of the instance busy at once, each with its own data. */
TEST_F_TIMEOUT(dma, all_queues_at_once, 600)
{
	struct mdl_queue qs[MIGDEV_MAX_QUEUES];
	uint32_t n[MIGDEV_MAX_QUEUES], slice = BUF_SIZE / self->nr_queues;
	unsigned int i;

	mdl_queue_fini(&self->q);
	memset(self->b.va, 0, BUF_SIZE);
	for (i = 0; i < self->nr_queues; i++)
		ASSERT_EQ(0, __mdl_queue_init(&self->d, i, 8, &qs[i]));
	for (i = 0; i < self->nr_queues; i++) {
		struct migdev_desc d = mdl_desc(MIGDEV_OP_COPY,
						self->a.iova + i * slice,
						self->b.iova + i * slice, slice, 0);

		n[i] = mdl_submit(&qs[i], &d);
	}
	for (i = 0; i < self->nr_queues; i++) {
		EXPECT_EQ(MIGDEV_STATUS_OK, mdl_wait(&qs[i], n[i], 60000))
			TH_LOG("queue %u", i);
		EXPECT_EQ(1, mdl_qread32(&self->d, i, MIGDEV_Q_HEAD));
		EXPECT_EQ(1, mdl_qread32(&self->d, i, MIGDEV_Q_COMPLETED));
	}
	EXPECT_EQ(0, memcmp(self->a.va, self->b.va, slice * self->nr_queues));
}

/* A full ring: many descriptors in one doorbell, completed in order. */
TEST_F(dma, full_ring)
{
	uint32_t i, first = 0;

	for (i = 0; i < 64; i++) {
		struct migdev_desc d = mdl_desc(MIGDEV_OP_COPY,
						self->a.iova + i * 4096,
						self->b.iova + i * 4096, 4096, 0);
		uint32_t n = mdl_post(&self->q, &d);

		if (!i)
			first = n;
	}
	mdl_doorbell(&self->q);
	for (i = 0; i < 64; i++)
		ASSERT_EQ(MIGDEV_STATUS_OK, mdl_wait(&self->q, first + i, 60000));
	EXPECT_EQ(64, mdl_qread32(&self->d, 0, MIGDEV_Q_HEAD));
	EXPECT_EQ(0, memcmp(self->a.va, self->b.va, 64 * 4096));
	/* The counters wrap the ring: 64 more. */
	for (i = 0; i < 64; i++) {
		struct migdev_desc d = mdl_desc(MIGDEV_OP_NOP, 0, 0, 0, 0);

		mdl_post(&self->q, &d);
	}
	mdl_doorbell(&self->q);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_wait(&self->q, first + 127, 60000));
	EXPECT_EQ(128, mdl_qread32(&self->d, 0, MIGDEV_Q_HEAD));
}

struct bad_case {
	const char *what;
	struct migdev_desc d;
	uint32_t status;
};

/* Each malformed descriptor: its own status, the error registers, the
 * queue goes on, and nothing is written.
 */
TEST_F(dma, bad_descriptors)
{
	uint64_t A = self->a.iova, B = self->b.iova, ds = self->devmem_size;
	struct bad_case c[16];
	unsigned int i, nc = 0;
	uint32_t count0 = mdl_read32(&self->d, MIGDEV_REG_ERROR_COUNT);

#define BAD(w, desc, s) do { c[nc].what = w; c[nc].d = desc; c[nc].status = s; nc++; } while (0)
	BAD("unknown opcode", mdl_desc(99, A, B, 16, 0), MIGDEV_STATUS_BAD_OPCODE);
	BAD("zero length", mdl_desc(MIGDEV_OP_COPY, A, B, 0, 0), MIGDEV_STATUS_BAD_LENGTH);
	BAD("too long", mdl_desc(MIGDEV_OP_COPY, A, B, MIGDEV_MAX_XFER + 1, 0),
	    MIGDEV_STATUS_BAD_LENGTH);
	BAD("unknown flag", mdl_desc(MIGDEV_OP_COPY, A, B, 16, 0x8000), MIGDEV_STATUS_RESERVED);
	BAD("NOP with a length", mdl_desc(MIGDEV_OP_NOP, 0, 0, 16, 0), MIGDEV_STATUS_RESERVED);
	BAD("FILL with a source", mdl_desc(MIGDEV_OP_FILL, A, B, 16, 0), MIGDEV_STATUS_RESERVED);
	BAD("overlap", mdl_desc(MIGDEV_OP_COPY, B, B + 8, 16, 0), MIGDEV_STATUS_OVERLAP);
	BAD("to device past its end", mdl_desc(MIGDEV_OP_TO_DEV, A, ds - 8, 16, 0),
	    MIGDEV_STATUS_BAD_ADDRESS);
	BAD("from device at its end", mdl_desc(MIGDEV_OP_FROM_DEV, ds, B, 16, 0),
	    MIGDEV_STATUS_BAD_ADDRESS);
	BAD("IOVA wraps", mdl_desc(MIGDEV_OP_COPY, ~0ULL - 4, B, 16, 0),
	    MIGDEV_STATUS_BAD_ADDRESS);
	BAD("source not mapped", mdl_desc(MIGDEV_OP_COPY, A + BUF_SIZE + 4096, B, 16, 0),
	    MIGDEV_STATUS_BAD_ADDRESS);
	BAD("destination not mapped", mdl_desc(MIGDEV_OP_COPY, A, 0x1000, 16, 0),
	    MIGDEV_STATUS_BAD_ADDRESS);
	c[nc] = c[0];
	c[nc].what = "reserved field";
	c[nc].d = mdl_desc(MIGDEV_OP_COPY, A, B, 16, 0);
	c[nc].d.reserved[1] = htole64(1);
	c[nc++].status = MIGDEV_STATUS_RESERVED;
	c[nc].what = "pattern on a copy";
	c[nc].d = mdl_desc(MIGDEV_OP_COPY, A, B, 16, 0);
	c[nc].d.pattern = htole64(1);
	c[nc++].status = MIGDEV_STATUS_RESERVED;
#undef BAD

	for (i = 0; i < nc; i++) {
		uint32_t n, info;

		memset(self->b.va, 0xee, 64);
		n = mdl_submit(&self->q, &c[i].d);
		ASSERT_EQ(c[i].status, mdl_wait(&self->q, n, 60000)) {
			TH_LOG("%s", c[i].what);
		}
		EXPECT_EQ(0, le64toh(mdl_cpl(&self->q, n)->bytes)) TH_LOG("%s", c[i].what);
		EXPECT_EQ(0xee, ((unsigned char *)self->b.va)[8]) TH_LOG("%s", c[i].what);
		info = mdl_read32(&self->d, MIGDEV_REG_ERROR_INFO);
		EXPECT_EQ(c[i].status, MIGDEV_ERROR_INFO_CODE(info)) TH_LOG("%s", c[i].what);
		EXPECT_EQ(0, MIGDEV_ERROR_INFO_QUEUE(info));
		EXPECT_EQ(c[i].status, mdl_qread32(&self->d, 0, MIGDEV_Q_ERROR));
		EXPECT_EQ(count0 + i + 1, mdl_read32(&self->d, MIGDEV_REG_ERROR_COUNT));
		EXPECT_EQ(MIGDEV_Q_STATUS_ENABLED, mdl_qread32(&self->d, 0, MIGDEV_Q_STATUS));
	}
	EXPECT_EQ(1, mdl_read32(&self->d, MIGDEV_REG_ERROR_STATUS));
	mdl_write32(&self->d, MIGDEV_REG_ERROR_STATUS, 1);
	EXPECT_EQ(0, mdl_read32(&self->d, MIGDEV_REG_ERROR_STATUS));
	/* The queue still works. */
	c[0].d = mdl_desc(MIGDEV_OP_COPY, A, B, 4096, 0);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &c[0].d));
	EXPECT_EQ(0, memcmp(self->a.va, self->b.va, 4096));
}

TEST_F(dma, bad_ring_config)
{
	struct mdl_dev *d = &self->d;
	static const struct { uint64_t ring, compl; uint32_t size; } c[] = {
		{ 0x10000, 0x20000, 3 }, { 0x10000, 0x20000, 0 },
		{ 0x10000, 0x20000, MIGDEV_MAX_RING_SIZE * 2 },
		{ 0x10008, 0x20000, 16 }, { 0x10000, 0x20010, 16 },
		{ ~0ULL - 63, 0x20000, 16 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		mdl_qwrite32(d, 0, MIGDEV_Q_CTRL, 0);
		mdl_qwrite64(d, 0, MIGDEV_Q_RING_BASE, c[i].ring);
		mdl_qwrite64(d, 0, MIGDEV_Q_COMPL_BASE, c[i].compl);
		mdl_qwrite32(d, 0, MIGDEV_Q_RING_SIZE, c[i].size);
		mdl_qwrite32(d, 0, MIGDEV_Q_CTRL, MIGDEV_Q_CTRL_ENABLE);
		EXPECT_EQ(0, mdl_qread32(d, 0, MIGDEV_Q_STATUS)) TH_LOG("case %u", i);
		EXPECT_EQ(0, mdl_qread32(d, 0, MIGDEV_Q_CTRL));
		EXPECT_EQ(MIGDEV_ERR_RING_CONFIG, mdl_qread32(d, 0, MIGDEV_Q_ERROR));
		EXPECT_EQ(MIGDEV_ERR_RING_CONFIG,
			  MIGDEV_ERROR_INFO_CODE(mdl_read32(d, MIGDEV_REG_ERROR_INFO)));
	}
	/* Doorbells of a disabled queue are ignored. */
	mdl_qwrite32(d, 0, MIGDEV_Q_TAIL, 5);
	EXPECT_EQ(0, mdl_qread32(d, 0, MIGDEV_Q_TAIL));
	/* A good configuration enables; it cannot be changed while enabled. */
	mdl_queue_fini(&self->q);
	ASSERT_EQ(0, __mdl_queue_init(d, 0, 16, &self->q));
	mdl_qwrite32(d, 0, MIGDEV_Q_RING_SIZE, 64);
	EXPECT_EQ(16, mdl_qread32(d, 0, MIGDEV_Q_RING_SIZE));
}

/* Unreadable ring, unwritable completions, doorbell overrun: the queue
 * halts with the reason, and a disable/enable brings it back.
 */
TEST_F(dma, queue_halts_and_recovers)
{
	struct mdl_dev *d = &self->d;
	struct mdl_dma ring, cpl;
	struct migdev_desc desc = mdl_desc(MIGDEV_OP_COPY, self->a.iova,
					    self->b.iova, 4096, 0);
	unsigned int i;

	ASSERT_EQ(0, __mdl_dma_map(d, 4096, &ring));
	ASSERT_EQ(0, __mdl_dma_map(d, 4096, &cpl));
	for (i = 0; i < 3; i++) {
		uint32_t want[] = { MIGDEV_ERR_RING_FETCH, MIGDEV_ERR_COMPL_WRITE,
				    MIGDEV_ERR_RING_OVERRUN };
		double end = mdl_now() + 20;

		mdl_qwrite32(d, 0, MIGDEV_Q_CTRL, 0);
		mdl_qwrite64(d, 0, MIGDEV_Q_RING_BASE, i == 0 ? 0x7000000 : ring.iova);
		mdl_qwrite64(d, 0, MIGDEV_Q_COMPL_BASE, i == 1 ? 0x7000000 : cpl.iova);
		mdl_qwrite32(d, 0, MIGDEV_Q_RING_SIZE, 16);
		mdl_qwrite32(d, 0, MIGDEV_Q_CTRL, MIGDEV_Q_CTRL_ENABLE);
		ASSERT_EQ(MIGDEV_Q_STATUS_ENABLED, mdl_qread32(d, 0, MIGDEV_Q_STATUS));
		((struct migdev_desc *)ring.va)[0] = desc;
		mdl_qwrite32(d, 0, MIGDEV_Q_TAIL, i == 2 ? 17 : 1);
		while (!(mdl_qread32(d, 0, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_HALTED) &&
		       mdl_now() < end)
			usleep(1000);
		EXPECT_TRUE(mdl_qread32(d, 0, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_HALTED)
			TH_LOG("case %u", i);
		EXPECT_EQ(want[i], mdl_qread32(d, 0, MIGDEV_Q_ERROR));
		EXPECT_EQ(want[i], MIGDEV_ERROR_INFO_CODE(mdl_read32(d, MIGDEV_REG_ERROR_INFO)));
		EXPECT_EQ(0, mdl_qread32(d, 0, MIGDEV_Q_HEAD));
		/* Halted: doorbells are ignored. */
		mdl_qwrite32(d, 0, MIGDEV_Q_TAIL, 1);
		EXPECT_TRUE(mdl_qread32(d, 0, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_HALTED);
	}
	mdl_queue_fini(&self->q);
	ASSERT_EQ(0, __mdl_queue_init(d, 0, 16, &self->q));
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &desc));
	mdl_dma_free(d, &ring);
	mdl_dma_free(d, &cpl);
}

/* Unmapping guest memory while a descriptor runs: an error, never a
 * crash, and the device goes on.
 */
TEST_F_TIMEOUT(dma, unmap_mid_transfer, 600)
{
	struct mdl_dma big;
	struct migdev_desc d;
	uint32_t n, s;
	uint64_t bytes;

	ASSERT_EQ(0, __mdl_dma_map(&self->d, 256u << 20, &big));
	ASSERT_EQ(0, mdl_pause(self->uuid, 1));
	d = mdl_desc(MIGDEV_OP_FILL, 0, big.iova, 256u << 20, 0);
	d.pattern = htole64(0x5555aaaa5555aaaaULL);
	n = mdl_submit(&self->q, &d);
	ASSERT_EQ(0, mdl_pause(self->uuid, 0));
	usleep(20000);
	ASSERT_EQ(0, __mdl_dma_unmap_iova(&self->d, &big));
	s = mdl_wait(&self->q, n, 60000);
	bytes = le64toh(mdl_cpl(&self->q, n)->bytes);
	TH_LOG("unmapped after %llu of %u bytes", (unsigned long long)bytes, 256u << 20);
	EXPECT_EQ(MIGDEV_STATUS_BAD_ADDRESS, s);
	EXPECT_LT(bytes, 256u << 20);
	EXPECT_EQ(0, bytes % (128 * 1024));	/* whole chunks */
	/* What was written before the unmap is there. */
	if (bytes)
		EXPECT_EQ(0xaa, ((unsigned char *)big.va)[0]);
	munmap(big.va, big.size);
	d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, self->b.iova, 4096, 0);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
}

/* VFIO_DEVICE_RESET mid-transfer: all work stops and is discarded. */
TEST_F_TIMEOUT(dma, reset_mid_transfer, 600)
{
	struct mdl_dma big;
	struct migdev_desc d;
	uint32_t n, c1, c2;

	ASSERT_EQ(0, __mdl_dma_map(&self->d, 256u << 20, &big));
	d = mdl_desc(MIGDEV_OP_FILL, 0, big.iova, 256u << 20, 0);
	d.pattern = htole64(0x0101010101010101ULL);
	n = mdl_submit(&self->q, &d);
	usleep(10000);
	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
	/* Queue registers are cleared, no completion is written... */
	EXPECT_EQ(0, mdl_qread32(&self->d, 0, MIGDEV_Q_STATUS));
	EXPECT_EQ(0, mdl_qread32(&self->d, 0, MIGDEV_Q_HEAD));
	EXPECT_EQ(0, st(&self->q, n));
	/* ...and no more DMA happens. */
	c1 = mdl_crc32c(big.va, big.size);
	usleep(100000);
	c2 = mdl_crc32c(big.va, big.size);
	EXPECT_EQ(c1, c2);
	EXPECT_EQ(0, st(&self->q, n));
	/* The device works again once set up. */
	mdl_bus_master(&self->d, 1);
	mdl_queue_fini(&self->q);
	ASSERT_EQ(0, __mdl_queue_init(&self->d, 0, 16, &self->q));
	d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, self->b.iova, 4096, 0);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	mdl_dma_free(&self->d, &big);
}

/*
 * Submit a 64 MiB fill into @big and hold the engine (debugfs engine_pause)
 * once it is in flight.  The descriptor's counter, or ~0 if it finished
 * first every time.
 */
static uint32_t fill_held(struct __test_metadata *_metadata,
			  const char *uuid, struct mdl_queue *q,
			  struct mdl_dma *big)
{
	struct migdev_desc d;
	unsigned int i;
	uint32_t n;

	d = mdl_desc(MIGDEV_OP_FILL, 0, big->iova, big->size, 0);
	d.pattern = htole64(0x5a5a5a5a5a5a5a5aULL);
	for (i = 0; i < 10; i++) {
		memset(big->va, 0, big->size);
		n = mdl_submit(q, &d);
		mdl_wait_in_flight(q, n, 30000);
		EXPECT_EQ(0, mdl_pause(uuid, 1));
		if (!st(q, n) &&
		    (mdl_qread32(q->dev, 0, MIGDEV_Q_STATUS) &
		     MIGDEV_Q_STATUS_BUSY))
			return n;
		EXPECT_EQ(0, mdl_pause(uuid, 0));
		EXPECT_NE(0, mdl_wait(q, n, 60000));
	}
	return ~0u;
}

/*
 * A queue disabled while the engine is held still (as migration holds it)
 * stays BUSY with its ring fixed, and its ABORTED record is written once
 * the engine runs again, after the idle engine let its pins go: so the
 * record's page is pinned again first, and the register write never waits
 * for it.  Enabling the queue again, or clearing bus mastering, drops a
 * record still due.  On the module before, a descriptor disabled while held
 * went without its record.
 */
TEST_F_TIMEOUT(dma, disable_while_held_writes_abort_later, 600)
{
	struct migdev_desc d;
	struct mdl_dma big;
	uint64_t bytes;
	uint32_t n, base;

	ASSERT_EQ(0, __mdl_dma_map(&self->d, 64u << 20, &big));
	n = fill_held(_metadata, self->uuid, &self->q, &big);
	ASSERT_NE(~0u, n) TH_LOG("the fill finished before every pause");
	usleep(300 * 1000);	/* idle for 100 ms: the pins are let go */
	mdl_qwrite32(&self->d, 0, MIGDEV_Q_CTRL, 0);
	EXPECT_EQ(MIGDEV_Q_STATUS_BUSY, mdl_qread32(&self->d, 0, MIGDEV_Q_STATUS));
	/* The ring stays where it is while its record is due. */
	base = mdl_qread32(&self->d, 0, MIGDEV_Q_COMPL_BASE);
	mdl_qwrite32(&self->d, 0, MIGDEV_Q_COMPL_BASE, base + 4096);
	EXPECT_EQ(base, mdl_qread32(&self->d, 0, MIGDEV_Q_COMPL_BASE));
	usleep(100 * 1000);
	EXPECT_EQ(0, st(&self->q, n)) TH_LOG("a held device wrote a record");
	ASSERT_EQ(0, mdl_pause(self->uuid, 0));
	EXPECT_EQ(MIGDEV_STATUS_ABORTED, mdl_wait(&self->q, n, 10000));
	bytes = le64toh(mdl_cpl(&self->q, n)->bytes);
	EXPECT_LT(bytes, big.size);
	EXPECT_EQ(0, mdl_qread32(&self->d, 0, MIGDEV_Q_STATUS));
	EXPECT_EQ(n + 1, mdl_qread32(&self->d, 0, MIGDEV_Q_HEAD));
	EXPECT_EQ(MIGDEV_STATUS_ABORTED, mdl_qread32(&self->d, 0, MIGDEV_Q_ERROR));
	/* The fill went no further than its record says. */
	usleep(100 * 1000);
	EXPECT_EQ(0, ((uint8_t *)big.va)[big.size - 1]);
	if (bytes < big.size)
		EXPECT_EQ(0, ((uint8_t *)big.va)[bytes]);

	/* Enabled again before the record is written: it is dropped. */
	mdl_queue_fini(&self->q);
	ASSERT_EQ(0, __mdl_queue_init(&self->d, 0, 64, &self->q));
	n = fill_held(_metadata, self->uuid, &self->q, &big);
	ASSERT_NE(~0u, n);
	mdl_qwrite32(&self->d, 0, MIGDEV_Q_CTRL, 0);
	EXPECT_EQ(MIGDEV_Q_STATUS_BUSY, mdl_qread32(&self->d, 0, MIGDEV_Q_STATUS));
	mdl_qwrite32(&self->d, 0, MIGDEV_Q_CTRL, MIGDEV_Q_CTRL_ENABLE);
	EXPECT_EQ(MIGDEV_Q_STATUS_ENABLED, mdl_qread32(&self->d, 0, MIGDEV_Q_STATUS));
	self->q.tail = 0;
	ASSERT_EQ(0, mdl_pause(self->uuid, 0));
	usleep(200 * 1000);
	EXPECT_EQ(0, st(&self->q, n)) TH_LOG("a dropped record was written");
	EXPECT_EQ(0, mdl_qread32(&self->d, 0, MIGDEV_Q_HEAD));
	memset(self->b.va, 0, 4096);
	d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, self->b.iova, 4096, 0);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(0, memcmp(self->a.va, self->b.va, 4096));

	/* Bus mastering cleared before the record is written: dropped too. */
	n = fill_held(_metadata, self->uuid, &self->q, &big);
	ASSERT_NE(~0u, n);
	mdl_qwrite32(&self->d, 0, MIGDEV_Q_CTRL, 0);
	EXPECT_EQ(MIGDEV_Q_STATUS_BUSY, mdl_qread32(&self->d, 0, MIGDEV_Q_STATUS));
	mdl_bus_master(&self->d, 0);
	EXPECT_EQ(0, mdl_qread32(&self->d, 0, MIGDEV_Q_STATUS));
	mdl_bus_master(&self->d, 1);
	ASSERT_EQ(0, mdl_pause(self->uuid, 0));
	usleep(200 * 1000);
	EXPECT_EQ(0, st(&self->q, n)) TH_LOG("a dropped record was written");
	EXPECT_EQ(0, mdl_qread32(&self->d, 0, MIGDEV_Q_STATUS));
	mdl_queue_fini(&self->q);
	ASSERT_EQ(0, __mdl_queue_init(&self->d, 0, 64, &self->q));
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	mdl_dma_free(&self->d, &big);
}

/* Disabling a queue aborts its descriptor in flight; enabled again, it works. */
TEST_F(dma, disable_mid_transfer)
{
	const uint32_t len = 64u << 20;	/* 512 chunks: still running at the disable */
	struct migdev_desc d;
	struct mdl_dma big;
	uint32_t n;

	ASSERT_EQ(0, __mdl_dma_map(&self->d, len, &big));
	ASSERT_EQ(0, mdl_pause(self->uuid, 1));
	d = mdl_desc(MIGDEV_OP_FILL, 0, big.iova, len, 0);
	d.pattern = htole64(0x3c3c3c3c3c3c3c3cULL);
	n = mdl_submit(&self->q, &d);
	ASSERT_EQ(0, mdl_pause(self->uuid, 0));
	/* Disable only once the fill is in flight: one not fetched has nothing to abort. */
	mdl_wait_in_flight(&self->q, n, 10000);
	mdl_qwrite32(&self->d, 0, MIGDEV_Q_CTRL, 0);
	ASSERT_NE(0, st(&self->q, n));
	if (st(&self->q, n) == MIGDEV_STATUS_OK)
		SKIP(goto out, "the fill finished before the disable");
	EXPECT_EQ(MIGDEV_STATUS_ABORTED, st(&self->q, n));
	EXPECT_LT(le64toh(mdl_cpl(&self->q, n)->bytes), len);
	EXPECT_EQ(0, mdl_qread32(&self->d, 0, MIGDEV_Q_STATUS));
	/* Enabled again, the queue starts empty and works. */
	mdl_queue_fini(&self->q);
	ASSERT_EQ(0, __mdl_queue_init(&self->d, 0, 16, &self->q));
	memset(self->b.va, 0, 4096);
	d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, self->b.iova, 4096, 0);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(0, memcmp(self->a.va, self->b.va, 4096));
out:
	mdl_dma_free(&self->d, &big);
}

/* No bus mastering, no DMA: work waits until it is enabled. */
/*
 * Guest memory mapped read-only: the device reads it, and a write to it
 * fails (BAD_ADDRESS) with nothing written, however the device reaches
 * memory (pins taken for reading only).
 */
TEST_F(dma, read_only_memory)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .flags = VFIO_DMA_MAP_FLAG_READ,
		.size = 2 * 4096, .iova = 1ULL << 40,
	};
	struct migdev_desc d;
	uint8_t *ro;

	if (self->d.container < 0)
		SKIP(return, "not a type1 container");
	ro = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	memset(ro, 0x77, 2 * 4096);
	map.vaddr = (uintptr_t)ro;
	ASSERT_EQ(0, ioctl(self->d.container, VFIO_IOMMU_MAP_DMA, &map));
	/* Read: works, across the two pages. */
	memset(self->b.va, 0, 8192);
	d = mdl_desc(MIGDEV_OP_COPY, map.iova + 100, self->b.iova, 5000, 0);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(0, memcmp(ro + 100, self->b.va, 5000));
	/* Write: refused, the page as it was. */
	d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, map.iova, 4096, 0);
	EXPECT_EQ(MIGDEV_STATUS_BAD_ADDRESS, mdl_run(&self->q, &d));
	d = mdl_desc(MIGDEV_OP_FILL, 0, map.iova + 4000, 200, 0);
	EXPECT_EQ(MIGDEV_STATUS_BAD_ADDRESS, mdl_run(&self->q, &d));
	EXPECT_EQ(0x77, ro[0]);
	EXPECT_EQ(0x77, ro[4095]);
	EXPECT_EQ(0x77, ro[4096]);
	/* The queue goes on. */
	d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, self->b.iova, 4096, 0);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(0, memcmp(self->a.va, self->b.va, 4096));
	munmap(ro, 2 * 4096);
}

/* The type1 container's dirty bitmap of @m (one bit per 4 KiB page). */
static int dirty_bitmap(struct mdl_dev *d, struct mdl_dma *m, uint64_t *bits,
			size_t bytes)
{
	uint8_t buf[sizeof(struct vfio_iommu_type1_dirty_bitmap) +
		    sizeof(struct vfio_iommu_type1_dirty_bitmap_get)];
	struct vfio_iommu_type1_dirty_bitmap *db = (void *)buf;
	struct vfio_iommu_type1_dirty_bitmap_get *get = (void *)db->data;

	memset(buf, 0, sizeof(buf));
	memset(bits, 0, bytes);
	db->argsz = sizeof(buf);
	db->flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	get->iova = m->iova;
	get->size = m->size;
	get->bitmap.pgsize = 4096;
	get->bitmap.size = bytes;
	get->bitmap.data = (void *)bits;
	return ioctl(d->container, VFIO_IOMMU_DIRTY_PAGES, db) ? -errno : 0;
}

/*
 * QEMU's fallback when a device offers no DMA logging: the type1
 * container's dirty bitmap.  Every page the device writes must be in it;
 * type1 also reports every page pinned for the device while it is pinned
 * (and in the report after), so once the engine has been idle (it unpins
 * after 100 ms) reports are clean again.
 */
TEST_F_TIMEOUT(dma, type1_dirty_bitmap_sees_device_writes, 120)
{
	struct vfio_iommu_type1_dirty_bitmap db = {
		.argsz = sizeof(db), .flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START,
	};
	static const unsigned int pages[] = { 3, 7, 10, 11, 2047 };
	uint64_t bits[BUF_SIZE / 4096 / 64];
	struct migdev_desc d;
	unsigned int i, extra = 0;

	if (self->d.container < 0)
		SKIP(return, "not a type1 container");
	ASSERT_EQ(0, ioctl(self->d.container, VFIO_IOMMU_DIRTY_PAGES, &db));
	ASSERT_EQ(0, dirty_bitmap(&self->d, &self->b, bits, sizeof(bits)));
	d = mdl_desc(MIGDEV_OP_FILL, 0, self->b.iova + 3 * 4096 + 17, 100, 0);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, self->b.iova + 7 * 4096, 4096, 0);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	d = mdl_desc(MIGDEV_OP_FROM_DEV, 0, self->b.iova + 11 * 4096 - 50, 100, 0);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, self->b.iova + BUF_SIZE - 8, 8, 0);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	ASSERT_EQ(0, dirty_bitmap(&self->d, &self->b, bits, sizeof(bits)));
	for (i = 0; i < ARRAY_SIZE(pages); i++)
		EXPECT_TRUE(bits[pages[i] / 64] >> (pages[i] % 64) & 1)
			TH_LOG("page %u, written by the device, not reported", pages[i]);
	for (i = 0; i < BUF_SIZE / 4096; i++)
		extra += bits[i / 64] >> (i % 64) & 1;
	EXPECT_EQ(ARRAY_SIZE(pages), extra);
	/*
	 * Idle: unpinned, and nothing written since.  type1 sets the bits of
	 * the pages still pinned after each report, so they show once more.
	 */
	usleep(1000000);
	ASSERT_EQ(0, dirty_bitmap(&self->d, &self->b, bits, sizeof(bits)));
	ASSERT_EQ(0, dirty_bitmap(&self->d, &self->b, bits, sizeof(bits)));
	for (i = 0, extra = 0; i < BUF_SIZE / 4096; i++)
		extra += bits[i / 64] >> (i % 64) & 1;
	EXPECT_EQ(0, extra) TH_LOG("an idle device's pages are still reported dirty");
	db.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP;
	EXPECT_EQ(0, ioctl(self->d.container, VFIO_IOMMU_DIRTY_PAGES, &db));
}

/*
 * Issue 25, item 8: a write that fails part way must not leave written
 * pages out of type1's dirty bitmap.  Here the second page of a mapping
 * has no memory behind it any more (the VMM unmapped it from its address
 * space): through vfio_dma_rw() the copy wrote the first page, and type1,
 * which marks a range only when the whole copy succeeded, never reported
 * it.  The device now writes all of a chunk or nothing.
 */
TEST_F_TIMEOUT(dma, type1_dirty_bitmap_partial_copy, 120)
{
	struct vfio_iommu_type1_dirty_bitmap db = {
		.argsz = sizeof(db), .flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START,
	};
	struct mdl_dma m = { .iova = 1ULL << 40, .size = 2 * 4096 };
	uint8_t want[4096];
	struct migdev_desc d;
	uint64_t bits[1];

	if (self->d.container < 0)
		SKIP(return, "not a type1 container");
	m.va = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m.va);
	memset(m.va, 0x11, 2 * 4096);
	memset(want, 0x11, sizeof(want));
	ASSERT_EQ(0, __mdl_dma_map_at(&self->d, m.va, m.size, m.iova));
	munmap((uint8_t *)m.va + 4096, 4096);
	ASSERT_EQ(0, ioctl(self->d.container, VFIO_IOMMU_DIRTY_PAGES, &db));
	ASSERT_EQ(0, dirty_bitmap(&self->d, &m, bits, sizeof(bits)));
	d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, m.iova, 2 * 4096, 0);
	EXPECT_EQ(MIGDEV_STATUS_BAD_ADDRESS, mdl_run(&self->q, &d));
	ASSERT_EQ(0, dirty_bitmap(&self->d, &m, bits, sizeof(bits)));
	if (memcmp(m.va, want, sizeof(want)))
		EXPECT_TRUE(bits[0] & 1) TH_LOG("page 0 was written and not reported dirty");
	db.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP;
	EXPECT_EQ(0, ioctl(self->d.container, VFIO_IOMMU_DIRTY_PAGES, &db));
	d = mdl_desc(MIGDEV_OP_COPY, self->a.iova, self->b.iova, 4096, 0);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	munmap(m.va, 4096);
}

TEST_F(dma, bus_master_gates_dma)
{
	struct migdev_desc d = mdl_desc(MIGDEV_OP_COPY, self->a.iova,
					self->b.iova, 4096, 0);
	uint32_t n;

	memset(self->b.va, 0, 4096);
	mdl_bus_master(&self->d, 0);
	n = mdl_submit(&self->q, &d);
	usleep(100000);
	EXPECT_EQ(0, st(&self->q, n));
	EXPECT_NE(0, memcmp(self->a.va, self->b.va, 4096));
	mdl_bus_master(&self->d, 1);
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_wait(&self->q, n, 60000));
	EXPECT_EQ(0, memcmp(self->a.va, self->b.va, 4096));
}

/* Pausing in the middle of a large copy, many times: same result. */
TEST_F_TIMEOUT(dma, pause_resume_mid_descriptor, 600)
{
	struct migdev_desc d = mdl_desc(MIGDEV_OP_COPY, self->a.iova,
					self->b.iova, BUF_SIZE, 0);
	unsigned int pauses = 0;
	uint32_t n, busy_seen = 0;

	memset(self->b.va, 0, BUF_SIZE);
	n = mdl_submit(&self->q, &d);
	while (!st(&self->q, n)) {
		ASSERT_EQ(0, mdl_pause(self->uuid, 1));
		pauses++;
		/* Paused: the queue is frozen mid-descriptor. */
		if (mdl_qread32(&self->d, 0, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_BUSY) {
			uint32_t c1 = mdl_crc32c(self->b.va, BUF_SIZE);

			busy_seen++;
			usleep(5000);
			EXPECT_EQ(c1, mdl_crc32c(self->b.va, BUF_SIZE));
			EXPECT_EQ(0, st(&self->q, n));
		}
		ASSERT_EQ(0, mdl_pause(self->uuid, 0));
		usleep(1000);
	}
	TH_LOG("%u pauses, %u with the copy in flight", pauses, busy_seen);
	EXPECT_EQ(MIGDEV_STATUS_OK, st(&self->q, n));
	EXPECT_EQ(0, memcmp(self->a.va, self->b.va, BUF_SIZE));
	EXPECT_GT(busy_seen, 0);
}

TEST_F(dma, clock_only_moves_forward)
{
	uint64_t prev = mdl_read64(&self->d, MIGDEV_REG_CLOCK), now;
	unsigned int i;

	for (i = 0; i < 2000; i++) {
		if (i == 1000)
			ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
		if (i & 1) {
			now = mdl_read64(&self->d, MIGDEV_REG_CLOCK);
		} else {
			now = mdl_read32(&self->d, MIGDEV_REG_CLOCK);
			now |= (uint64_t)mdl_read32(&self->d, MIGDEV_REG_CLOCK + 4) << 32;
		}
		ASSERT_GE(now, prev) TH_LOG("read %u", i);
		prev = now;
	}
	/* It is a clock: 10 ms of waiting shows. */
	usleep(10000);
	EXPECT_GE(mdl_read64(&self->d, MIGDEV_REG_CLOCK) - prev, 10000000ULL);
}

TEST_HARNESS_MAIN
