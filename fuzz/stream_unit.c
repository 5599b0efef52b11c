// SPDX-License-Identifier: GPL-2.0-only
/*
 * Known answers for the migration stream decoder (emul/stream.c), built in
 * userspace: valid streams of every type are accepted however they are
 * cut into writes, and typical bad ones are refused with the right errno.
 * Prints KTAP-style "ok N name" lines and a "# Totals:" line; exits 1 if
 * any test failed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bitmap.h>
#include <linux/kernel.h>
#include <linux/sizes.h>
#include <linux/unaligned.h>

#include "streamgen.h"
#include "ktap.h"

#define HDR	sizeof(struct migdev_stream_header)
#define REC	sizeof(struct migdev_stream_record)
#define RECSZ_OPAQUE	MIGDEV_STREAM_OPAQUE_SIZE

static u8 *payload;

/* What the device-memory callback saw; it can be told to fail. */
struct sink {
	u64 pages;
	u64 zero_pages;
	u64 bad;
	unsigned int calls;
	unsigned int fail_at;	/* 1-based call to fail; 0: never */
	unsigned long *seen;	/* if set: a bit per page received */
};

static int sink_devmem(void *priv, u64 first, u32 count, const void *data)
{
	struct sink *s = priv;
	const u8 *p = data;
	size_t i;

	if (++s->calls == s->fail_at)
		return -ENOMEM;
	if (!data) {
		s->zero_pages += count;
		for (i = 0; s->seen && i < count; i++)
			s->seen[(first + i) / (8 * sizeof(long))] &=
				~(1UL << ((first + i) % (8 * sizeof(long))));
		return 0;
	}
	for (i = 0; i < (size_t)count * 4096; i++)
		if (p[i] != sg_page_byte(first + i / 4096, i % 4096))
			s->bad++;
	for (i = 0; s->seen && i < count; i++)
		s->seen[(first + i) / (8 * sizeof(long))] |=
			1UL << ((first + i) % (8 * sizeof(long)));
	s->pages += count;
	return 0;
}

static u64 rng_state = 0x9e3779b97f4a7c15ULL;

static u64 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/*
 * CUT_DIRECT feeds as the kernel's resume write() does: whole pages taken
 * by the caller where migdev_stream_dec_direct() allows, the rest in
 * pieces of at most migdev_stream_dec_want().
 */
enum cut { CUT_WHOLE, CUT_BYTES, CUT_RANDOM, CUT_DIRECT };

/* Take up to @n pages at @s as the caller, as migfile.c's write does. */
static ssize_t take_direct(struct migdev_stream_dec *dec, const u8 *s,
			   size_t len)
{
	struct xxh64_state st;
	u64 first;
	u32 n = migdev_stream_dec_direct(dec, &first, &st), i;
	int ret;

	n = n < len / 4096 ? n : len / 4096;
	if (n > 1)
		n = 1 + rng() % n;
	for (i = 0; i < n; i++) {
		ret = dec->devmem(dec->priv, first + i, 1, s + (size_t)i * 4096);
		if (ret)
			return -1004;	/* the test's sinks do not fail here */
		xxh64_update(&st, s + (size_t)i * 4096, 4096);
	}
	if (!n)
		return 0;
	ret = migdev_stream_dec_direct_done(dec, n, &st);
	return ret ? ret : (ssize_t)n * 4096;
}

/*
 * Decode @len bytes of @s for a destination of geometry @g, cut as @cut
 * says; returns the first error of a write, else that of finish.  Checks
 * that an error sticks: the rest of the writes and finish return it too.
 */
static int decode(struct migdev_stream_dec *dec, struct sink *sink,
		  const struct migdev_geom *g, u16 max_minor, const u8 *s,
		  size_t len, enum cut cut)
{
	size_t off = 0;
	int err = 0, fin;

	migdev_stream_dec_init(dec, g->type_id, g->nr_queues, g->devmem_size,
			       max_minor, payload);
	dec->devmem = sink_devmem;
	dec->priv = sink;
	while (off < len) {
		size_t n = len - off;
		ssize_t ret;

		if (cut == CUT_BYTES)
			n = 1;
		else if (cut == CUT_RANDOM && n > 1)
			n = 1 + rng() % (rng() % 2 ? 64 : 8192) % n;
		ret = cut == CUT_DIRECT && !err ?
		      take_direct(dec, s + off, n) : 0;
		if (ret > 0) {
			off += ret;
			continue;
		}
		if (cut == CUT_DIRECT && !ret) {
			size_t want = migdev_stream_dec_want(dec);

			if (!want)
				return -1005;
			n = n < want ? n : want;
		}
		if (!ret)
			ret = migdev_stream_dec_write(dec, s + off, n);
		if (ret < 0 && !err)
			err = ret;
		else if (err && ret != err)
			return -1000;	/* not sticky: no errno is this */
		else if (!err && ret != (ssize_t)n)
			return -1001;
		off += n;
	}
	fin = migdev_stream_dec_finish(dec);
	if (err && fin != err)
		return -1002;
	if (!memchr(dec->err, 0, sizeof(dec->err)))
		return -1003;
	return err ? err : fin;
}

static struct migdev_stream_dec dec;

/* Accepted, with the state whole and the pages as sent. */
static bool accepted(int ret, const struct sink *sink, const struct sg_opts *o,
		     const struct migdev_geom *g)
{
	if (ret)
		printf("# refused: %d: %s\n", ret, dec.err);
	return !ret && dec.phase == MIGDEV_DEC_DONE && dec.have_config &&
	       dec.have_regs && dec.have_msix &&
	       dec.queues_seen == (1U << g->nr_queues) - 1 &&
	       dec.have_source_info == (o->minor >= 1) &&
	       sink->pages == o->pages && sink->zero_pages == o->zero_pages &&
	       !sink->bad && dec.pages == o->pages + o->zero_pages;
}

static void test_valid(void)
{
	static const struct sg_opts opts[] = {
		{ .minor = 1, .pages = 3, .zero_pages = 5, .optional = true,
		  .busy = true },
		{ .minor = 0, .pages = 300, .zero_pages = 600 },
		/* XXH64 over pages, state and a skipped optional record. */
		{ .minor = MIGDEV_STREAM_MINOR, .pages = 3, .zero_pages = 5,
		  .optional = true, .busy = true },
	};
	unsigned int t, i;
	enum cut cut;

	for (t = 0; t < MIGDEV_NUM_TYPES; t++) {
		const struct migdev_geom *g = &sg_types[t];

		for (i = 0; i < ARRAY_SIZE(opts); i++) {
			static const char *const cut_names[] = {
				"in one write", "1 byte at a time",
				"in random pieces", "pages taken directly",
			};
			struct sg_buf b;

			sg_init(&b, 4 << 20);
			sg_build(&b, g, &opts[i]);
			for (cut = CUT_WHOLE; cut <= CUT_DIRECT; cut++) {
				struct sink sink = {};
				int ret;

				ret = decode(&dec, &sink, g, MIGDEV_STREAM_MINOR,
					     b.p, b.len, cut);
				result(accepted(ret, &sink, &opts[i], g) &&
				       dec.offset == b.len,
				       "%s: valid 1.%u stream, %u+%u pages, %zu bytes, %s",
				       sg_type_names[t], opts[i].minor,
				       opts[i].pages, opts[i].zero_pages, b.len,
				       cut_names[cut]);
			}
			sg_free(&b);
		}
	}
}

/* A valid small stream in @b, with 2 pages and an optional record. */
static const struct sg_opts small_opts = {
	.minor = 1, .pages = 2, .zero_pages = 1, .optional = true, .busy = true,
};

static void small_stream(struct sg_buf *b)
{
	sg_init(b, 1 << 20);
	sg_build(b, &sg_types[MIGDEV_TYPE_SMALL], &small_opts);
}

/* Offset of the @nth record (0-based) of stream @b, or 0. */
static size_t record_at(const struct sg_buf *b, unsigned int nth)
{
	size_t off = HDR;

	while (off + REC <= b->len) {
		struct migdev_stream_record r;

		memcpy(&r, b->p + off, REC);	/* records are not aligned */
		if (!nth--)
			return off;
		off += REC + le64_to_cpu(r.size);
	}
	return 0;
}

/* Offset of the first record with @tag, or 0. */
static size_t record_tag(const struct sg_buf *b, u32 tag)
{
	unsigned int i;
	size_t off;

	for (i = 0; (off = record_at(b, i)); i++)
		if (get_unaligned_le32(b->p + off) == tag)
			return off;
	return 0;
}

/* Set the size field of the record header at @rec. */
static void put_size(u8 *rec, u64 size)
{
	__le64 v = cpu_to_le64(size);

	memcpy(rec + offsetof(struct migdev_stream_record, size), &v, sizeof(v));
}

static void expect(const char *name, const struct migdev_geom *g, u16 max_minor,
		   const u8 *s, size_t len, int want, const char *msg)
{
	enum cut cut;

	for (cut = CUT_WHOLE; cut <= CUT_DIRECT; cut++) {
		struct sink sink = {};
		int ret = decode(&dec, &sink, g, max_minor, s, len, cut);
		bool ok = ret == want && (!msg || strstr(dec.err, msg));

		if (!ok || cut == CUT_WHOLE)
			printf("# %s: %d (%s) at byte %llu\n", name, ret,
			       dec.err, (unsigned long long)dec.offset);
		if (!ok)
			break;
		if (cut == CUT_DIRECT)
			result(true, "%s", name);
	}
	if (cut <= CUT_DIRECT)
		result(false, "%s: want %d%s%s", name, want, msg ? " with " : "",
		       msg ? msg : "");
}

static void test_bad(void)
{
	const struct migdev_geom *small = &sg_types[MIGDEV_TYPE_SMALL];
	struct migdev_stream_header *h;
	struct sg_buf b, c;
	size_t off;

	small_stream(&b);
	sg_init(&c, 1 << 20);

	/* The baseline the cases below break. */
	expect("small stream as built is accepted", small, 1, b.p, b.len, 0, NULL);

	memcpy(c.p, b.p, b.len);
	c.p[0] ^= 1;
	expect("bad magic: -EINVAL", small, 1, c.p, b.len, -EINVAL,
	       "not a migdev stream");

	memcpy(c.p, b.p, b.len);
	c.p[offsetof(struct migdev_stream_header, crc)] ^= 0x80;
	expect("bad header checksum: -EBADMSG", small, 1, c.p, b.len, -EBADMSG,
	       "header checksum");

	memcpy(c.p, b.p, b.len);
	c.p[offsetof(struct migdev_stream_header, devmem_size)] ^= 1;
	expect("header byte flipped: -EBADMSG", small, 1, c.p, b.len, -EBADMSG,
	       "header checksum");

	expect("type mismatch: -EINVAL", &sg_types[MIGDEV_TYPE_MEDIUM], 1,
	       b.p, b.len, -EINVAL, "type mismatch");

	/* Same type, other geometry (a tampered destination). */
	{
		struct migdev_geom g = *small;

		g.devmem_size *= 2;
		expect("geometry mismatch: -EINVAL", &g, 1, b.p, b.len,
		       -EINVAL, "geometry mismatch");
	}

	expect("stream 1.2 to a 1.0 destination: -EPROTONOSUPPORT", small, 0,
	       b.p, b.len, -EPROTONOSUPPORT, "newer");

	memcpy(c.p, b.p, b.len);
	h = (void *)c.p;
	migdev_stream_header_init(h, small->type_id, small->nr_queues,
				  small->devmem_size, MIGDEV_STREAM_MINOR + 1);
	expect("newer minor: -EPROTONOSUPPORT", small, MIGDEV_STREAM_MINOR,
	       c.p, b.len, -EPROTONOSUPPORT, "newer");

	memcpy(c.p, b.p, b.len);
	h->major = cpu_to_le16(2);
	h->crc = cpu_to_le32(migdev_stream_crc(h, offsetof(typeof(*h), crc)));
	expect("major 2: -EPROTONOSUPPORT", small, 1, c.p, b.len,
	       -EPROTONOSUPPORT, "major");

	memcpy(c.p, b.p, b.len);
	h->abi_version = cpu_to_le32(MIGDEV_ABI_VERSION + 1);
	h->crc = cpu_to_le32(migdev_stream_crc(h, offsetof(typeof(*h), crc)));
	expect("newer device ABI: -EPROTONOSUPPORT", small, 1, c.p, b.len,
	       -EPROTONOSUPPORT, "device ABI");

	expect("empty stream: finish -EINVAL", small, 1, b.p, 0, -EINVAL,
	       "truncated: 0 of 64 header");
	expect("truncated in the header: finish -EINVAL", small, 1, b.p, HDR - 1,
	       -EINVAL, "truncated: 63 of 64");
	expect("header only: finish -EINVAL", small, 1, b.p, HDR, -EINVAL,
	       "no end record");
	expect("last byte missing: finish -EINVAL", small, 1, b.p, b.len - 1,
	       -EINVAL, "no end record");
	off = record_tag(&b, MIGDEV_TAG_END);
	expect("END record missing: finish -EINVAL", small, 1, b.p, off,
	       -EINVAL, "no end record");
	expect("truncated in a page: finish -EINVAL", small, 1, b.p,
	       HDR + REC + 100, -EINVAL, "no end record");

	memcpy(c.p, b.p, b.len);
	c.p[record_tag(&b, MIGDEV_TAG_DEVMEM) + REC + 16 + 4095] ^= 0x10;
	expect("page byte flipped: -EBADMSG", small, 1, c.p, b.len, -EBADMSG,
	       "checksum mismatch");

	memcpy(c.p, b.p, b.len);
	c.p[record_tag(&b, MIGDEV_TAG_QUEUE) + REC + 40] ^= 1;
	expect("queue byte flipped: -EBADMSG", small, 1, c.p, b.len, -EBADMSG,
	       "checksum mismatch");

	memcpy(c.p, b.p, b.len);
	c.p[b.len] = 0;
	expect("a byte after END: -EINVAL", small, 1, c.p, b.len + 1, -EINVAL,
	       "after the end");

	memcpy(c.p, b.p, b.len);
	memcpy(c.p + b.len, b.p, b.len);
	expect("two streams back to back: -EINVAL", small, 1, c.p, 2 * b.len,
	       -EINVAL, "after the end");

	/* The checksum follows the minor (XXH64 from 1.4). */
	{
		struct sg_opts o = small_opts;
		struct sg_buf x;
		size_t q;

		o.minor = MIGDEV_STREAM_MINOR;
		sg_init(&x, 1 << 20);
		sg_build(&x, small, &o);
		expect("1.4 stream as built is accepted", small,
		       MIGDEV_STREAM_MINOR, x.p, x.len, 0, NULL);
		q = record_tag(&x, MIGDEV_TAG_QUEUE) +
		    offsetof(struct migdev_stream_record, crc_hi);
		memcpy(c.p, x.p, x.len);
		c.p[q + 3] ^= 0x80;
		expect("1.4: high half of XXH64 flipped: -EBADMSG", small,
		       MIGDEV_STREAM_MINOR, c.p, x.len, -EBADMSG,
		       "checksum mismatch");
		/* A source that framed 1.4 with 1.3's checksum. */
		memcpy(c.p, x.p, x.len);
		off = record_tag(&x, MIGDEV_TAG_REGS);
		put_unaligned_le32(migdev_stream_crc(c.p + off + REC,
						     sizeof(struct migdev_rec_regs)),
				   c.p + off + offsetof(struct migdev_stream_record, crc));
		put_unaligned_le32(0, c.p + off +
				   offsetof(struct migdev_stream_record, crc_hi));
		expect("1.4 record with a CRC-32C: -EBADMSG", small,
		       MIGDEV_STREAM_MINOR, c.p, x.len, -EBADMSG,
		       "record tag 4 of 48 bytes: checksum mismatch");
		/* Pages the caller takes itself are checked all the same. */
		memcpy(c.p, x.p, x.len);
		off = record_tag(&x, MIGDEV_TAG_DEVMEM);
		c.p[off + REC + 16 + 4096 + 17] ^= 0x01;
		expect("1.4: second page's byte flipped: -EBADMSG", small,
		       MIGDEV_STREAM_MINOR, c.p, x.len, -EBADMSG,
		       "record tag 1 of 8208 bytes: checksum mismatch");
		memcpy(c.p, x.p, x.len);
		put_unaligned_le32(0x01000000, c.p + off + REC +
				   offsetof(struct migdev_rec_devmem, count));
		expect("1.4: DEVMEM of 2^24 pages: -EINVAL", small,
		       MIGDEV_STREAM_MINOR, c.p, x.len, -EINVAL,
		       "outside the device");
		sg_free(&x);

		memcpy(c.p, b.p, b.len);
		c.p[record_tag(&b, MIGDEV_TAG_REGS) +
		    offsetof(struct migdev_stream_record, crc_hi)] = 1;
		expect("1.1: crc_hi (reserved) not 0: -EINVAL", small,
		       MIGDEV_STREAM_MINOR, c.p, b.len, -EINVAL,
		       "reserved field not 0");
	}

	/* Unknown tags, mandatory and optional, spliced in after the header. */
	c.len = 0;
	sg_append(&c, b.p, HDR);
	sg_record(&c, 0x1234, 0, "x", 1);
	sg_append(&c, b.p + HDR, b.len - HDR);
	expect("unknown mandatory tag: -EINVAL", small, 1, c.p, c.len, -EINVAL,
	       "unknown mandatory record tag 4660");

	c.len = 0;
	sg_append(&c, b.p, HDR);
	sg_record(&c, 0x1234, MIGDEV_REC_F_OPTIONAL, b.p, 1000);
	sg_record(&c, 0x7ffffffe, MIGDEV_REC_F_OPTIONAL, NULL, 0);
	sg_append(&c, b.p + HDR, b.len - HDR);
	expect("unknown optional tags: skipped, accepted", small, 1, c.p, c.len,
	       0, NULL);

	c.len = 0;
	sg_append(&c, b.p, HDR);
	off = sg_record(&c, 0x1234, MIGDEV_REC_F_OPTIONAL, b.p, 1000);
	c.p[off + REC + 999] ^= 1;
	sg_append(&c, b.p + HDR, b.len - HDR);
	expect("unknown optional tag, payload corrupt: -EBADMSG", small, 1,
	       c.p, c.len, -EBADMSG, "optional record tag 4660: checksum");

	c.len = 0;
	sg_append(&c, b.p, HDR);
	off = sg_record(&c, 0x1234, MIGDEV_REC_F_OPTIONAL, NULL, 0);
	put_size(c.p + off, MIGDEV_STREAM_MAX_SKIP + 1);
	expect("unknown optional tag over 1 MiB: -EINVAL", small, 1, c.p,
	       c.len, -EINVAL, "more than");

	memcpy(c.p, b.p, b.len);
	put_unaligned_le32(2, c.p + record_tag(&b, MIGDEV_TAG_END) +
			   offsetof(struct migdev_stream_record, flags));
	expect("unknown record flag: -EINVAL", small, 1, c.p, b.len, -EINVAL,
	       "unknown flags");

	memcpy(c.p, b.p, b.len);
	put_size(c.p + record_tag(&b, MIGDEV_TAG_REGS),
		 sizeof(struct migdev_rec_regs) + 8);
	expect("REGS of the wrong size: -EINVAL", small, 1, c.p, b.len, -EINVAL,
	       "bad payload size");

	memcpy(c.p, b.p, b.len);
	put_size(c.p + record_tag(&b, MIGDEV_TAG_DEVMEM), ~0ULL);
	expect("DEVMEM of 2^64-1 bytes: -EINVAL", small, 1, c.p, b.len, -EINVAL,
	       "bad payload size");

	/* Records that are whole and checksummed but wrong. */
	c.len = 0;
	off = record_tag(&b, MIGDEV_TAG_CONFIG);
	sg_append(&c, b.p, off);
	sg_append(&c, b.p + off, REC + PCI_CFG_SPACE_SIZE);	/* twice */
	sg_append(&c, b.p + off, b.len - off);
	expect("CONFIG twice: -EINVAL", small, 1, c.p, c.len, -EINVAL,
	       "record tag 3 repeated");

	c.len = 0;
	off = record_tag(&b, MIGDEV_TAG_CONFIG);
	sg_append(&c, b.p, off);
	{
		u8 cfg[PCI_CFG_SPACE_SIZE];

		memcpy(cfg, b.p + off + REC, sizeof(cfg));
		cfg[PCI_VENDOR_ID] ^= 1;
		sg_record(&c, MIGDEV_TAG_CONFIG, 0, cfg, sizeof(cfg));
	}
	sg_append(&c, b.p + off + REC + PCI_CFG_SPACE_SIZE,
		  b.len - off - REC - PCI_CFG_SPACE_SIZE);
	expect("CONFIG with another vendor ID: -EINVAL", small, 1, c.p, c.len,
	       -EINVAL, "read-only bits differ");

	c.len = 0;
	sg_header(&c, small, 1);
	sg_devmem(&c, small->devmem_size / 4096 - 1, 2);
	expect("DEVMEM past the device: -EINVAL", small, 1, c.p, c.len, -EINVAL,
	       "outside the device");

	c.len = 0;
	sg_header(&c, small, 1);
	sg_devmem_zero(&c, 0, MIGDEV_REC_MAX_PAGES + 1);
	expect("DEVMEM_ZERO of 257 pages: -EINVAL", small, 1, c.p, c.len,
	       -EINVAL, "outside the device");

	c.len = 0;
	off = record_tag(&b, MIGDEV_TAG_QUEUE);
	sg_append(&c, b.p, off);
	sg_append(&c, b.p + off + REC + sizeof(struct migdev_rec_queue),
		  b.len - off - REC - sizeof(struct migdev_rec_queue));
	expect("no QUEUE record: -EINVAL at END", small, 1, c.p, c.len, -EINVAL,
	       "without the device state");

	/*
	 * A busy queue whose ring is empty: its descriptor in flight is the
	 * one at HEAD, so TAIL must be past it.  Accepted, the engine would
	 * complete it and then run 2^32 stale ring slots.
	 */
	c.len = 0;
	off = record_tag(&b, MIGDEV_TAG_QUEUE);
	sg_append(&c, b.p, off);
	{
		struct migdev_rec_queue q;

		memcpy(&q, b.p + off + REC, sizeof(q));
		result(le32_to_cpu(q.state) & MIGDEV_QSTATE_ACTIVE,
		       "the small stream's first queue is busy");
		q.tail = q.head;
		sg_record(&c, MIGDEV_TAG_QUEUE, 0, &q, sizeof(q));
	}
	sg_append(&c, b.p + off + REC + sizeof(struct migdev_rec_queue),
		  b.len - off - REC - sizeof(struct migdev_rec_queue));
	expect("QUEUE busy with HEAD == TAIL: -EINVAL", small, 1, c.p, c.len,
	       -EINVAL, "busy with an empty ring");

	/*
	 * A disabled queue whose ABORTED record is due (busy, not enabled):
	 * said from 1.3 on, refused in older streams, and held to the rules
	 * of a busy queue (a valid ring, not halted).
	 */
	{
		static const struct {
			u16 minor;
			u32 state;
			u32 ring_size;
			int want;
			const char *msg;
		} cases[] = {
			{ 3, MIGDEV_QSTATE_ACTIVE, 64, 0, NULL },
			{ 2, MIGDEV_QSTATE_ACTIVE, 64, -EINVAL,
			  "busy while disabled (stream 1.2" },
			{ 3, MIGDEV_QSTATE_ACTIVE, 3, -EINVAL,
			  "busy with an invalid ring" },
			{ 3, MIGDEV_QSTATE_ACTIVE | MIGDEV_QSTATE_HALTED, 64,
			  -EINVAL, "halted while disabled" },
		};
		unsigned int i;

		for (i = 0; i < ARRAY_SIZE(cases); i++) {
			struct migdev_rec_queue q;
			char name[96];

			c.len = 0;
			off = record_tag(&b, MIGDEV_TAG_QUEUE);
			sg_header(&c, small, cases[i].minor);
			sg_append(&c, b.p + HDR, off - HDR);
			memcpy(&q, b.p + off + REC, sizeof(q));
			q.state = cpu_to_le32(cases[i].state);
			q.ring_size = cpu_to_le32(cases[i].ring_size);
			sg_record(&c, MIGDEV_TAG_QUEUE, 0, &q, sizeof(q));
			sg_append(&c, b.p + off + REC + sizeof(q),
				  b.len - off - REC - sizeof(q));
			snprintf(name, sizeof(name),
				 "QUEUE disabled, state 0x%x, ring %u, in 1.%u: %d",
				 cases[i].state, cases[i].ring_size,
				 cases[i].minor, cases[i].want);
			expect(name, small, MIGDEV_STREAM_MINOR, c.p, c.len,
			       cases[i].want, cases[i].msg);
		}
	}

	/* The callback's error is the stream's. */
	{
		struct sink sink = { .fail_at = 2 };
		int ret = decode(&dec, &sink, small, 1, b.p, b.len, CUT_WHOLE);

		result(ret == -ENOMEM && strstr(dec.err, "storing pages"),
		       "device memory callback error: -ENOMEM (%s)", dec.err);
	}

	/* A zero-length write is a no-op, before and after a failure. */
	{
		static const u8 zeros[HDR];
		struct sink sink = {};
		ssize_t r1, r2, r3;

		migdev_stream_dec_init(&dec, small->type_id, small->nr_queues,
				       small->devmem_size, 1, payload);
		dec.devmem = sink_devmem;
		dec.priv = &sink;
		r1 = migdev_stream_dec_write(&dec, b.p, 0);
		r2 = migdev_stream_dec_write(&dec, zeros, sizeof(zeros));
		r3 = migdev_stream_dec_write(&dec, b.p, 0);
		result(r1 == 0 && r2 == -EINVAL && r3 == 0,
		       "zero-length writes return 0 (%zd, %zd, %zd)", r1, r2, r3);
	}

	sg_free(&c);
	sg_free(&b);
}

static void test_crc(void)
{
	u32 crc = migdev_stream_crc("123456789", 9);

	result(crc == 0xe3069283, "CRC-32C check value 0x%08x", crc);
}

/*
 * XXH64 (seed 0), the records' checksum from 1.4: the shim's against
 * published values, and streamed in pieces as the decoder's skip does.
 */
static void test_xxh64(void)
{
	static const char spam[] = "Nobody inspects the spammish repetition";
	u64 e = xxh64("", 0, 0), a = xxh64("abc", 3, 0);
	u64 l = xxh64(spam, strlen(spam), 0);
	u8 data[1000];
	struct xxh64_state st;
	size_t i, n;
	bool same = true;
	u32 seed = 7;

	result(e == 0xef46db3751d8e999ULL && a == 0x44bc2cf5ad770999ULL &&
	       l == 0xfbcea83c8a378bf1ULL,
	       "XXH64 known values (0x%016llx 0x%016llx 0x%016llx)",
	       (unsigned long long)e, (unsigned long long)a,
	       (unsigned long long)l);
	for (i = 0; i < sizeof(data); i++)
		data[i] = sg_page_byte(3, i);
	for (n = 1; n <= 64 && same; n++) {
		xxh64_reset(&st, 0);
		for (i = 0; i < sizeof(data); ) {
			size_t k;

			seed = seed * 1103515245 + 12345;
			k = (seed >> 16) % n + 1;
			k = k < sizeof(data) - i ? k : sizeof(data) - i;
			xxh64_update(&st, data + i, k);
			i += k;
		}
		same = xxh64_digest(&st) == xxh64(data, sizeof(data), 0);
	}
	result(same, "XXH64 in random pieces equals XXH64 in one (up to %zu)",
	       n - 1);
	result(migdev_stream_sum(MIGDEV_STREAM_MINOR_XXH64, data, sizeof(data)) ==
	       xxh64(data, sizeof(data), 0) &&
	       migdev_stream_sum(MIGDEV_STREAM_MINOR_XXH64 - 1, data,
				 sizeof(data)) ==
	       migdev_stream_crc(data, sizeof(data)),
	       "record checksum: XXH64 from 1.%u, CRC-32C before",
	       MIGDEV_STREAM_MINOR_XXH64);
}

/*
 * The encoder (emul/stream_enc.c) in userspace: a fake device memory whose
 * present pages hold sg_page_byte(), and whose writes the test marks dirty.
 */
struct fake_mem {
	u64 npages;
	unsigned long present[1024 / FZ_BITS_PER_LONG];
	unsigned long dirty[1024 / FZ_BITS_PER_LONG];
	u64 discards;
};

static u32 fake_next_run(void *priv, u64 from, u32 max, u64 *first)
{
	struct fake_mem *m = priv;
	u64 i = find_next_bit(m->present, m->npages, from);
	u32 n = 0;

	*first = i;
	while (i + n < m->npages && n < max && fz_test_bit(i + n, m->present))
		n++;
	return n;
}

static void fake_read(void *priv, u64 first, u32 count, void *buf)
{
	struct fake_mem *m = priv;
	u8 *p = buf;
	size_t i;

	for (i = 0; i < (size_t)count * 4096; i++)
		p[i] = fz_test_bit(first + i / 4096, m->present) ?
		       sg_page_byte(first + i / 4096, i % 4096) : 0;
}

static u64 fake_collect(void *priv, unsigned long *bits)
{
	struct fake_mem *m = priv;
	u64 i, n = 0;

	for (i = 0; i < m->npages; i++)
		n += fz_test_bit(i, m->dirty);
	memcpy(bits, m->dirty, sizeof(m->dirty));
	memset(m->dirty, 0, sizeof(m->dirty));
	return n;
}

static u64 fake_discards(void *priv)
{
	return ((struct fake_mem *)priv)->discards;
}

static const struct migdev_stream_src_ops fake_ops = {
	.next_run = fake_next_run,
	.read = fake_read,
	.collect_dirty = fake_collect,
	.discards = fake_discards,
};

static void fake_set(unsigned long *b, u64 first, u64 count)
{
	for (; count; count--, first++)
		b[first / FZ_BITS_PER_LONG] |= 1UL << (first % FZ_BITS_PER_LONG);
}

/* Run @enc until it returns non-zero, appending to @out: that return. */
static int enc_run(struct migdev_stream_enc *enc, struct sg_buf *out, u8 *buf,
		   unsigned int *pieces)
{
	size_t len;
	int ret;

	while (!(ret = migdev_stream_enc_next(enc, buf, &len))) {
		sg_append(out, buf, len);
		(*pieces)++;
	}
	return ret;
}

/* Where record @tag's payload starts in @s (records from @off), or NULL. */
static const u8 *find_payload(const struct sg_buf *s, size_t off, u32 tag,
			      u32 index)
{
	while (off + REC <= s->len) {
		u32 t = get_unaligned_le32(s->p + off);
		struct migdev_stream_record r;
		u64 size;

		memcpy(&r, s->p + off, REC);	/* records are not aligned */
		size = le64_to_cpu(r.size);

		if (t == tag && (tag != MIGDEV_TAG_QUEUE ||
				 get_unaligned_le32(s->p + off + REC) == index))
			return s->p + off + REC;
		off += REC + size;
	}
	return NULL;
}

/*
 * The encoder's stream: its order (header, the pages present, what was
 * dirtied in pre-copy and after, the state, END), accepted by the decoder
 * with every page and every field of the state as sent; and a stream
 * encoded again from what the decoder received is byte for byte the one
 * encoded from the source's memory.
 */
static void test_encoder(void)
{
	const struct migdev_geom *g = &sg_types[MIGDEV_TYPE_SMALL];
	static struct fake_mem mem, got;
	unsigned long dirty[1024 / FZ_BITS_PER_LONG] = {};
	struct migdev_stream_enc enc;
	struct sg_buf out, st, again, direct;
	unsigned int pieces = 0, i;
	struct sink sink = {};
	const u8 *p;
	bool same;
	u8 *buf;
	int ret;

	buf = malloc(MIGDEV_STREAM_ENC_BUF);
	sg_init(&out, 8 << 20);
	sg_init(&st, 1 << 20);
	sg_init(&again, 8 << 20);
	sg_init(&direct, 8 << 20);
	mem.npages = g->devmem_size / 4096;
	fake_set(mem.present, 0, 3);
	fake_set(mem.present, 10, 1);
	fake_set(mem.present, 300, 301);	/* two records and a bit */
	migdev_stream_enc_init(&enc, &fake_ops, &mem, g, MIGDEV_STREAM_MINOR,
			       true, dirty);
	ret = enc_run(&enc, &out, buf, &pieces);
	/* header, pages 0-2, 10, 300-555, 556-600 */
	result(ret == -ENOMSG && pieces == 5 && enc.initial_done,
	       "encoder: the initial pass, then nothing new (%d, %u pieces)",
	       ret, pieces);

	/* Written while the device runs: a round of dirty pages. */
	fake_set(mem.dirty, 1, 1);
	fake_set(mem.dirty, 700, 2);
	fake_set(mem.present, 700, 2);
	ret = enc_run(&enc, &out, buf, &pieces);
	result(ret == -ENOMSG && pieces == 7 && enc.rounds == 1,
	       "encoder: a pre-copy round of dirty pages (%d, %u pieces, %u rounds)",
	       ret, pieces, enc.rounds);

	/* The device stops, with one page written since the last round. */
	fake_set(mem.dirty, 5, 1);
	fake_set(mem.present, 5, 1);
	sg_state(&st, g, true, NULL);
	st.len += migdev_stream_put_source_info(st.p + st.len, enc.minor,
						 enc.rounds, 4242);
	migdev_stream_enc_stop(&enc, st.p, st.len);
	ret = enc_run(&enc, &out, buf, &pieces);
	result(ret == 1 && pieces == 10 && enc.end_sent,
	       "encoder: stop-copy sends the last page, the state and END (%d, %u pieces)",
	       ret, pieces);
	{
		size_t len;

		result(migdev_stream_enc_next(&enc, buf, &len) == 1 && !len,
		       "encoder: the end stays the end");
	}

	sink.seen = got.present;
	ret = decode(&dec, &sink, g, MIGDEV_STREAM_MINOR, out.p, out.len,
		     CUT_RANDOM);
	result(!ret && dec.phase == MIGDEV_DEC_DONE && sink.pages == 309 &&
	       !sink.bad && !sink.zero_pages,
	       "encoder: decoded whole, %llu pages as sent (%d: %s)",
	       (unsigned long long)sink.pages, ret, dec.err);

	/* Every field of the state survives. */
	same = dec.have_config && dec.have_regs && dec.have_msix &&
	       dec.have_source_info;
	p = find_payload(&st, 0, MIGDEV_TAG_CONFIG, 0);
	same = same && p && !memcmp(p, dec.config, sizeof(dec.config));
	p = find_payload(&st, 0, MIGDEV_TAG_REGS, 0);
	same = same && p && !memcmp(p, &dec.regs, sizeof(dec.regs));
	p = find_payload(&st, 0, MIGDEV_TAG_MSIX, 0);
	same = same && p && !memcmp(p, &dec.msix, sizeof(dec.msix));
	for (i = 0; i < g->nr_queues; i++) {
		p = find_payload(&st, 0, MIGDEV_TAG_QUEUE, i);
		same = same && p && !memcmp(p, &dec.queues[i], sizeof(dec.queues[i]));
	}
	p = find_payload(&st, 0, MIGDEV_TAG_SOURCE_INFO, 0);
	same = same && p && !memcmp(p, &dec.source_info, sizeof(dec.source_info));
	result(same, "encoder: every state field decoded as encoded");

	/*
	 * Encode -> decode -> encode: the pages the decoder received, sent
	 * again in one stop-copy, make the stream the source's memory makes.
	 */
	got.npages = mem.npages;
	pieces = 0;
	migdev_stream_enc_init(&enc, &fake_ops, &mem, g, MIGDEV_STREAM_MINOR,
			       false, dirty);
	migdev_stream_enc_stop(&enc, st.p, st.len);
	ret = enc_run(&enc, &direct, buf, &pieces);
	migdev_stream_enc_init(&enc, &fake_ops, &got, g, MIGDEV_STREAM_MINOR,
			       false, dirty);
	migdev_stream_enc_stop(&enc, st.p, st.len);
	ret |= enc_run(&enc, &again, buf, &pieces) ^ 1;
	result(ret == 1 && direct.len == again.len &&
	       !memcmp(direct.p, again.p, direct.len),
	       "encoder: encode -> decode -> encode is identical (%zu bytes)",
	       again.len);
	sg_free(&out);
	sg_free(&st);
	sg_free(&again);
	sg_free(&direct);
	free(buf);
}

/*
 * A discard of device memory while the device is saved (a
 * reconfiguration): the encoder sends zeros over every page it sent, then
 * only what is present now, and the decoder ends with the source's
 * memory; after the stop's last collection a discard changes nothing.
 */
/*
 * Encode a stop-copy stream of @mem with DEVMEM records of at most @max
 * pages into @out: made by the encoder (@by_hand false), or left to the
 * caller (migdev_stream_enc_next_run()) and made here as migfile.c makes
 * them, the checksum streamed over the struct and then the pages.
 */
static int enc_runs(struct fake_mem *mem, const struct sg_buf *st, u32 max,
		    bool by_hand, struct sg_buf *out, u8 *buf)
{
	const struct migdev_geom *g = &sg_types[MIGDEV_TYPE_SMALL];
	unsigned long dirty[1024 / FZ_BITS_PER_LONG] = {};
	struct migdev_stream_enc enc;
	struct migdev_stream_run run;
	struct migdev_stream_devmem_head head;
	struct xxh64_state xs;
	size_t len;
	int ret;

	migdev_stream_enc_init(&enc, &fake_ops, mem, g, MIGDEV_STREAM_MINOR,
			       false, dirty);
	migdev_stream_enc_stop(&enc, st->p, st->len);
	while (!(ret = migdev_stream_enc_next_run(&enc, buf, &len,
						  by_hand ? &run : NULL, max))) {
		if (!by_hand || !run.count) {
			sg_append(out, buf, len);
			continue;
		}
		if (run.count > max)
			return -1;
		migdev_stream_devmem_head_init(&head, run.first, run.count);
		fake_read(mem, run.first, run.count, buf);
		xxh64_reset(&xs, 0);
		xxh64_update(&xs, &head.devmem, sizeof(head.devmem));
		xxh64_update(&xs, buf, (size_t)run.count * 4096);
		migdev_stream_record_sum(&head.rec, xxh64_digest(&xs));
		sg_append(out, &head, sizeof(head));
		sg_append(out, buf, (size_t)run.count * 4096);
	}
	return ret;
}

/*
 * DEVMEM records of at most N pages, left to the caller to make (the
 * data_fd's direct reads): the same stream as the encoder's own of the
 * same limit, and, at 256, as migdev_stream_enc_next()'s.
 */
static void test_encoder_runs(void)
{
	const struct migdev_geom *g = &sg_types[MIGDEV_TYPE_SMALL];
	static const u32 maxes[] = { 1, 7, 255, 256, 1000 };
	unsigned long dirty[1024 / FZ_BITS_PER_LONG] = {};
	static struct fake_mem mem, got;
	struct migdev_stream_enc enc;
	struct sg_buf st, a, b, ref;
	unsigned int i, pieces = 0;
	u8 *buf = malloc(MIGDEV_STREAM_ENC_BUF);

	sg_init(&st, 1 << 20);
	sg_init(&a, 8 << 20);
	sg_init(&b, 8 << 20);
	sg_init(&ref, 8 << 20);
	mem.npages = g->devmem_size / 4096;
	fake_set(mem.present, 0, 3);
	fake_set(mem.present, 10, 1);
	fake_set(mem.present, 300, 301);
	sg_state(&st, g, true, NULL);
	migdev_stream_enc_init(&enc, &fake_ops, &mem, g, MIGDEV_STREAM_MINOR,
			       false, dirty);
	migdev_stream_enc_stop(&enc, st.p, st.len);
	enc_run(&enc, &ref, buf, &pieces);
	for (i = 0; i < ARRAY_SIZE(maxes); i++) {
		struct sink sink = {};
		int r1, r2, ret;

		a.len = 0;
		b.len = 0;
		memset(got.present, 0, sizeof(got.present));
		r1 = enc_runs(&mem, &st, maxes[i], false, &a, buf);
		r2 = enc_runs(&mem, &st, maxes[i], true, &b, buf);
		sink.seen = got.present;
		ret = decode(&dec, &sink, g, MIGDEV_STREAM_MINOR, b.p, b.len,
			     CUT_RANDOM);
		result(r1 == 1 && r2 == 1 && a.len == b.len &&
		       !memcmp(a.p, b.p, a.len) && !ret && sink.pages == 305 &&
		       !sink.bad &&
		       (maxes[i] < 256 || (b.len == ref.len &&
					   !memcmp(b.p, ref.p, b.len))),
		       "encoder: records of at most %u pages made by the caller (%zu bytes, %d: %s)",
		       maxes[i], b.len, ret, dec.err);
	}
	sg_free(&st);
	sg_free(&a);
	sg_free(&b);
	sg_free(&ref);
	free(buf);
}

static void test_encoder_discard(void)
{
	const struct migdev_geom *g = &sg_types[MIGDEV_TYPE_SMALL];
	static unsigned long got[1024 / FZ_BITS_PER_LONG];
	unsigned long dirty[1024 / FZ_BITS_PER_LONG] = {};
	static struct fake_mem mem;
	struct migdev_stream_enc enc;
	unsigned int pieces = 0, before;
	struct sg_buf out, st;
	struct sink sink = {};
	u8 *buf;
	int ret;

	buf = malloc(MIGDEV_STREAM_ENC_BUF);
	sg_init(&out, 8 << 20);
	sg_init(&st, 1 << 20);
	mem.npages = g->devmem_size / 4096;
	mem.discards = 3;	/* discards before saving began do not count */
	fake_set(mem.present, 0, 3);
	fake_set(mem.present, 300, 301);
	migdev_stream_enc_init(&enc, &fake_ops, &mem, g, MIGDEV_STREAM_MINOR,
			       true, dirty);
	ret = enc_run(&enc, &out, buf, &pieces);
	result(ret == -ENOMSG && pieces == 4 && !enc.reinits,
	       "encoder discard: the initial pass first (%d, %u pieces)",
	       ret, pieces);

	/* The device discards (its pages dirty, as devmem's), then writes one. */
	memset(mem.present, 0, sizeof(mem.present));
	fake_set(mem.dirty, 0, 3);
	fake_set(mem.dirty, 300, 301);
	mem.discards++;
	fake_set(mem.present, 50, 1);
	fake_set(mem.dirty, 50, 1);
	result(migdev_stream_enc_sync(&enc) && enc.reinits == 1 &&
	       migdev_stream_enc_zero_left(&enc) == 601 && !enc.dirty_pending,
	       "encoder discard: the stream restarts, zeros over the 601 pages it sent");
	result(!migdev_stream_enc_sync(&enc) && enc.reinits == 1,
	       "encoder discard: once per discard");
	before = pieces;
	ret = enc_run(&enc, &out, buf, &pieces);
	result(ret == -ENOMSG && pieces - before == 4 && !enc.rounds &&
	       enc.initial_done,
	       "encoder discard: three DEVMEM_ZERO records, then the page written since (%d, %u pieces, %u rounds)",
	       ret, pieces - before, enc.rounds);

	sg_state(&st, g, true, NULL);
	migdev_stream_enc_stop(&enc, st.p, st.len);
	ret = enc_run(&enc, &out, buf, &pieces);
	mem.discards++;
	result(ret == 1 && !migdev_stream_enc_sync(&enc) && enc.reinits == 1,
	       "encoder discard: none after the stop's last collection (%d)", ret);

	sink.seen = got;
	ret = decode(&dec, &sink, g, MIGDEV_STREAM_MINOR, out.p, out.len,
		     CUT_RANDOM);
	result(!ret && dec.phase == MIGDEV_DEC_DONE && sink.pages == 305 &&
	       sink.zero_pages == 601 && !sink.bad &&
	       !memcmp(got, mem.present, sizeof(got)),
	       "encoder discard: the destination ends with the source's pages (%d: %s; %llu pages, %llu zeroed)",
	       ret, dec.err, (unsigned long long)sink.pages,
	       (unsigned long long)sink.zero_pages);
	sg_free(&out);
	sg_free(&st);
	free(buf);
}

/* Re-checksum the record at @off after its payload changed (1.4). */
static void resum(u8 *s, size_t off)
{
	struct migdev_stream_record r;

	memcpy(&r, s + off, REC);
	migdev_stream_record_sum(&r, migdev_stream_sum(MIGDEV_STREAM_MINOR,
						       s + off + REC,
						       le64_to_cpu(r.size)));
	memcpy(s + off, &r, REC);
}

/*
 * Opaque state (MIGDEV_TAG_OPAQUE): accepted whole and in order; refused,
 * even with right checksums, when a word, an index, the seed or the
 * count is wrong, when a block is missing at END, and in a stream older
 * than 1.4.  The encoder sends it after device memory, in stop-copy only,
 * and drops it for an older minor.
 */
static void test_opaque(void)
{
	const struct migdev_geom *g = &sg_types[MIGDEV_TYPE_SMALL];
	const struct sg_opts o = {
		.minor = MIGDEV_STREAM_MINOR, .pages = 2, .opaque = 3,
	};
	static struct fake_mem mem;
	unsigned long dirty[1024 / FZ_BITS_PER_LONG] = {};
	struct migdev_stream_enc enc;
	struct sg_buf b, c, st;
	unsigned int pieces = 0;
	struct sink sink = {};
	size_t off, len;
	u8 *buf;
	int ret;

	sg_init(&b, 1 << 20);
	sg_init(&c, 1 << 20);
	sg_build(&b, g, &o);
	ret = decode(&dec, &sink, g, MIGDEV_STREAM_MINOR, b.p, b.len, CUT_RANDOM);
	result(!ret && dec.opaque_blocks == 3 && dec.opaque_next == 3,
	       "opaque: three blocks accepted (%d: %s)", ret, dec.err);
	expect("opaque: every cut accepts it", g, MIGDEV_STREAM_MINOR, b.p,
	       b.len, 0, NULL);

	off = record_tag(&b, MIGDEV_TAG_OPAQUE);
	memcpy(c.p, b.p, b.len);
	c.p[off + REC + 16 + 4088] ^= 1;
	resum(c.p, off);
	expect("opaque: a word changed, checksum right: -EINVAL", g,
	       MIGDEV_STREAM_MINOR, c.p, b.len, -EINVAL, "block 0 differs at byte 4088");

	memcpy(c.p, b.p, b.len);
	c.p[off + REC + 8] = 1;		/* index 1 first */
	resum(c.p, off);
	expect("opaque: out of order: -EINVAL", g, MIGDEV_STREAM_MINOR, c.p,
	       b.len, -EINVAL, "block 1 of 3");

	memcpy(c.p, b.p, b.len);
	c.p[off + REC + RECSZ_OPAQUE + REC + 0] ^= 1;	/* block 1's seed */
	resum(c.p, off + REC + RECSZ_OPAQUE);
	expect("opaque: seed changed midway: -EINVAL", g, MIGDEV_STREAM_MINOR,
	       c.p, b.len, -EINVAL, "where block 1 of 3");

	memcpy(c.p, b.p, b.len);
	c.p[off + REC + 12] = 0;	/* blocks = 0 */
	resum(c.p, off);
	expect("opaque: zero blocks: -EINVAL", g, MIGDEV_STREAM_MINOR, c.p,
	       b.len, -EINVAL, "of 0 blocks");

	/* The last block left out: END says so. */
	len = off + 2 * (REC + RECSZ_OPAQUE);
	memcpy(c.p, b.p, len);
	memcpy(c.p + len, b.p + len + REC + RECSZ_OPAQUE,
	       b.len - len - REC - RECSZ_OPAQUE);
	expect("opaque: a block missing at END: -EINVAL", g,
	       MIGDEV_STREAM_MINOR, c.p, b.len - REC - RECSZ_OPAQUE, -EINVAL,
	       "after 2 of 3 blocks");

	/* In a 1.3 stream (records checksummed with CRC-32C). */
	b.len = 0;
	{
		struct sg_opts o3 = o;

		o3.minor = 3;
		sg_build(&b, g, &o3);
	}
	expect("opaque: in a 1.3 stream: -EINVAL", g, MIGDEV_STREAM_MINOR,
	       b.p, b.len, -EINVAL, "only from 1.4");

	/* The encoder: after device memory, in stop-copy, and not in 1.3. */
	buf = malloc(MIGDEV_STREAM_ENC_BUF);
	sg_init(&st, 1 << 20);
	sg_state(&st, g, false, NULL);
	mem.npages = g->devmem_size / 4096;
	fake_set(mem.present, 0, 2);
	b.len = 0;
	migdev_stream_enc_init(&enc, &fake_ops, &mem, g, MIGDEV_STREAM_MINOR,
			       true, dirty);
	migdev_stream_enc_opaque(&enc, 4, 77);
	ret = enc_run(&enc, &b, buf, &pieces);
	result(ret == -ENOMSG && !enc.opaque_sent && !record_tag(&b, MIGDEV_TAG_OPAQUE),
	       "opaque: none in pre-copy (%d, %u sent)", ret, enc.opaque_sent);
	migdev_stream_enc_stop(&enc, st.p, st.len);
	ret = enc_run(&enc, &b, buf, &pieces);
	off = record_tag(&b, MIGDEV_TAG_OPAQUE);
	result(ret == 1 && enc.opaque_sent == 4 && off &&
	       off > record_tag(&b, MIGDEV_TAG_DEVMEM) &&
	       off < record_tag(&b, MIGDEV_TAG_CONFIG),
	       "opaque: four blocks in stop-copy, after device memory, before the state");
	ret = decode(&dec, &sink, g, MIGDEV_STREAM_MINOR, b.p, b.len, CUT_BYTES);
	result(!ret && dec.opaque_next == 4 && dec.opaque_seed == 77,
	       "opaque: the encoder's stream decodes (%d: %s)", ret, dec.err);
	b.len = 0;
	migdev_stream_enc_init(&enc, &fake_ops, &mem, g, 3, false, dirty);
	migdev_stream_enc_opaque(&enc, 4, 77);
	migdev_stream_enc_stop(&enc, st.p, st.len);
	ret = enc_run(&enc, &b, buf, &pieces);
	result(ret == 1 && !record_tag(&b, MIGDEV_TAG_OPAQUE),
	       "opaque: dropped from a 1.3 stream");
	free(buf);
	sg_free(&st);
	sg_free(&b);
	sg_free(&c);
}

int main(void)
{
	payload = malloc(MIGDEV_STREAM_DEC_BUF);
	if (!payload)
		return 2;
	printf("KTAP version 1\n");
	test_crc();
	test_xxh64();
	test_valid();
	test_bad();
	test_encoder();
	test_encoder_runs();
	test_encoder_discard();
	test_opaque();
	printf("1..%u\n", nr_test);
	free(payload);
	return ktap_totals();
}
