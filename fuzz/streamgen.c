// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev fuzzing: build valid migration streams with the codec's own
 * encoder (emul/stream.c and stream_enc.c: the header, DEVMEM and
 * SOURCE_INFO records as the kernel writes them, and any record's framing)
 * and config space template (migdev_cfg_init()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sizes.h>
#include <linux/unaligned.h>
#include <asm/byteorder.h>

#include "cfg.h"
#include "streamgen.h"

const struct migdev_geom sg_types[MIGDEV_NUM_TYPES] = {
	[MIGDEV_TYPE_SMALL] = {
		MIGDEV_TYPE_SMALL, MIGDEV_TYPE_NR_QUEUES(MIGDEV_TYPE_SMALL),
		MIGDEV_TYPE_DEVMEM_SIZE(MIGDEV_TYPE_SMALL) },
	[MIGDEV_TYPE_MEDIUM] = {
		MIGDEV_TYPE_MEDIUM, MIGDEV_TYPE_NR_QUEUES(MIGDEV_TYPE_MEDIUM),
		MIGDEV_TYPE_DEVMEM_SIZE(MIGDEV_TYPE_MEDIUM) },
	[MIGDEV_TYPE_LARGE] = {
		MIGDEV_TYPE_LARGE, MIGDEV_TYPE_NR_QUEUES(MIGDEV_TYPE_LARGE),
		MIGDEV_TYPE_DEVMEM_SIZE(MIGDEV_TYPE_LARGE) },
	[MIGDEV_TYPE_XLARGE] = {
		MIGDEV_TYPE_XLARGE, MIGDEV_TYPE_NR_QUEUES(MIGDEV_TYPE_XLARGE),
		MIGDEV_TYPE_DEVMEM_SIZE(MIGDEV_TYPE_XLARGE) },
};

const char *const sg_type_names[MIGDEV_NUM_TYPES] = {
	MIGDEV_TYPE_SUFFIX(MIGDEV_TYPE_SMALL),
	MIGDEV_TYPE_SUFFIX(MIGDEV_TYPE_MEDIUM),
	MIGDEV_TYPE_SUFFIX(MIGDEV_TYPE_LARGE),
	MIGDEV_TYPE_SUFFIX(MIGDEV_TYPE_XLARGE),
};

void sg_init(struct sg_buf *b, size_t cap)
{
	b->p = malloc(cap);
	if (!b->p) {
		perror("malloc");
		exit(2);
	}
	b->len = 0;
	b->cap = cap;
}

void sg_free(struct sg_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

void sg_append(struct sg_buf *b, const void *data, size_t len)
{
	if (len > b->cap - b->len) {
		fprintf(stderr, "streamgen: stream over %zu bytes\n", b->cap);
		abort();
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

void sg_header(struct sg_buf *b, const struct migdev_geom *g, u16 minor)
{
	struct migdev_stream_header h;

	migdev_stream_header_init(&h, g->type_id, g->nr_queues,
				  g->devmem_size, minor);
	sg_append(b, &h, sizeof(h));
}

/*
 * The minor whose checksum @b's records carry: its header's, or the
 * newest if it does not start with one (state records alone).
 */
static u16 sg_minor(const struct sg_buf *b)
{
	if (b->len < sizeof(struct migdev_stream_header) ||
	    get_unaligned_le32(b->p) != MIGDEV_STREAM_MAGIC)
		return MIGDEV_STREAM_MINOR;
	return get_unaligned_le16(b->p + offsetof(struct migdev_stream_header,
						   minor));
}

/*
 * migdev_stream_put_record() wants its record header aligned, and a
 * stream is not (an odd-sized optional payload shifts what follows):
 * records are put together in an aligned scratch buffer, then appended.
 */
static void *sg_scratch(size_t len)
{
	void *p = malloc(sizeof(struct migdev_stream_record) + len);

	if (!p) {
		perror("malloc");
		exit(2);
	}
	return p;
}

/* Returns the offset of the record in the stream. */
size_t sg_record(struct sg_buf *b, u32 tag, u32 flags, const void *payload,
		 size_t len)
{
	size_t off = b->len, n;
	void *rec = sg_scratch(len);

	n = migdev_stream_put_record(rec, sg_minor(b), tag, flags, payload, len);
	sg_append(b, rec, n);
	free(rec);
	return off;
}

/* The built streams' device memory: sg_page_byte() in every page. */
static void sg_read_pages(void *priv, u64 first, u32 count, void *buf)
{
	u8 *data = buf;
	size_t i;

	for (i = 0; i < (size_t)count * 4096; i++)
		data[i] = sg_page_byte(first + i / 4096, i % 4096);
}

void sg_devmem(struct sg_buf *b, u64 first, u32 count)
{
	size_t len = sizeof(struct migdev_rec_devmem) + (size_t)count * 4096;
	u8 *rec = sg_scratch(len);

	sg_append(b, rec, migdev_stream_put_devmem(rec, sg_minor(b), first, count,
						   sg_read_pages, NULL));
	free(rec);
}

void sg_devmem_zero(struct sg_buf *b, u64 first, u32 count)
{
	struct migdev_rec_devmem d = {
		.first = cpu_to_le64(first),
		.count = cpu_to_le32(count),
	};

	sg_record(b, MIGDEV_TAG_DEVMEM_ZERO, 0, &d, sizeof(d));
}

/* CONFIG, REGS, MSIX and one QUEUE per queue, as a busy source has them. */
void sg_state(struct sg_buf *b, const struct migdev_geom *g, bool busy,
	      const struct migdev_desc *desc)
{
	unsigned int q, v, nvec = migdev_geom_nr_vectors(g);
	struct migdev_rec_regs regs = {};
	struct migdev_rec_msix msix = {};
	struct migdev_cfg cfg;

	/* Config space: what a guest driver writes, through the masks. */
	migdev_cfg_init(&cfg, g);
	migdev_cfg_write(&cfg, PCI_COMMAND, 2,
			 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	migdev_cfg_write(&cfg, PCI_BASE_ADDRESS_0, 4, 0xfe000000);
	migdev_cfg_write(&cfg, PCI_BASE_ADDRESS_2, 4, 0);
	migdev_cfg_write(&cfg, PCI_BASE_ADDRESS_3, 4, 0x1);
	migdev_cfg_write(&cfg, PCI_CACHE_LINE_SIZE, 1, 0x10);
	migdev_cfg_write(&cfg, PCI_INTERRUPT_LINE, 1, 11);
	migdev_cfg_write(&cfg, MIGDEV_CAP_MSIX + PCI_MSIX_FLAGS, 2,
			 PCI_MSIX_FLAGS_ENABLE);
	if (busy)	/* INTx pending: follows the device, not read-only */
		migdev_cfg_set_intx_status(&cfg, true);
	sg_record(b, MIGDEV_TAG_CONFIG, 0, cfg.space, sizeof(cfg.space));

	regs.scratch = cpu_to_le64(0x0123456789abcdefULL);
	regs.clock = cpu_to_le64(123456789012ULL);
	regs.int_status = cpu_to_le32(busy ? 1 | MIGDEV_INT_ERROR : 0);
	regs.error_status = cpu_to_le32(busy ? 1 : 0);
	regs.error_info = cpu_to_le32(busy ? MIGDEV_STATUS_BAD_ADDRESS : 0);
	regs.error_count = cpu_to_le32(busy ? 3 : 0);
	regs.rr = cpu_to_le32(g->nr_queues - 1);
	sg_record(b, MIGDEV_TAG_REGS, 0, &regs, sizeof(regs));

	for (v = 0; v < nvec; v++) {
		msix.table[v][0] = cpu_to_le32(0xfee00000 + v * 0x1000);
		msix.table[v][1] = 0;
		msix.table[v][2] = cpu_to_le32(0x4020 + v);
		msix.table[v][3] = cpu_to_le32(v & 1 ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
	}
	msix.pending = cpu_to_le64(busy ? 2 : 0);
	sg_record(b, MIGDEV_TAG_MSIX, 0, &msix, sizeof(msix));

	for (q = 0; q < g->nr_queues; q++) {
		struct migdev_rec_queue r = { .index = cpu_to_le32(q) };

		if (q % 3 != 2) {	/* every third queue is disabled */
			r.ring_base = cpu_to_le64(0x100000 + q * 0x10000);
			r.compl_base = cpu_to_le64(0x800000 + q * 0x10000);
			r.ring_size = cpu_to_le32(64 << q);
			r.head = cpu_to_le32(0xfffffff0 + q);	/* wraps */
			r.tail = cpu_to_le32(0xfffffff0 + 2 * q);
			r.completed = cpu_to_le64(1000 + q);
			r.state = cpu_to_le32(MIGDEV_QSTATE_ENABLED);
		}
		if (q == 1) {
			r.state |= cpu_to_le32(MIGDEV_QSTATE_HALTED);
			r.error = cpu_to_le32(MIGDEV_ERR_RING_FETCH);
		}
		if (q == 0 && busy) {
			r.state = cpu_to_le32(MIGDEV_QSTATE_ENABLED |
					      MIGDEV_QSTATE_ACTIVE);
			r.tail = cpu_to_le32(0xfffffff0 + 4);
			if (desc) {
				r.desc = *desc;
			} else {
				r.desc.opcode = cpu_to_le16(MIGDEV_OP_TO_DEV);
				r.desc.flags = cpu_to_le16(MIGDEV_DESC_F_IRQ);
				r.desc.len = cpu_to_le32(3 * 4096);
				r.desc.src = cpu_to_le64(0x400000);
				r.desc.dst = cpu_to_le64(g->devmem_size - 3 * 4096);
				r.desc.cookie = cpu_to_le64(0xc0ffee);
			}
			r.done = cpu_to_le64(le32_to_cpu(r.desc.len) / 2);
			r.crc = cpu_to_le32(0x12345678);
		}
		sg_record(b, MIGDEV_TAG_QUEUE, 0, &r, sizeof(r));
	}
}

/* Block @index of @blocks of opaque state, as a source sends it. */
void sg_opaque(struct sg_buf *b, u64 seed, u32 index, u32 blocks)
{
	u8 *p = sg_scratch(MIGDEV_STREAM_OPAQUE_SIZE);
	struct migdev_rec_opaque *r = (void *)p;

	r->seed = cpu_to_le64(seed);
	r->index = cpu_to_le32(index);
	r->blocks = cpu_to_le32(blocks);
	migdev_stream_opaque_fill(r + 1, seed, index);
	sg_record(b, MIGDEV_TAG_OPAQUE, MIGDEV_REC_F_OPTIONAL, p,
		  MIGDEV_STREAM_OPAQUE_SIZE);
	free(p);
}

void sg_build(struct sg_buf *b, const struct migdev_geom *g,
	      const struct sg_opts *o)
{
	u32 left;
	u64 page = 0;

	sg_header(b, g, o->minor);
	for (left = o->pages; left; ) {
		u32 n = left < MIGDEV_REC_MAX_PAGES ? left : MIGDEV_REC_MAX_PAGES;

		sg_devmem(b, page, n);
		page += n;
		left -= n;
	}
	for (left = o->zero_pages; left; ) {
		u32 n = left < MIGDEV_REC_MAX_PAGES ? left : MIGDEV_REC_MAX_PAGES;

		sg_devmem_zero(b, page, n);
		page += n;
		left -= n;
	}
	for (left = 0; left < o->opaque; left++)
		sg_opaque(b, SG_OPAQUE_SEED, left, o->opaque);
	if (o->optional) {
		static const char note[] = "a record from a newer source";

		sg_record(b, 0x100, MIGDEV_REC_F_OPTIONAL, note, sizeof(note));
	}
	sg_state(b, g, o->busy, o->desc);
	if (o->minor >= 1) {
		/* As the kernel's: optional, so a 1.0 destination skips it. */
		u8 *rec = sg_scratch(sizeof(struct migdev_rec_source_info));

		sg_append(b, rec,
			  migdev_stream_put_source_info(rec, o->minor, 3,
							o->pages * 4096ULL));
		free(rec);
	}
	if (!o->no_end)
		sg_record(b, MIGDEV_TAG_END, 0, NULL, 0);
}
