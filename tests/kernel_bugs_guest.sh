#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the throw-away VM of tests/kernel_bugs_test.sh: run one race of
# tests/container_race_test.c (TEST, default ioctls_race_last_group_close)
# on a kernel that lacks its fix, where it is expected to oops the kernel
# or deadlock in it.  The VM is booted with panic_on_oops=1 and
# hung_task_panic=1, so it ends there; here a task blocked for 5 s counts
# as hung.  If neither happens, the test's own verdict stands.
#
# Usage: kernel_bugs_guest.sh [TEST]
set -u
cd "$(dirname "$0")/.." || exit 1
t=${1:-ioctls_race_last_group_close}
export MIGDEV_RACE_UNSAFE=1 MIGDEV_RACE_SECONDS=${MIGDEV_RACE_SECONDS:-20}
echo 5 >/proc/sys/kernel/hung_task_timeout_secs
echo "# kernel $(uname -r): $t for ${MIGDEV_RACE_SECONDS}s"
tests/build/container_race_test -t "$t"
