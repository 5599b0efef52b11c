/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: the migration stream codec (format: include/uapi/linux/migdev.h).
 *
 * Pure code: no VFIO, no allocation, no locks, so it also builds in
 * userspace (for fuzzing).  The encoder (stream_enc.c) owns the order of
 * a stream's records, from the header to END.  The decoder is incremental
 * and accepts any segmentation; it validates every record as it completes
 * and hands device-memory pages to a callback, while device state is kept
 * in the decoder until the caller applies it, after MIGDEV_TAG_END.
 */
#ifndef MIGDEV_EMUL_STREAM_H
#define MIGDEV_EMUL_STREAM_H

#include <linux/sizes.h>
#include <linux/types.h>
#include <linux/xxhash.h>
#include <uapi/linux/migdev.h>

#include "cfg.h"
#include "geom.h"

/*
 * The stream's page: a DEVMEM record carries device memory in pages of
 * this size, whatever the host's PAGE_SIZE.  Device memory is kept in host
 * pages, so the module builds only where the two agree (migfile.c).
 */
#define MIGDEV_STREAM_PAGE_SHIFT	12
#define MIGDEV_STREAM_PAGE_SIZE		4096UL	/* 1 << MIGDEV_STREAM_PAGE_SHIFT */

/* The largest payload a known record has: a full DEVMEM record. */
#define MIGDEV_STREAM_MAX_PAYLOAD \
	(sizeof(struct migdev_rec_devmem) + \
	 MIGDEV_REC_MAX_PAGES * MIGDEV_STREAM_PAGE_SIZE)
/* The first minor whose records carry XXH64 rather than CRC-32C. */
#define MIGDEV_STREAM_MINOR_XXH64	4

/*
 * The decoder's buffer: the largest payload it keeps whole.  A DEVMEM
 * record's pages go to the caller as they arrive, a page at a time at
 * most through this buffer, after the record's own header.
 */
#define MIGDEV_STREAM_DEC_BUF \
	(sizeof(struct migdev_rec_devmem) + MIGDEV_STREAM_PAGE_SIZE)
/* An OPAQUE record's payload: its fields and one block. */
#define MIGDEV_STREAM_OPAQUE_SIZE \
	(sizeof(struct migdev_rec_opaque) + MIGDEV_STREAM_PAGE_SIZE)

/* Unknown optional records are skipped, but not without bound. */
#define MIGDEV_STREAM_MAX_SKIP		SZ_1M

enum migdev_dec_phase {
	MIGDEV_DEC_HEADER,
	MIGDEV_DEC_RECORD,
	MIGDEV_DEC_PAYLOAD,
	MIGDEV_DEC_DEVMEM,
	MIGDEV_DEC_PAGES,
	MIGDEV_DEC_SKIP,
	MIGDEV_DEC_DONE,
	MIGDEV_DEC_FAILED,
};

/**
 * struct migdev_stream_dec - decoder of one incoming stream
 * @type_id: the destination's type: the stream's must match
 * @nr_queues: the destination's queue count
 * @devmem_size: the destination's device memory size
 * @max_minor: the newest stream minor version accepted
 * @tmpl: the destination's power-on config space, to check what the
 *	  stream may and may not set
 * @devmem: receives a run of pages: @data is @count stream pages, or NULL
 *	    for pages that read as zeros again; 0 or a negative errno.  A
 *	    DEVMEM record's pages come as they arrive, before the record's
 *	    checksum is known: if it is wrong, the decoder fails for good,
 *	    so what was received is never applied
 * @priv: argument for @devmem
 * @buf: caller's buffer of MIGDEV_STREAM_DEC_BUF bytes
 * @phase: what the next bytes are
 * @hdr: the stream header, as it arrives
 * @rec: the current record's header, as it arrives
 * @offset: stream bytes consumed: where a failure was found
 * @have: bytes of the current header or payload received (of a DEVMEM
 *	  record's pages, in MIGDEV_DEC_PAGES)
 * @skip: running checksum of a payload taken as it arrives (a DEVMEM
 *	  record's, or one being skipped): @skip.crc (CRC-32C, before 1.4)
 *	  or @skip.xxh
 * @minor: the stream's minor version
 * @err: what was wrong, once the decoder failed
 * @errno_: the error, once failed
 * @have_config: CONFIG arrived (and so on below)
 * @have_regs: REGS arrived
 * @have_msix: MSIX arrived
 * @queues_seen: bit q: QUEUE q arrived
 * @have_source_info: SOURCE_INFO arrived
 * @opaque_seed: OPAQUE records' seed, from the first
 * @opaque_blocks: their number, from the first; 0 until one arrived
 * @opaque_next: the index the next one must have: blocks arrived
 * @config: the CONFIG payload
 * @regs: the REGS payload
 * @msix: the MSIX payload
 * @queues: the QUEUE payloads, by index
 * @source_info: the SOURCE_INFO payload
 * @pages: device-memory pages stored (@devmem, or the caller's own)
 */
struct migdev_stream_dec {
	u32 type_id;
	u32 nr_queues;
	u64 devmem_size;
	u16 max_minor;
	struct migdev_cfg tmpl;
	int (*devmem)(void *priv, u64 first, u32 count, const void *data);
	void *priv;
	u8 *buf;

	enum migdev_dec_phase phase;
	struct migdev_stream_header hdr;
	struct migdev_stream_record rec;
	u64 offset;
	u64 have;
	union {
		u32 crc;
		struct xxh64_state xxh;
	} skip;
	u16 minor;
	char err[160];
	int errno_;

	bool have_config;
	bool have_regs;
	bool have_msix;
	u32 queues_seen;
	bool have_source_info;
	u64 opaque_seed;
	u32 opaque_blocks;
	u32 opaque_next;
	u8 config[PCI_CFG_SPACE_SIZE];
	struct migdev_rec_regs regs;
	struct migdev_rec_msix msix;
	struct migdev_rec_queue queues[MIGDEV_MAX_QUEUES];
	struct migdev_rec_source_info source_info;
	u64 pages;
};

void migdev_stream_dec_init(struct migdev_stream_dec *dec, u32 type_id,
			    u32 nr_queues, u64 devmem_size, u16 max_minor,
			    u8 *buf);
ssize_t migdev_stream_dec_write(struct migdev_stream_dec *dec,
				const void *data, size_t len);
int migdev_stream_dec_finish(struct migdev_stream_dec *dec);
size_t migdev_stream_dec_want(const struct migdev_stream_dec *dec);
u32 migdev_stream_dec_direct(const struct migdev_stream_dec *dec, u64 *first,
			     struct xxh64_state *st);
int migdev_stream_dec_direct_done(struct migdev_stream_dec *dec, u32 count,
				  const struct xxh64_state *st);

u32 migdev_stream_crc(const void *data, size_t len);
u64 migdev_stream_sum(u16 minor, const void *data, size_t len);
void migdev_stream_record_sum(struct migdev_stream_record *r, u64 sum);
void migdev_stream_header_init(struct migdev_stream_header *h, u32 type_id,
			       u32 nr_queues, u64 devmem_size, u16 minor);
size_t migdev_stream_put_record(void *dst, u16 minor, u32 tag, u32 flags,
				const void *payload, size_t len);

size_t migdev_stream_put_source_info(void *buf, u16 minor, u32 rounds,
				     u64 precopy_bytes);
void migdev_stream_opaque_fill(void *block, u64 seed, u32 index);
size_t migdev_stream_put_devmem(void *buf, u16 minor, u64 first, u32 count,
				void (*read)(void *priv, u64 first, u32 count,
					     void *buf),
				void *priv);

/* What one call of the encoder produces at most: a full DEVMEM record. */
#define MIGDEV_STREAM_ENC_BUF \
	(sizeof(struct migdev_stream_record) + MIGDEV_STREAM_MAX_PAYLOAD)

/**
 * struct migdev_stream_src_ops - the device memory an encoder sends
 * @next_run: the first present page at or after @from in *@first, and how
 *	      many present pages run on from it (at most @max); 0 if none
 * @read: copy pages [@first, @first + @count) into @buf (absent pages
 *	  read as zeros)
 * @collect_dirty: set in @bits the pages written since the last call, and
 *		   forget them; how many
 * @discards: how many times the device discarded all of its memory (a
 *	      count that only goes up); may be NULL
 */
struct migdev_stream_src_ops {
	u32 (*next_run)(void *priv, u64 from, u32 max, u64 *first);
	void (*read)(void *priv, u64 first, u32 count, void *buf);
	u64 (*collect_dirty)(void *priv, unsigned long *bits);
	u64 (*discards)(void *priv);
};

/**
 * struct migdev_stream_enc - encoder of one outgoing stream (stream_enc.c)
 * @ops: its page source
 * @priv: argument for @ops
 * @geom: the source's geometry
 * @minor: the minor version emitted
 * @precopy: saving began while the device ran: dirty pages are collected
 * @stop_copy: the device stopped: @state is set
 * @header_sent: the header went out
 * @cursor: the initial pass's next page
 * @initial_done: every page present at the start went out
 * @dirty: collected dirty pages still to send, one bit per page
 * @nbits: bits in @dirty
 * @dirty_pending: bits set in @dirty
 * @stop_collected: the last collection after the stop happened
 * @discards: the source's discard count the stream is at
 * @reinits: times the device discarded its memory while saving: each
 *	     restarted the initial data (migdev_stream_enc_sync())
 * @sent_end: one past the highest page a DEVMEM record carried since the
 *	      stream (re)started its initial data
 * @zero_cursor: the next page to send as zeros after a discard
 * @zero_end: one past the last page to send as zeros
 * @rounds: collections that found pages
 * @state: the device state records (the caller's)
 * @state_len: bytes at @state
 * @opaque_blocks: blocks of opaque state to send after device memory, in
 *		   stop-copy (from 1.4)
 * @opaque_seed: their seed
 * @opaque_sent: blocks of it that went out
 * @state_sent: they went out
 * @end_sent: END went out
 */
struct migdev_stream_enc {
	const struct migdev_stream_src_ops *ops;
	void *priv;
	struct migdev_geom geom;
	u16 minor;
	bool precopy;
	bool stop_copy;
	bool header_sent;
	u64 cursor;
	bool initial_done;
	unsigned long *dirty;
	u64 nbits;
	u64 dirty_pending;
	bool stop_collected;
	u64 discards;
	u32 reinits;
	u64 sent_end;
	u64 zero_cursor;
	u64 zero_end;
	u32 rounds;
	const void *state;
	size_t state_len;
	u32 opaque_blocks;
	u64 opaque_seed;
	u32 opaque_sent;
	bool state_sent;
	bool end_sent;
};

/**
 * struct migdev_stream_run - a DEVMEM record's pages, for the caller to send
 * @first: the first page
 * @count: pages; 0 if the piece is not such a record
 */
struct migdev_stream_run {
	u64 first;
	u32 count;
};

/**
 * struct migdev_stream_devmem_head - what comes before a DEVMEM record's pages
 * @rec: the record's header
 * @devmem: its first bytes of payload
 */
struct migdev_stream_devmem_head {
	struct migdev_stream_record rec;
	struct migdev_rec_devmem devmem;
};

#define MIGDEV_STREAM_DEVMEM_HEAD	sizeof(struct migdev_stream_devmem_head)

void migdev_stream_enc_init(struct migdev_stream_enc *enc,
			    const struct migdev_stream_src_ops *ops, void *priv,
			    const struct migdev_geom *geom, u16 minor,
			    bool precopy, unsigned long *dirty);
void migdev_stream_enc_stop(struct migdev_stream_enc *enc, const void *state,
			    size_t len);
void migdev_stream_enc_opaque(struct migdev_stream_enc *enc, u32 blocks,
			      u64 seed);
int migdev_stream_enc_next(struct migdev_stream_enc *enc, void *buf,
			   size_t *len);
int migdev_stream_enc_next_run(struct migdev_stream_enc *enc, void *buf,
			       size_t *len, struct migdev_stream_run *run,
			       u32 max);
void migdev_stream_devmem_head_init(struct migdev_stream_devmem_head *h,
				    u64 first, u32 count);
bool migdev_stream_enc_sync(struct migdev_stream_enc *enc);
u64 migdev_stream_enc_zero_left(const struct migdev_stream_enc *enc);
size_t migdev_stream_put_devmem_zero(void *buf, u16 minor, u64 first,
				     u32 count);

#endif /* MIGDEV_EMUL_STREAM_H */
