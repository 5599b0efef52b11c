// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the rules a descriptor must follow before it may run.
 *
 * Pure: used by the engine when it fetches a descriptor, and by the stream
 * decoder for a descriptor that arrives in flight.
 */
#include <asm/byteorder.h>
#include <linux/overflow.h>
#include <uapi/linux/migdev.h>

#include "desc.h"

/* Guest range [addr, addr + len) must not wrap. */
static bool migdev_iova_ok(u64 addr, u64 len)
{
	u64 end;

	return !check_add_overflow(addr, len, &end);
}

static bool migdev_devmem_range_ok(u64 devmem_size, u64 off, u64 len)
{
	return off < devmem_size && len <= devmem_size - off;
}

/**
 * migdev_desc_check() - may this descriptor run?
 * @d: descriptor, as fetched (little-endian)
 * @devmem_size: the device's memory size
 *
 * Return: MIGDEV_STATUS_OK, or the status it completes with.
 */
u32 migdev_desc_check(const struct migdev_desc *d, u64 devmem_size)
{
	u16 op = le16_to_cpu(d->opcode);
	u64 len = le32_to_cpu(d->len);
	u64 src = le64_to_cpu(d->src), dst = le64_to_cpu(d->dst);
	bool uses_src, uses_dst;

	if (le16_to_cpu(d->flags) & ~MIGDEV_DESC_F_ALL ||
	    d->reserved[0] || d->reserved[1] || d->reserved[2])
		return MIGDEV_STATUS_RESERVED;

	switch (op) {
	case MIGDEV_OP_NOP:
		return (len || src || dst || d->pattern) ?
		       MIGDEV_STATUS_RESERVED : MIGDEV_STATUS_OK;
	case MIGDEV_OP_COPY:
	case MIGDEV_OP_TO_DEV:
	case MIGDEV_OP_FROM_DEV:
		uses_src = true;
		uses_dst = true;
		break;
	case MIGDEV_OP_FILL:
		uses_src = false;
		uses_dst = true;
		break;
	case MIGDEV_OP_CRC32C:
	case MIGDEV_OP_DEV_CRC32C:
		uses_src = true;
		uses_dst = false;
		break;
	default:
		return MIGDEV_STATUS_BAD_OPCODE;
	}
	if ((!uses_src && src) || (!uses_dst && dst) ||
	    (op != MIGDEV_OP_FILL && d->pattern))
		return MIGDEV_STATUS_RESERVED;
	if (!len || len > MIGDEV_MAX_XFER)
		return MIGDEV_STATUS_BAD_LENGTH;

	switch (op) {
	case MIGDEV_OP_COPY:
		if (!migdev_iova_ok(src, len) || !migdev_iova_ok(dst, len))
			return MIGDEV_STATUS_BAD_ADDRESS;
		if (src < dst + len && dst < src + len)
			return MIGDEV_STATUS_OVERLAP;
		break;
	case MIGDEV_OP_FILL:
		if (!migdev_iova_ok(dst, len))
			return MIGDEV_STATUS_BAD_ADDRESS;
		break;
	case MIGDEV_OP_CRC32C:
		if (!migdev_iova_ok(src, len))
			return MIGDEV_STATUS_BAD_ADDRESS;
		break;
	case MIGDEV_OP_TO_DEV:
		if (!migdev_iova_ok(src, len) ||
		    !migdev_devmem_range_ok(devmem_size, dst, len))
			return MIGDEV_STATUS_BAD_ADDRESS;
		break;
	case MIGDEV_OP_FROM_DEV:
		if (!migdev_devmem_range_ok(devmem_size, src, len) ||
		    !migdev_iova_ok(dst, len))
			return MIGDEV_STATUS_BAD_ADDRESS;
		break;
	case MIGDEV_OP_DEV_CRC32C:
		if (!migdev_devmem_range_ok(devmem_size, src, len))
			return MIGDEV_STATUS_BAD_ADDRESS;
		break;
	}
	return MIGDEV_STATUS_OK;
}

/**
 * migdev_ring_ok() - is this ring setup one a queue may be enabled with?
 * @ring_base: MIGDEV_Q_RING_BASE
 * @compl_base: MIGDEV_Q_COMPL_BASE
 * @ring_size: MIGDEV_Q_RING_SIZE
 *
 * Return: true if it is.
 */
bool migdev_ring_ok(u64 ring_base, u64 compl_base, u32 ring_size)
{
	return ring_size && ring_size <= MIGDEV_MAX_RING_SIZE &&
	       !(ring_size & (ring_size - 1)) &&
	       !(ring_base % sizeof(struct migdev_desc)) &&
	       !(compl_base % sizeof(struct migdev_completion)) &&
	       migdev_iova_ok(ring_base,
			      (u64)ring_size * sizeof(struct migdev_desc)) &&
	       migdev_iova_ok(compl_base,
			      (u64)ring_size * sizeof(struct migdev_completion));
}
