#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole test suite, from a fresh Debian 12 machine: install what is
# missing, build the module (W=1 and sparse clean) and the tests, check
# style, build it for the newest kernel too (Linux 7.3 from
# trixie-backports: scripts/newest-kernel.sh), unit-test and fuzz the
# stream decoder in userspace (fuzz/), boot
# Debian's 6.12 kernel in a VM, and run every test there; the C tests and
# the ping-pongs again on the newest stack (Debian's 7.3 kernel, trixie
# with QEMU 11.1 and libvirt 12.9); the cross-host, cross-version and
# libvirt tests and the kernel bugs' reproducers in VMs of their own; then
# build the debug kernel (scripts/debug-kernel.sh, cached, with
# kernel-patches/) and run every test again on it.  Ends with one line: "N passed, M failed".
#
# Usage (as root): scripts/test.sh [TEST...]   (default: all tests)
# MIGDEV_DEBUG_KERNEL=0 skips the debug-kernel run.
set -uo pipefail

. "$(dirname "$0")/common.sh"
cd "$MIGDEV_ROOT" || exit 1

pass=0 fail=0
result() { # name rc
	if [ "$2" = 0 ]; then
		pass=$((pass + 1)); echo "ok - $1"
	else
		fail=$((fail + 1)); echo "not ok - $1"
	fi
}
finish() {
	local f
	# The failures again, last: a log's tail is what is read first.
	if [ "$fail" != 0 ]; then
		echo "# failed:"
		for f in out/vm/*.ktap out/newest/vm/*.ktap out/crosshost.ktap out/crossversion.ktap out/libvirt.ktap out/kernel-bugs.ktap out/dkms.ktap out/debug/vm/*.ktap; do
			[ -e "$f" ] || continue
			grep -E '^(not ok|(# )*(FAIL|.*(MISMATCH|FATAL)))' "$f" |
				head -n 20 | sed "s|^|#   ${f#out/}: |"
		done
	fi
	[ -z "$lanes" ] || echo "# lanes: $lanes; in all $(($(date +%s) - run_t0)) s"
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
	exit
}

# lane NAME: the lane that ran since the last call ends here; say how long
# it took ("# lane NAME: N s"), and a summary of all at the end.
lane_t0=$(date +%s) run_t0=$lane_t0 lanes=""
lane() {
	local now
	now=$(date +%s)
	echo "# lane $1: $((now - lane_t0)) s"
	lanes="$lanes${lanes:+, }$1 $((now - lane_t0)) s"
	lane_t0=$now
}

# ktap_totals FILE LABEL: add the counts of FILE's last "# Totals:" line
# (also left in p and f) and say them; false if it has none.  The last:
# fuzz/run.sh's log has its unit tests' own totals before its sum.
ktap_totals() {
	local totals
	totals=$(sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) .*/\1 \2/p' "$1" | tail -n 1)
	[ -n "$totals" ] || return 1
	read -r p f <<<"$totals"
	pass=$((pass + p)); fail=$((fail + f))
	echo "$2: $p passed, $f failed"
}

bash scripts/setup.sh || { echo "setup failed"; fail=1; finish; }
lane setup
kver=$(migdev_kver)
mkdir -p out

# make check: the module built from clean with W=1 and sparse (any
# warning fails), and checkpatch --strict over every C file.
make -s KVER="$kver" check-build >out/build.log 2>&1
rc=$?
result "module builds W=1 and sparse clean" $rc
[ $rc = 0 ] || { cat out/build.log; finish; }
make -s checkpatch >out/checkpatch.log 2>&1
rc=$?
cat out/checkpatch.log
result "checkpatch --strict clean" $rc

{ make -s -C tests KVER="$kver" && make -s -C samples KVER="$kver"; } >out/tests-build.log 2>&1
rc=$?
result "test programs and samples build" $rc
[ $rc = 0 ] || { cat out/tests-build.log; finish; }
lane "build and style"

# The newest kernel migdev builds for, from the same tree: Debian's Linux
# 7.3 from trixie-backports, prepared and cached by
# scripts/newest-kernel.sh; W=1 and sparse clean there too.
# With the whole suite, Debian's 7.3 kernel itself and the trixie
# userspace too, for the newest stack's VM below.
newest_args=(--module)
[ $# != 0 ] || newest_args+=(--image --root)
scripts/newest-kernel.sh "${newest_args[@]}" >out/newest-kernel.env 2>out/newest-kernel.log
newest_rc=$?
[ $newest_rc = 0 ] || tail -n 40 out/newest-kernel.log
result "module builds W=1 and sparse clean for Linux 7.3 (trixie-backports)" $newest_rc
lane "newest kernel (build)"

# The stream decoder, built in userspace with ASan and UBSan: its unit
# tests and a million libFuzzer executions over fuzz/corpus/.
bash fuzz/run.sh >out/fuzz.log 2>&1
rc=$?
grep -E '^(not ok|# fuzz)' out/fuzz.log
if ktap_totals out/fuzz.log "fuzz/ (log: out/fuzz.log)"; then
	[ "$rc" = 0 ] || [ "$f" != 0 ] || result "fuzz/run.sh exits 0" $rc
else
	tail -n 30 out/fuzz.log
	result "fuzz/run.sh ran (build, unit tests, fuzzer)" 1
fi
lane "userspace (fuzz/)"

# vm_totals RESULTS_DIR VM_RC [LABEL]: add the VM's test counts.
vm_totals() {
	local totals=$1/totals vm_rc=$2 label=${3:-} p f s
	if [ -s "$totals" ]; then
		read -r p f s <"$totals"
		pass=$((pass + p)); fail=$((fail + f))
		echo "in the VM$label: $p passed, $f failed, $s skipped"
		# A clean kernel log is one more test: the runner fails on a WARNING,
		# BUG, Oops or lockdep/KASAN report even when every test passed.
		if [ "$f" = 0 ]; then
			result "kernel log clean and VM came back$label" $vm_rc
		fi
	else
		result "test VM came back with results$label" 1
	fi
}

tests/vm/run.sh tests/run-guest.sh "$@" </dev/null
vm_rc=$?
vm_totals out/vm $vm_rc
lane "Debian's kernel"

# The newest stack: Debian's Linux 7.3, with its own modules and migdev.ko
# built for it, and the tests running in a trixie userspace with QEMU
# 11.1 and libvirt 12.9 from trixie-backports (scripts/newest-kernel.sh
# --root): every C test of the suite (those on a PCI parent too), the
# ping-pongs of the samples and of QEMU 11.1, and the PCI parent's test.
# Results in out/newest/vm.  With the whole suite only.
if [ $# = 0 ] && [ $newest_rc = 0 ]; then
	eval "$(cat out/newest-kernel.env)"
	echo "newest stack: Linux $MIGDEV_NEWEST_RELEASE, QEMU $MIGDEV_NEWEST_QEMU, libvirt $MIGDEV_NEWEST_LIBVIRT"
	mapfile -t newest_tests < <(sed -e '/^#/d' -e '/\.sh$/d' tests/TESTS)
	MIGDEV_OUT=$MIGDEV_ROOT/out/newest tests/vm/run.sh \
		--kernel "$MIGDEV_NEWEST_IMAGE" --modroot "$MIGDEV_NEWEST_MODROOT" \
		--module "$MIGDEV_NEWEST_MODULE" --root "$MIGDEV_NEWEST_ROOT" \
		tests/run-guest.sh \
		"${newest_tests[@]}" pingpong_test.sh qemu_pingpong_test.sh \
		pci_parent_test.sh </dev/null
	vm_rc=$?
	vm_totals out/newest/vm $vm_rc " (newest stack)"
	lane "newest stack (Linux 7.3, QEMU 11.1)"
fi

# Two test VMs as two hosts on a link of their own: a guest migrated
# between them over TCP, also to a module on the previous stream version
# (tests/crosshost_test.sh).  With the whole suite only.
if [ $# = 0 ]; then
	tests/crosshost_test.sh </dev/null | tee out/crosshost.ktap
	ktap_totals out/crosshost.ktap "across two hosts" ||
		result "tests/crosshost_test.sh ran" 1
	lane "two hosts"
fi

# The same two hosts, one of each stack: A Debian 12's (6.12, QEMU 10),
# B the newest (7.3, QEMU 11.1 in trixie); the guest goes between the two
# QEMUs both ways, also while it discards device memory.  With the whole
# suite only, when the newest stack was made.
if [ $# = 0 ] && [ $newest_rc = 0 ]; then
	tests/crosshost_test.sh --newest-b </dev/null | tee out/crossversion.ktap
	ktap_totals out/crossversion.ktap "across versions (QEMU 10 and 11.1)" ||
		result "tests/crosshost_test.sh --newest-b ran" 1
	lane "two versions"
fi

# The same two hosts as libvirt hosts (libvirt 11.3 and QEMU 10 from
# bookworm-backports, in a root of their own: scripts/libvirt-root.sh):
# virsh migrates a guest back and forth, saves, restores and cancels
# (tests/crosshost_test.sh --libvirt).  With the whole suite only.
if [ $# = 0 ]; then
	tests/crosshost_test.sh --libvirt </dev/null | tee out/libvirt.ktap
	ktap_totals out/libvirt.ktap "libvirt across two hosts" ||
		result "tests/crosshost_test.sh --libvirt ran" 1
	lane "libvirt"
fi

# Kernel bugs the suite found, on Debian's kernel: each reproducer in a
# throw-away VM, where it is expected to oops it (tests/kernel_bugs_test.sh;
# the debug kernel below carries the fixes and must pass them).  With the
# whole suite only.
if [ $# = 0 ]; then
	tests/kernel_bugs_test.sh </dev/null | tee out/kernel-bugs.ktap
	ktap_totals out/kernel-bugs.ktap "kernel bugs on Debian's kernel" ||
		result "tests/kernel_bugs_test.sh ran" 1
	lane "kernel bugs"
fi

# A PCI parent hot-unplugged with open instances: the outer QEMU deletes
# the test VM's spare function, which migdev drives; the users are asked
# to let go and do (tests/pci_unplug_test.sh).  With the whole suite only;
# the debug kernel runs it again below.
if [ $# = 0 ]; then
	tests/pci_unplug_test.sh </dev/null | tee out/pci-unplug.ktap
	ktap_totals out/pci-unplug.ktap "PCI parent hot-unplug" ||
		result "tests/pci_unplug_test.sh ran" 1
	lane "PCI unplug"
fi

# migdev as a Debian package (debian/, dkms.conf): built with
# dpkg-buildpackage, lintian clean, installed here with apt-get (DKMS
# builds the module for the VM's kernel), loaded with modprobe in the VM
# and migrating, then removed (tests/dkms_test.sh).  With the whole suite
# only.
if [ $# = 0 ]; then
	tests/dkms_test.sh </dev/null | tee out/dkms.ktap
	ktap_totals out/dkms.ktap "Debian package with DKMS" ||
		result "tests/dkms_test.sh ran" 1
	lane "package"
fi

# The same suite on the debug kernel (KASAN, lockdep, kmemleak, UBSAN,
# KFENCE; built once, then cached), with migdev.ko built for it.  Its
# results go to out/debug/vm.  MIGDEV_DEBUG_KERNEL=0 skips this.
if [ "${MIGDEV_DEBUG_KERNEL:-1}" != 0 ]; then
	dk=$(bash scripts/debug-kernel.sh --module </dev/null)
	rc=$?
	result "debug kernel and its migdev.ko build" $rc
	if [ $rc = 0 ]; then
		eval "$dk"
		MIGDEV_OUT=$MIGDEV_ROOT/out/debug tests/vm/run.sh --debug \
			--kernel "$MIGDEV_DEBUG_IMAGE" --append "$MIGDEV_DEBUG_APPEND" \
			--module "$MIGDEV_DEBUG_MODULE" tests/run-guest.sh "$@" </dev/null
		vm_rc=$?
		vm_totals out/debug/vm $vm_rc " (debug kernel)"
		if [ $# = 0 ]; then
			MIGDEV_OUT=$MIGDEV_ROOT/out/debug tests/pci_unplug_test.sh --debug \
				--kernel "$MIGDEV_DEBUG_IMAGE" --append "$MIGDEV_DEBUG_APPEND" \
				--module "$MIGDEV_DEBUG_MODULE" </dev/null | tee out/debug/pci-unplug.ktap
			ktap_totals out/debug/pci-unplug.ktap "PCI parent hot-unplug (debug kernel)" ||
				result "tests/pci_unplug_test.sh ran on the debug kernel" 1
		fi
	fi
	lane "debug kernel (its build included)"
else
	echo "debug kernel: skipped (MIGDEV_DEBUG_KERNEL=0)"
fi
finish
