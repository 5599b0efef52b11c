// SPDX-License-Identifier: GPL-2.0-only
/*
 * Write the generated seeds of the fuzz corpus: valid streams of every
 * type, cut into writes in every way, and a few broken ones, each as a
 * fuzz input (streamgen.h: FZ_PREFIX setup bytes, then the stream).  Only
 * files named "seed-*" are written; what fuzzing adds to the corpus
 * (named by content hash) stays.  Streams carry at most one page of data
 * so that the corpus stays small.
 *
 * Usage: gen_corpus DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kernel.h>
#include <linux/unaligned.h>

#include "streamgen.h"

#define HDR	sizeof(struct migdev_stream_header)
#define REC	sizeof(struct migdev_stream_record)

static const char *dir;
static unsigned int nr_files;
static size_t nr_bytes;

static void put(const char *name, u8 flags, u8 param, const u8 *s, size_t len)
{
	char path[4096];
	u8 prefix[FZ_PREFIX] = { flags, param };
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(prefix, 1, sizeof(prefix), f) != sizeof(prefix) ||
	    fwrite(s, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
	nr_files++;
	nr_bytes += sizeof(prefix) + len;
}

static u8 seg(unsigned int how)
{
	return how << FZ_SEG_SHIFT;
}

/* Offset of the first record with @tag in @b (which has one). */
static size_t find(const struct sg_buf *b, u32 tag)
{
	size_t off = HDR;

	while (get_unaligned_le32(b->p + off) != tag)
		off += REC + get_unaligned_le32(b->p + off + 8);
	return off;
}

/* A valid descriptor in flight for each opcode (but NOP: never in flight). */
static const struct {
	const char *name;
	struct migdev_desc d;
} descs[] = {
	{ "copy", { .opcode = MIGDEV_OP_COPY, .len = 0x2000, .src = 0x1000,
		    .dst = 0x10000 } },
	{ "fill", { .opcode = MIGDEV_OP_FILL, .flags = MIGDEV_DESC_F_IRQ,
		    .len = 0x3000, .dst = 0x20000,
		    .pattern = 0x0102030405060708ULL } },
	{ "crc32c", { .opcode = MIGDEV_OP_CRC32C, .len = 0x100, .src = 0x3000 } },
	{ "to-dev", { .opcode = MIGDEV_OP_TO_DEV, .len = 0x4000,
		      .src = 0x400000, .dst = 0x3fc000 } },
	{ "from-dev", { .opcode = MIGDEV_OP_FROM_DEV, .len = 0x4000, .src = 0,
			.dst = 0x50000, .cookie = 7 } },
	{ "dev-crc32c", { .opcode = MIGDEV_OP_DEV_CRC32C, .len = 0x8000,
			  .src = 0x1000 } },
	/* Refused: just past a limit, for the fuzzer to start from. */
	{ "bad-copy-wraps", { .opcode = MIGDEV_OP_COPY, .len = 0x1000,
			      .src = -0xfffULL, .dst = 0x10000 } },
	{ "bad-fill-wraps", { .opcode = MIGDEV_OP_FILL, .len = 0x1000,
			      .dst = -0x10ULL, .pattern = 1 } },
	{ "bad-crc32c-wraps", { .opcode = MIGDEV_OP_CRC32C, .len = 0x100,
				.src = -0x80ULL } },
	{ "bad-from-dev-wraps", { .opcode = MIGDEV_OP_FROM_DEV, .len = 0x100,
				  .src = 0x1000, .dst = -0x80ULL } },
	{ "bad-to-dev-wraps", { .opcode = MIGDEV_OP_TO_DEV, .len = 0x100,
				.src = -0x80ULL, .dst = 0x1000 } },
	{ "bad-dev-crc32c-past-end", { .opcode = MIGDEV_OP_DEV_CRC32C,
				       .len = 0x2000, .src = 0x3ff000 } },
	{ "bad-copy-too-long", { .opcode = MIGDEV_OP_COPY,
				 .len = MIGDEV_MAX_XFER + 1, .src = 0,
				 .dst = 0x80000000 } },
};

int main(int argc, char **argv)
{
	/* With a page of data: the largest seeds, so only a few. */
	static const struct sg_opts full = {
		.minor = 1, .pages = 1, .zero_pages = 3, .optional = true,
		.busy = true,
	};
	/* The newest minor: records checksummed with XXH64 (1.4). */
	static const struct sg_opts busy = {
		.minor = MIGDEV_STREAM_MINOR, .zero_pages = 3, .optional = true,
		.busy = true,
	};
	static const struct sg_opts lean = { .minor = 0, .zero_pages = 2 };
	/* Two pages in 1.4, for a caller that takes pages itself. */
	static const struct sg_opts direct = {
		.minor = MIGDEV_STREAM_MINOR, .pages = 2, .zero_pages = 1,
		.busy = true,
	};
	const struct migdev_geom *small = &sg_types[MIGDEV_TYPE_SMALL];
	struct sg_buf b, c;
	unsigned int t, i;
	char name[64];
	size_t off;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	sg_init(&b, 1 << 20);
	sg_init(&c, 1 << 20);

	for (t = 0; t < MIGDEV_NUM_TYPES; t++) {
		const char *tn = sg_type_names[t];

		b.len = 0;
		sg_build(&b, &sg_types[t], &full);
		snprintf(name, sizeof(name), "%s-valid-page", tn);
		put(name, t | seg(FZ_SEG_WHOLE) | FZ_FIXUP, 0, b.p, b.len);

		b.len = 0;
		sg_build(&b, &sg_types[t], &busy);
		snprintf(name, sizeof(name), "%s-valid-random", tn);
		put(name, t | seg(FZ_SEG_RANDOM) | FZ_FIXUP, 9, b.p, b.len);

		b.len = 0;
		sg_build(&b, &sg_types[t], &lean);
		snprintf(name, sizeof(name), "%s-valid-1.0-bytes", tn);
		put(name, t | seg(FZ_SEG_FIXED) | FZ_MINOR0, 0, b.p, b.len);
		snprintf(name, sizeof(name), "%s-valid-1.0-tiny", tn);
		put(name, t | seg(FZ_SEG_TINY) | FZ_FIXUP, 3, b.p, b.len);
	}

	for (i = 0; i < ARRAY_SIZE(descs); i++) {
		struct sg_opts o = { .minor = 1, .busy = true };
		struct migdev_desc d = descs[i].d;

		d.opcode = cpu_to_le16(d.opcode);
		d.flags = cpu_to_le16(d.flags);
		d.len = cpu_to_le32(d.len);
		d.src = cpu_to_le64(d.src);
		d.dst = cpu_to_le64(d.dst);
		d.pattern = cpu_to_le64(d.pattern);
		d.cookie = cpu_to_le64(d.cookie);
		o.desc = &d;
		b.len = 0;
		sg_build(&b, small, &o);
		snprintf(name, sizeof(name), "busy-%s", descs[i].name);
		put(name, MIGDEV_TYPE_SMALL | FZ_FIXUP, 0, b.p, b.len);
	}

	/* Pages taken by the caller, as the kernel's write() does. */
	b.len = 0;
	sg_build(&b, small, &direct);
	put("direct-pages", FZ_DIRECT | FZ_FIXUP | seg(FZ_SEG_RANDOM), 13, b.p,
	    b.len);
	memcpy(c.p, b.p, b.len);
	off = find(&b, MIGDEV_TAG_DEVMEM);
	c.p[off + REC + 16 + 4096 + 5] ^= 0x20;
	put("direct-page-flipped", FZ_DIRECT | seg(FZ_SEG_FIXED), 255, c.p,
	    b.len);

	/* Opaque state (1.4), whose every word the destination checks. */
	{
		static const struct sg_opts opaque = {
			.minor = MIGDEV_STREAM_MINOR, .zero_pages = 1,
			.opaque = 2,
		};

		b.len = 0;
		sg_build(&b, small, &opaque);
		put("opaque-state", FZ_FIXUP | seg(FZ_SEG_RANDOM), 11, b.p,
		    b.len);
		memcpy(c.p, b.p, b.len);
		off = find(&b, MIGDEV_TAG_OPAQUE);
		c.p[off + REC + 16 + 2000] ^= 4;
		put("opaque-word-changed", FZ_FIXUP | seg(FZ_SEG_WHOLE), 0, c.p,
		    b.len);
	}

	/* Broken streams, all of type small (and one of medium). */
	b.len = 0;
	sg_build(&b, small, &full);
	put("devmem-store-fails", FZ_CB_FAIL | seg(FZ_SEG_TINY), 0, b.p, b.len);
	memcpy(c.p, b.p, b.len);
	off = find(&b, MIGDEV_TAG_DEVMEM);
	c.p[off + REC + 100] ^= 0xff;
	put("page-flipped", seg(FZ_SEG_WHOLE), 0, c.p, b.len);

	b.len = 0;
	sg_build(&b, small, &busy);
	memcpy(c.p, b.p, b.len);
	c.p[1] ^= 0x40;
	put("bad-magic", seg(FZ_SEG_FIXED) | FZ_FIXUP, 15, c.p, b.len);
	memcpy(c.p, b.p, b.len);
	c.p[HDR - 1] ^= 1;
	put("bad-header-crc", seg(FZ_SEG_WHOLE), 0, c.p, b.len);
	put("type-mismatch", MIGDEV_TYPE_MEDIUM, 0, b.p, b.len);
	put("minor-too-new", FZ_MINOR0, 0, b.p, HDR);
	put("truncated", seg(FZ_SEG_RANDOM), 5, b.p, b.len - 7);
	memcpy(c.p, b.p, b.len);
	c.p[b.len] = 0;
	put("trailing-byte", seg(FZ_SEG_FIXED), 99, c.p, b.len + 1);
	memcpy(c.p, b.p, b.len);
	memcpy(c.p + b.len, b.p, 40);
	put("after-end", seg(FZ_SEG_FIXED), 99, c.p, b.len + 40);

	/* Checksums fixed up: the value checks behind them do the refusing. */
	memcpy(c.p, b.p, b.len);
	off = find(&b, MIGDEV_TAG_CONFIG);
	c.p[off + REC + PCI_CLASS_DEVICE] ^= 1;
	put("config-read-only", FZ_FIXUP, 0, c.p, b.len);
	memcpy(c.p, b.p, b.len);
	off = find(&b, MIGDEV_TAG_QUEUE);
	c.p[off + REC + offsetof(struct migdev_rec_queue, desc)] = 9;
	put("queue-bad-opcode", FZ_FIXUP, 0, c.p, b.len);
	memcpy(c.p, b.p, b.len);
	off = find(&b, MIGDEV_TAG_REGS);
	c.p[off + REC + offsetof(struct migdev_rec_regs, rr)] = 1;
	put("regs-bad-rr", FZ_FIXUP | seg(FZ_SEG_RANDOM), 12, c.p, b.len);
	memcpy(c.p, b.p, b.len);
	off = find(&b, MIGDEV_TAG_MSIX);
	c.p[off + REC + 12] = 2;
	put("msix-bad-ctrl", FZ_FIXUP, 0, c.p, b.len);

	c.len = 0;
	sg_append(&c, b.p, HDR);
	sg_record(&c, 0x42, 0, "unknown", 7);
	put("unknown-mandatory", 0, 0, c.p, c.len);

	/* Skipped optional records, then a medium device's state. */
	c.len = 0;
	sg_header(&c, &sg_types[MIGDEV_TYPE_MEDIUM], 1);
	sg_record(&c, 0x42, MIGDEV_REC_F_OPTIONAL, "newer", 5);
	sg_record(&c, 0x43, MIGDEV_REC_F_OPTIONAL, NULL, 0);
	sg_devmem_zero(&c, 0, MIGDEV_REC_MAX_PAGES);
	sg_state(&c, &sg_types[MIGDEV_TYPE_MEDIUM], false, NULL);
	sg_record(&c, MIGDEV_TAG_END, 0, NULL, 0);
	put("medium-optional-records", MIGDEV_TYPE_MEDIUM | seg(FZ_SEG_TINY), 1,
	    c.p, c.len);

	sg_free(&c);
	sg_free(&b);
	printf("gen_corpus: %u seeds, %zu bytes, in %s\n", nr_files, nr_bytes,
	       dir);
	return 0;
}
