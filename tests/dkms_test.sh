#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# migdev as a Debian package, as a user installs it on a host: build
# migdev-dkms from the tree with Debian's tools (dpkg-buildpackage,
# debhelper with dh-dkms; debian/), check it with lintian, install it on
# this machine with apt-get (which brings dkms, and DKMS builds migdev.ko
# for the kernels whose headers are here, the test VM's among them), boot
# the test VM without loading the build tree's module, "modprobe migdev"
# there (it must be the package's, from updates/dkms), and migrate a
# guest with it; then remove the package, which must remove the module.
# Runs on the host, as root (it installs and removes a package here; the
# module is only ever loaded in the VM).  KTAP; results in
# $MIGDEV_OUT/dkms.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/common.sh
. "$ROOT/scripts/common.sh"
OUT=${MIGDEV_OUT:-$ROOT/out}/dkms
PKG=migdev-dkms
rm -rf "$OUT"
mkdir -p "$OUT"

# shellcheck source=tests/lib/ktap.sh
. "$ROOT/tests/lib/ktap.sh"
# Standard input as KTAP diagnostics.
indent() { sed 's/^/# /'; }
finish() {
	echo "1..$n"
	ktap_totals
	exit
}

echo "TAP version 13"
kver=$(migdev_kver) || { notok kernel_known; finish; }
version=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version 2>/dev/null)
deb=$OUT/${PKG}_${version}_all.deb
if dpkg -s "$PKG" >/dev/null 2>&1; then
	echo "# $PKG is installed already: removed first"
	apt-get purge -y -q "$PKG" 2>&1 | indent
fi

# The sources as a checkout has them, so nothing built here ends up in
# the package.
migdev_copy_sources "$OUT/src" Makefile Kbuild dkms.conf compat emul mdev \
	include scripts debian
if (cd "$OUT/src" && dpkg-buildpackage -b -us -uc) >"$OUT/build.log" 2>&1 &&
	[ -e "$deb" ]; then
	ok package_builds "$(basename "$deb"), $(stat -c %s "$deb") bytes"
else
	tail -n 20 "$OUT/build.log" | indent
	notok package_builds
	finish
fi
dpkg-deb -I "$deb" | grep -E '^ (Depends|Version):' | indent

# lintian's errors and warnings fail this (informational tags are shown).
lintian --display-info "$deb" >"$OUT/lintian.log" 2>&1
grep -v 'running with root privileges' "$OUT/lintian.log" | indent
if grep -qE '^[EW]: ' "$OUT/lintian.log"; then
	notok lintian_clean
else
	ok lintian_clean
fi

# As a user would: apt-get brings dkms, and dkms builds and installs.
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	"$deb" >"$OUT/install.log" 2>&1; then
	ok package_installs
else
	tail -n 20 "$OUT/install.log" | indent
	notok package_installs
	finish
fi
status=$(dkms status "migdev/$version" -k "$kver" 2>&1)
echo "$status" | indent
ko=$(find "/lib/modules/$kver/updates/dkms" -name 'migdev.ko*' 2>/dev/null | head -n 1)
if grep -q "installed" <<<"$status" && [ -n "$ko" ]; then
	ok dkms_built_for_the_vm_kernel "$ko"
else
	notok dkms_built_for_the_vm_kernel "no installed migdev for $kver"
fi

# DKMS builds the same sources for another kernel, as it does when one is
# installed: the newest kernel's prepared tree, when the test command made
# it (scripts/newest-kernel.sh; out/newest-kernel.env).
newest=$ROOT/out/newest-kernel.env
if [ -s "$newest" ] && (eval "$(cat "$newest")"; [ -d "${MIGDEV_NEWEST_KDIR:-}" ]); then
	eval "$(cat "$newest")"
	if dkms build "migdev/$version" -k "$MIGDEV_NEWEST_RELEASE" \
		--kernelsourcedir "$MIGDEV_NEWEST_KDIR" >"$OUT/newest.log" 2>&1; then
		ok dkms_builds_for_linux_7 "$MIGDEV_NEWEST_RELEASE"
	else
		tail -n 15 "$OUT/newest.log" | indent
		notok dkms_builds_for_linux_7 "$MIGDEV_NEWEST_RELEASE"
	fi
fi

# In the VM: the package's module, by modprobe, and a guest migrated.
MIGDEV_OUT=$OUT tests/vm/run.sh --no-insmod "$ROOT/tests/dkms_guest.sh" \
	</dev/null >"$OUT/vm.log" 2>&1
vrc=$?
grep -E '^(ok|not ok|#) ' "$OUT/vm/console.log" 2>/dev/null | sed 's/^/# vm: /'
if [ "$vrc" = 0 ] && ! grep -qE 'KERNEL PROBLEMS|TIMEOUT|SETUP FAILED' "$OUT/vm.log"; then
	ok vm_modprobe_loads_the_package_module_and_migrates
else
	tail -n 15 "$OUT/vm.log" | indent
	notok vm_modprobe_loads_the_package_module_and_migrates
fi

# Removing the package removes the module from every kernel.
apt-get purge -y -q "$PKG" >"$OUT/purge.log" 2>&1
left=$(find /lib/modules/*/updates/dkms -name 'migdev.ko*' 2>/dev/null)
if [ -z "$left" ] && ! dkms status migdev 2>/dev/null | grep -q .; then
	ok package_removal_removes_the_module
else
	notok package_removal_removes_the_module "left: $left $(dkms status migdev 2>&1)"
fi
finish
