# SPDX-License-Identifier: GPL-2.0
#
# Where the project's Makefiles find the cache and the kernel, in one
# place (scripts/common.sh says the same for the scripts): the cache that
# scripts/setup.sh fills, the kernel the test VM boots (its release, in
# the cache's kernel/current), and the 6.12 source tree for checkpatch and
# the kselftest harness.  Each can be given on the command line.

MIGDEV_CACHE ?= $(or $(XDG_CACHE_HOME),$(or $(HOME),/root)/.cache)/migdev
KVER ?= $(shell cat $(MIGDEV_CACHE)/kernel/current 2>/dev/null || uname -r)
KSRC ?= $(MIGDEV_CACHE)/linux-source-6.12
