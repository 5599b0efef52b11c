/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: descriptor and ring rules (pure).
 */
#ifndef MIGDEV_EMUL_DESC_H
#define MIGDEV_EMUL_DESC_H

#include <linux/types.h>
#include <uapi/linux/migdev.h>

u32 migdev_desc_check(const struct migdev_desc *d, u64 devmem_size);
bool migdev_ring_ok(u64 ring_base, u64 compl_base, u32 ring_size);

#endif /* MIGDEV_EMUL_DESC_H */
