#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Set up everything and show the main job: build migdev, boot Debian's 6.12
# kernel in a VM, load the module, create instances and print what they are,
# then migrate a QEMU guest that uses one back and forth, with a summary.
#
# Usage (as root): scripts/demo.sh
set -euo pipefail

. "$(dirname "$0")/common.sh"
cd "$MIGDEV_ROOT"

echo "== setting up (packages, kernel, QEMU)"
bash scripts/setup.sh | tail -1
echo "== building the module, the library and the samples"
make -s KVER="$(migdev_kver)"
make -s -C tests KVER="$(migdev_kver)" >/dev/null
make -s -C samples >/dev/null
echo "== booting the test VM"
tests/vm/run.sh samples/demo-guest.sh </dev/null
