// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: emulated PCI configuration space.
 *
 * Each byte has a write mask and a write-1-to-clear mask, so read-only bits
 * stay read-only and BAR sizing falls out of the masks: a BAR's writable
 * bits are exactly the address bits above its size, so writing all ones
 * reads back the size mask with the type bits unchanged.
 */
#include <linux/bits.h>
#include <linux/wordpart.h>
#include <linux/log2.h>
#include <linux/string.h>
#include <linux/unaligned.h>
#include <uapi/linux/migdev.h>

#include "cfg.h"
#include "geom.h"

static void migdev_cfg_set16(struct migdev_cfg *cfg, unsigned int off,
			     u16 val, u16 wmask, u16 w1cmask)
{
	put_unaligned_le16(val, &cfg->space[off]);
	put_unaligned_le16(wmask, &cfg->wmask[off]);
	put_unaligned_le16(w1cmask, &cfg->w1cmask[off]);
}

static void migdev_cfg_set32(struct migdev_cfg *cfg, unsigned int off,
			     u32 val, u32 wmask, u32 w1cmask)
{
	put_unaligned_le32(val, &cfg->space[off]);
	put_unaligned_le32(wmask, &cfg->wmask[off]);
	put_unaligned_le32(w1cmask, &cfg->w1cmask[off]);
}

static void migdev_cfg_init_header(struct migdev_cfg *cfg,
				   const struct migdev_geom *geom)
{
	u64 bar2_mask = ~(geom->devmem_size - 1);

	migdev_cfg_set16(cfg, PCI_VENDOR_ID, MIGDEV_PCI_VENDOR_ID, 0, 0);
	migdev_cfg_set16(cfg, PCI_DEVICE_ID, MIGDEV_PCI_DEVICE_ID, 0, 0);
	/* No I/O BAR: PCI_COMMAND_IO is hardwired to 0. */
	migdev_cfg_set16(cfg, PCI_COMMAND, 0,
			 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			 PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
			 PCI_COMMAND_INTX_DISABLE, 0);
	migdev_cfg_set16(cfg, PCI_STATUS, PCI_STATUS_CAP_LIST, 0,
			 PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT |
			 PCI_STATUS_REC_TARGET_ABORT |
			 PCI_STATUS_REC_MASTER_ABORT |
			 PCI_STATUS_SIG_SYSTEM_ERROR |
			 PCI_STATUS_DETECTED_PARITY);
	migdev_cfg_set32(cfg, PCI_CLASS_REVISION,
			 (MIGDEV_PCI_CLASS << 8) | MIGDEV_PCI_REVISION, 0, 0);
	cfg->wmask[PCI_CACHE_LINE_SIZE] = 0xff;

	/* BAR0: registers, 32-bit, non-prefetchable. */
	migdev_cfg_set32(cfg, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_MEM_TYPE_32,
			 ~(u32)(MIGDEV_BAR0_SIZE - 1), 0);
	/* BAR2/BAR3: device memory, 64-bit, prefetchable. */
	migdev_cfg_set32(cfg, PCI_BASE_ADDRESS_2,
			 PCI_BASE_ADDRESS_MEM_TYPE_64 |
			 PCI_BASE_ADDRESS_MEM_PREFETCH,
			 lower_32_bits(bar2_mask) & PCI_BASE_ADDRESS_MEM_MASK, 0);
	migdev_cfg_set32(cfg, PCI_BASE_ADDRESS_3, 0, upper_32_bits(bar2_mask), 0);

	migdev_cfg_set16(cfg, PCI_SUBSYSTEM_VENDOR_ID,
			 MIGDEV_PCI_SUBSYS_VENDOR_ID, 0, 0);
	migdev_cfg_set16(cfg, PCI_SUBSYSTEM_ID, geom->type_id + 1, 0, 0);
	cfg->space[PCI_CAPABILITY_LIST] = MIGDEV_CAP_PM;
	cfg->wmask[PCI_INTERRUPT_LINE] = 0xff;
	cfg->space[PCI_INTERRUPT_PIN] = 1;	/* INTA# */
}

static void migdev_cfg_init_caps(struct migdev_cfg *cfg,
				 const struct migdev_geom *geom)
{
	unsigned int pm = MIGDEV_CAP_PM, msix = MIGDEV_CAP_MSIX;
	unsigned int exp = MIGDEV_CAP_EXP;

	/* Power management, version 3: D0 and D3hot, no soft reset. */
	cfg->space[pm + PCI_CAP_LIST_ID] = PCI_CAP_ID_PM;
	cfg->space[pm + PCI_CAP_LIST_NEXT] = msix;
	migdev_cfg_set16(cfg, pm + PCI_PM_PMC, 3, 0, 0);
	migdev_cfg_set16(cfg, pm + PCI_PM_CTRL, PCI_PM_CTRL_NO_SOFT_RESET,
			 PCI_PM_CTRL_STATE_MASK, 0);

	/* MSI-X: table and PBA in BAR0. */
	cfg->space[msix + PCI_CAP_LIST_ID] = PCI_CAP_ID_MSIX;
	cfg->space[msix + PCI_CAP_LIST_NEXT] = exp;
	migdev_cfg_set16(cfg, msix + PCI_MSIX_FLAGS,
			 migdev_geom_nr_vectors(geom) - 1,
			 PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 0);
	migdev_cfg_set32(cfg, msix + PCI_MSIX_TABLE,
			 MIGDEV_MSIX_TABLE_OFFSET | 0, 0, 0);
	migdev_cfg_set32(cfg, msix + PCI_MSIX_PBA, MIGDEV_MSIX_PBA_OFFSET | 0,
			 0, 0);

	/* PCI Express v2 endpoint, FLR capable, x1 at 2.5 GT/s. */
	cfg->space[exp + PCI_CAP_LIST_ID] = PCI_CAP_ID_EXP;
	cfg->space[exp + PCI_CAP_LIST_NEXT] = 0;
	migdev_cfg_set16(cfg, exp + PCI_EXP_FLAGS,
			 2 | (PCI_EXP_TYPE_ENDPOINT << 4), 0, 0);
	migdev_cfg_set32(cfg, exp + PCI_EXP_DEVCAP,
			 PCI_EXP_DEVCAP_RBER | PCI_EXP_DEVCAP_FLR, 0, 0);
	/* Initiate FLR (bit 15) is not stored: it always reads 0. */
	migdev_cfg_set16(cfg, exp + PCI_EXP_DEVCTL,
			 PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_NOSNOOP_EN |
			 PCI_EXP_DEVCTL_READRQ_512B,
			 0xffff & ~PCI_EXP_DEVCTL_BCR_FLR, 0);
	migdev_cfg_set16(cfg, exp + PCI_EXP_DEVSTA, 0, 0,
			 PCI_EXP_DEVSTA_CED | PCI_EXP_DEVSTA_NFED |
			 PCI_EXP_DEVSTA_FED | PCI_EXP_DEVSTA_URD);
	migdev_cfg_set32(cfg, exp + PCI_EXP_LNKCAP,
			 PCI_EXP_LNKCAP_SLS_2_5GB | (1 << 4), 0, 0);
	migdev_cfg_set16(cfg, exp + PCI_EXP_LNKCTL, 0,
			 PCI_EXP_LNKCTL_ASPMC | PCI_EXP_LNKCTL_CCC |
			 PCI_EXP_LNKCTL_ES, 0);
	migdev_cfg_set16(cfg, exp + PCI_EXP_LNKSTA,
			 PCI_EXP_LNKSTA_CLS_2_5GB | (1 << PCI_EXP_LNKSTA_NLW_SHIFT),
			 0, 0);
	migdev_cfg_set32(cfg, exp + PCI_EXP_LNKCAP2, PCI_EXP_LNKCAP2_SLS_2_5GB,
			 0, 0);
	migdev_cfg_set16(cfg, exp + PCI_EXP_LNKCTL2, PCI_EXP_LNKCTL2_TLS_2_5GT,
			 0, 0);
}

/**
 * migdev_cfg_init() - reset config space to its power-on contents
 * @cfg: config space
 * @geom: the instance's geometry (BAR2 size, vector count, type)
 */
void migdev_cfg_init(struct migdev_cfg *cfg, const struct migdev_geom *geom)
{
	memset(cfg, 0, sizeof(*cfg));
	migdev_cfg_init_header(cfg, geom);
	migdev_cfg_init_caps(cfg, geom);
}

/**
 * migdev_cfg_read() - read config space
 * @cfg: config space
 * @off: offset, naturally aligned for @size, below MIGDEV_CFG_SIZE
 * @size: 1, 2 or 4
 *
 * Return: the value, in CPU byte order.
 */
u32 migdev_cfg_read(const struct migdev_cfg *cfg, unsigned int off,
		    unsigned int size)
{
	u32 val = 0;
	unsigned int i;

	if (off >= PCI_CFG_SPACE_SIZE)
		return 0;
	for (i = 0; i < size; i++)
		val |= (u32)cfg->space[off + i] << (8 * i);
	return val;
}

/**
 * migdev_cfg_write() - write config space, honouring read-only bits
 * @cfg: config space
 * @off: offset, naturally aligned for @size, below MIGDEV_CFG_SIZE
 * @size: 1, 2 or 4
 * @val: the value, in CPU byte order
 *
 * Return: MIGDEV_CFG_EV_* bits for side effects the caller must carry out.
 */
unsigned int migdev_cfg_write(struct migdev_cfg *cfg, unsigned int off,
			      unsigned int size, u32 val)
{
	unsigned int devctl_hi = MIGDEV_CAP_EXP + PCI_EXP_DEVCTL + 1;
	unsigned int i, ev = 0;

	if (off >= PCI_CFG_SPACE_SIZE)
		return 0;
	for (i = 0; i < size; i++) {
		unsigned int b = off + i;
		u8 v = val >> (8 * i);
		u8 old = cfg->space[b];
		u8 new = (old & ~cfg->wmask[b]) | (v & cfg->wmask[b]);

		new &= ~(v & cfg->w1cmask[b]);
		cfg->space[b] = new;
		if ((b == PCI_COMMAND || b == PCI_COMMAND + 1) && new != old)
			ev |= MIGDEV_CFG_EV_COMMAND;
		if (b == devctl_hi && (v & (PCI_EXP_DEVCTL_BCR_FLR >> 8)))
			ev |= MIGDEV_CFG_EV_FLR;
	}
	return ev;
}

/**
 * migdev_cfg_command() - the command register
 * @cfg: config space
 *
 * Return: PCI_COMMAND, CPU byte order.
 */
u16 migdev_cfg_command(const struct migdev_cfg *cfg)
{
	return get_unaligned_le16(&cfg->space[PCI_COMMAND]);
}

/**
 * migdev_cfg_set_intx_status() - reflect INTx# in the status register
 * @cfg: config space
 * @pending: the device asserts INTx#
 */
void migdev_cfg_set_intx_status(struct migdev_cfg *cfg, bool pending)
{
	if (pending)
		cfg->space[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		cfg->space[PCI_STATUS] &= ~PCI_STATUS_INTERRUPT;
}
