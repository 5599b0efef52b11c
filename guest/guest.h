/* SPDX-License-Identifier: GPL-2.0 */
/* migdev-guest: what boot.S and main.c share. */
#ifndef _MIGDEV_GUEST_H
#define _MIGDEV_GUEST_H

#include <linux/types.h>

/* boot.S: 256 interrupt entry stubs, 16 bytes apart. */
extern char isr_stubs[];

/* main.c, called from boot.S. */
void guest_main(u32 mbi);
void guest_interrupt(u32 vec, u32 err);

#endif
