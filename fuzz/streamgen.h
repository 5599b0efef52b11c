/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev fuzzing: build valid migration streams (for the unit tests and
 * the seed corpus), and the layout of a fuzz input.
 */
#ifndef MIGDEV_FUZZ_STREAMGEN_H
#define MIGDEV_FUZZ_STREAMGEN_H

#include <linux/types.h>
#include <uapi/linux/migdev.h>

#include "geom.h"
#include "stream.h"

/* The four types, as mdev/types.c defines them, indexed by type_id. */
extern const struct migdev_geom sg_types[MIGDEV_NUM_TYPES];
extern const char *const sg_type_names[MIGDEV_NUM_TYPES];

/*
 * A growing stream; sg_*() abort if it would pass @cap.  Records carry the
 * checksum of the minor in the header it starts with (else the newest).
 */
struct sg_buf {
	u8 *p;
	size_t len;
	size_t cap;
};

struct sg_opts {
	u16 minor;		/* stream minor; 1 adds SOURCE_INFO */
	u32 pages;		/* DEVMEM pages with data, from page 0 */
	u32 zero_pages;		/* then DEVMEM_ZERO pages */
	bool optional;		/* an unknown optional record (tag 0x100) */
	bool busy;		/* queue 0 has a descriptor in flight: */
	const struct migdev_desc *desc;	/* this one, or a TO_DEV */
	bool no_end;		/* leave MIGDEV_TAG_END out */
	u32 opaque;		/* blocks of opaque state (1.4), seed SG_SEED */
};

#define SG_OPAQUE_SEED	0x5eed0fa9ULL

/* The byte of device-memory page @page at @off, in built streams. */
static inline u8 sg_page_byte(u64 page, size_t off)
{
	return (u8)(page * 131 + off * 7 + (off >> 8));
}

void sg_init(struct sg_buf *b, size_t cap);
void sg_free(struct sg_buf *b);
void sg_append(struct sg_buf *b, const void *data, size_t len);
void sg_header(struct sg_buf *b, const struct migdev_geom *g, u16 minor);
size_t sg_record(struct sg_buf *b, u32 tag, u32 flags, const void *payload,
		 size_t len);
void sg_devmem(struct sg_buf *b, u64 first, u32 count);
void sg_devmem_zero(struct sg_buf *b, u64 first, u32 count);
void sg_opaque(struct sg_buf *b, u64 seed, u32 index, u32 blocks);
void sg_state(struct sg_buf *b, const struct migdev_geom *g, bool busy,
	      const struct migdev_desc *desc);
void sg_build(struct sg_buf *b, const struct migdev_geom *g,
	      const struct sg_opts *o);

/*
 * A fuzz input is FZ_PREFIX bytes of setup, then the stream:
 *
 * byte 0: bits 0-1 the destination type (enum migdev_type_id);
 *	   bits 2-3 how the stream is cut into writes (FZ_SEG_*);
 *	   FZ_MINOR0: the destination accepts stream 1.0 only;
 *	   FZ_CB_FAIL: the device-memory callback fails on its second call;
 *	   FZ_FIXUP: header and record checksums are made right before
 *	   decoding, so mutations get past them to the checks behind;
 *	   FZ_DIRECT: the cut decode takes whole pages itself where the
 *	   decoder allows, as the kernel's resume write() does.
 * byte 1: the parameter of the cutting (piece size or PRNG seed).
 */
#define FZ_PREFIX	2
#define FZ_TYPE_MASK	0x03
#define FZ_SEG_SHIFT	2
#define FZ_SEG_MASK	0x03
#define FZ_SEG_WHOLE	0	/* one write */
#define FZ_SEG_FIXED	1	/* pieces of byte 1 + 1 bytes */
#define FZ_SEG_RANDOM	2	/* random pieces up to 2^(byte 1 % 16) */
#define FZ_SEG_TINY	3	/* random pieces of 0..31 bytes */
#define FZ_MINOR0	0x10
#define FZ_CB_FAIL	0x20
#define FZ_FIXUP	0x40
#define FZ_DIRECT	0x80

#endif /* MIGDEV_FUZZ_STREAMGEN_H */
