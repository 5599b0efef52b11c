// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the migration stream decoder (emul/stream.c).
 *
 * The input is FZ_PREFIX bytes of setup (streamgen.h: the destination's
 * type, how the stream is cut into writes, and a few switches), then the
 * stream.  It is decoded twice: in one write, and cut as the setup says;
 * both must come to the same verdict, error message, byte offset, device
 * memory and device state, since the decoder accepts any segmentation.
 * Besides what ASan and UBSan catch, the decoder's promises are checked:
 *
 * - the device-memory callback only ever sees pages inside the device,
 *   a page a call with the data in the payload buffer or in the bytes
 *   being written, or a run of pages to zero;
 * - a write returns its length or a negative errno (one of those the
 *   format defines), and after an error every further write, and
 *   finish, return that errno, with dec->err a NUL-terminated message;
 *   a zero-length write is a no-op that returns 0;
 * - a stream finish accepts holds the whole device state, and that state
 *   passed the checks (read-only config bits as the template's, ...).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/crc32.h>
#include <linux/kernel.h>
#include <linux/unaligned.h>

#include "desc.h"
#include "streamgen.h"

#define HDR	sizeof(struct migdev_stream_header)
#define REC	sizeof(struct migdev_stream_record)

#define FZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

/* The payload buffer, allocated once, of exactly the size asked for. */
static u8 *payload;

/* What the device-memory callback was given: a checksum of it all. */
struct fz_sink {
	u64 npages;		/* the device's */
	u32 fail_at;		/* fail this (1-based) call; 0: never */
	u32 calls;
	u32 crc;		/* of every (first, count, data) */
	u64 pages;		/* stored */
	const u8 *piece;	/* the bytes being written */
	size_t piece_len;
};

static int fz_devmem(void *priv, u64 first, u32 count, const void *data)
{
	struct fz_sink *s = priv;
	__le64 f = cpu_to_le64(first);
	__le32 c = cpu_to_le32(count);

	FZ_ASSERT(count >= 1 && count <= MIGDEV_REC_MAX_PAGES);
	FZ_ASSERT(first < s->npages && count <= s->npages - first);
	FZ_ASSERT(!data || count == 1);
	FZ_ASSERT(!data || data == payload + sizeof(struct migdev_rec_devmem) ||
		  (data >= (const void *)s->piece &&
		   (const u8 *)data + 4096 <= s->piece + s->piece_len));
	s->crc = __crc32c_le(s->crc, &f, sizeof(f));
	s->crc = __crc32c_le(s->crc, &c, sizeof(c));
	if (data)	/* read every byte, store none */
		s->crc = __crc32c_le(s->crc, data, (size_t)count * 4096);
	if (++s->calls == s->fail_at)
		return -ENOMEM;
	s->pages += count;
	return 0;
}

static u32 fz_rand(u32 *state)
{
	u32 x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

/* The size of the next write, @left bytes to go. */
static size_t fz_piece(unsigned int seg, u8 param, u32 *rnd, size_t left)
{
	size_t n;

	switch (seg) {
	case FZ_SEG_FIXED:
		n = (size_t)param + 1;
		break;
	case FZ_SEG_RANDOM:
		n = 1 + fz_rand(rnd) % (1U << (param & 15));
		break;
	case FZ_SEG_TINY:
		n = fz_rand(rnd) % 32;
		break;
	default:
		n = left;
	}
	return n < left ? n : left;
}

static bool fz_errno_ok(int err, bool cb_fail)
{
	return err == -EINVAL || err == -EBADMSG || err == -EPROTONOSUPPORT ||
	       (cb_fail && err == -ENOMEM);
}

static void fz_check_err(const struct migdev_stream_dec *dec)
{
	FZ_ASSERT(memchr(dec->err, 0, sizeof(dec->err)));
}

/* A stream that was accepted: the state the caller applies is whole and valid. */
static void fz_check_accepted(const struct migdev_stream_dec *dec,
			      const struct fz_sink *sink)
{
	u32 nvec = dec->nr_queues + 1, q, v, w;
	unsigned int i;

	FZ_ASSERT(dec->phase == MIGDEV_DEC_DONE);
	FZ_ASSERT(dec->have_config && dec->have_regs && dec->have_msix);
	FZ_ASSERT(dec->queues_seen == (1U << dec->nr_queues) - 1);
	FZ_ASSERT(dec->pages == sink->pages);
	FZ_ASSERT(dec->minor <= dec->max_minor);
	for (i = 0; i < PCI_CFG_SPACE_SIZE; i++) {
		u8 fixed = ~dec->tmpl.wmask[i] & ~dec->tmpl.w1cmask[i];

		if (i == PCI_STATUS)
			fixed &= ~PCI_STATUS_INTERRUPT;
		FZ_ASSERT(!((dec->config[i] ^ dec->tmpl.space[i]) & fixed));
	}
	FZ_ASSERT(le32_to_cpu(dec->regs.rr) < dec->nr_queues);
	for (v = nvec; v < MIGDEV_MAX_VECTORS; v++)
		for (w = 0; w < 4; w++)
			FZ_ASSERT(!dec->msix.table[v][w]);
	FZ_ASSERT(!(le64_to_cpu(dec->msix.pending) >> nvec));
	for (q = 0; q < dec->nr_queues; q++) {
		const struct migdev_rec_queue *r = &dec->queues[q];

		FZ_ASSERT(le32_to_cpu(r->index) == q);
		if (le32_to_cpu(r->state) & MIGDEV_QSTATE_ENABLED)
			FZ_ASSERT(migdev_ring_ok(le64_to_cpu(r->ring_base),
						 le64_to_cpu(r->compl_base),
						 le32_to_cpu(r->ring_size)));
		if (le32_to_cpu(r->state) & MIGDEV_QSTATE_ACTIVE)
			FZ_ASSERT(migdev_desc_check(&r->desc, dec->devmem_size) ==
				  MIGDEV_STATUS_OK);
	}
}

/*
 * Write @n bytes to @dec as the kernel's resume write() does: whole pages
 * of a DEVMEM record taken by the caller (stored through the same
 * callback, checksummed here), the rest in pieces of at most what the
 * decoder wants.  Returns what one migdev_stream_dec_write() would.
 */
static ssize_t fz_write_direct(struct migdev_stream_dec *dec,
			       struct fz_sink *sink, const u8 *p, size_t n)
{
	size_t off = 0;

	while (off < n) {
		struct xxh64_state st;
		u64 first;
		u32 pages = migdev_stream_dec_direct(dec, &first, &st), i;
		size_t want;
		ssize_t ret;
		int err;

		if ((n - off) / 4096 < pages)
			pages = (n - off) / 4096;
		if (pages) {
			for (i = 0; i < pages; i++, off += 4096) {
				FZ_ASSERT(!fz_devmem(sink, first + i, 1, p + off));
				xxh64_update(&st, p + off, 4096);
			}
			err = migdev_stream_dec_direct_done(dec, pages, &st);
			if (err)
				return err;
			continue;
		}
		want = migdev_stream_dec_want(dec);
		FZ_ASSERT(want >= 1);
		if (want > n - off)
			want = n - off;
		ret = migdev_stream_dec_write(dec, p + off, want);
		if (ret < 0)
			return ret;
		FZ_ASSERT(ret == (ssize_t)want);
		off += want;
	}
	return n ? (ssize_t)n : migdev_stream_dec_write(dec, p, 0);
}

/*
 * Decode @len bytes of @s into @dec, cut as @seg and @param say; returns
 * what finish returned, or the first write error.
 */
static int fz_decode(struct migdev_stream_dec *dec, struct fz_sink *sink,
		     const struct migdev_geom *g, u8 flags, u8 param,
		     const u8 *s, size_t len, unsigned int seg)
{
	bool cb_fail = flags & FZ_CB_FAIL;
	u32 rnd = 0x9e3779b9 ^ param ^ (u32)len << 8;
	size_t off = 0;
	int err = 0, fin;
	u64 at = 0;

	migdev_stream_dec_init(dec, g->type_id, g->nr_queues, g->devmem_size,
			       flags & FZ_MINOR0 ? 0 : MIGDEV_STREAM_MINOR,
			       payload);
	memset(sink, 0, sizeof(*sink));
	sink->npages = g->devmem_size >> 12;
	sink->fail_at = cb_fail ? 2 : 0;
	dec->devmem = fz_devmem;
	dec->priv = sink;

	while (off < len) {
		size_t n = fz_piece(seg, param, &rnd, len - off);
		const u8 *piece = s + off;
		u8 *copy = NULL;
		ssize_t ret;

		/* Cut: each piece alone on the heap, so ASan sees a read past it. */
		if (seg != FZ_SEG_WHOLE) {
			copy = malloc(n);
			FZ_ASSERT(copy || !n);
			memcpy(copy, piece, n);
			piece = copy;
		}
		sink->piece = piece;
		sink->piece_len = n;
		/* The callback does not fail under a caller storing pages. */
		if (flags & FZ_DIRECT && !cb_fail && seg != FZ_SEG_WHOLE)
			ret = fz_write_direct(dec, sink, piece, n);
		else
			ret = migdev_stream_dec_write(dec, piece, n);
		free(copy);

		if (!n) {
			FZ_ASSERT(ret == 0);
		} else if (err) {
			/* Sticky: same errno, nothing more consumed. */
			FZ_ASSERT(ret == err);
			FZ_ASSERT(dec->offset == at);
		} else if (ret < 0) {
			FZ_ASSERT(fz_errno_ok(ret, cb_fail));
			FZ_ASSERT(dec->phase == MIGDEV_DEC_FAILED);
			FZ_ASSERT(dec->errno_ == ret);
			FZ_ASSERT(dec->offset <= off + n);
			fz_check_err(dec);
			FZ_ASSERT(dec->err[0]);
			err = ret;
			at = dec->offset;
		} else {
			FZ_ASSERT(ret == (ssize_t)n);
			FZ_ASSERT(dec->offset == off + n);
			FZ_ASSERT(dec->phase != MIGDEV_DEC_FAILED);
		}
		off += n;
	}

	fin = migdev_stream_dec_finish(dec);
	fz_check_err(dec);
	if (err) {
		FZ_ASSERT(fin == err);
		FZ_ASSERT(dec->offset == at);
		return err;
	}
	if (!fin) {
		fz_check_accepted(dec, sink);
		FZ_ASSERT(dec->offset == len);
	} else {
		FZ_ASSERT(fz_errno_ok(fin, cb_fail));
		FZ_ASSERT(dec->phase == MIGDEV_DEC_FAILED && dec->errno_ == fin);
		FZ_ASSERT(dec->err[0]);
	}
	FZ_ASSERT(migdev_stream_dec_finish(dec) == fin);
	return fin;
}

/* The message, less a leading "N bytes after the end": N is per write. */
static const char *fz_msg(const char *err)
{
	const char *p = strstr(err, " bytes after the end");

	return p ? p : err;
}

/* Set the header's and each record's checksum to the right one. */
static void fz_fixup(u8 *s, size_t len)
{
	size_t off = HDR;
	u16 minor;

	if (len < HDR)
		return;
	/* Records carry the checksum of the minor the header says. */
	minor = get_unaligned_le16(s + offsetof(struct migdev_stream_header,
						minor));
	put_unaligned_le32(migdev_stream_crc(s, offsetof(struct migdev_stream_header, crc)),
			   s + offsetof(struct migdev_stream_header, crc));
	while (len - off >= REC) {
		u64 size = get_unaligned_le32(s + off + 8) |
			   (u64)get_unaligned_le32(s + off + 12) << 32;
		size_t avail = len - off - REC;
		size_t n = size < avail ? size : avail;

		u64 sum = migdev_stream_sum(minor, s + off + REC, n);

		put_unaligned_le32(lower_32_bits(sum),
				   s + off + offsetof(struct migdev_stream_record, crc));
		/* Before 1.4 it is reserved: a mutation of it stays. */
		if (minor >= MIGDEV_STREAM_MINOR_XXH64)
			put_unaligned_le32(upper_32_bits(sum),
					   s + off + offsetof(struct migdev_stream_record,
							      crc_hi));
		if (size > avail)
			break;
		off += REC + size;
	}
}

static struct migdev_stream_dec dec_one, dec_cut;
/* MIGDEV_FUZZ_VERBOSE set: say what each input came to. */
static const char *verbose;

/* libFuzzer's LLVMFuzzerTestOneInput() (the Makefile names it). */
int FUZZ_ENTRY(const u8 *data, size_t size)
{
	const struct migdev_geom *g;
	struct fz_sink sink_one, sink_cut;
	unsigned int seg;
	u8 flags, param, *s;
	size_t len;
	int r1, r2;

	if (size < FZ_PREFIX)
		return 0;
	if (!payload) {
		payload = malloc(MIGDEV_STREAM_DEC_BUF);
		FZ_ASSERT(payload);
		verbose = getenv("MIGDEV_FUZZ_VERBOSE");
	}
	flags = data[0];
	param = data[1];
	g = &sg_types[flags & FZ_TYPE_MASK];
	seg = flags >> FZ_SEG_SHIFT & FZ_SEG_MASK;
	len = size - FZ_PREFIX;

	/* A copy of its own, so ASan sees any read past the end. */
	s = malloc(len ? len : 1);
	FZ_ASSERT(s);
	memcpy(s, data + FZ_PREFIX, len);
	if (flags & FZ_FIXUP)
		fz_fixup(s, len);

	r1 = fz_decode(&dec_one, &sink_one, g, flags, param, s, len,
		       FZ_SEG_WHOLE);
	if (seg != FZ_SEG_WHOLE) {
		r2 = fz_decode(&dec_cut, &sink_cut, g, flags, param, s, len, seg);
		FZ_ASSERT(r1 == r2);
		FZ_ASSERT(dec_one.offset == dec_cut.offset);
		FZ_ASSERT(!strcmp(fz_msg(dec_one.err), fz_msg(dec_cut.err)));
		FZ_ASSERT(sink_one.crc == sink_cut.crc);
		FZ_ASSERT(sink_one.calls == sink_cut.calls);
		FZ_ASSERT(sink_one.pages == sink_cut.pages);
		if (!r1) {
			FZ_ASSERT(dec_one.minor == dec_cut.minor);
			FZ_ASSERT(!memcmp(dec_one.config, dec_cut.config,
					  sizeof(dec_one.config)));
			FZ_ASSERT(!memcmp(&dec_one.regs, &dec_cut.regs,
					  sizeof(dec_one.regs)));
			FZ_ASSERT(!memcmp(&dec_one.msix, &dec_cut.msix,
					  sizeof(dec_one.msix)));
			FZ_ASSERT(!memcmp(dec_one.queues, dec_cut.queues,
					  sizeof(dec_one.queues)));
			FZ_ASSERT(dec_one.have_source_info ==
				  dec_cut.have_source_info);
			FZ_ASSERT(!memcmp(&dec_one.source_info,
					  &dec_cut.source_info,
					  sizeof(dec_one.source_info)));
		}
	}

	if (verbose)
		fprintf(stderr,
			"stream_fuzz: %s destination, cut %u/%u%s%s%s%s: %zu bytes: %d at byte %llu%s%s\n",
			sg_type_names[g->type_id], seg, param,
			flags & FZ_MINOR0 ? ", 1.0 only" : "",
			flags & FZ_CB_FAIL ? ", store fails" : "",
			flags & FZ_FIXUP ? ", checksums fixed" : "",
			flags & FZ_DIRECT ? ", pages taken directly" : "", len, r1,
			dec_one.offset, r1 ? ": " : "", dec_one.err);

	/* Done or failed, the decoder takes no more. */
	r2 = migdev_stream_dec_write(&dec_one, "", 1);
	FZ_ASSERT(r2 == (r1 ? r1 : -EINVAL));
	fz_check_err(&dec_one);
	free(s);
	return 0;
}
