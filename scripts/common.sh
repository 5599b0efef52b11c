# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by the scripts: where things are.

MIGDEV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Downloads and unpacked packages live outside the repository.
MIGDEV_CACHE=${MIGDEV_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/migdev}
export MIGDEV_ROOT MIGDEV_CACHE

# The kernel the VM boots and the module is built for (set up by setup.sh).
migdev_kver() {
	if [ -n "${MIGDEV_KVER:-}" ]; then
		echo "$MIGDEV_KVER"
	elif [ -e "$MIGDEV_CACHE/kernel/current" ]; then
		cat "$MIGDEV_CACHE/kernel/current"
	else
		echo "run scripts/setup.sh first" >&2
		return 1
	fi
}
