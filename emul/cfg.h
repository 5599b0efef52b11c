/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: emulated PCI configuration space.
 */
#ifndef MIGDEV_EMUL_CFG_H
#define MIGDEV_EMUL_CFG_H

#include <linux/pci_regs.h>
#include <linux/types.h>

struct migdev_geom;

/**
 * struct migdev_cfg - the first 256 bytes of config space
 * @space: current contents (little-endian, as on the wire)
 * @wmask: bits software may write
 * @w1cmask: bits that a write of 1 clears
 *
 * The PCI Express extended space (0x100-0xfff) holds no capability: it
 * reads as 0 and ignores writes, so it needs no storage.
 */
struct migdev_cfg {
	u8 space[PCI_CFG_SPACE_SIZE];
	u8 wmask[PCI_CFG_SPACE_SIZE];
	u8 w1cmask[PCI_CFG_SPACE_SIZE];
};

/* Side effects of a config write that the device must carry out. */
#define MIGDEV_CFG_EV_FLR	BIT(0)	/* function-level reset requested */
#define MIGDEV_CFG_EV_COMMAND	BIT(1)	/* command register changed */

void migdev_cfg_init(struct migdev_cfg *cfg, const struct migdev_geom *geom);
u32 migdev_cfg_read(const struct migdev_cfg *cfg, unsigned int off,
		    unsigned int size);
unsigned int migdev_cfg_write(struct migdev_cfg *cfg, unsigned int off,
			      unsigned int size, u32 val);
u16 migdev_cfg_command(const struct migdev_cfg *cfg);
void migdev_cfg_set_intx_status(struct migdev_cfg *cfg, bool pending);

#endif /* MIGDEV_EMUL_CFG_H */
