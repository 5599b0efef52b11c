// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the migration stream codec.
 *
 * The decoder is a small state machine fed any number of bytes at a time:
 * header, then record header, payload, record header, ... END.  A record is
 * validated as soon as its payload is complete; the first failure is
 * sticky, says what was wrong in dec->err, and nothing in the stream can
 * make the decoder read or write outside its own buffers.
 *
 * A DEVMEM record's pages are not kept whole: after the record's own
 * header (first page, count) is checked, its pages go to the caller as
 * they arrive, checksummed on the way, and the checksum is compared at the
 * record's end.  The caller may also take whole pages itself, straight
 * from where they come from (migdev_stream_dec_direct()).
 */
#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <linux/xxhash.h>

#include "migdev_compat.h"
#include "desc.h"
#include "stream.h"
#include "xorshift.h"

/**
 * migdev_stream_crc() - the header's checksum: CRC-32C
 * @data: bytes
 * @len: how many
 *
 * Return: the CRC-32C (initial value and final XOR 0xffffffff).
 */
u32 migdev_stream_crc(const void *data, size_t len)
{
	return ~migdev_crc32c(~0U, data, len);
}

/**
 * migdev_stream_sum() - a record payload's checksum
 * @minor: the stream's minor version
 * @data: the payload
 * @len: its bytes
 *
 * Return: its XXH64 (seed 0) from MIGDEV_STREAM_MINOR_XXH64, its CRC-32C
 * before; the record carries the low half in crc and the high half (0
 * for CRC-32C) in crc_hi.
 */
u64 migdev_stream_sum(u16 minor, const void *data, size_t len)
{
	if (minor >= MIGDEV_STREAM_MINOR_XXH64)
		return xxh64(data, len, 0);
	return migdev_stream_crc(data, len);
}

/**
 * migdev_stream_record_sum() - set a record header's checksum
 * @r: the record header
 * @sum: migdev_stream_sum() of its payload
 */
void migdev_stream_record_sum(struct migdev_stream_record *r, u64 sum)
{
	r->crc = cpu_to_le32(lower_32_bits(sum));
	r->crc_hi = cpu_to_le32(upper_32_bits(sum));
}

/**
 * migdev_stream_header_init() - the header a source emits
 * @h: header to fill
 * @type_id: the source's type
 * @nr_queues: its queues
 * @devmem_size: its device memory
 * @minor: the stream minor version to emit
 */
void migdev_stream_header_init(struct migdev_stream_header *h, u32 type_id,
			       u32 nr_queues, u64 devmem_size, u16 minor)
{
	memset(h, 0, sizeof(*h));
	h->magic = cpu_to_le32(MIGDEV_STREAM_MAGIC);
	h->major = cpu_to_le16(MIGDEV_STREAM_MAJOR);
	h->minor = cpu_to_le16(minor);
	h->header_size = cpu_to_le32(sizeof(*h));
	h->type_id = cpu_to_le32(type_id);
	h->nr_queues = cpu_to_le32(nr_queues);
	h->devmem_size = cpu_to_le64(devmem_size);
	h->abi_version = cpu_to_le32(MIGDEV_ABI_VERSION);
	h->crc = cpu_to_le32(migdev_stream_crc(h, offsetof(typeof(*h), crc)));
}

/**
 * migdev_stream_put_record() - write a record header and its payload
 * @dst: where; room for sizeof(struct migdev_stream_record) + @len bytes
 * @minor: the stream's minor version: which checksum
 * @tag: MIGDEV_TAG_*
 * @flags: MIGDEV_REC_F_*
 * @payload: the payload, or NULL if it is already in place after the
 *	     record header at @dst
 * @len: payload bytes
 *
 * Return: bytes written.
 */
size_t migdev_stream_put_record(void *dst, u16 minor, u32 tag, u32 flags,
				const void *payload, size_t len)
{
	struct migdev_stream_record *r = dst;

	if (payload)
		memcpy(r + 1, payload, len);
	r->tag = cpu_to_le32(tag);
	r->flags = cpu_to_le32(flags);
	r->size = cpu_to_le64(len);
	migdev_stream_record_sum(r, migdev_stream_sum(minor, r + 1, len));
	return sizeof(*r) + len;
}

/**
 * migdev_stream_dec_init() - get ready to decode a stream
 * @dec: decoder; the caller then sets @dec->devmem and @dec->priv
 * @type_id: the destination's type
 * @nr_queues: its queues
 * @devmem_size: its device memory
 * @max_minor: the newest minor version to accept
 * @buf: MIGDEV_STREAM_DEC_BUF bytes for payloads
 */
void migdev_stream_dec_init(struct migdev_stream_dec *dec, u32 type_id,
			    u32 nr_queues, u64 devmem_size, u16 max_minor,
			    u8 *buf)
{
	struct migdev_geom geom = {
		.type_id = type_id,
		.nr_queues = nr_queues,
		.devmem_size = devmem_size,
	};

	/* Every payload the decoder keeps whole fits its buffer. */
	BUILD_BUG_ON(PCI_CFG_SPACE_SIZE > MIGDEV_STREAM_DEC_BUF);
	BUILD_BUG_ON(sizeof(struct migdev_rec_regs) > MIGDEV_STREAM_DEC_BUF);
	BUILD_BUG_ON(sizeof(struct migdev_rec_msix) > MIGDEV_STREAM_DEC_BUF);
	BUILD_BUG_ON(sizeof(struct migdev_rec_queue) > MIGDEV_STREAM_DEC_BUF);
	BUILD_BUG_ON(sizeof(struct migdev_rec_source_info) >
		     MIGDEV_STREAM_DEC_BUF);
	BUILD_BUG_ON(MIGDEV_STREAM_OPAQUE_SIZE > MIGDEV_STREAM_DEC_BUF);

	memset(dec, 0, sizeof(*dec));
	dec->type_id = type_id;
	dec->nr_queues = nr_queues;
	dec->devmem_size = devmem_size;
	dec->max_minor = max_minor;
	dec->buf = buf;
	migdev_cfg_init(&dec->tmpl, &geom);
	dec->phase = MIGDEV_DEC_HEADER;
}

static __printf(3, 4) int migdev_dec_fail(struct migdev_stream_dec *dec,
					   int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dec->err, sizeof(dec->err), fmt, ap);
	va_end(ap);
	dec->phase = MIGDEV_DEC_FAILED;
	dec->errno_ = err;
	return err;
}

static int migdev_dec_header(struct migdev_stream_dec *dec)
{
	const struct migdev_stream_header *h = &dec->hdr;
	u32 i, abi = le32_to_cpu(h->abi_version);

	if (le32_to_cpu(h->magic) != MIGDEV_STREAM_MAGIC)
		return migdev_dec_fail(dec, -EINVAL,
				       "not a migdev stream: magic 0x%08x, expected 0x%08x",
				       le32_to_cpu(h->magic), MIGDEV_STREAM_MAGIC);
	if (le32_to_cpu(h->crc) != migdev_stream_crc(h, offsetof(typeof(*h), crc)))
		return migdev_dec_fail(dec, -EBADMSG, "header checksum mismatch");
	if (le16_to_cpu(h->major) != MIGDEV_STREAM_MAJOR)
		return migdev_dec_fail(dec, -EPROTONOSUPPORT,
				       "stream version %u.%u: major version %u is not supported (this is %u.%u)",
				       le16_to_cpu(h->major), le16_to_cpu(h->minor),
				       le16_to_cpu(h->major), MIGDEV_STREAM_MAJOR,
				       dec->max_minor);
	if (le16_to_cpu(h->minor) > dec->max_minor)
		return migdev_dec_fail(dec, -EPROTONOSUPPORT,
				       "stream version 1.%u is newer than the 1.%u this destination accepts",
				       le16_to_cpu(h->minor), dec->max_minor);
	if (le32_to_cpu(h->header_size) != sizeof(*h) || h->flags)
		return migdev_dec_fail(dec, -EINVAL,
				       "header size %u or flags 0x%x not as version 1 defines",
				       le32_to_cpu(h->header_size),
				       le32_to_cpu(h->flags));
	for (i = 0; i < ARRAY_SIZE(h->reserved); i++)
		if (h->reserved[i])
			return migdev_dec_fail(dec, -EINVAL,
					       "header reserved word %u is not 0", i);
	if (le32_to_cpu(h->type_id) != dec->type_id)
		return migdev_dec_fail(dec, -EINVAL,
				       "type mismatch: stream has type %u, device is type %u",
				       le32_to_cpu(h->type_id), dec->type_id);
	if (le32_to_cpu(h->nr_queues) != dec->nr_queues ||
	    le64_to_cpu(h->devmem_size) != dec->devmem_size)
		return migdev_dec_fail(dec, -EINVAL,
				       "geometry mismatch: stream has %u queues and %llu bytes of device memory, device has %u and %llu",
				       le32_to_cpu(h->nr_queues),
				       le64_to_cpu(h->devmem_size),
				       dec->nr_queues, dec->devmem_size);
	if (abi >> 16 != MIGDEV_ABI_MAJOR || abi > MIGDEV_ABI_VERSION)
		return migdev_dec_fail(dec, -EPROTONOSUPPORT,
				       "device ABI %u.%u of the source is newer than this device's %u.%u",
				       abi >> 16, abi & 0xffff, MIGDEV_ABI_MAJOR,
				       MIGDEV_ABI_MINOR);
	dec->minor = le16_to_cpu(h->minor);
	return 0;
}

/* The payload size a known tag must have; 0 for "variable" or unknown. */
static bool migdev_dec_size_ok(u32 tag, u64 size)
{
	switch (tag) {
	case MIGDEV_TAG_DEVMEM:
		return size > sizeof(struct migdev_rec_devmem) &&
		       size <= MIGDEV_STREAM_MAX_PAYLOAD &&
		       !((size - sizeof(struct migdev_rec_devmem)) %
			 MIGDEV_STREAM_PAGE_SIZE);
	case MIGDEV_TAG_DEVMEM_ZERO:
		return size == sizeof(struct migdev_rec_devmem);
	case MIGDEV_TAG_CONFIG:
		return size == PCI_CFG_SPACE_SIZE;
	case MIGDEV_TAG_REGS:
		return size == sizeof(struct migdev_rec_regs);
	case MIGDEV_TAG_MSIX:
		return size == sizeof(struct migdev_rec_msix);
	case MIGDEV_TAG_QUEUE:
		return size == sizeof(struct migdev_rec_queue);
	case MIGDEV_TAG_SOURCE_INFO:
		return size == sizeof(struct migdev_rec_source_info);
	case MIGDEV_TAG_OPAQUE:
		return size == MIGDEV_STREAM_OPAQUE_SIZE;
	case MIGDEV_TAG_END:
		return size == 0;
	}
	return false;
}

static bool migdev_tag_known(u32 tag)
{
	return (tag >= MIGDEV_TAG_DEVMEM && tag <= MIGDEV_TAG_OPAQUE) ||
	       tag == MIGDEV_TAG_END;
}

/* Running checksum of a payload taken as it arrives. */
static void migdev_dec_sum_start(struct migdev_stream_dec *dec)
{
	if (dec->minor >= MIGDEV_STREAM_MINOR_XXH64)
		xxh64_reset(&dec->skip.xxh, 0);
	else
		dec->skip.crc = ~0U;
}

static void migdev_dec_sum(struct migdev_stream_dec *dec, const void *p,
			   size_t n)
{
	if (dec->minor >= MIGDEV_STREAM_MINOR_XXH64)
		xxh64_update(&dec->skip.xxh, p, n);
	else
		dec->skip.crc = migdev_crc32c(dec->skip.crc, p, n);
}

static u64 migdev_dec_sum_end(const struct migdev_stream_dec *dec)
{
	if (dec->minor >= MIGDEV_STREAM_MINOR_XXH64)
		return xxh64_digest(&dec->skip.xxh);
	return ~dec->skip.crc;
}

static int migdev_dec_record(struct migdev_stream_dec *dec)
{
	u32 tag = le32_to_cpu(dec->rec.tag), flags = le32_to_cpu(dec->rec.flags);
	u64 size = le64_to_cpu(dec->rec.size);

	if (flags & ~MIGDEV_REC_F_OPTIONAL ||
	    (dec->minor < MIGDEV_STREAM_MINOR_XXH64 && dec->rec.crc_hi))
		return migdev_dec_fail(dec, -EINVAL,
				       "record tag %u: unknown flags 0x%x or reserved field not 0",
				       tag, flags);
	if (!migdev_tag_known(tag)) {
		if (!(flags & MIGDEV_REC_F_OPTIONAL))
			return migdev_dec_fail(dec, -EINVAL,
					       "unknown mandatory record tag %u", tag);
		if (size > MIGDEV_STREAM_MAX_SKIP)
			return migdev_dec_fail(dec, -EINVAL,
					       "unknown optional record tag %u of %llu bytes: more than %u",
					       tag, size, (unsigned int)MIGDEV_STREAM_MAX_SKIP);
		migdev_dec_sum_start(dec);
		dec->phase = MIGDEV_DEC_SKIP;
		return 0;
	}
	if (!migdev_dec_size_ok(tag, size))
		return migdev_dec_fail(dec, -EINVAL,
				       "record tag %u: bad payload size %llu", tag,
				       size);
	dec->phase = tag == MIGDEV_TAG_DEVMEM ? MIGDEV_DEC_DEVMEM :
						MIGDEV_DEC_PAYLOAD;
	return 0;
}

/* The checksum the current record's header carries. */
static u64 migdev_dec_rec_sum(const struct migdev_stream_dec *dec)
{
	return (u64)le32_to_cpu(dec->rec.crc_hi) << 32 |
	       le32_to_cpu(dec->rec.crc);
}

/* Is a DEVMEM or DEVMEM_ZERO record's run inside the device? */
static int migdev_dec_run_ok(struct migdev_stream_dec *dec,
			     const struct migdev_rec_devmem *r)
{
	u64 first = le64_to_cpu(r->first), npages = dec->devmem_size >>
						   MIGDEV_STREAM_PAGE_SHIFT;
	u32 count = le32_to_cpu(r->count);

	if (r->reserved || !count || count > MIGDEV_REC_MAX_PAGES ||
	    first >= npages || count > npages - first)
		return migdev_dec_fail(dec, -EINVAL,
				       "device memory record: pages %llu+%u outside the device's %llu pages",
				       first, count, npages);
	return 0;
}

static int migdev_dec_store(struct migdev_stream_dec *dec, u64 first,
			    u32 count, const void *data)
{
	int ret = dec->devmem(dec->priv, first, count, data);

	if (ret)
		return migdev_dec_fail(dec, ret,
				       "device memory record: storing pages %llu+%u failed",
				       first, count);
	dec->pages += count;
	return 0;
}

static int migdev_dec_devmem_zero(struct migdev_stream_dec *dec)
{
	const struct migdev_rec_devmem *r = (void *)dec->buf;
	u32 count = le32_to_cpu(r->count);

	return migdev_dec_run_ok(dec, r) ?:
	       migdev_dec_store(dec, le64_to_cpu(r->first), count, NULL);
}

/* A DEVMEM record's header is whole: its pages come next. */
static int migdev_dec_devmem_head(struct migdev_stream_dec *dec)
{
	const struct migdev_rec_devmem *r = (void *)dec->buf;
	u32 count = le32_to_cpu(r->count);
	u64 size = le64_to_cpu(dec->rec.size);
	int ret;

	ret = migdev_dec_run_ok(dec, r);
	if (ret)
		return ret;
	if (size != sizeof(*r) + (u64)count * MIGDEV_STREAM_PAGE_SIZE)
		return migdev_dec_fail(dec, -EINVAL,
				       "device memory record: %u pages but %llu bytes",
				       count, size - sizeof(*r));
	migdev_dec_sum_start(dec);
	migdev_dec_sum(dec, r, sizeof(*r));
	dec->phase = MIGDEV_DEC_PAGES;
	return 0;
}

/* The record's pages are all in: was the checksum right? */
static int migdev_dec_pages_end(struct migdev_stream_dec *dec)
{
	dec->have = 0;
	if (migdev_dec_sum_end(dec) != migdev_dec_rec_sum(dec))
		return migdev_dec_fail(dec, -EBADMSG,
				       "record tag %u of %llu bytes: checksum mismatch",
				       MIGDEV_TAG_DEVMEM,
				       le64_to_cpu(dec->rec.size));
	dec->phase = MIGDEV_DEC_RECORD;
	return 0;
}

/*
 * Bytes of a DEVMEM record's pages, each page stored once it is whole, a
 * page a call: the calls are the same however the stream is cut.
 */
static int migdev_dec_pages(struct migdev_stream_dec *dec, const u8 **data,
			    size_t *len)
{
	const struct migdev_rec_devmem *r = (void *)dec->buf;
	u64 total = (u64)le32_to_cpu(r->count) << MIGDEV_STREAM_PAGE_SHIFT;
	u8 *page = dec->buf + sizeof(*r);
	int ret = 0;

	while (*len && dec->have < total && !ret) {
		u64 idx = le64_to_cpu(r->first) +
			  (dec->have >> MIGDEV_STREAM_PAGE_SHIFT);
		size_t off = dec->have & (MIGDEV_STREAM_PAGE_SIZE - 1), n;

		if (!off && *len >= MIGDEV_STREAM_PAGE_SIZE) {
			/* A whole page: stored from where it is. */
			n = MIGDEV_STREAM_PAGE_SIZE;
			migdev_dec_sum(dec, *data, n);
			ret = migdev_dec_store(dec, idx, 1, *data);
		} else {
			n = min_t(size_t, *len, MIGDEV_STREAM_PAGE_SIZE - off);
			memcpy(page + off, *data, n);
			migdev_dec_sum(dec, *data, n);
			if (off + n == MIGDEV_STREAM_PAGE_SIZE)
				ret = migdev_dec_store(dec, idx, 1, page);
		}
		dec->have += n;
		*data += n;
		*len -= n;
	}
	if (!ret && dec->have == total)
		ret = migdev_dec_pages_end(dec);
	return ret;
}

static int migdev_dec_config(struct migdev_stream_dec *dec)
{
	unsigned int i;

	for (i = 0; i < PCI_CFG_SPACE_SIZE; i++) {
		u8 fixed = ~dec->tmpl.wmask[i] & ~dec->tmpl.w1cmask[i];

		if (i == PCI_STATUS)
			fixed &= ~PCI_STATUS_INTERRUPT;	/* follows the device */
		if ((dec->buf[i] ^ dec->tmpl.space[i]) & fixed)
			return migdev_dec_fail(dec, -EINVAL,
					       "config space byte 0x%02x: read-only bits differ: stream 0x%02x, device 0x%02x",
					       i, dec->buf[i], dec->tmpl.space[i]);
	}
	memcpy(dec->config, dec->buf, PCI_CFG_SPACE_SIZE);
	dec->have_config = true;
	return 0;
}

static int migdev_dec_regs(struct migdev_stream_dec *dec)
{
	const struct migdev_rec_regs *r = (void *)dec->buf;
	u32 qmask = (1U << dec->nr_queues) - 1;
	u32 info = le32_to_cpu(r->error_info);

	if (r->reserved)
		return migdev_dec_fail(dec, -EINVAL, "registers: reserved field not 0");
	if (dec->minor < 2 && r->clock_latch)
		return migdev_dec_fail(dec, -EINVAL,
				       "registers: clock latch set in a 1.%u stream (reserved before 1.2)",
				       dec->minor);
	if (le32_to_cpu(r->int_status) & ~(qmask | MIGDEV_INT_ERROR) ||
	    le32_to_cpu(r->error_status) & ~qmask)
		return migdev_dec_fail(dec, -EINVAL,
				       "registers: interrupt 0x%x or error status 0x%x names queues this device has not",
				       le32_to_cpu(r->int_status),
				       le32_to_cpu(r->error_status));
	if (le32_to_cpu(r->rr) >= dec->nr_queues ||
	    info >> 16 || MIGDEV_ERROR_INFO_QUEUE(info) >= dec->nr_queues)
		return migdev_dec_fail(dec, -EINVAL,
				       "registers: next queue %u or error info 0x%x out of range",
				       le32_to_cpu(r->rr), info);
	dec->regs = *r;
	dec->have_regs = true;
	return 0;
}

static int migdev_dec_msix(struct migdev_stream_dec *dec)
{
	const struct migdev_rec_msix *r = (void *)dec->buf;
	unsigned int v, w, nvec = dec->nr_queues + 1;

	for (v = 0; v < ARRAY_SIZE(r->table); v++) {
		for (w = 0; w < 4; w++) {
			u32 val = le32_to_cpu(r->table[v][w]);

			if ((v >= nvec && val) ||
			    (w == PCI_MSIX_ENTRY_VECTOR_CTRL / 4 &&
			     val & ~PCI_MSIX_ENTRY_CTRL_MASKBIT))
				return migdev_dec_fail(dec, -EINVAL,
						       "MSI-X entry %u word %u: 0x%x is not a value this device can hold",
						       v, w, val);
		}
	}
	if (le64_to_cpu(r->pending) >> nvec)
		return migdev_dec_fail(dec, -EINVAL,
				       "MSI-X pending bits 0x%llx beyond the %u vectors",
				       le64_to_cpu(r->pending), nvec);
	dec->msix = *r;
	dec->have_msix = true;
	return 0;
}

static int migdev_dec_queue(struct migdev_stream_dec *dec)
{
	const struct migdev_rec_queue *r = (void *)dec->buf;
	u32 qi = le32_to_cpu(r->index), st = le32_to_cpu(r->state);
	u32 size = le32_to_cpu(r->ring_size);
	bool enabled = st & MIGDEV_QSTATE_ENABLED;
	bool active = st & MIGDEV_QSTATE_ACTIVE;
	u32 status;

	if (qi >= dec->nr_queues || dec->queues_seen & (1U << qi))
		return migdev_dec_fail(dec, -EINVAL,
				       "queue record for queue %u: out of range or repeated",
				       qi);
	if (st & ~(MIGDEV_QSTATE_ENABLED | MIGDEV_QSTATE_HALTED |
		   MIGDEV_QSTATE_ACTIVE) || r->reserved ||
	    le32_to_cpu(r->error) > 0xff)
		return migdev_dec_fail(dec, -EINVAL,
				       "queue %u: state 0x%x, error %u or reserved field invalid",
				       qi, st, le32_to_cpu(r->error));
	/* From 1.3, a disabled queue may be busy: its ABORTED record is due. */
	if ((enabled || (active && dec->minor >= 3)) &&
	    (!migdev_ring_ok(le64_to_cpu(r->ring_base),
			     le64_to_cpu(r->compl_base), size) ||
	     le32_to_cpu(r->tail) - le32_to_cpu(r->head) > size))
		return migdev_dec_fail(dec, -EINVAL,
				       "queue %u: enabled or busy with an invalid ring (size %u, head %u, tail %u)",
				       qi, size, le32_to_cpu(r->head),
				       le32_to_cpu(r->tail));
	if (!enabled && (st & MIGDEV_QSTATE_HALTED))
		return migdev_dec_fail(dec, -EINVAL,
				       "queue %u: halted while disabled", qi);
	if (!enabled && active && dec->minor < 3)
		return migdev_dec_fail(dec, -EINVAL,
				       "queue %u: busy while disabled (stream 1.%u; from 1.3 only)",
				       qi, dec->minor);
	if (active) {
		if (st & MIGDEV_QSTATE_HALTED)
			return migdev_dec_fail(dec, -EINVAL,
					       "queue %u: busy while halted", qi);
		/*
		 * The descriptor in flight is the one at HEAD, fetched because
		 * TAIL was past it: with HEAD == TAIL, completing it would
		 * leave HEAD one past TAIL, and the engine would run 2^32
		 * stale ring slots.
		 */
		if (le32_to_cpu(r->tail) == le32_to_cpu(r->head))
			return migdev_dec_fail(dec, -EINVAL,
					       "queue %u: busy with an empty ring (head %u = tail)",
					       qi, le32_to_cpu(r->head));
		status = migdev_desc_check(&r->desc, dec->devmem_size);
		if (status != MIGDEV_STATUS_OK ||
		    le64_to_cpu(r->done) >= le32_to_cpu(r->desc.len))
			return migdev_dec_fail(dec, -EINVAL,
					       "queue %u: descriptor in flight is invalid (status %u, %llu of %u bytes done)",
					       qi, status, le64_to_cpu(r->done),
					       le32_to_cpu(r->desc.len));
	} else if (memchr_inv(&r->desc, 0, sizeof(r->desc)) || r->done || r->crc) {
		return migdev_dec_fail(dec, -EINVAL,
				       "queue %u: progress recorded with no descriptor in flight",
				       qi);
	}
	dec->queues[qi] = *r;
	dec->queues_seen |= 1U << qi;
	return 0;
}

/**
 * migdev_stream_opaque_fill() - the contents of a block of opaque state
 * @block: MIGDEV_STREAM_PAGE_SIZE bytes
 * @seed: the state's seed
 * @index: the block
 */
void migdev_stream_opaque_fill(void *block, u64 seed, u32 index)
{
	u64 x = (seed ^ (index * 0x9e3779b97f4a7c15ULL)) | 1;
	__le64 *w = block;
	unsigned int i;

	for (i = 0; i < MIGDEV_STREAM_PAGE_SIZE / 8; i++)
		w[i] = cpu_to_le64(migdev_xorshift64(&x));
}

/* A block of opaque state: in order, and what its seed and index make. */
static int migdev_dec_opaque(struct migdev_stream_dec *dec)
{
	const struct migdev_rec_opaque *r = (const void *)dec->buf;
	const __le64 *w = (const void *)(r + 1);
	u64 seed = le64_to_cpu(r->seed), x;
	u32 index = le32_to_cpu(r->index), blocks = le32_to_cpu(r->blocks);
	unsigned int i;

	if (dec->minor < MIGDEV_STREAM_MINOR_XXH64)
		return migdev_dec_fail(dec, -EINVAL,
				       "opaque state in a 1.%u stream: only from 1.%u",
				       dec->minor, MIGDEV_STREAM_MINOR_XXH64);
	if (!dec->opaque_blocks) {
		if (!blocks || blocks > MIGDEV_OPAQUE_MAX_BLOCKS)
			return migdev_dec_fail(dec, -EINVAL,
					       "opaque state of %u blocks: 1 to %u",
					       blocks, MIGDEV_OPAQUE_MAX_BLOCKS);
		dec->opaque_blocks = blocks;
		dec->opaque_seed = seed;
	}
	if (blocks != dec->opaque_blocks || seed != dec->opaque_seed ||
	    index != dec->opaque_next || index >= blocks)
		return migdev_dec_fail(dec, -EINVAL,
				       "opaque state: block %u of %u (seed 0x%llx) where block %u of %u (seed 0x%llx) was due",
				       index, blocks, seed, dec->opaque_next,
				       dec->opaque_blocks, dec->opaque_seed);
	x = (seed ^ (index * 0x9e3779b97f4a7c15ULL)) | 1;
	for (i = 0; i < MIGDEV_STREAM_PAGE_SIZE / 8; i++) {
		if (le64_to_cpu(w[i]) != migdev_xorshift64(&x))
			return migdev_dec_fail(dec, -EINVAL,
					       "opaque state: block %u differs at byte %u",
					       index, i * 8);
	}
	dec->opaque_next++;
	return 0;
}

static int migdev_dec_end(struct migdev_stream_dec *dec)
{
	if (!dec->have_config || !dec->have_regs || !dec->have_msix ||
	    dec->queues_seen != (1U << dec->nr_queues) - 1)
		return migdev_dec_fail(dec, -EINVAL,
				       "stream ended without the device state (config %d, registers %d, MSI-X %d, queues 0x%x)",
				       dec->have_config, dec->have_regs,
				       dec->have_msix, dec->queues_seen);
	if (dec->opaque_next != dec->opaque_blocks)
		return migdev_dec_fail(dec, -EINVAL,
				       "stream ended after %u of %u blocks of opaque state",
				       dec->opaque_next, dec->opaque_blocks);
	dec->phase = MIGDEV_DEC_DONE;
	return 0;
}

/* A payload is complete: check it and take it. */
static int migdev_dec_payload(struct migdev_stream_dec *dec)
{
	u32 tag = le32_to_cpu(dec->rec.tag);
	u64 size = le64_to_cpu(dec->rec.size);
	bool once;

	if (migdev_stream_sum(dec->minor, dec->buf, size) !=
	    migdev_dec_rec_sum(dec))
		return migdev_dec_fail(dec, -EBADMSG,
				       "record tag %u of %llu bytes: checksum mismatch",
				       tag, size);
	once = (tag == MIGDEV_TAG_CONFIG && dec->have_config) ||
	       (tag == MIGDEV_TAG_REGS && dec->have_regs) ||
	       (tag == MIGDEV_TAG_MSIX && dec->have_msix) ||
	       (tag == MIGDEV_TAG_SOURCE_INFO && dec->have_source_info);
	if (once)
		return migdev_dec_fail(dec, -EINVAL, "record tag %u repeated", tag);
	dec->phase = MIGDEV_DEC_RECORD;

	switch (tag) {
	case MIGDEV_TAG_DEVMEM_ZERO:
		return migdev_dec_devmem_zero(dec);
	case MIGDEV_TAG_CONFIG:
		return migdev_dec_config(dec);
	case MIGDEV_TAG_REGS:
		return migdev_dec_regs(dec);
	case MIGDEV_TAG_MSIX:
		return migdev_dec_msix(dec);
	case MIGDEV_TAG_QUEUE:
		return migdev_dec_queue(dec);
	case MIGDEV_TAG_SOURCE_INFO:
		if (((struct migdev_rec_source_info *)dec->buf)->reserved)
			return migdev_dec_fail(dec, -EINVAL,
					       "source info: reserved field not 0");
		memcpy(&dec->source_info, dec->buf, sizeof(dec->source_info));
		dec->have_source_info = true;
		return 0;
	case MIGDEV_TAG_OPAQUE:
		return migdev_dec_opaque(dec);
	case MIGDEV_TAG_END:
		return migdev_dec_end(dec);
	}
	return migdev_dec_fail(dec, -EINVAL, "record tag %u unexpected", tag);
}

/* Copy up to what the current piece still needs; true once it is whole. */
static bool migdev_dec_fill(struct migdev_stream_dec *dec, void *piece,
			    u64 piece_size, const u8 **data, size_t *len)
{
	size_t n = min_t(u64, *len, piece_size - dec->have);

	memcpy((u8 *)piece + dec->have, *data, n);
	dec->have += n;
	*data += n;
	*len -= n;
	if (dec->have < piece_size)
		return false;
	dec->have = 0;
	return true;
}

/**
 * migdev_stream_dec_write() - feed bytes of the stream
 * @dec: decoder
 * @data: bytes
 * @len: how many; any segmentation of the stream is fine
 *
 * Return: @len, or a negative errno once the stream is found bad (and for
 * every call after that); @dec->err says what was wrong.
 */
ssize_t migdev_stream_dec_write(struct migdev_stream_dec *dec,
				const void *data, size_t len)
{
	const u8 *p = data;
	size_t left = len;
	int ret = 0;

	while (left && !ret) {
		switch (dec->phase) {
		case MIGDEV_DEC_HEADER:
			if (migdev_dec_fill(dec, &dec->hdr, sizeof(dec->hdr), &p, &left)) {
				ret = migdev_dec_header(dec);
				if (!ret)
					dec->phase = MIGDEV_DEC_RECORD;
			}
			break;
		case MIGDEV_DEC_RECORD:
			if (migdev_dec_fill(dec, &dec->rec, sizeof(dec->rec), &p, &left)) {
				ret = migdev_dec_record(dec);
				if (!ret && dec->phase == MIGDEV_DEC_PAYLOAD &&
				    !le64_to_cpu(dec->rec.size))
					ret = migdev_dec_payload(dec);
			}
			break;
		case MIGDEV_DEC_PAYLOAD:
			if (migdev_dec_fill(dec, dec->buf, le64_to_cpu(dec->rec.size),
					    &p, &left))
				ret = migdev_dec_payload(dec);
			break;
		case MIGDEV_DEC_DEVMEM:
			if (migdev_dec_fill(dec, dec->buf,
					    sizeof(struct migdev_rec_devmem),
					    &p, &left))
				ret = migdev_dec_devmem_head(dec);
			break;
		case MIGDEV_DEC_PAGES:
			ret = migdev_dec_pages(dec, &p, &left);
			break;
		case MIGDEV_DEC_SKIP: {
			u64 size = le64_to_cpu(dec->rec.size);
			size_t n = min_t(u64, left, size - dec->have);

			migdev_dec_sum(dec, p, n);
			dec->have += n;
			p += n;
			left -= n;
			if (dec->have == size) {
				dec->have = 0;
				if (migdev_dec_sum_end(dec) !=
				    migdev_dec_rec_sum(dec))
					ret = migdev_dec_fail(dec, -EBADMSG,
							      "optional record tag %u: checksum mismatch",
							      le32_to_cpu(dec->rec.tag));
				else
					dec->phase = MIGDEV_DEC_RECORD;
			}
			break;
		}
		case MIGDEV_DEC_DONE:
			ret = migdev_dec_fail(dec, -EINVAL,
					      "%zu bytes after the end of the stream",
					      left);
			break;
		case MIGDEV_DEC_FAILED:
			return dec->errno_;
		}
	}
	dec->offset += p - (const u8 *)data;
	return ret ? ret : len;
}

/**
 * migdev_stream_dec_finish() - the stream is over: was it whole?
 * @dec: decoder
 *
 * Return: 0 if the stream ended with MIGDEV_TAG_END, else a negative errno
 * with @dec->err saying why.
 */
int migdev_stream_dec_finish(struct migdev_stream_dec *dec)
{
	switch (dec->phase) {
	case MIGDEV_DEC_DONE:
		return 0;
	case MIGDEV_DEC_FAILED:
		return dec->errno_;
	case MIGDEV_DEC_HEADER:
		return migdev_dec_fail(dec, -EINVAL,
				       "stream truncated: %llu of %zu header bytes",
				       dec->have, sizeof(dec->hdr));
	default:
		return migdev_dec_fail(dec, -EINVAL,
				       "stream truncated: no end record");
	}
}

/**
 * migdev_stream_dec_want() - how much to feed before asking again
 * @dec: decoder
 *
 * A caller that can take whole pages itself (migdev_stream_dec_direct())
 * feeds no more than this, so that it does not miss where they begin.
 *
 * Return: bytes up to the end of what the decoder is taking now (with a
 * record's header, also a DEVMEM record's own header after it); at least 1.
 */
size_t migdev_stream_dec_want(const struct migdev_stream_dec *dec)
{
	u64 n;

	switch (dec->phase) {
	case MIGDEV_DEC_HEADER:
		return sizeof(dec->hdr) - dec->have;
	case MIGDEV_DEC_RECORD:
		return sizeof(dec->rec) - dec->have +
		       sizeof(struct migdev_rec_devmem);
	case MIGDEV_DEC_DEVMEM:
		return sizeof(struct migdev_rec_devmem) - dec->have;
	case MIGDEV_DEC_PAGES:
		n = dec->have & (MIGDEV_STREAM_PAGE_SIZE - 1);
		if (n)
			return MIGDEV_STREAM_PAGE_SIZE - n;
		n = le64_to_cpu(dec->rec.size) -
		    sizeof(struct migdev_rec_devmem) - dec->have;
		break;
	case MIGDEV_DEC_PAYLOAD:
	case MIGDEV_DEC_SKIP:
		n = le64_to_cpu(dec->rec.size) - dec->have;
		break;
	default:
		return SIZE_MAX;
	}
	return n ? min_t(u64, n, SIZE_MAX) : 1;
}

/**
 * migdev_stream_dec_direct() - may the caller take whole pages itself?
 * @dec: decoder
 * @first: set to the index of the next page the stream carries
 * @st: set to the record's running checksum so far
 *
 * Where the next bytes are whole pages of a DEVMEM record checksummed with
 * XXH64, the caller may store them itself, straight from where they come
 * from, adding them to a copy of @st, and then report them with
 * migdev_stream_dec_direct_done().  The decoder does not change meanwhile
 * unless the caller feeds it.
 *
 * Return: how many whole pages the record still carries; 0 if the next
 * bytes are something else (feed them to migdev_stream_dec_write()).
 */
u32 migdev_stream_dec_direct(const struct migdev_stream_dec *dec, u64 *first,
			     struct xxh64_state *st)
{
	const struct migdev_rec_devmem *r = (void *)dec->buf;
	u64 total;

	if (dec->phase != MIGDEV_DEC_PAGES ||
	    dec->minor < MIGDEV_STREAM_MINOR_XXH64 ||
	    dec->have & (MIGDEV_STREAM_PAGE_SIZE - 1))
		return 0;
	total = (u64)le32_to_cpu(r->count) << MIGDEV_STREAM_PAGE_SHIFT;
	*first = le64_to_cpu(r->first) + (dec->have >> MIGDEV_STREAM_PAGE_SHIFT);
	*st = dec->skip.xxh;
	return (total - dec->have) >> MIGDEV_STREAM_PAGE_SHIFT;
}

/**
 * migdev_stream_dec_direct_done() - the caller took pages itself
 * @dec: decoder
 * @count: pages taken, at most what migdev_stream_dec_direct() said
 * @st: the running checksum with the pages added
 *
 * Return: 0, or a negative errno once the stream is found bad (the record's
 * checksum was wrong, or the decoder failed meanwhile).
 */
int migdev_stream_dec_direct_done(struct migdev_stream_dec *dec, u32 count,
				  const struct xxh64_state *st)
{
	const struct migdev_rec_devmem *r = (void *)dec->buf;
	u64 n = (u64)count << MIGDEV_STREAM_PAGE_SHIFT, total;

	if (dec->phase == MIGDEV_DEC_FAILED)
		return dec->errno_;
	total = (u64)le32_to_cpu(r->count) << MIGDEV_STREAM_PAGE_SHIFT;
	if (dec->phase != MIGDEV_DEC_PAGES ||
	    dec->minor < MIGDEV_STREAM_MINOR_XXH64 ||
	    dec->have & (MIGDEV_STREAM_PAGE_SIZE - 1) ||
	    !count || n > total - dec->have)
		return migdev_dec_fail(dec, -EINVAL,
				       "%u pages taken where the stream does not carry them",
				       count);
	dec->skip.xxh = *st;
	dec->have += n;
	dec->offset += n;
	dec->pages += count;
	return dec->have == total ? migdev_dec_pages_end(dec) : 0;
}
