# SPDX-License-Identifier: GPL-2.0
#
# make            build migdev.ko against the installed kernel's headers
# make check      check-build and checkpatch: what the test command runs
# make check-build  a clean build with W=1 and sparse; any warning fails
# make checkpatch checkpatch --strict over every C file
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

# W=1 and sparse on a clean build, so every file is checked; any warning
# fails.  The log is kept in build-check.log.
check-build: clean
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 C=2 CF=-Wsparse-error modules \
		>build-check.log 2>&1; rc=$$?; cat build-check.log; \
		! grep -E 'warning:|error:' build-check.log && [ $$rc = 0 ]

# Userspace (tests/, samples/) uses C99 <stdint.h> types, as kselftests
# do: PREFER_KERNEL_TYPES is the one check it is exempt from.  The trace
# header is laid out as every TRACE_EVENT in the kernel is (one macro
# argument per line, include/trace/events/), which two checks dislike.
checkpatch:
	git ls-files '*.c' '*.h' ':!tests/' ':!samples/' ':!mdev/trace.h' | \
		xargs $(CHECKPATCH); rc=$$?; \
	$(CHECKPATCH) --ignore PARENTHESIS_ALIGNMENT,OPEN_ENDED_LINE \
		mdev/trace.h || rc=1; \
	git ls-files 'tests/*.[ch]' 'samples/*.[ch]' | \
		xargs $(CHECKPATCH) --ignore PREFER_KERNEL_TYPES && [ $$rc = 0 ]

check: check-build checkpatch

tests:
	$(MAKE) -C tests KVER=$(KVER)
	$(MAKE) -C samples

demo:
	scripts/demo.sh

.PHONY: all modules clean check check-build checkpatch tests demo
