// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the BAR0 register file and the MSI-X table and PBA behind it.
 *
 * Everything is handled as 32-bit registers; 64-bit registers are pairs
 * whose low half sits at the lower address.
 */
#include <linux/lockdep.h>
#include <linux/pci_regs.h>
#include <uapi/linux/migdev.h>

#include "device.h"

#define MIGDEV_FEATURES	(MIGDEV_FEATURE_DEVMEM | MIGDEV_FEATURE_DMA | \
			 MIGDEV_FEATURE_DEVMEM_MMAP | \
			 MIGDEV_FEATURE_DEVMEM_DISCARD)

/* Queue register blocks: MIGDEV_REG_QUEUE(q), 0x40 bytes each. */
static bool migdev_regs_is_queue(struct migdev_emul *e, unsigned int off)
{
	return off >= MIGDEV_REG_QUEUE(0) &&
	       off < MIGDEV_REG_QUEUE(e->geom.nr_queues);
}

static unsigned int migdev_regs_queue(unsigned int off)
{
	return (off - MIGDEV_REG_QUEUE(0)) / 0x40;
}

static unsigned int migdev_regs_queue_reg(unsigned int off)
{
	return (off - MIGDEV_REG_QUEUE(0)) % 0x40;
}

static u32 migdev_regs_msix_read32(struct migdev_emul *e, unsigned int off)
{
	unsigned int nvec = migdev_geom_nr_vectors(&e->geom);
	unsigned int entry = off / MIGDEV_MSIX_ENTRY_SIZE;

	if (entry >= nvec)
		return 0;
	return le32_to_cpu(e->msix_table[entry][(off % MIGDEV_MSIX_ENTRY_SIZE) / 4]);
}

static void migdev_regs_msix_write32(struct migdev_emul *e, unsigned int off,
				     u32 val)
{
	unsigned int nvec = migdev_geom_nr_vectors(&e->geom);
	unsigned int entry = off / MIGDEV_MSIX_ENTRY_SIZE;
	unsigned int word = (off % MIGDEV_MSIX_ENTRY_SIZE) / 4;

	if (entry >= nvec)
		return;
	/* Only the mask bit of Vector Control is writable. */
	if (word == PCI_MSIX_ENTRY_VECTOR_CTRL / 4)
		val &= PCI_MSIX_ENTRY_CTRL_MASKBIT;
	e->msix_table[entry][word] = cpu_to_le32(val);
}

/**
 * migdev_regs_read32_locked() - read one 32-bit BAR0 register
 * @e: device, its lock held
 * @off: 4-byte aligned offset in BAR0
 *
 * Return: the value; 0 where there is no register.
 */
u32 migdev_regs_read32_locked(struct migdev_emul *e, unsigned int off)
{
	lockdep_assert_held(&e->lock);

	if (off == MIGDEV_MSIX_PBA_OFFSET)
		return lower_32_bits(e->host->msix_pending(e->host_priv));
	if (off >= MIGDEV_MSIX_PBA_OFFSET)
		return 0;
	if (off >= MIGDEV_MSIX_TABLE_OFFSET)
		return migdev_regs_msix_read32(e, off - MIGDEV_MSIX_TABLE_OFFSET);

	switch (off) {
	case MIGDEV_REG_ID:
		return MIGDEV_ID_MAGIC;
	case MIGDEV_REG_VERSION:
		return MIGDEV_ABI_VERSION;
	case MIGDEV_REG_FEATURES:
		return lower_32_bits(MIGDEV_FEATURES);
	case MIGDEV_REG_FEATURES + 4:
		return upper_32_bits(MIGDEV_FEATURES);
	case MIGDEV_REG_NUM_QUEUES:
		return e->geom.nr_queues;
	case MIGDEV_REG_NUM_VECTORS:
		return migdev_geom_nr_vectors(&e->geom);
	case MIGDEV_REG_DEVMEM_SIZE:
		return lower_32_bits(e->geom.devmem_size);
	case MIGDEV_REG_DEVMEM_SIZE + 4:
		return upper_32_bits(e->geom.devmem_size);
	case MIGDEV_REG_SCRATCH:
		return lower_32_bits(e->scratch);
	case MIGDEV_REG_SCRATCH + 4:
		return upper_32_bits(e->scratch);
	case MIGDEV_REG_CLOCK:
		/* Latch, so the high half read next matches: no tearing. */
		e->clock_latch = migdev_emul_clock(e);
		return lower_32_bits(e->clock_latch);
	case MIGDEV_REG_CLOCK + 4:
		return upper_32_bits(e->clock_latch);
	case MIGDEV_REG_INT_STATUS:
		return e->int_status;
	case MIGDEV_REG_ERROR_STATUS:
		return e->error_status;
	case MIGDEV_REG_ERROR_INFO:
		return e->error_info;
	case MIGDEV_REG_ERROR_COUNT:
		return e->error_count;
	}
	if (migdev_regs_is_queue(e, off))
		return migdev_engine_read32_locked(e, migdev_regs_queue(off),
						   migdev_regs_queue_reg(off));
	return 0;
}

/**
 * migdev_regs_write32_locked() - write one 32-bit BAR0 register
 * @e: device, its lock held
 * @off: 4-byte aligned offset in BAR0
 * @val: value
 *
 * Writes to read-only registers and holes are ignored, as hardware does.
 */
void migdev_regs_write32_locked(struct migdev_emul *e, unsigned int off,
				u32 val)
{
	lockdep_assert_held(&e->lock);

	if (off >= MIGDEV_MSIX_PBA_OFFSET)
		return;
	if (off >= MIGDEV_MSIX_TABLE_OFFSET) {
		migdev_regs_msix_write32(e, off - MIGDEV_MSIX_TABLE_OFFSET, val);
		return;
	}

	switch (off) {
	case MIGDEV_REG_SCRATCH:
		e->scratch = (e->scratch & GENMASK_ULL(63, 32)) | val;
		break;
	case MIGDEV_REG_SCRATCH + 4:
		e->scratch = lower_32_bits(e->scratch) | ((u64)val << 32);
		break;
	case MIGDEV_REG_INT_STATUS:
		e->int_status &= ~val;
		migdev_intr_update_locked(e);
		break;
	case MIGDEV_REG_ERROR_STATUS:
		e->error_status &= ~val;
		break;
	case MIGDEV_REG_DEVMEM_CTRL:
		/*
		 * No chunk runs while we hold the lock: DMA in flight goes on
		 * after the discard, into a device memory that reads zeros.
		 */
		if (val == MIGDEV_DEVMEM_CTRL_DISCARD)
			migdev_devmem_discard(&e->devmem);
		break;
	default:
		if (migdev_regs_is_queue(e, off))
			migdev_engine_write32_locked(e, migdev_regs_queue(off),
						     migdev_regs_queue_reg(off),
						     val);
	}
}
