#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the throw-away VM of tests/kernel_bugs_test.sh: run the container
# race (tests/container_race_test.c) on a kernel that lacks the fix, where
# it is expected to oops the kernel (booted with panic_on_oops=1, so the
# VM ends there).  If it does not, the test's own verdict stands.
set -u
cd "$(dirname "$0")/.." || exit 1
export MIGDEV_RACE_UNSAFE=1 MIGDEV_RACE_SECONDS=${MIGDEV_RACE_SECONDS:-20}
echo "# kernel $(uname -r): racing the last group's close for ${MIGDEV_RACE_SECONDS}s"
tests/build/container_race_test -t ioctls_race_last_group_close
