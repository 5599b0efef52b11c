# SPDX-License-Identifier: GPL-2.0
#
# make            build migdev.ko against the installed kernel's headers
# make check      W=1, sparse and checkpatch
# make tests      build the test programs and samples (userspace)
# make demo       scripts/demo.sh: boot the VM and show instances
# KDIR=...        build against another kernel tree

include $(dir $(lastword $(MAKEFILE_LIST)))scripts/paths.mk
KDIR ?= /lib/modules/$(KVER)/build

CHECKPATCH = $(KSRC)/scripts/checkpatch.pl --no-tree --strict --quiet \
	--show-types -f

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C tests clean
	$(MAKE) -C samples clean

# W=1 and sparse on a clean build, so every file is checked.
check: clean
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 C=2 CF=-Wsparse-error modules 2>&1 | \
		tee build-check.log
	! grep -E 'warning:|error:' build-check.log
	rm -f build-check.log
	git ls-files '*.c' '*.h' ':!tests/' ':!samples/' | \
		xargs $(CHECKPATCH)
	git ls-files 'tests/*.[ch]' 'samples/*.[ch]' | \
		xargs $(CHECKPATCH) --ignore PREFER_KERNEL_TYPES

tests:
	$(MAKE) -C tests KVER=$(KVER)
	$(MAKE) -C samples

demo:
	scripts/demo.sh

.PHONY: all modules clean check tests demo
