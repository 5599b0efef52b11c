// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the migration stream's encoder, beside its decoder (stream.c).
 *
 * It owns the stream's order: the header; device memory, first every page
 * present when saving began (the initial pass), then, each time it runs
 * dry, the pages written since the last collection; once the device has
 * stopped, the last of those, opaque state if there is any (from 1.4),
 * the device state and END.  A device that
 * discards its memory while it is saved reconfigures itself: the stream
 * starts its initial data again, zeros over every page it sent, then a
 * new initial pass (migdev_stream_enc_sync()).  The format needs nothing
 * new for that: DEVMEM_ZERO and DEVMEM records may come in any order.
 *
 * It produces one record at a time into the caller's buffer, reading
 * device memory through a page source (struct migdev_stream_src_ops), so
 * it knows nothing of how the device keeps its memory or when it runs:
 * the caller (mdev/migfile.c) owns the file, its locking and its
 * buffering.
 *
 * Pure code, as the decoder: no allocation, no locks.
 */
#include <linux/bitmap.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/string.h>

#include "stream.h"

/**
 * migdev_stream_enc_init() - an encoder at the start of a stream
 * @enc: encoder
 * @ops: its page source
 * @priv: argument for @ops
 * @geom: the source device's geometry (the header's)
 * @minor: the stream minor version to emit
 * @precopy: saving begins while the device runs: collect dirty pages
 * @dirty: a bitmap of one bit per device-memory page, zeroed, for the
 *	   encoder's use until the stream ends
 */
void migdev_stream_enc_init(struct migdev_stream_enc *enc,
			    const struct migdev_stream_src_ops *ops, void *priv,
			    const struct migdev_geom *geom, u16 minor,
			    bool precopy, unsigned long *dirty)
{
	memset(enc, 0, sizeof(*enc));
	enc->ops = ops;
	enc->priv = priv;
	enc->geom = *geom;
	enc->minor = minor;
	enc->precopy = precopy;
	enc->dirty = dirty;
	enc->nbits = geom->devmem_size >> MIGDEV_STREAM_PAGE_SHIFT;
	if (ops->discards)
		enc->discards = ops->discards(priv);
}

/**
 * migdev_stream_enc_stop() - the device stopped: the stream can end
 * @enc: encoder
 * @state: its state records (migdev_emul_save_state(), and SOURCE_INFO),
 *	   kept by the caller until the stream ends
 * @len: bytes at @state
 */
void migdev_stream_enc_stop(struct migdev_stream_enc *enc, const void *state,
			    size_t len)
{
	enc->state = state;
	enc->state_len = len;
	enc->stop_copy = true;
}

/**
 * migdev_stream_enc_opaque() - the device has state that it sends only in
 * stop-copy, after device memory (MIGDEV_TAG_OPAQUE, from 1.4; an older
 * minor drops it)
 * @enc: encoder, before migdev_stream_enc_next() reached its state
 * @blocks: 4096-byte blocks of it, at most MIGDEV_OPAQUE_MAX_BLOCKS; 0: none
 * @seed: their seed
 */
void migdev_stream_enc_opaque(struct migdev_stream_enc *enc, u32 blocks,
			      u64 seed)
{
	enc->opaque_blocks = enc->minor >= MIGDEV_STREAM_MINOR_XXH64 ?
			     min_t(u32, blocks, MIGDEV_OPAQUE_MAX_BLOCKS) : 0;
	enc->opaque_seed = seed;
}

/* An OPAQUE record: its header, fields and block, at @buf; its length. */
static size_t migdev_enc_put_opaque(struct migdev_stream_enc *enc, u8 *buf)
{
	struct migdev_stream_record *rec = (void *)buf;
	struct migdev_rec_opaque *r = (void *)(rec + 1);

	r->seed = cpu_to_le64(enc->opaque_seed);
	r->index = cpu_to_le32(enc->opaque_sent);
	r->blocks = cpu_to_le32(enc->opaque_blocks);
	migdev_stream_opaque_fill(r + 1, enc->opaque_seed, enc->opaque_sent);
	enc->opaque_sent++;
	/* The payload is in place: the record's header and checksum. */
	return migdev_stream_put_record(buf, enc->minor, MIGDEV_TAG_OPAQUE,
					MIGDEV_REC_F_OPTIONAL, NULL,
					MIGDEV_STREAM_OPAQUE_SIZE);
}

/**
 * migdev_stream_put_devmem() - a DEVMEM record
 * @buf: where it goes: room for its header and @count pages
 * @minor: the stream's minor version
 * @first: its first page
 * @count: pages, at most MIGDEV_REC_MAX_PAGES
 * @read: puts pages [@first, @first + @count) at its last argument
 * @priv: argument for @read
 *
 * Return: bytes written.
 */
size_t migdev_stream_put_devmem(void *buf, u16 minor, u64 first, u32 count,
				void (*read)(void *priv, u64 first, u32 count,
					     void *buf),
				void *priv)
{
	struct migdev_stream_devmem_head *h = buf;
	size_t size = sizeof(h->devmem) +
		      ((size_t)count << MIGDEV_STREAM_PAGE_SHIFT);

	migdev_stream_devmem_head_init(h, first, count);
	read(priv, first, count, h + 1);
	migdev_stream_record_sum(&h->rec,
				 migdev_stream_sum(minor, &h->devmem, size));
	return sizeof(h->rec) + size;
}

/**
 * migdev_stream_put_devmem_zero() - a DEVMEM_ZERO record
 * @buf: where it goes
 * @minor: the stream's minor version
 * @first: its first page
 * @count: pages, at most MIGDEV_REC_MAX_PAGES
 *
 * Return: bytes written.
 */
size_t migdev_stream_put_devmem_zero(void *buf, u16 minor, u64 first,
				     u32 count)
{
	struct migdev_rec_devmem r = {
		.first = cpu_to_le64(first),
		.count = cpu_to_le32(count),
	};

	return migdev_stream_put_record(buf, minor, MIGDEV_TAG_DEVMEM_ZERO, 0,
					&r, sizeof(r));
}

/*
 * A DEVMEM record for pages [first, first + count): made in @buf (its
 * size in *@len), or left to the caller in @run.
 */
static void migdev_enc_pages(struct migdev_stream_enc *enc, u8 *buf,
			     size_t *len, struct migdev_stream_run *run,
			     u64 first, u32 count)
{
	enc->sent_end = max_t(u64, enc->sent_end, first + count);
	if (run) {
		run->first = first;
		run->count = count;
		return;
	}
	*len = migdev_stream_put_devmem(buf, enc->minor, first, count,
					enc->ops->read, enc->priv);
}

/**
 * migdev_stream_enc_sync() - catch up with a discard of device memory
 * @enc: encoder
 *
 * If the device discarded its memory since the stream last looked, what
 * the destination holds is void: the stream starts its initial data
 * again.  It forgets the pages it still had to send and those written
 * since, sends zeros over every page it sent, then every present page
 * again; dirty pages are collected from there on.  Nothing changes once
 * the last collection after the stop happened (a stopped device does
 * not discard).  Called by migdev_stream_enc_next() and by whoever
 * estimates what is left (a discard is news before the next read).
 *
 * Return: true if the stream restarted its initial data.
 */
bool migdev_stream_enc_sync(struct migdev_stream_enc *enc)
{
	u64 n;

	if (!enc->precopy || enc->stop_collected || !enc->ops->discards)
		return false;
	n = enc->ops->discards(enc->priv);
	if (n == enc->discards)
		return false;
	enc->discards = n;
	enc->reinits++;
	/* Pages written since the discard are present: the pass sends them. */
	enc->ops->collect_dirty(enc->priv, enc->dirty);
	bitmap_zero(enc->dirty, enc->nbits);
	enc->dirty_pending = 0;
	enc->zero_cursor = 0;
	enc->zero_end = enc->sent_end;
	enc->sent_end = 0;
	enc->cursor = 0;
	enc->initial_done = false;
	return true;
}

/**
 * migdev_stream_enc_zero_left() - pages still to send as zeros
 * @enc: encoder
 *
 * Return: pages; they take migdev_stream_record + migdev_rec_devmem per
 * MIGDEV_REC_MAX_PAGES of them.
 */
u64 migdev_stream_enc_zero_left(const struct migdev_stream_enc *enc)
{
	return enc->zero_end - enc->zero_cursor;
}

/* The next run of collected dirty pages, at most @max: false if none. */
static bool migdev_enc_dirty(struct migdev_stream_enc *enc, u8 *buf,
			     size_t *len, struct migdev_stream_run *run,
			     u32 max)
{
	unsigned long first, end;
	u32 count;

	if (!enc->dirty_pending)
		return false;
	first = find_first_bit(enc->dirty, enc->nbits);
	end = find_next_zero_bit(enc->dirty, enc->nbits, first);
	count = min_t(unsigned long, end - first, max);
	bitmap_clear(enc->dirty, first, count);
	enc->dirty_pending -= count;
	migdev_enc_pages(enc, buf, len, run, first, count);
	return true;
}

static int migdev_enc_step(struct migdev_stream_enc *enc, void *buf,
			   size_t *len, struct migdev_stream_run *run, u32 max)
{
	u32 count;
	u64 first;

	*len = 0;
	if (!enc->header_sent) {
		migdev_stream_header_init(buf, enc->geom.type_id,
					  enc->geom.nr_queues,
					  enc->geom.devmem_size, enc->minor);
		*len = sizeof(struct migdev_stream_header);
		enc->header_sent = true;
		return 0;
	}
	migdev_stream_enc_sync(enc);
	if (enc->zero_cursor < enc->zero_end) {
		count = min_t(u64, enc->zero_end - enc->zero_cursor,
			      MIGDEV_REC_MAX_PAGES);
		*len = migdev_stream_put_devmem_zero(buf, enc->minor,
						     enc->zero_cursor, count);
		enc->zero_cursor += count;
		return 0;
	}
	if (!enc->initial_done) {
		count = enc->ops->next_run(enc->priv, enc->cursor, max, &first);
		if (count) {
			enc->cursor = first + count;
			migdev_enc_pages(enc, buf, len, run, first, count);
			return 0;
		}
		enc->initial_done = true;
	}
	if (migdev_enc_dirty(enc, buf, len, run, max))
		return 0;
	if (!enc->stop_copy || !enc->stop_collected) {
		/*
		 * Pages written since the last collection, if saving began
		 * while the device ran; a stopped device changes nothing.
		 */
		if (enc->precopy)
			enc->dirty_pending = enc->ops->collect_dirty(enc->priv,
								     enc->dirty);
		if (enc->stop_copy)
			enc->stop_collected = true;
		if (enc->dirty_pending) {
			enc->rounds++;
			migdev_enc_dirty(enc, buf, len, run, max);
			return 0;
		}
		if (!enc->stop_copy)
			return -ENOMSG;
	}
	if (enc->opaque_sent < enc->opaque_blocks) {
		*len = migdev_enc_put_opaque(enc, buf);
		return 0;
	}
	if (!enc->state_sent) {
		memcpy(buf, enc->state, enc->state_len);
		*len = enc->state_len;
		enc->state_sent = true;
		return 0;
	}
	if (!enc->end_sent) {
		*len = migdev_stream_put_record(buf, enc->minor, MIGDEV_TAG_END,
						0, NULL, 0);
		enc->end_sent = true;
		return 0;
	}
	return 1;
}

/**
 * migdev_stream_enc_next() - the next piece of the stream
 * @enc: encoder
 * @buf: MIGDEV_STREAM_ENC_BUF bytes
 * @len: bytes put in @buf
 *
 * Return: 0 with a piece in @buf; -ENOMSG when the device runs (pre-copy)
 * and nothing is new; 1 once END went out.
 */
int migdev_stream_enc_next(struct migdev_stream_enc *enc, void *buf,
			   size_t *len)
{
	return migdev_enc_step(enc, buf, len, NULL, MIGDEV_REC_MAX_PAGES);
}

/**
 * migdev_stream_enc_next_run() - the next piece, a DEVMEM record's pages
 *				  left to the caller
 * @enc: encoder
 * @buf: MIGDEV_STREAM_ENC_BUF bytes
 * @len: bytes put in @buf
 * @run: if the piece is a DEVMEM record: its pages, which the caller makes
 *	 into one (migdev_stream_devmem_head_init()); else @run->count is 0.
 *	 NULL: the record is made in @buf
 * @max: the most pages that record may have, 1..MIGDEV_REC_MAX_PAGES
 *
 * As migdev_stream_enc_next(), except that a DEVMEM record has at most
 * @max pages and, given @run, is not made here, so that its pages can go
 * straight from device memory to where the record goes, in one pass that
 * copies and checksums them.  The encoder counts the record as sent.
 *
 * Return: as migdev_stream_enc_next().
 */
int migdev_stream_enc_next_run(struct migdev_stream_enc *enc, void *buf,
			       size_t *len, struct migdev_stream_run *run,
			       u32 max)
{
	if (run)
		run->count = 0;
	max = min_t(u32, max, MIGDEV_REC_MAX_PAGES);
	return migdev_enc_step(enc, buf, len, run, max_t(u32, max, 1));
}

/**
 * migdev_stream_devmem_head_init() - the headers of a DEVMEM record
 * @h: where they go
 * @first: the record's first page
 * @count: its pages
 *
 * The checksum, which covers @h->devmem and the pages that follow it, is
 * the caller's to set once it has them (migdev_stream_record_sum()).
 */
void migdev_stream_devmem_head_init(struct migdev_stream_devmem_head *h,
				    u64 first, u32 count)
{
	h->devmem.first = cpu_to_le64(first);
	h->devmem.count = cpu_to_le32(count);
	h->devmem.reserved = 0;
	h->rec.tag = cpu_to_le32(MIGDEV_TAG_DEVMEM);
	h->rec.flags = 0;
	h->rec.size = cpu_to_le64(sizeof(h->devmem) +
				  ((u64)count << MIGDEV_STREAM_PAGE_SHIFT));
	h->rec.crc = 0;
	h->rec.crc_hi = 0;
}

/**
 * migdev_stream_put_source_info() - a SOURCE_INFO record (from 1.1)
 * @buf: where it goes
 * @minor: the stream's minor version
 * @rounds: pre-copy's dirty collections that found pages
 * @precopy_bytes: bytes read before stop-copy
 *
 * Return: bytes written.
 */
size_t migdev_stream_put_source_info(void *buf, u16 minor, u32 rounds,
				     u64 precopy_bytes)
{
	struct migdev_rec_source_info info = {
		.precopy_rounds = cpu_to_le32(rounds),
		.precopy_bytes = cpu_to_le64(precopy_bytes),
	};

	return migdev_stream_put_record(buf, minor, MIGDEV_TAG_SOURCE_INFO,
					MIGDEV_REC_F_OPTIONAL, &info,
					sizeof(info));
}
