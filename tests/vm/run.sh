#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run a script as root inside a throw-away QEMU (TCG) VM that boots the
# Debian 6.12 kernel and sees the host's / read-only over virtio-9p, so
# the repository, the built module and the host's tools are all there.
# See tests/vm/README.md.
#
#   tests/vm/run.sh [--timeout SECONDS] [--mem MB] [--kernel VMLINUZ]
#                   [--modroot DIR] [--append "KERNEL ARGS"] [--module KO]
#                   [--no-insmod] [--root DIR]
#                   [--debug] [--net listen|connect:PORT] [--qmp SOCKET]
#                   GUEST_SCRIPT [ARGS...]
#   tests/vm/run.sh --scan LOGFILE
#
# Exit status: the guest script's, else 1 if the kernel log reports a
# WARNING/BUG/Oops/KASAN/lockdep/... or kmemleak reports a leak, 120 if the guest setup (modprobe/insmod) failed,
# 124 on timeout, 125 if the VM did not come back, 2 on usage errors.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR/../..
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/common.sh
. "$here/../../scripts/common.sh"

# The initramfs loads these (and what modules.dep says they need).
INITRAMFS_MODULES=(netfs 9pnet 9pnet_virtio 9p)
# The spare PCI function every VM has (usage), as the guest sees it.  A
# pci-testdev: QEMU's device for testing PCI (kvm-unit-tests use it),
# which no Linux driver matches, with BARs like a real function, and
# hot-pluggable on the pc machine's bus (ACPI hotplug): a GPU's stand-in.
SPARE_PCI=0000:00:10.0
# Bump when the initramfs layout changes, to rebuild cached images.
INITRAMFS_FORMAT=1

usage() {
	cat <<'EOF'
usage: tests/vm/run.sh [OPTIONS] GUEST_SCRIPT [ARGS...]
       tests/vm/run.sh --scan LOGFILE

Boot the 6.12 kernel in QEMU (TCG), load vfio, vfio_iommu_type1, mdev and
$MIGDEV_ROOT/migdev.ko, run "bash GUEST_SCRIPT ARGS..." as root in the repo
and report its exit status.  Results (console.log, dmesg.txt, rc) go to
${MIGDEV_OUT:-$MIGDEV_ROOT/out}/vm, which the script sees as $MIGDEV_RESULTS.

  --timeout SECONDS  kill the VM after this long (default 1800)
  --mem MB           guest memory (default 2048)
  --kernel VMLINUZ   kernel to boot (default /boot/vmlinuz-<migdev_kver>)
  --modroot DIR      its modules are in DIR/lib/modules/<release> (with
                     modules.dep), not the host's /lib/modules: the
                     initramfs takes them from there, and the guest sees
                     them at /lib/modules (scripts/newest-kernel.sh)
  --append ARGS      extra kernel command-line arguments
  --module KO        load this migdev.ko instead of $MIGDEV_ROOT/migdev.ko
                     (one built for --kernel; the guest also sees it there)
  --no-insmod        do not load migdev.ko before running the script
  --root DIR         run the script chrooted in DIR, another userspace (a
                     writable overlay; scripts/newest-kernel.sh --root):
                     the repository, the script, the module, the results
                     and /lib/modules are there at their own paths
  --debug            the kernel must have KASAN, UBSAN, lockdep, kmemleak,
                     KFENCE, debugobjects and DEBUG_ATOMIC_SLEEP working
                     (scripts/debug-kernel.sh builds one); fail otherwise
  --net ROLE:PORT    a network link to another test VM: "listen:PORT" waits
                     for it on 127.0.0.1:PORT and takes 10.77.0.1,
                     "connect:PORT" joins it there and takes 10.77.0.2
                     (the script sees MIGDEV_NET_ADDR and MIGDEV_NET_PEER)
  --qmp SOCKET       QEMU's QMP monitor on this unix socket, for a test on
                     the host that acts on the machine (device_del)
  --scan LOGFILE     only check a saved kernel log for WARNING/BUG/Oops/...

Every VM has a spare PCI function, QEMU's pci-testdev (1b36:0005, id
"spare0") at 0000:00:10.0, that no driver claims: the script sees its
address in MIGDEV_SPARE_PCI, and can give it to migdev as a parent.
EOF
}

die() {
	echo "run.sh: $*" >&2
	exit 2
}

msg() {
	echo "migdev-vm: $*"
}

# Kernel problem reports.  Extended regular expression.  Lockdep,
# KFENCE, debugobjects and DEBUG_ATOMIC_SLEEP reports start with WARNING:
# or BUG:, but are named too, in case a header is lost.  A module's
# taint ("loading out-of-tree module taints kernel") is expected.
KERNEL_BAD='Kernel panic|WARNING:|BUG:|kernel BUG|Oops|general protection fault|Call Trace|KASAN|UBSAN|KFENCE|ODEBUG|possible circular locking|possible recursive locking|inconsistent lock state|possible irq lock inversion|suspicious RCU usage|lock held when returning|bad unlock balance|trying to register non-static key|sleeping function called from invalid context|lock debugging due to kernel taint|lockdep is turned off|list_(add|del) corruption|blocked for more than [0-9]+ seconds|unreferenced object 0x|Kernel memory leak detector disabled'

# scan_kernel_log FILE [console]: print the lines of FILE that report a
# kernel problem; true if there are any.  In console mode (a serial log
# where the guest's own output is mixed in) only lines carrying a printk
# timestamp count.
scan_kernel_log() {
	local file=$1 mode=${2:-dmesg} re=$KERNEL_BAD lines
	[ "$mode" = console ] && re="\\[ *[0-9]+\\.[0-9]+\\].*($KERNEL_BAD)"
	lines=$(tr -d '\r' <"$file" | grep -nE -- "$re") || return 1
	echo "$lines" | head -n 60
	[ "$(echo "$lines" | wc -l)" -le 60 ] || echo "... (more in $file)"
	return 0
}

# The release string of a bzImage (from its setup header), e.g.
# 6.12.117+deb12-amd64.
bzimage_release() {
	local file=$1 off
	[ "$(dd if="$file" bs=1 skip=514 count=4 2>/dev/null)" = HdrS ] || return 1
	off=$(od -An -tu2 -j526 -N2 "$file" | tr -d ' ')
	[ -n "$off" ] || return 1
	dd if="$file" bs=1 skip=$((off + 512)) count=200 2>/dev/null |
		tr '\0' '\n' | awk 'NR == 1 { print $1 }'
}

# resolve_modules MODDIR NAME...: the modules (paths relative to MODDIR)
# to insmod, dependencies first, in load order.  Built-in ones are skipped.
declare -A mod_seen
mod_order=()
resolve_module() {
	local moddir=$1 name=${2//-/_} line dep deps i
	[ -z "${mod_seen[$name]:-}" ] || return 0
	mod_seen[$name]=1
	line=$(awk -F: -v n="$name" '{
		b = $1; sub(/.*\//, "", b); sub(/\.ko(\.(xz|zst|gz))?$/, "", b)
		gsub(/-/, "_", b); if (b == n) { print; exit } }' "$moddir/modules.dep")
	if [ -z "$line" ]; then
		grep -qE "/${name//_/[-_]}\\.ko\$" "$moddir/modules.builtin" 2>/dev/null ||
			die "module $name is neither in $moddir/modules.dep nor built in"
		return 0
	fi
	read -ra deps <<<"${line#*:}"
	# modprobe loads the last dependency first.
	for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
		dep=${deps[i]##*/}
		resolve_module "$moddir" "${dep%%.ko*}"
	done
	mod_order+=("${line%%:*}")
}

# build_initramfs MODDIR: print the path of a (cached) initramfs with
# busybox, init.sh as /init and the 9p modules from MODDIR (may be empty:
# 9p built in), decompressed.
build_initramfs() {
	local moddir=$1 busybox hash out tmp m name
	local dir=$MIGDEV_CACHE/vm

	busybox=$(command -v busybox) || die "busybox not found (install busybox-static)"
	if ldd "$busybox" >/dev/null 2>&1; then
		die "$busybox is dynamically linked (install busybox-static)"
	fi
	mod_order=()
	mod_seen=()
	if [ -n "$moddir" ]; then
		for m in "${INITRAMFS_MODULES[@]}"; do
			resolve_module "$moddir" "$m"
		done
	fi

	hash=$(
		echo "format $INITRAMFS_FORMAT"
		echo "moddir $moddir"
		echo "busybox $(sha256sum <"$busybox")"
		echo "init $(sha256sum <"$here/init.sh")"
		for m in "${mod_order[@]}"; do
			echo "$m $(sha256sum <"$moddir/$m")"
		done
	)
	hash=$(echo "$hash" | sha256sum | cut -c1-16)
	out=$dir/initramfs-$hash.cpio.gz
	mkdir -p "$dir"
	if [ -s "$out" ]; then
		touch "$out"
		msg "reusing initramfs $out" >&2
		echo "$out"
		return
	fi

	msg "building initramfs $out" >&2
	tmp=$(mktemp -d "$dir/build.XXXXXX")
	mkdir -p "$tmp/root/bin" "$tmp/root/dev" "$tmp/root/proc" "$tmp/root/sys" \
		"$tmp/root/newroot" "$tmp/root/modules"
	cp "$busybox" "$tmp/root/bin/busybox"
	cp "$here/init.sh" "$tmp/root/init"
	chmod 755 "$tmp/root/bin/busybox" "$tmp/root/init"
	: >"$tmp/root/modules/load-order"
	for m in "${mod_order[@]}"; do
		name=${m##*/}
		case $name in
		*.ko.xz) xz -dc "$moddir/$m" >"$tmp/root/modules/${name%.xz}" ;;
		*.ko.zst) zstd -qdc "$moddir/$m" >"$tmp/root/modules/${name%.zst}" ;;
		*.ko.gz) gzip -dc "$moddir/$m" >"$tmp/root/modules/${name%.gz}" ;;
		*.ko) cp "$moddir/$m" "$tmp/root/modules/$name" ;;
		*) die "unexpected module file $m" ;;
		esac
		echo "${name%.ko*}.ko" >>"$tmp/root/modules/load-order"
	done
	(cd "$tmp/root" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) | gzip -6 >"$tmp/initramfs"
	mv -f "$tmp/initramfs" "$out"
	rm -rf "$tmp"
	# Old images (other kernels, other busybox) and aborted builds.
	find "$dir" -maxdepth 1 \( -name 'initramfs-*.cpio.gz' -mtime +7 -o \
		-name 'build.*' -mtime +1 \) -exec rm -rf {} + 2>/dev/null || true
	echo "$out"
}

timeout=1800
mem=2048
kernel=
modroot=
append=
insmod=1
module=
root=
debug=0
net=
qmp=
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) [ $# -ge 2 ] || die "--timeout needs a value"; timeout=$2; shift 2 ;;
	--timeout=*) timeout=${1#*=}; shift ;;
	--mem) [ $# -ge 2 ] || die "--mem needs a value"; mem=$2; shift 2 ;;
	--mem=*) mem=${1#*=}; shift ;;
	--kernel) [ $# -ge 2 ] || die "--kernel needs a value"; kernel=$2; shift 2 ;;
	--kernel=*) kernel=${1#*=}; shift ;;
	--modroot) [ $# -ge 2 ] || die "--modroot needs a value"; modroot=$2; shift 2 ;;
	--modroot=*) modroot=${1#*=}; shift ;;
	--append) [ $# -ge 2 ] || die "--append needs a value"; append=$2; shift 2 ;;
	--append=*) append=${1#*=}; shift ;;
	--module) [ $# -ge 2 ] || die "--module needs a value"; module=$2; shift 2 ;;
	--module=*) module=${1#*=}; shift ;;
	--no-insmod) insmod=0; shift ;;
	--root) [ $# -ge 2 ] || die "--root needs a value"; root=$2; shift 2 ;;
	--root=*) root=${1#*=}; shift ;;
	--debug) debug=1; shift ;;
	--net) [ $# -ge 2 ] || die "--net needs a value"; net=$2; shift 2 ;;
	--net=*) net=${1#*=}; shift ;;
	--qmp) [ $# -ge 2 ] || die "--qmp needs a value"; qmp=$2; shift 2 ;;
	--qmp=*) qmp=${1#*=}; shift ;;
	--scan)
		[ $# -eq 2 ] || die "usage: run.sh --scan LOGFILE"
		if scan_kernel_log "$2"; then
			exit 1
		fi
		exit 0
		;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	-*) usage >&2; die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { usage >&2; exit 2; }
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout: not a number of seconds: $timeout"
[[ $mem =~ ^[1-9][0-9]*$ ]] || die "--mem: not a number of MB: $mem"
[ -z "$net" ] || [[ $net =~ ^(listen|connect):[1-9][0-9]*$ ]] ||
	die "--net: not listen:PORT or connect:PORT: $net"

script=$(readlink -f -- "$1") || die "no such guest script: $1"
[ -f "$script" ] || die "no such guest script: $1"
case $script in
/proc/* | /sys/* | /dev/* | /run/*)
	die "the guest cannot see $script (its /proc, /sys, /dev and /run are its own)" ;;
esac
shift

if [ -n "$module" ]; then
	module=$(readlink -f -- "$module") && [ -f "$module" ] ||
		die "--module: no such file: $module"
	case $module in
	/proc/* | /sys/* | /dev/* | /run/*)
		die "the guest cannot see $module (its /proc, /sys, /dev and /run are its own)" ;;
	esac
fi

if [ -n "$root" ]; then
	root=$(readlink -f -- "$root") && [ -x "$root/bin/bash" ] ||
		die "--root: $root has no /bin/bash"
fi

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (run scripts/setup.sh)"

# The kernel and the modules the initramfs takes (same release).
if [ -z "$kernel" ]; then
	kver=$(migdev_kver) || exit 2
	kernel=/boot/vmlinuz-$kver
	[ -r "$kernel" ] || die "cannot read $kernel (run scripts/setup.sh)"
else
	[ -r "$kernel" ] || die "cannot read $kernel"
	kernel=$(readlink -f -- "$kernel")
	kver=$(bzimage_release "$kernel") || die "$kernel is not a bzImage"
fi
moddir=/lib/modules/$kver
if [ -n "$modroot" ]; then
	modroot=$(readlink -f -- "$modroot")
	moddir=$modroot/lib/modules/$kver
	[ -e "$moddir/modules.dep" ] || die "--modroot: no $moddir/modules.dep"
elif [ ! -e "$moddir/modules.dep" ]; then
	[ "$kernel" != "/boot/vmlinuz-$kver" ] || die "no $moddir/modules.dep"
	msg "warning: no $moddir: assuming $kernel has 9p and virtio built in" >&2
	moddir=
fi
initrd=$(build_initramfs "$moddir")

# Results directory, shared read-write with the guest (its /mnt).
out=${MIGDEV_OUT:-$MIGDEV_ROOT/out}
mkdir -p "$out"
res=$(cd "$out" && pwd)/vm
rm -rf "$res"
mkdir -p "$res"
msg "results in $res"

# The job: kernel command-line words are split on spaces, so the guest
# gets everything from files in the results share.
printf '%s\n' "$here/guest.sh" >"$res/stage2"
{
	echo "# migdev VM job, written by tests/vm/run.sh, sourced by guest.sh"
	printf 'MIGDEV_JOB_SCRIPT=%q\n' "$script"
	printf 'MIGDEV_JOB_INSMOD=%q\n' "$insmod"
	printf 'MIGDEV_JOB_MODULE=%q\n' "$module"
	printf 'MIGDEV_JOB_MODROOT=%q\n' "$modroot"
	printf 'MIGDEV_JOB_ROOT=%q\n' "$root"
	printf 'MIGDEV_JOB_DEBUG=%q\n' "$debug"
	printf 'MIGDEV_JOB_NET=%q\n' "${net%%:*}"
	printf 'MIGDEV_JOB_SPARE=%q\n' "$SPARE_PCI"
	printf 'MIGDEV_JOB_ARGS=('
	[ $# -eq 0 ] || printf ' %q' "$@"
	printf ' )\n'
} >"$res/job"

# Without FSRM and ERMS the guest kernel copies with "rep movsq", not
# "rep movsb", which TCG runs a byte at a time: kernel copies (the DMA
# engine, vfio_dma_rw, data_fd reads) measured 5.7 times faster.
qemu=(
	qemu-system-x86_64
	-accel tcg -cpu max,-fsrm,-erms -smp 2 -m "$mem"
	-nodefaults -no-user-config -display none -monitor none
	-serial stdio -no-reboot
	-kernel "$kernel" -initrd "$initrd"
	-append "console=ttyS0 loglevel=5 panic=-1 mitigations=off $append"
	-fsdev "local,id=hostroot,path=/,readonly=on,security_model=none,multidevs=remap"
	-device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot"
	-fsdev "local,id=results,path=${res//,/,,},security_model=none"
	-device "virtio-9p-pci,fsdev=results,mount_tag=results"
	-device "pci-testdev,id=spare0,bus=pci.0,addr=${SPARE_PCI#0000:00:}"
)
[ -z "$qmp" ] || qemu+=(-qmp "unix:${qmp//,/,,},server=on,wait=off")
# The link between two test VMs ("two hosts"): QEMU's socket network
# backend, one VM listening on a loopback port and the other connecting
# to it.  Only these two VMs are on it.
if [ -n "$net" ]; then
	mac=52:54:00:6d:64:01
	[ "${net%%:*}" = listen ] || mac=52:54:00:6d:64:02
	qemu+=(-netdev "socket,id=link,${net%%:*}=127.0.0.1:${net#*:}"
	       -device "virtio-net-pci,netdev=link,mac=$mac")
fi
msg "booting $kernel ($kver), timeout ${timeout}s"

# The serial console goes live to stdout and, without the CRs, to
# console.log.  QEMU never gets our stdin (CI has none).
exec {logfd}> >(sed -u 's/\r$//' | tee "$res/console.log")
logpid=$!
start=${EPOCHREALTIME/,/.}
timeout -k 10 "$timeout" "${qemu[@]}" </dev/null >&"$logfd" 2>&1 &
qpid=$!
interrupted=0
trap 'interrupted=1; kill -TERM "$qpid" 2>/dev/null || true' INT TERM HUP
qrc=0
while :; do
	wait "$qpid" && qrc=0 || qrc=$?
	kill -0 "$qpid" 2>/dev/null || break
done
trap - INT TERM HUP
end=${EPOCHREALTIME/,/.}
exec {logfd}>&-
wait "$logpid" || true
took=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
echo

final=0
if [ "$interrupted" = 1 ]; then
	msg "interrupted: VM killed"
	final=130
elif [ "$qrc" = 124 ] || { [ "$qrc" = 137 ] &&
	awk -v t="$took" -v l="$timeout" 'BEGIN { exit !(t >= l) }'; }; then
	msg "TIMEOUT: the VM did not finish within ${timeout}s and was killed"
	final=124
elif [ "$qrc" != 0 ]; then
	msg "qemu exited with status $qrc"
fi

rc=
if [ -e "$res/rc" ]; then
	rc=$(tr -d '[:space:]' <"$res/rc")
	[[ $rc =~ ^[0-9]+$ ]] || { msg "bad rc file: '$rc'"; rc=125; }
	if [ -e "$res/error" ]; then
		msg "GUEST SETUP FAILED: $(cat "$res/error")"
		rc="$rc, guest setup failed"
	fi
	[ "$final" != 0 ] || final=${rc%%,*}
elif [ "$final" = 0 ]; then
	msg "the VM did not come back (no $res/rc): see $res/console.log"
	final=125
fi

if [ -e "$res/dmesg.txt" ]; then
	log=$res/dmesg.txt mode=dmesg
else
	log=$res/console.log mode=console
fi
if problems=$(scan_kernel_log "$log" "$mode"); then
	msg "KERNEL PROBLEMS in $log:"
	echo "$problems"
	[ "$final" != 0 ] || final=1
fi
# kmemleak: the guest scans at the end of the run (if the kernel has it)
# and keeps the report; any leak fails the run.
if [ -s "$res/kmemleak.txt" ]; then
	msg "KMEMLEAK REPORTS LEAKS ($(grep -c '^unreferenced object' "$res/kmemleak.txt") objects) in $res/kmemleak.txt:"
	head -n 60 "$res/kmemleak.txt"
	[ "$(wc -l <"$res/kmemleak.txt")" -le 60 ] || echo "... (more in $res/kmemleak.txt)"
	[ "$final" != 0 ] || final=1
fi
if [ -e "$res/kmemleak-error" ]; then
	msg "KMEMLEAK SCAN FAILED: $(cat "$res/kmemleak-error")"
	[ "$final" != 0 ] || final=1
fi
# Lockdep switches itself off after its first report (or a taint that
# makes it unreliable); a run that ends without it is not clean.
if [ -e "$res/lockdep_stats" ] &&
	grep -qE '^ *debug_locks: *0$' "$res/lockdep_stats"; then
	msg "LOCKDEP TURNED ITSELF OFF during the run (debug_locks: 0; see $res/lockdep_stats)"
	[ "$final" != 0 ] || final=1
fi

msg "done: exit $final (guest script rc ${rc:-none}), VM took ${took}s, results in $res"
exit "$final"
