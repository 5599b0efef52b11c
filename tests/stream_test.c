// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hostile and odd migration streams against the real module: empty,
 * truncated anywhere, corrupted, foreign, random, over-long, forged
 * records with valid checksums, any segmentation, and stream versions.
 * Every refusal comes with an errno and a log line, and leaves the
 * destination as it was; a reset makes it usable again.
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
#include "stream_codec.h"

#define REC	sizeof(struct migdev_stream_record)
#define HDR	sizeof(struct migdev_stream_header)
#define BAR2	VFIO_PCI_BAR2_REGION_INDEX

struct rec {
	uint32_t tag, flags;
	uint8_t *data;
	size_t len;
};

FIXTURE(stream) {
	char su[MDL_UUID_LEN], du[MDL_UUID_LEN];
	struct mdl_dev src, dst;
	uint8_t *good;
	size_t cap;
	ssize_t len;
	struct rec recs[512];
	unsigned int nrec;
	uint8_t *out;
};

static void parse(struct __test_metadata *_metadata, struct _test_data_stream *self)
{
	size_t off = HDR;

	self->nrec = 0;
	while (off < (size_t)self->len) {
		struct migdev_stream_record *r = (void *)(self->good + off);

		ASSERT_LT(self->nrec, 512);
		self->recs[self->nrec].tag = le32toh(r->tag);
		self->recs[self->nrec].flags = le32toh(r->flags);
		self->recs[self->nrec].data = self->good + off + REC;
		self->recs[self->nrec].len = le64toh(r->size);
		self->nrec++;
		off += REC + le64toh(r->size);
	}
	ASSERT_EQ(self->len, off);
}

/* Re-emit the parsed stream, framed by the module's own code. */
static size_t emit(struct _test_data_stream *self, const struct rec *recs,
		   unsigned int n)
{
	uint16_t minor = le16toh(((struct migdev_stream_header *)self->good)->minor);
	size_t off = HDR;
	unsigned int i;

	memcpy(self->out, self->good, HDR);
	for (i = 0; i < n; i++)
		off += migdev_stream_put_record(self->out + off, minor,
						recs[i].tag, recs[i].flags,
						recs[i].data, recs[i].len);
	return off;
}

static int find(struct _test_data_stream *self, uint32_t tag)
{
	unsigned int i;

	for (i = 0; i < self->nrec; i++)
		if (self->recs[i].tag == tag)
			return i;
	return -1;
}

/* Give the destination its own state (again, after a reset). */
static void restore_dst(struct _test_data_stream *self)
{
	static uint8_t page[4096];

	memset(page, 0xd5, sizeof(page));
	mdl_pwrite(&self->dst, BAR2, 5 << 12, page, sizeof(page));
	mdl_write64(&self->dst, MIGDEV_REG_SCRATCH, 0xdeadbeef);
}

FIXTURE_SETUP(stream)
{
	static uint8_t page[4096];
	unsigned int i;

	self->src.fd = -1;
	self->dst.fd = -1;
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_MEDIUM, self->su));
	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_MEDIUM, self->du));
	ASSERT_EQ(0, __mdl_open(self->su, &self->src));
	ASSERT_EQ(0, __mdl_open(self->du, &self->dst));
	for (i = 0; i < 8; i++) {
		memset(page, 0x10 + i, sizeof(page));
		mdl_pwrite(&self->src, BAR2, (uint64_t)i * 3 << 12, page, sizeof(page));
	}
	mdl_write64(&self->src, MIGDEV_REG_SCRATCH, 0x5ca1ab1e);
	self->len = mdl_save(&self->src, &self->good, &self->cap);
	ASSERT_GT(self->len, 8 * 4096);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	self->out = malloc(self->len + (2 << 20));
	ASSERT_NE(NULL, self->out);
	parse(_metadata, self);
	/* The destination has its own state, which a refusal must keep. */
	restore_dst(self);
}

FIXTURE_TEARDOWN(stream)
{
	mdl_close(&self->src);
	mdl_close(&self->dst);
	free(self->good);
	free(self->out);
	if (mdl_exists(self->su))
		__mdl_remove(self->su);
	if (mdl_exists(self->du))
		__mdl_remove(self->du);
}

/* The destination still has its own state. */
static void expect_dst_unchanged(struct __test_metadata *_metadata,
				 struct mdl_dev *dst)
{
	uint8_t b[2];

	EXPECT_EQ(0xdeadbeef, mdl_read64(dst, MIGDEV_REG_SCRATCH));
	ASSERT_EQ(1, mdl_pread(dst, BAR2, 5 << 12, b, 1));
	ASSERT_EQ(1, mdl_pread(dst, BAR2, 0, b + 1, 1));
	EXPECT_EQ(0xd5, b[0]);
	EXPECT_EQ(0, b[1]);	/* the source's page 0 did not arrive */
}

/*
 * Feed @buf to the destination; expect the write or the commit to fail
 * with @err, the destination unchanged, then usable after a reset.
 */
static void expect_refused(struct __test_metadata *_metadata,
			   struct _test_data_stream *self, const void *buf,
			   size_t len, size_t chunk, int err, const char *what)
{
	int fd, ret;

	ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RESUMING, &fd));
	ret = mdl_write_all(fd, buf, len, chunk);
	if (!ret)
		ret = __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_STOP, NULL);
	EXPECT_EQ(err, ret) TH_LOG("%s", what);
	EXPECT_EQ(VFIO_DEVICE_STATE_RESUMING, mdl_mig_get(&self->dst)) TH_LOG("%s", what);
	close(fd);
	expect_dst_unchanged(_metadata, &self->dst);
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, mdl_mig_get(&self->dst));
	restore_dst(self);
}

static int dmesg_has(const char *needle)
{
	char line[512];
	int found = 0;
	FILE *f = popen("dmesg | tail -50", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			found = 1;
	pclose(f);
	return found;
}

TEST_F_TIMEOUT(stream, whole_stream_any_segmentation, 600)
{
	static const size_t chunks[] = { 1, 7, 23, 4096, 32768, 1 << 20 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(chunks); i++) {
		ASSERT_EQ(0, mdl_load(&self->dst, self->good, self->len, chunks[i]))
			TH_LOG("writes of %zu bytes", chunks[i]);
		EXPECT_EQ(0x5ca1ab1e, mdl_read64(&self->dst, MIGDEV_REG_SCRATCH));
		ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	}
}

TEST_F_TIMEOUT(stream, empty_and_truncated, 600)
{
	size_t cuts[] = { 0, 1, HDR - 1, HDR, HDR + 1, HDR + REC, HDR + REC + 100,
			  self->len / 2, self->len - REC - 1, self->len - 1 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cuts); i++) {
		char what[64];

		snprintf(what, sizeof(what), "cut at %zu of %zd", cuts[i], self->len);
		expect_refused(_metadata, self, self->good, cuts[i], 4096, -EINVAL, what);
	}
	EXPECT_TRUE(dmesg_has("stream truncated"));
}

/* A flipped bit anywhere is caught: header check, CRC, or validation. */
TEST_F_TIMEOUT(stream, corrupted, 600)
{
	size_t pos[] = { 0, 5, 12, 20, 40, 63, HDR + 2, HDR + 9, HDR + REC + 3,
			 HDR + REC + 4000, self->len / 3, self->len - 10 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pos); i++) {
		char what[64];
		int fd, ret;

		memcpy(self->out, self->good, self->len);
		self->out[pos[i]] ^= 0x20;
		snprintf(what, sizeof(what), "bit flipped at %zu", pos[i]);
		ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RESUMING, &fd));
		ret = mdl_write_all(fd, self->out, self->len, 65536);
		if (!ret)
			ret = __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_STOP, NULL);
		EXPECT_NE(0, ret) TH_LOG("%s", what);
		EXPECT_EQ(VFIO_DEVICE_STATE_RESUMING, mdl_mig_get(&self->dst));
		close(fd);
		expect_dst_unchanged(_metadata, &self->dst);
		ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
		restore_dst(self);
	}
	EXPECT_TRUE(dmesg_has("checksum mismatch"));
}

/* Another type's stream is refused as soon as its header arrives. */
TEST_F(stream, foreign_type_refused_early)
{
	char u[MDL_UUID_LEN];
	struct mdl_dev small;
	uint8_t *s = NULL;
	size_t cap = 0;
	ssize_t n;
	int fd;

	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, u));
	ASSERT_EQ(0, __mdl_open(u, &small));
	n = mdl_save(&small, &s, &cap);
	ASSERT_GT(n, HDR);
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RESUMING, &fd));
	EXPECT_EQ(-1, write(fd, s, HDR));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	EXPECT_TRUE(dmesg_has("type mismatch: stream has type 0, device is type 1"));
	expect_dst_unchanged(_metadata, &self->dst);
	mdl_close(&small);
	__mdl_remove(u);
	free(s);
}

TEST_F(stream, random_and_overlong)
{
	unsigned int i;

	srandom(7);
	for (i = 0; i < 2 * 4096; i++)
		self->out[i] = random();
	expect_refused(_metadata, self, self->out, 2 * 4096, 512, -EINVAL, "random");
	/* A good stream with bytes after its end. */
	memcpy(self->out, self->good, self->len);
	memset(self->out + self->len, 0, 16);
	expect_refused(_metadata, self, self->out, self->len + 16, 1 << 20, -EINVAL,
		       "over-long");
	EXPECT_TRUE(dmesg_has("after the end of the stream"));
}

/* Records with valid checksums but contents the device cannot take. */
TEST_F_TIMEOUT(stream, forged_records, 600)
{
	struct rec r[520];
	uint8_t junk[64], bad[1024];
	int i, cfg = find(self, MIGDEV_TAG_CONFIG), regs = find(self, MIGDEV_TAG_REGS);
	int msix = find(self, MIGDEV_TAG_MSIX), q = find(self, MIGDEV_TAG_QUEUE);
	int dm = find(self, MIGDEV_TAG_DEVMEM);
	unsigned int n = self->nrec;
	size_t len;

	ASSERT_GE(cfg, 0);
	ASSERT_GE(regs, 0);
	ASSERT_GE(msix, 0);
	ASSERT_GE(q, 0);
	ASSERT_GE(dm, 0);
	memset(junk, 0x42, sizeof(junk));

#define CASE(what, err) do { \
	len = emit(self, r, n); \
	expect_refused(_metadata, self, self->out, len, 4096, err, what); \
} while (0)

	/* Unknown mandatory tag before END: refused.  Optional: skipped. */
	memcpy(r, self->recs, sizeof(*r) * n);
	r[n] = r[n - 1];
	r[n - 1] = (struct rec){ .tag = 99, .data = junk, .len = sizeof(junk) };
	n++;
	CASE("unknown mandatory tag", -EINVAL);
	r[n - 2].flags = MIGDEV_REC_F_OPTIONAL;
	len = emit(self, r, n);
	EXPECT_EQ(0, mdl_load(&self->dst, self->out, len, 4096)) TH_LOG("optional tag");
	EXPECT_EQ(0x5ca1ab1e, mdl_read64(&self->dst, MIGDEV_REG_SCRATCH));
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	restore_dst(self);
	n--;

	/* A record repeated. */
	memcpy(r, self->recs, sizeof(*r) * n);
	r[n] = r[n - 1];
	r[n - 1] = r[cfg];
	n++;
	CASE("config twice", -EINVAL);
	n--;

	/* State missing: END right after the device memory. */
	memcpy(r, self->recs, sizeof(*r) * n);
	r[cfg] = r[n - 1];
	len = emit(self, r, cfg + 1);
	expect_refused(_metadata, self, self->out, len, 4096, -EINVAL, "no state");

	/* Config: a read-only bit (the vendor ID) differs. */
	memcpy(r, self->recs, sizeof(*r) * n);
	memcpy(bad, r[cfg].data, 256);
	bad[0] ^= 1;
	r[cfg].data = bad;
	CASE("vendor ID", -EINVAL);
	EXPECT_TRUE(dmesg_has("read-only bits differ"));

	/* Registers: an interrupt cause for a queue the device has not. */
	memcpy(r, self->recs, sizeof(*r) * n);
	memcpy(bad, r[regs].data, r[regs].len);
	((struct migdev_rec_regs *)bad)->int_status = htole32(1u << 20);
	r[regs].data = bad;
	CASE("int_status", -EINVAL);

	/* MSI-X: pending bits beyond the vectors. */
	memcpy(r, self->recs, sizeof(*r) * n);
	memcpy(bad, r[msix].data, r[msix].len);
	((struct migdev_rec_msix *)bad)->pending = htole64(1ULL << 40);
	r[msix].data = bad;
	CASE("MSI-X pending", -EINVAL);

	/* Queue: out-of-range index; enabled with a bad ring; busy with a bad
	 * descriptor; progress past the descriptor's end.
	 */
	for (i = 0; i < 4; i++) {
		struct migdev_rec_queue *rq = (void *)bad;

		memcpy(r, self->recs, sizeof(*r) * n);
		memcpy(bad, r[q].data, r[q].len);
		switch (i) {
		case 0:
			rq->index = htole32(7);
			break;
		case 1:
			rq->state = htole32(MIGDEV_QSTATE_ENABLED);
			rq->ring_size = htole32(3);
			break;
		case 2:
			rq->state = htole32(MIGDEV_QSTATE_ENABLED | MIGDEV_QSTATE_ACTIVE);
			rq->ring_size = htole32(16);
			rq->desc = mdl_desc(MIGDEV_OP_FROM_DEV, 1ULL << 40, 0x1000, 4096, 0);
			break;
		case 3:
			rq->state = htole32(MIGDEV_QSTATE_ENABLED | MIGDEV_QSTATE_ACTIVE);
			rq->ring_size = htole32(16);
			rq->desc = mdl_desc(MIGDEV_OP_COPY, 0x100000, 0x200000, 4096, 0);
			rq->done = htole64(8192);
			break;
		}
		r[q].data = bad;
		CASE("queue record", -EINVAL);
	}

	/* Device memory: a page index past the end; a count that lies. */
	memcpy(r, self->recs, sizeof(*r) * n);
	memcpy(bad, r[dm].data, 16);
	((struct migdev_rec_devmem *)bad)->first = htole64(1ULL << 40);
	memcpy(self->out + self->len + 4096, bad, 16);
	memcpy(self->out + self->len + 4096 + 16, r[dm].data + 16, r[dm].len - 16);
	r[dm].data = self->out + self->len + 4096;
	CASE("page past the end", -EINVAL);
	EXPECT_TRUE(dmesg_has("outside the device"));
#undef CASE
}

/* Set the clock latch of stream @s's REGS record, its checksum made right. */
static int set_clock_latch(uint8_t *s, size_t n, uint64_t v)
{
	uint16_t minor = le16toh(((struct migdev_stream_header *)s)->minor);
	size_t off = HDR;

	while (off + REC <= n) {
		struct migdev_stream_record *r = (void *)(s + off);
		struct migdev_rec_regs *regs = (void *)(s + off + REC);

		if (le32toh(r->tag) == MIGDEV_TAG_REGS) {
			regs->clock_latch = htole64(v);
			migdev_stream_put_record(r, minor, MIGDEV_TAG_REGS,
						 le32toh(r->flags), NULL,
						 le64toh(r->size));
			return 0;
		}
		off += REC + le64toh(r->size);
	}
	return -1;
}

/*
 * The clock's low half latches the whole value; the high half returns the
 * latch.  A guest whose migration falls between the two reads must get
 * the high half of what it latched on the source: 1.2 streams carry the
 * latch.  Without it a guest saw its clock jump (or go back) by 2^32 ns,
 * and its timeouts fire at once.
 */
TEST_F_TIMEOUT(stream, clock_latch_migrates, 120)
{
	char path[256];
	uint8_t *s = NULL;
	size_t cap = 0;
	uint32_t hi, hi_stop;
	ssize_t n;
	int i;

	/* Past 2^32 ns, so the high half of a latch is not 0. */
	for (i = 0; i < 200 && !(mdl_read64(&self->src, MIGDEV_REG_CLOCK) >> 32); i++)
		usleep(50000);
	mdl_read32(&self->src, MIGDEV_REG_CLOCK);	/* latches */
	hi = mdl_read32(&self->src, MIGDEV_REG_CLOCK + 4);
	ASSERT_NE(0, hi) TH_LOG("the source's clock did not pass 2^32 ns");

	n = mdl_save(&self->src, &s, &cap);
	ASSERT_GT(n, HDR);
	EXPECT_EQ(MIGDEV_STREAM_MINOR, ((struct migdev_stream_header *)s)->minor);
	/* The destination never read its clock: its own latch is 0. */
	ASSERT_EQ(0, mdl_load(&self->dst, s, n, 32768));
	EXPECT_EQ(hi, mdl_read32(&self->dst, MIGDEV_REG_CLOCK + 4));
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));

	/* A 1.1 stream has no latch: the destination latches the stop. */
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/migdev/migration_minor",
		 self->su);
	ASSERT_EQ(0, mdl_sysfs_write(path, "1"));
	mdl_read32(&self->src, MIGDEV_REG_CLOCK);
	n = mdl_save(&self->src, &s, &cap);
	ASSERT_GT(n, HDR);
	EXPECT_EQ(1, ((struct migdev_stream_header *)s)->minor);
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(0, mdl_load(&self->dst, s, n, 32768));
	hi_stop = mdl_read32(&self->dst, MIGDEV_REG_CLOCK + 4);
	EXPECT_GE(hi_stop, hi);

	/* And in a 1.1 stream those bytes are reserved: a latch is refused. */
	ASSERT_EQ(0, set_clock_latch(s, n, 1));
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	restore_dst(self);
	expect_refused(_metadata, self, s, n, 32768, -EINVAL,
		       "clock latch in a 1.1 stream");
	EXPECT_TRUE(dmesg_has("clock latch set in a 1.1 stream"));
	free(s);
}

/*
 * Each record of stream @s (@n bytes) carries the checksum of its minor:
 * how many have a non-zero high half; -1 if one is wrong.
 */
static int check_sums(const uint8_t *s, size_t n)
{
	uint16_t minor = le16toh(((const struct migdev_stream_header *)s)->minor);
	size_t off = HDR;
	int hi = 0;

	while (off + REC <= n) {
		const struct migdev_stream_record *r = (const void *)(s + off);
		uint64_t size = le64toh(r->size);
		uint64_t sum = migdev_stream_sum(minor, r + 1, size);

		if (le32toh(r->crc) != (uint32_t)sum ||
		    le32toh(r->crc_hi) != sum >> 32)
			return -1;
		hi += !!r->crc_hi;
		off += REC + size;
	}
	return off == n ? hi : -1;
}

/*
 * Stream 1.4 checksums records with XXH64, 64 bits; 1.3 with CRC-32C,
 * the high half 0.  A 1.4 destination takes both; a 1.3 destination
 * refuses 1.4 at its header; a page changed under a 1.4 checksum is
 * refused, the destination as it was.
 */
TEST_F_TIMEOUT(stream, record_checksums, 120)
{
	char path[256];
	uint8_t *s = NULL;
	size_t cap = 0;
	ssize_t n;
	int fd, dm = find(self, MIGDEV_TAG_DEVMEM);

	ASSERT_EQ(4, ((struct migdev_stream_header *)self->good)->minor);
	/* XXH64's high halves: all 0 would be chance for one record only. */
	EXPECT_GE(check_sums(self->good, self->len), (int)self->nrec - 2);

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/migdev/migration_minor",
		 self->su);
	ASSERT_EQ(0, mdl_sysfs_write(path, "3"));
	n = mdl_save(&self->src, &s, &cap);
	ASSERT_GT(n, HDR);
	EXPECT_EQ(3, ((struct migdev_stream_header *)s)->minor);
	EXPECT_EQ(0, check_sums(s, n));
	ASSERT_EQ(0, mdl_load(&self->dst, s, n, 32768));
	EXPECT_EQ(0x5ca1ab1e, mdl_read64(&self->dst, MIGDEV_REG_SCRATCH));
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	restore_dst(self);

	/* A destination that speaks 1.3 refuses 1.4 at the header. */
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/migdev/migration_minor",
		 self->du);
	ASSERT_EQ(0, mdl_sysfs_write(path, "3"));
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RESUMING, &fd));
	EXPECT_EQ(-1, write(fd, self->good, HDR));
	EXPECT_EQ(EPROTONOSUPPORT, errno);
	close(fd);
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	restore_dst(self);
	ASSERT_EQ(0, mdl_sysfs_write(path, "4"));

	/* One bit of a page, and one of the high half, each refused. */
	ASSERT_GE(dm, 0);
	memcpy(self->out, self->good, self->len);
	self->out[self->recs[dm].data - self->good + 16 + 777] ^= 4;
	expect_refused(_metadata, self, self->out, self->len, 32768, -EBADMSG,
		       "a page bit flipped under XXH64");
	EXPECT_TRUE(dmesg_has("checksum mismatch"));
	memcpy(self->out, self->good, self->len);
	self->out[self->recs[dm].data - self->good - REC +
		  offsetof(struct migdev_stream_record, crc_hi)] ^= 0x40;
	expect_refused(_metadata, self, self->out, self->len, 32768, -EBADMSG,
		       "XXH64's high half flipped");
	free(s);
}

/* The destination has the fixture's source state (its pages and scratch). */
static void expect_dst_has_src(struct __test_metadata *_metadata,
			       struct _test_data_stream *self)
{
	uint8_t b;
	unsigned int i;

	EXPECT_EQ(0x5ca1ab1e, mdl_read64(&self->dst, MIGDEV_REG_SCRATCH));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(1, mdl_pread(&self->dst, BAR2, ((uint64_t)i * 3 << 12) + 4095,
				       &b, 1));
		EXPECT_EQ(0x10 + i, b);
	}
}

/*
 * Save the source into @out with reads of @sizes (cycled) into @rbuf,
 * each of which must be whole but at the end; the bytes read.
 */
static size_t save_in_reads(struct __test_metadata *_metadata,
			    struct _test_data_stream *self, uint8_t *rbuf,
			    const size_t *sizes, unsigned int nsizes, bool whole)
{
	size_t done = 0, short_at = 0;
	unsigned int i;
	ssize_t n;
	int fd;

	if (__mdl_mig_set(&self->src, VFIO_DEVICE_STATE_STOP_COPY, &fd))
		return 0;
	for (i = 0; ; i++) {
		size_t want = sizes[i % nsizes];

		n = read(fd, rbuf, want);
		if (n <= 0)
			break;
		/* Short only at the end: nothing may follow a short read. */
		if (whole) {
			EXPECT_EQ(0, short_at)
				TH_LOG("read %zu was short, read %u got %zd", short_at, i, n);
		}
		if ((size_t)n != want)
			short_at = i + 1;
		if (done + n > (size_t)self->len + (1 << 20))
			break;
		memcpy(self->out + done, rbuf, n);
		done += n;
	}
	EXPECT_EQ(0, n) TH_LOG("read %u: errno %d", i, errno);
	close(fd);
	EXPECT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	return done;
}

/*
 * From stream 1.4 a read gets device memory straight from the device,
 * checksummed as it is copied, as many pages in a record as the read has
 * room for.  Reads of any size are still whole (the last page that does
 * not fit goes through the file's buffer); a read whose buffer faults
 * midway returns what it copied and loses nothing; and a read into a
 * mapping of the device's own memory, whose fault takes the device
 * memory's lock, completes.
 */
TEST_F_TIMEOUT(stream, direct_reads, 300)
{
	static const size_t sizes[] = {
		1 << 20, 4095, 40 + 4096, 40 + 4096 + 1, 100, 3 * 4096 + 77,
		64, 1,
	};
	size_t pg = 4096, three = 3 * pg, len;
	uint8_t *rbuf, *p, *bar2;
	ssize_t n;
	int fd;

	rbuf = malloc(1 << 20);
	ASSERT_NE(NULL, rbuf);
	len = save_in_reads(_metadata, self, rbuf, sizes, ARRAY_SIZE(sizes), true);
	ASSERT_GT(len, 8 * 4096);
	ASSERT_EQ(0, mdl_load(&self->dst, self->out, len, 32768));
	expect_dst_has_src(_metadata, self);
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	free(rbuf);

	/* Three pages, the last one not accessible: every read faults. */
	p = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mprotect(p + 2 * pg, pg, PROT_NONE));
	len = save_in_reads(_metadata, self, p, &three, 1, false);
	ASSERT_GT(len, 8 * 4096);
	ASSERT_EQ(0, mdl_load(&self->dst, self->out, len, 32768))
		TH_LOG("the reads that faulted lost or changed bytes");
	expect_dst_has_src(_metadata, self);
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	munmap(p, 3 * pg);

	/* Into the source's own device memory, past its data. */
	bar2 = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_SHARED,
		    self->src.fd, mdl_region_off(BAR2));
	ASSERT_NE(MAP_FAILED, bar2);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_STOP_COPY, &fd));
	n = read(fd, bar2 + (2 << 20), 1 << 20);
	ASSERT_GT(n, 8 * 4096);
	memcpy(self->out, bar2 + (2 << 20), n);
	len = n;
	while ((n = read(fd, self->out + len, 1 << 20)) > 0)
		len += n;
	EXPECT_EQ(0, n);
	close(fd);
	munmap(bar2, 4 << 20);
	ASSERT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, mdl_load(&self->dst, self->out, len, 1 << 20));
	expect_dst_has_src(_metadata, self);
}

/* Device memory as the source of direct_writes has it: byte i of page p. */
static uint8_t run_byte(size_t p, size_t i)
{
	return (uint8_t)(p * 7 + i * 13 + (i >> 9));
}

/* A stream of 300 pages in a row (records of 256 and 44), from the source. */
static size_t save_run(struct __test_metadata *_metadata,
		       struct _test_data_stream *self, uint8_t **s, size_t *cap)
{
	static uint8_t page[4096];
	size_t p, i;
	ssize_t n;

	for (p = 0; p < 300; p++) {
		for (i = 0; i < sizeof(page); i++)
			page[i] = run_byte(p, i);
		mdl_pwrite(&self->src, BAR2, (64 + p) << 12, page, sizeof(page));
	}
	n = mdl_save(&self->src, s, cap);
	EXPECT_EQ(0, __mdl_mig_set(&self->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	return n > 0 ? n : 0;
}

/* The destination has the source's 300 pages, and its other state. */
static void expect_dst_has_run(struct __test_metadata *_metadata,
			       struct _test_data_stream *self)
{
	static uint8_t page[4096];
	size_t p, i, bad = 0;

	for (p = 0; p < 300; p++) {
		ASSERT_EQ(4096, mdl_pread(&self->dst, BAR2, (64 + p) << 12, page,
					  sizeof(page)));
		for (i = 0; i < sizeof(page); i++)
			bad += page[i] != run_byte(p, i);
	}
	EXPECT_EQ(0, bad);
	expect_dst_has_src(_metadata, self);
}

/*
 * Where a write carries whole pages of a 1.4 stream's DEVMEM record they
 * go from the user's buffer straight into the destination's staging
 * memory, checksummed as they are copied.  Writes of any size and
 * alignment are taken whole; a write whose buffer faults midway takes
 * only the bytes before the fault and says so, and the rest written again
 * restores the device exactly; a write from a mapping of the
 * destination's own device memory, whose fault takes that memory's lock,
 * completes; and a page changed in the user's buffer is refused.
 */
TEST_F_TIMEOUT(stream, direct_writes, 300)
{
	static const size_t sizes[] = {
		1 << 20, 1, 4095, 4096, 40 + 4096, 3 * 4096 + 77, 100,
		64 * 4096 + 5, 8192,
	};
	size_t pg = 4096, cap = 0, len, done, c;
	unsigned int i, faulted = 0, short_writes = 0;
	uint8_t *s = NULL, *p, *bar2;
	ssize_t w;
	int fd;

	len = save_run(_metadata, self, &s, &cap);
	ASSERT_GT(len, 300 * pg);
	ASSERT_EQ(MIGDEV_STREAM_MINOR, ((struct migdev_stream_header *)s)->minor);

	/* Any size: every write is taken whole. */
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RESUMING, &fd));
	for (done = 0, i = 0; done < len; done += w, i++) {
		c = sizes[i % ARRAY_SIZE(sizes)];
		c = c < len - done ? c : len - done;
		w = write(fd, s + done, c);
		ASSERT_EQ((ssize_t)c, w)
			TH_LOG("write %u of %zu at %zu: errno %d", i, c, done,
			       errno);
	}
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RUNNING, NULL));
	expect_dst_has_run(_metadata, self);
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));

	/*
	 * From the end of a buffer whose next page is not accessible: each
	 * write faults after c bytes, and must take at most those.
	 */
	p = mmap(NULL, 11 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mprotect(p + 10 * pg, pg, PROT_NONE));
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RESUMING, &fd));
	for (done = 0, i = 0; done < len; i++) {
		c = (i * 7919) % (10 * pg) + 1;
		c = c < len - done ? c : len - done;
		memcpy(p + 10 * pg - c, s + done, c);
		w = write(fd, p + 10 * pg - c, c + 100);
		if (w < 0) {
			ASSERT_EQ(EFAULT, errno);
			faulted++;
			/* Nothing was taken: the same bytes, not past the end. */
			w = write(fd, p + 10 * pg - c, c);
			ASSERT_EQ((ssize_t)c, w);
		} else {
			ASSERT_LE((size_t)w, c);
			short_writes += (size_t)w < c;
		}
		done += w;
	}
	close(fd);
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RUNNING, NULL))
		TH_LOG("the writes that faulted lost or changed bytes");
	expect_dst_has_run(_metadata, self);
	TH_LOG("%u writes faulted with nothing taken, %u were short", faulted,
	       short_writes);
	EXPECT_GT(faulted + short_writes, 0);
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	munmap(p, 11 * pg);

	/* From the destination's own device memory, past the stream's pages. */
	bar2 = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_SHARED,
		    self->dst.fd, mdl_region_off(BAR2));
	ASSERT_NE(MAP_FAILED, bar2);
	ASSERT_LT(len, 2 << 20);
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RESUMING, &fd));
	memcpy(bar2 + (2 << 20), s, len);
	EXPECT_EQ((ssize_t)len, write(fd, bar2 + (2 << 20), len));
	close(fd);
	munmap(bar2, 4 << 20);
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RUNNING, NULL));
	expect_dst_has_run(_metadata, self);
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	restore_dst(self);

	/* A byte of the 200th page changed: refused at the record's end. */
	memcpy(self->out, s, len);
	for (done = HDR; ; ) {
		struct migdev_stream_record *r = (void *)(self->out + done);

		ASSERT_LT(done, len);
		if (le32toh(r->tag) == MIGDEV_TAG_DEVMEM &&
		    le64toh(r->size) > 200 * pg) {
			self->out[done + REC + 16 + 199 * pg + 1234] ^= 0x40;
			break;
		}
		done += REC + le64toh(r->size);
	}
	expect_refused(_metadata, self, self->out, len, 1 << 20, -EBADMSG,
		       "a byte of a page taken directly changed");
	free(s);
}

/* A source can emit 1.0; a destination limited to 1.0 refuses newer ones. */
TEST_F(stream, older_minor_versions)
{
	char path[256];
	uint8_t *s = NULL;
	size_t cap = 0;
	ssize_t n;
	int fd;

	ASSERT_EQ(MIGDEV_STREAM_MINOR,
		  ((struct migdev_stream_header *)self->good)->minor);
	EXPECT_GE(find(self, MIGDEV_TAG_SOURCE_INFO), 0);
	/* Destination speaking only 1.0 refuses a newer stream, early. */
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/migdev/migration_minor",
		 self->du);
	ASSERT_EQ(0, mdl_sysfs_write(path, "0"));
	ASSERT_EQ(0, __mdl_mig_set(&self->dst, VFIO_DEVICE_STATE_RESUMING, &fd));
	EXPECT_EQ(-1, write(fd, self->good, HDR));
	EXPECT_EQ(EPROTONOSUPPORT, errno);
	close(fd);
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	/* The source emits 1.0 for it: accepted. */
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/migdev/migration_minor",
		 self->su);
	ASSERT_EQ(0, mdl_sysfs_write(path, "0"));
	EXPECT_EQ(-EINVAL, mdl_sysfs_write(path, "9"));
	n = mdl_save(&self->src, &s, &cap);
	ASSERT_GT(n, HDR);
	EXPECT_EQ(0, ((struct migdev_stream_header *)s)->minor);
	ASSERT_EQ(0, mdl_load(&self->dst, s, n, 32768));
	EXPECT_EQ(0x5ca1ab1e, mdl_read64(&self->dst, MIGDEV_REG_SCRATCH));
	/* And a 1.1 destination takes a 1.0 stream too. */
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/migdev/migration_minor",
		 self->du);
	ASSERT_EQ(0, mdl_sysfs_write(path, "1"));
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(0, mdl_load(&self->dst, s, n, 32768));
	free(s);
}

TEST_HARNESS_MAIN
