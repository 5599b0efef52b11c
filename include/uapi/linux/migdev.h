/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * migdev: the ABI of the emulated PCI device that every migdev mediated
 * device instance presents.  Everything here crosses the user/kernel or
 * guest/host boundary, so it is little-endian and fixed-width.
 *
 * A guest driver finds the device by its PCI IDs, then reads MIGDEV_REG_ID
 * and MIGDEV_REG_VERSION in BAR0 to tell revisions apart and
 * MIGDEV_REG_FEATURES for optional features.
 */
#ifndef _UAPI_LINUX_MIGDEV_H
#define _UAPI_LINUX_MIGDEV_H

#include <linux/types.h>

/*
 * PCI identity.  The vendor ID is Red Hat's (0x1b36), whose device IDs are
 * handed out by QEMU's docs/specs/pci-ids.rst; like the kernel's mdpy sample
 * (1b36:000f), migdev uses one from that space.  0x0110 is provisional and
 * not registered: treat the pair as a test device.  The subsystem device ID
 * is the type (profile) number, MIGDEV_TYPE_*, plus one.
 */
#define MIGDEV_PCI_VENDOR_ID		0x1b36
#define MIGDEV_PCI_DEVICE_ID		0x0110
#define MIGDEV_PCI_SUBSYS_VENDOR_ID	0x1b36
#define MIGDEV_PCI_REVISION		0x01
/* Class 0x0880: base class system peripheral, sub class "other". */
#define MIGDEV_PCI_CLASS		0x088000

/*
 * Config space: 4096 bytes (PCI Express).  Capabilities, in list order:
 * power management, MSI-X, PCI Express (endpoint, FLR capable).  There are
 * no extended capabilities: the header at 0x100 reads 0.
 */
#define MIGDEV_CFG_SIZE			0x1000
#define MIGDEV_CAP_PM			0x40
#define MIGDEV_CAP_MSIX			0x50
#define MIGDEV_CAP_EXP			0x60

/*
 * BAR0: 32-bit non-prefetchable memory, MIGDEV_BAR0_SIZE bytes, the
 * registers and the MSI-X table and pending-bit array.  Registers are 32 or
 * 64 bits wide and are accessed with naturally aligned 4- or 8-byte
 * accesses; any other width or alignment is refused.  An 8-byte access to a
 * 32-bit register pair reads or writes both.  Offsets without a register
 * read as 0 and ignore writes.
 *
 * BAR2 (with BAR3): 64-bit prefetchable memory, the device memory, whose
 * size is the type's (MIGDEV_REG_DEVMEM_SIZE).  Any width and alignment.
 */
#define MIGDEV_BAR0_SIZE		0x4000
#define MIGDEV_MSIX_TABLE_OFFSET	0x2000
#define MIGDEV_MSIX_PBA_OFFSET		0x3000
#define MIGDEV_MSIX_ENTRY_SIZE		16

/* No type has more DMA queues; MSI-X has one vector per queue plus one. */
#define MIGDEV_MAX_QUEUES		8

/*
 * Register map of BAR0.  RO: read only, writes ignored.  RW: read/write.
 */
/* RO 32: MIGDEV_ID_MAGIC. */
#define MIGDEV_REG_ID			0x000
/* RO 32: (major << 16) | minor of the register ABI. */
#define MIGDEV_REG_VERSION		0x004
/* RO 64: MIGDEV_FEATURE_* bits. */
#define MIGDEV_REG_FEATURES		0x008
/* RO 32: number of DMA queues of this instance. */
#define MIGDEV_REG_NUM_QUEUES		0x010
/* RO 32: number of MSI-X vectors: one per queue plus one for errors. */
#define MIGDEV_REG_NUM_VECTORS		0x014
/* RO 64: size of the device memory (BAR2) in bytes. */
#define MIGDEV_REG_DEVMEM_SIZE		0x018
/* RW 64: scratch register for drivers; cleared by reset. */
#define MIGDEV_REG_SCRATCH		0x020
/*
 * RO 64: the device clock, in nanoseconds.  It only moves forward: resets
 * do not touch it, and a migrated device's clock continues from where it
 * was on the source.  Reading the low half latches the high half, so an
 * 8-byte read, or a read of the low then the high half, never tears.
 */
#define MIGDEV_REG_CLOCK		0x028
/*
 * RW1C 32: interrupt causes.  Bit q (q < MIGDEV_REG_NUM_QUEUES): queue q
 * completed a descriptor that asked for an interrupt; MIGDEV_INT_ERROR: an
 * error was recorded in MIGDEV_REG_ERROR_*.  INTx is asserted while any
 * bit is set (and PCI_COMMAND_INTX_DISABLE is clear).
 */
#define MIGDEV_REG_INT_STATUS		0x030
/* RW1C 32: bit q: queue q recorded an error since the bit was cleared. */
#define MIGDEV_REG_ERROR_STATUS		0x034
/* RO 32: the last error: MIGDEV_ERROR_INFO_CODE and _QUEUE fields. */
#define MIGDEV_REG_ERROR_INFO		0x038
/* RO 32: errors recorded since reset (wraps). */
#define MIGDEV_REG_ERROR_COUNT		0x03c
/*
 * WO 32 (reads 0), from register ABI 1.2 (MIGDEV_FEATURE_DEVMEM_DISCARD):
 * device-memory commands.  MIGDEV_DEVMEM_CTRL_DISCARD discards all of
 * device memory, which reads as zeros again, as after power-on, and gives
 * its host memory back; a driver that reinitialises its use of the device
 * (loads a new context, say) starts from a clean device memory without a
 * reset.  It takes effect before the write completes.  DMA still in
 * flight to device memory lands after it.  During a migration it is a
 * reconfiguration: the stream starts its initial data again (for VFIO
 * users that opted in to VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2,
 * VFIO_MIG_GET_PRECOPY_INFO reports VFIO_PRECOPY_INFO_REINIT once).
 * Other bits must be 0: a write with any is ignored.
 */
#define MIGDEV_REG_DEVMEM_CTRL		0x040
#define MIGDEV_DEVMEM_CTRL_DISCARD	(1U << 0)

#define MIGDEV_INT_ERROR		(1U << 31)
#define MIGDEV_ERROR_INFO_CODE(info)	((info) & 0xff)
#define MIGDEV_ERROR_INFO_QUEUE(info)	(((info) >> 8) & 0xff)

/*
 * Queue registers: queue q's block is at MIGDEV_REG_QUEUE(q), stride 0x40.
 *
 * A queue is a ring of MIGDEV_Q_RING_SIZE descriptors (struct migdev_desc)
 * at MIGDEV_Q_RING_BASE, and a completion area of as many completion
 * records (struct migdev_completion) at MIGDEV_Q_COMPL_BASE; both are in
 * guest memory (I/O virtual addresses).  Descriptor i of the ring is
 * completed into completion record i.  HEAD and TAIL are free-running
 * 32-bit counters; slot = counter & (RING_SIZE - 1).  The driver writes
 * descriptors, then TAIL (the doorbell); the device executes them in order
 * and advances HEAD as each completes.
 *
 * RING_BASE, RING_SIZE and COMPL_BASE can be written only while the queue
 * is disabled.  Setting MIGDEV_Q_CTRL_ENABLE validates them (RING_SIZE a
 * power of two up to MIGDEV_MAX_RING_SIZE, RING_BASE aligned to 64 bytes,
 * COMPL_BASE to 32) and zeroes HEAD, TAIL and COMPLETED; if they are
 * invalid the queue stays disabled and MIGDEV_ERR_RING_CONFIG is recorded.
 * Clearing ENABLE aborts the descriptor in flight (MIGDEV_STATUS_ABORTED)
 * and executes no more.  The ABORTED record is usually written by the time
 * the register write completes; if not (the device had to prepare the
 * record's memory first, or the device is stopped for migration),
 * MIGDEV_Q_STATUS_BUSY stays set until it is, and RING_BASE, RING_SIZE
 * and COMPL_BASE stay fixed.  A driver that needs the record, or moves the
 * ring, waits for BUSY to clear; enabling the queue again drops a record
 * still due, and so does clearing PCI_COMMAND_MASTER: with it clear, no
 * record is written.  A queue halts (MIGDEV_Q_STATUS_HALTED) when it
 * cannot fetch a descriptor, cannot write a completion, or TAIL runs more
 * than RING_SIZE ahead of HEAD; disable and enable it to recover.
 *
 * The device performs DMA only while PCI_COMMAND_MASTER is set.
 */
#define MIGDEV_REG_QUEUE(q)		(0x100 + (q) * 0x40)
#define MIGDEV_Q_RING_BASE		0x00	/* RW 64 */
#define MIGDEV_Q_RING_SIZE		0x08	/* RW 32 */
#define MIGDEV_Q_CTRL			0x0c	/* RW 32 */
#define MIGDEV_Q_COMPL_BASE		0x10	/* RW 64 */
#define MIGDEV_Q_TAIL			0x18	/* RW 32: the doorbell */
#define MIGDEV_Q_HEAD			0x1c	/* RO 32 */
#define MIGDEV_Q_STATUS			0x20	/* RO 32 */
#define MIGDEV_Q_ERROR			0x24	/* RO 32: last error code */
#define MIGDEV_Q_COMPLETED		0x28	/* RO 64: since enable */

#define MIGDEV_Q_CTRL_ENABLE		(1U << 0)
#define MIGDEV_Q_STATUS_ENABLED		(1U << 0)
#define MIGDEV_Q_STATUS_BUSY		(1U << 1)	/* a descriptor is in flight */
#define MIGDEV_Q_STATUS_HALTED		(1U << 2)

#define MIGDEV_MAX_RING_SIZE		65536
/* The most bytes one descriptor may move. */
#define MIGDEV_MAX_XFER			(1U << 30)

/*
 * Opcodes.  Guest addresses are I/O virtual addresses mapped through the
 * VFIO container; device-memory addresses are offsets into BAR2.
 */
enum migdev_opcode {
	MIGDEV_OP_NOP = 0,	/* completes at once; len, src, dst 0 */
	MIGDEV_OP_COPY = 1,	/* guest src -> guest dst; no overlap */
	MIGDEV_OP_FILL = 2,	/* guest dst <- pattern, repeated bytewise */
	MIGDEV_OP_CRC32C = 3,	/* CRC-32C of guest src into result */
	MIGDEV_OP_TO_DEV = 4,	/* guest src -> device memory dst */
	MIGDEV_OP_FROM_DEV = 5,	/* device memory src -> guest dst */
	MIGDEV_OP_DEV_CRC32C = 6  /* CRC-32C of device memory src */
};

/* Ask for an interrupt (queue's vector, MIGDEV_REG_INT_STATUS bit). */
#define MIGDEV_DESC_F_IRQ		(1U << 0)
#define MIGDEV_DESC_F_ALL		MIGDEV_DESC_F_IRQ

/**
 * struct migdev_desc - a DMA descriptor, 64 bytes, in the ring
 * @opcode: enum migdev_opcode
 * @flags: MIGDEV_DESC_F_*; other bits must be 0
 * @len: bytes to move or check, 1..MIGDEV_MAX_XFER (0 for NOP)
 * @src: source address (guest IOVA or device-memory offset); 0 if unused
 * @dst: destination address; 0 if unused
 * @pattern: MIGDEV_OP_FILL's 8 bytes, written in little-endian byte
 *	     order from the start of @dst; 0 for other opcodes
 * @cookie: any value; copied into the completion
 * @reserved: must be 0
 *
 * A descriptor that breaks any rule completes with an error status and
 * moves nothing.  A COPY whose source and destination overlap is refused
 * (MIGDEV_STATUS_OVERLAP).  Checksums are CRC-32C (Castagnoli, reflected,
 * initial value and final XOR 0xffffffff: "123456789" gives 0xe3069283).
 */
struct migdev_desc {
	__le16 opcode;
	__le16 flags;
	__le32 len;
	__le64 src;
	__le64 dst;
	__le64 pattern;
	__le64 cookie;
	__le64 reserved[3];
};

/**
 * struct migdev_completion - a completion record, 32 bytes
 * @status: MIGDEV_STATUS_*; 0 until the device completes the descriptor.
 *	    The device writes it last, after the other fields.
 * @reserved: written as 0
 * @result: CRC-32C for the checksum opcodes, else 0
 * @cookie: the descriptor's cookie
 * @bytes: bytes processed; less than len when it failed part way
 */
struct migdev_completion {
	__le32 status;
	__le32 reserved;
	__le64 result;
	__le64 cookie;
	__le64 bytes;
};

/*
 * Completion status and error codes (MIGDEV_REG_ERROR_INFO, MIGDEV_Q_ERROR).
 * Codes below MIGDEV_ERR_RING_CONFIG are per-descriptor: the queue goes on.
 */
enum migdev_status {
	MIGDEV_STATUS_OK = 1,
	MIGDEV_STATUS_BAD_OPCODE = 2,	/* unknown opcode */
	MIGDEV_STATUS_BAD_LENGTH = 3,	/* len 0 or over MIGDEV_MAX_XFER */
	MIGDEV_STATUS_BAD_ADDRESS = 4,	/* IOVA not mapped, or past BAR2 */
	MIGDEV_STATUS_RESERVED = 5,	/* reserved field or flag not 0 */
	MIGDEV_STATUS_OVERLAP = 6,	/* COPY source and destination overlap */
	MIGDEV_STATUS_ABORTED = 7,	/* queue disabled while in flight */
	MIGDEV_STATUS_NO_MEMORY = 8,	/* host out of memory for device memory */
	MIGDEV_ERR_RING_CONFIG = 16,	/* enable refused: bad ring setup */
	MIGDEV_ERR_RING_FETCH = 17,	/* descriptor not readable: halted */
	MIGDEV_ERR_COMPL_WRITE = 18,	/* completion not writable: halted */
	MIGDEV_ERR_RING_OVERRUN = 19	/* TAIL beyond HEAD + size: halted */
};

/* "MIGD" in little-endian byte order. */
#define MIGDEV_ID_MAGIC			0x4447494dU
#define MIGDEV_ABI_MAJOR		1
#define MIGDEV_ABI_MINOR		2
#define MIGDEV_ABI_VERSION		((MIGDEV_ABI_MAJOR << 16) | MIGDEV_ABI_MINOR)

/* The device memory BAR exists (always set in this revision). */
#define MIGDEV_FEATURE_DEVMEM		(1ULL << 0)
/* The DMA engine: queues, descriptors, completions. */
#define MIGDEV_FEATURE_DMA		(1ULL << 1)
/* BAR2 can be mmap()ed. */
#define MIGDEV_FEATURE_DEVMEM_MMAP	(1ULL << 2)
/* MIGDEV_REG_DEVMEM_CTRL (register ABI 1.2). */
#define MIGDEV_FEATURE_DEVMEM_DISCARD	(1ULL << 3)

/*
 * Types (profiles).  Each mediated device type gives its instances a number
 * of DMA queues and a device-memory size; the parent has a finite total of
 * both, which the types share.
 */
enum migdev_type_id {
	MIGDEV_TYPE_SMALL = 0,
	MIGDEV_TYPE_MEDIUM = 1,
	MIGDEV_TYPE_LARGE = 2,
	MIGDEV_TYPE_XLARGE = 3,
	MIGDEV_NUM_TYPES
};

/*
 * Each type's shape, the one definition the module, its tests and tools
 * use: MIGDEV_TYPE_NR_QUEUES(t) DMA queues and MIGDEV_TYPE_DEVMEM_SIZE(t)
 * bytes of device memory (BAR2).  small: 1 queue, 4 MiB; medium: 2,
 * 64 MiB; large: 4, 256 MiB; xlarge: 8, 1 GiB.
 */
#define MIGDEV_TYPE_NR_QUEUES(t)	(1U << (t))
/* 4 MiB shifted left by 0, 4, 6 or 8: the nibbles of 0x8640. */
#define MIGDEV_TYPE_DEVMEM_SIZE(t) \
	((4ULL << 20) << ((0x8640U >> (4 * (t))) & 0xf))
/*
 * Each type's directory under mdev_supported_types is "migdev-" and its
 * suffix: "small", "medium", "large" or "xlarge" (7-byte slots of one
 * string, so that the suffix of a constant type is a constant).
 */
#define MIGDEV_TYPE_SUFFIX(t) \
	(&"small\0\0medium\0large\0\0xlarge"[7 * (t)])

/*
 * The migration stream (VFIO migration data_fd, and the v1 migration
 * region) is a header followed by records, all little-endian.
 *
 * The header carries everything that decides compatibility, so a
 * destination refuses a mismatch as soon as the first 64 bytes arrive,
 * during pre-copy: the magic, the stream version (the major must match,
 * the minor may be older than the destination's), and the instance type
 * and geometry, which must equal the destination's.
 *
 * Each record is a struct migdev_stream_record and its payload.  A record
 * whose tag the destination does not know is skipped if it has
 * MIGDEV_REC_F_OPTIONAL and refused otherwise.  Every payload is checked
 * against its checksum, every length is bounded, and every field is
 * validated before anything is applied: a destination applies the device
 * state only once MIGDEV_TAG_END has arrived, and a stream that fails at
 * any point leaves the destination as it was.
 *
 * Minor versions: 1.0 is the base.  1.1 adds the optional
 * MIGDEV_TAG_SOURCE_INFO.  1.2 carries the clock's latch in
 * migdev_rec_regs.clock_latch (reserved bytes before), so a guest that
 * read the clock's low half on the source reads the matching high half on
 * the destination.  1.3 carries a queue that was disabled with a
 * descriptor in flight whose ABORTED completion the device has not yet
 * written (MIGDEV_QSTATE_ACTIVE without MIGDEV_QSTATE_ENABLED); the
 * destination writes it once it runs.  A source that emits an older minor
 * drops such a record.  A source can be made to emit an older minor (the
 * instance's migration_minor attribute) for a destination that only knows
 * that one; a destination given a stream older than 1.2 latches the
 * clock's value at the stop.  1.4 checksums each record's payload with
 * XXH64 (seed 0), 64 bits in migdev_stream_record.crc and .crc_hi, where
 * earlier minors have CRC-32C and a zero @crc_hi: in software, without a
 * CRC instruction (or under an emulator that makes one slow), XXH64 runs
 * several times faster, and its 64 bits are a stronger check.  The header
 * keeps CRC-32C in every minor, so any destination checks it before it
 * reads the minor.  Within 1.4, a source may send MIGDEV_TAG_OPAQUE
 * (optional: a destination that does not know it skips up to 1 MiB of
 * it, and refuses more).
 */
#define MIGDEV_STREAM_MAGIC		0x5344474dU	/* "MGDS" */
#define MIGDEV_STREAM_MAJOR		1
#define MIGDEV_STREAM_MINOR		4

/**
 * struct migdev_stream_header - the first 64 bytes of a stream
 * @magic: MIGDEV_STREAM_MAGIC
 * @major: MIGDEV_STREAM_MAJOR; a destination refuses any other
 * @minor: at most the destination's MIGDEV_STREAM_MINOR
 * @header_size: sizeof(struct migdev_stream_header)
 * @flags: must be 0
 * @type_id: enum migdev_type_id of the source instance
 * @nr_queues: its DMA queues
 * @devmem_size: its device memory, bytes
 * @abi_version: the source's MIGDEV_ABI_VERSION (registers)
 * @reserved: must be 0
 * @crc: CRC-32C of the bytes before this field
 */
struct migdev_stream_header {
	__le32 magic;
	__le16 major;
	__le16 minor;
	__le32 header_size;
	__le32 flags;
	__le32 type_id;
	__le32 nr_queues;
	__le64 devmem_size;
	__le32 abi_version;
	__le32 reserved[6];
	__le32 crc;
};

/* The payload may be skipped by a destination that does not know the tag. */
#define MIGDEV_REC_F_OPTIONAL		(1U << 0)

/**
 * struct migdev_stream_record - the header of one record
 * @tag: MIGDEV_TAG_*
 * @flags: MIGDEV_REC_F_*; other bits must be 0
 * @size: payload bytes that follow
 * @crc: the payload's checksum: from 1.4 the low 32 bits of its XXH64,
 *	 before 1.4 its CRC-32C
 * @crc_hi: from 1.4 the high 32 bits of the payload's XXH64; before 1.4
 *	    reserved, and 0
 */
struct migdev_stream_record {
	__le32 tag;
	__le32 flags;
	__le64 size;
	__le32 crc;
	__le32 crc_hi;
};

/*
 * Record tags.  DEVMEM and DEVMEM_ZERO may come any number of times, during
 * pre-copy and stop-copy; CONFIG, REGS, MSIX and one QUEUE per queue come
 * once, in stop-copy; END comes last, once.
 */
enum migdev_stream_tag {
	MIGDEV_TAG_DEVMEM = 1,		/* struct migdev_rec_devmem + pages */
	MIGDEV_TAG_DEVMEM_ZERO = 2,	/* struct migdev_rec_devmem, no data */
	MIGDEV_TAG_CONFIG = 3,		/* 256 bytes of config space */
	MIGDEV_TAG_REGS = 4,		/* struct migdev_rec_regs */
	MIGDEV_TAG_MSIX = 5,		/* struct migdev_rec_msix */
	MIGDEV_TAG_QUEUE = 6,		/* struct migdev_rec_queue */
	MIGDEV_TAG_SOURCE_INFO = 7,	/* 1.1, optional: migdev_rec_source_info */
	MIGDEV_TAG_OPAQUE = 8,		/* 1.4, optional: migdev_rec_opaque + data */
	MIGDEV_TAG_END = 0x7fffffff	/* no payload */
};

/* Pages per DEVMEM record at most: 1 MiB of data. */
#define MIGDEV_REC_MAX_PAGES		256

/**
 * struct migdev_rec_devmem - a run of device-memory pages
 * @first: index of the first page (offset / 4096)
 * @count: pages, 1..MIGDEV_REC_MAX_PAGES; for DEVMEM, count * 4096 bytes
 *	   of data follow; DEVMEM_ZERO pages read as zeros again
 * @reserved: must be 0
 */
struct migdev_rec_devmem {
	__le64 first;
	__le32 count;
	__le32 reserved;
};

/**
 * struct migdev_rec_regs - device registers and interrupt causes
 * @scratch: MIGDEV_REG_SCRATCH
 * @clock: MIGDEV_REG_CLOCK when the device stopped; the destination's
 *	   clock continues from it
 * @int_status: MIGDEV_REG_INT_STATUS
 * @error_status: MIGDEV_REG_ERROR_STATUS
 * @error_info: MIGDEV_REG_ERROR_INFO
 * @error_count: MIGDEV_REG_ERROR_COUNT
 * @rr: the queue the engine serves next
 * @reserved: must be 0
 * @clock_latch: (1.2) the clock as the last read of MIGDEV_REG_CLOCK's low
 *		 half latched it; a read of the high half returns its upper
 *		 32 bits, also on the destination.  0 in 1.0 and 1.1 streams,
 *		 where these bytes were reserved.
 */
struct migdev_rec_regs {
	__le64 scratch;
	__le64 clock;
	__le32 int_status;
	__le32 error_status;
	__le32 error_info;
	__le32 error_count;
	__le32 rr;
	__le32 reserved;
	__le64 clock_latch;
};

/**
 * struct migdev_rec_msix - the MSI-X table and pending bits
 * @table: MIGDEV_MAX_QUEUES + 1 entries; those past the device's vector
 *	   count must be 0
 * @pending: vectors that fired while masked
 */
struct migdev_rec_msix {
	__le32 table[MIGDEV_MAX_QUEUES + 1][4];
	__le64 pending;
};

/* Bits of migdev_rec_queue.state. */
#define MIGDEV_QSTATE_ENABLED		(1U << 0)
#define MIGDEV_QSTATE_HALTED		(1U << 1)
#define MIGDEV_QSTATE_ACTIVE		(1U << 2)	/* @desc in flight */

/**
 * struct migdev_rec_queue - one queue, with the descriptor in flight
 * @index: the queue
 * @state: MIGDEV_QSTATE_*
 * @ring_base: MIGDEV_Q_RING_BASE
 * @compl_base: MIGDEV_Q_COMPL_BASE
 * @ring_size: MIGDEV_Q_RING_SIZE
 * @head: MIGDEV_Q_HEAD
 * @tail: MIGDEV_Q_TAIL
 * @error: MIGDEV_Q_ERROR
 * @completed: MIGDEV_Q_COMPLETED
 * @done: bytes of @desc done; the destination continues from here
 * @crc: running CRC-32C of those bytes
 * @reserved: must be 0
 * @desc: the descriptor in flight, as fetched
 */
struct migdev_rec_queue {
	__le32 index;
	__le32 state;
	__le64 ring_base;
	__le64 compl_base;
	__le32 ring_size;
	__le32 head;
	__le32 tail;
	__le32 error;
	__le64 completed;
	__le64 done;
	__le32 crc;
	__le32 reserved;
	struct migdev_desc desc;
};

/**
 * struct migdev_rec_source_info - what the source says about itself (1.1)
 * @precopy_rounds: pre-copy rounds before stop-copy
 * @precopy_bytes: bytes sent during pre-copy
 * @reserved: must be 0
 */
struct migdev_rec_source_info {
	__le32 precopy_rounds;
	__le32 reserved;
	__le64 precopy_bytes;
};

/* Blocks of opaque state at most: 256 MiB. */
#define MIGDEV_OPAQUE_MAX_BLOCKS	65536

/**
 * struct migdev_rec_opaque - one 4096-byte block of opaque device state
 * @seed: the state's seed, the same in every block
 * @index: this block: blocks come in order, from 0
 * @blocks: blocks in all, 1..MIGDEV_OPAQUE_MAX_BLOCKS, the same in every
 *	    block
 *
 * Device state that exists only once the device has stopped, as a GPU's
 * firmware context does: a source sends all of it in stop-copy, after
 * device memory, and never in pre-copy, so it sets a floor under the
 * downtime.  migdev's is a test device's stand-in, set per instance
 * (debugfs opaque): 4096 bytes follow each record's fields, 512
 * little-endian 64-bit words of xorshift64 (x ^= x << 13; x ^= x >> 7;
 * x ^= x << 17) from the state (@seed ^ @index * 0x9e3779b97f4a7c15) | 1,
 * and a destination checks every word, every index, and that all
 * @blocks came before END.
 */
struct migdev_rec_opaque {
	__le64 seed;
	__le32 index;
	__le32 blocks;
};

/**
 * DOC: The v1 migration region
 *
 * The migration protocol that QEMU 7.2 speaks: a VFIO region of
 * type VFIO_REGION_TYPE_MIGRATION_DEPRECATED, subtype
 * VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED, at index MIGDEV_MIG_REGION_INDEX
 * (the first device-specific index, VFIO_PCI_NUM_REGIONS; find it by its
 * type rather than by this number).  It starts with struct
 * vfio_device_migration_info (linux/vfio.h) and carries the same stream as
 * the v2 data_fd, cut into segments of at most MIGDEV_MIG_DATA_SIZE bytes
 * that the data section, at MIGDEV_MIG_DATA_OFFSET, holds one at a time.
 *
 * Fields of vfio_device_migration_info take only accesses of their own
 * width and alignment (device_state and reserved 4 bytes, the others 8);
 * the data section takes any.  Every other access is refused with -EINVAL:
 *
 * device_state (RW): a bitfield of VFIO_DEVICE_STATE_V1_RUNNING, _SAVING,
 *   _RESUMING and MIGDEV_MIG_STATE_V1_NDMA.  A write is carried out as a
 *   sequence of single-bit steps, bits cleared before bits are set: set
 *   NDMA, clear RUNNING, clear SAVING, clear RESUMING, set RESUMING, set
 *   SAVING, set RUNNING, clear NDMA; each step is a path of the v2 state
 *   machine.  If a step fails the write fails and the same sequence runs
 *   from where the device is back to the previous value, which
 *   device_state then reads; if that fails too, device_state reads
 *   SAVING | RESUMING (the ERROR value) until VFIO_DEVICE_RESET, which
 *   returns it to RUNNING.  Refused with -EINVAL, and nothing changes:
 *   RESUMING with SAVING or RUNNING, bits 4-31, any write in ERROR, and
 *   SAVING -> SAVING | RUNNING (a stop-and-copy session cannot go back to
 *   pre-copy: clear SAVING first).  Refused with -EBUSY while a migration
 *   started through VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE is in progress
 *   (the v2 state is not RUNNING); conversely, that feature refuses to set
 *   a state with -EBUSY while the device_state written here is not
 *   RUNNING.
 * reserved (RW): reads 0, writes ignored.
 * pending_bytes (RO): while SAVING, an estimate of the bytes left to read;
 *   with RUNNING set, 0 means no data right now; without RUNNING, 0 means
 *   the stream has ended.  Reading it also marks the segment handed out by
 *   data_offset as collected.  0 when not SAVING.
 * data_offset (RO): MIGDEV_MIG_DATA_OFFSET.  While SAVING, reading it
 *   commits the user to a new segment (unless the last one was not yet
 *   collected: then the same one again), and data_size gives its length.
 * data_size (RW): while SAVING, the length of the current segment (0 with
 *   RUNNING set means nothing is available now).  While RESUMING, the user
 *   writes a segment into the data section and then its length here
 *   (1..MIGDEV_MIG_DATA_SIZE); the write returns once the segment was
 *   validated, or fails with the stream's error.  Segments must be written
 *   back in the order and size they were read.  Written only while
 *   RESUMING.
 * data section: read while SAVING, within the current segment; written
 *   while RESUMING.  It can also be mapped: the region has the
 *   VFIO_REGION_INFO_FLAG_MMAP flag and a VFIO_REGION_INFO_CAP_SPARSE_MMAP
 *   capability whose one area is the data section (MAP_SHARED only; the
 *   fields cannot be mapped).  A mapping shows what reads show and takes
 *   what writes take; it stays valid until the device is closed, across
 *   sessions and resets.  QEMU 7.2 uses it when offered, instead of
 *   reading and writing 8 bytes at a time.
 */
#define MIGDEV_MIG_REGION_INDEX		9
#define MIGDEV_MIG_DATA_OFFSET		0x1000
#define MIGDEV_MIG_DATA_SIZE		0x100000
#define MIGDEV_MIG_REGION_SIZE		(MIGDEV_MIG_DATA_OFFSET + MIGDEV_MIG_DATA_SIZE)

/**
 * DOC: The NDMA bit
 *
 * The optional NDMA bit of device_state, and the region capability that
 * says a device supports it, as the RFC "vfio: Update/Clarify migration
 * uAPI, add NDMA state" (Alex Williamson, kvm@vger.kernel.org, December
 * 2021) defined them; mainline never took them, so they are defined here,
 * with the RFC's values.  NDMA with RUNNING is the v2 RUNNING_P2P quiesce:
 * the device starts no DMA and raises no interrupt, and what was
 * outstanding has completed (or sits at a checkpoint that the stream
 * carries) before the write returns.  Without RUNNING it changes nothing.
 * The capability (VFIO_REGION_INFO_CAP_MIG_NDMA, version 1) is a bare
 * struct vfio_info_cap_header in the region's info.
 */
#define MIGDEV_MIG_STATE_V1_NDMA	(1U << 3)
#ifndef VFIO_REGION_INFO_CAP_MIG_NDMA
#define VFIO_REGION_INFO_CAP_MIG_NDMA	6
#endif

#endif /* _UAPI_LINUX_MIGDEV_H */
