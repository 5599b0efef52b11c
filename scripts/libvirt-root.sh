#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The userspace the libvirt tests run in, in the test VM (tests/vm/run.sh
# --root): Debian 12 with libvirt 11.3 and QEMU 10 from
# bookworm-backports (as "apt-get -t bookworm-backports install" picks
# them), mdevctl 1.2 and python3, made with mmdebstrap in the cache and
# named after the versions, so that a new upload makes a new one (about a
# minute).  Nothing is installed on this machine: a libvirt daemon here
# would be one more service on the machine the module must never load
# on, and the VM's root is this machine's, read-only.
#
# Usage: scripts/libvirt-root.sh
#
# Progress goes to stderr.  Stdout gets shell assignments, for eval:
#   MIGDEV_LIBVIRT_ROOT=     the root
#   MIGDEV_LIBVIRT_QEMU=     its QEMU's version
#   MIGDEV_LIBVIRT_VERSION=  its libvirt's version
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

SUITE=bookworm-backports
# Bump ROOT_FORMAT when the list or the way the root is made changes.
ROOT_PKGS=qemu-system-x86,libvirt-daemon-driver-qemu,libvirt-daemon-driver-nodedev,libvirt-daemon,libvirt-clients,mdevctl,python3,iproute2,kmod,procps
ROOT_FORMAT=2

msg() { echo "libvirt-root: $*" >&2; }
die() { echo "libvirt-root: error: $*" >&2; exit 1; }

dir=$MIGDEV_CACHE/libvirt
mkdir -p "$dir"
exec {lockfd}>"$dir/lock"
flock "$lockfd"

# The versions apt-get -t $SUITE would install (setup.sh enabled $SUITE).
bpo() {
	apt-cache madison "$1" 2>/dev/null |
		awk -v s="$SUITE" '$0 ~ "/" s "/" || $0 ~ " " s "/" { print $3; exit }'
}
qver=$(bpo qemu-system-x86)
lver=$(bpo libvirt-daemon)
if [ -z "$qver" ] || [ -z "$lver" ]; then
	die "$SUITE has no qemu-system-x86 or libvirt-daemon (run scripts/setup.sh)"
fi
rootdir=$dir/root-$ROOT_FORMAT-qemu${qver#*:}-libvirt$lver
migdev_make_root "$rootdir" "$dir/root.log" bookworm "$SUITE" "$ROOT_PKGS" \
	"a Debian 12 root with QEMU $qver and libvirt $lver" ||
	die "mmdebstrap failed (log: $dir/root.log)"
flock -u "$lockfd"

printf 'MIGDEV_LIBVIRT_ROOT=%q\n' "$rootdir"
printf 'MIGDEV_LIBVIRT_QEMU=%q\n' "$qver"
printf 'MIGDEV_LIBVIRT_VERSION=%q\n' "$lver"
