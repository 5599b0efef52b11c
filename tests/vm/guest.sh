#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stage 2 of the test VM: runs as PID 1 (root) after the initramfs has
# switch_rooted into the host's / (read-only 9p).  With run.sh --root,
# the guest script runs chrooted in another userspace.  The results share is
# mounted at /mnt; the host wrote the job there (/mnt/job).  Sets up a
# usable system, loads vfio + mdev (+ migdev.ko), runs the guest script
# with its output on the serial console, stores its exit code in /mnt/rc
# and the kernel log in /mnt/dmesg.txt, and powers off.  On a kernel with
# kmemleak, it also scans for leaks at the end (/mnt/kmemleak.txt).
#
# No "set -e": PID 1 must always get to the power-off.  Under TCG every
# program started costs 30-50 ms, hence the shell built-ins.
set -uo pipefail

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=${TERM:-linux} LANG=C.UTF-8
umask 022

RESULTS=/mnt
cd "${BASH_SOURCE[0]%/*}/../.." || exit 1
MIGDEV_ROOT=$PWD
export MIGDEV_ROOT

log() {
	echo "migdev-vm: $*"
}

up_s() {
	local up _
	read -r up _ </proc/uptime
	echo "$up"
}

poweroff_now() {
	sync
	umount "$RESULTS" 2>/dev/null
	busybox poweroff -f 2>/dev/null
	echo o >/proc/sysrq-trigger
	sleep 60
	exit 1	# PID 1 exiting panics; with panic=-1 and -no-reboot QEMU quits
}

# Guest setup failed: tell the host (error file + rc 120), then stop.
setup_failed() {
	log "SETUP FAILED: $*"
	echo "$*" >"$RESULTS/error"
	echo 120 >"$RESULTS/rc"
	dmesg >"$RESULTS/dmesg.txt" 2>&1
	poweroff_now
}

is_mounted() {
	local dir=$1 _ mnt
	[ -r /proc/self/mounts ] || return 1
	while read -r _ mnt _; do
		[ "$mnt" = "$dir" ] && return 0
	done </proc/self/mounts
	return 1
}

mount_once() {	# TYPE DIR [OPTIONS]
	local type=$1 dir=$2 opts=${3:-}
	is_mounted "$dir" && return 0
	[ -d "$dir" ] || mkdir -p "$dir"
	mount -t "$type" ${opts:+-o "$opts"} "$type" "$dir" ||
		log "warning: cannot mount $type on $dir"
}

mount_once proc /proc
mount_once sysfs /sys
mount_once devtmpfs /dev
mount_once devpts /dev/pts gid=5,mode=620,ptmxmode=666
mount_once tmpfs /dev/shm mode=1777
mount_once debugfs /sys/kernel/debug
# What udev or systemd make on a host, and programs expect (libvirt hands
# mdevctl its JSON as /dev/stdin; bash's process substitution).
for l in fd:/proc/self/fd stdin:/proc/self/fd/0 stdout:/proc/self/fd/1 \
	stderr:/proc/self/fd/2; do
	[ -e "/dev/${l%%:*}" ] || ln -s "${l#*:}" "/dev/${l%%:*}"
done
is_mounted "$RESULTS" || setup_failed "results share not mounted at $RESULTS"

# shellcheck source=/dev/null
. "$RESULTS/job" || setup_failed "cannot read $RESULTS/job"
script=${MIGDEV_JOB_SCRIPT:?}
insmod_migdev=${MIGDEV_JOB_INSMOD:-1}
# The migdev.ko to load: one built for this kernel (--module), or the
# repository's.  Tests that reload the module use $MIGDEV_KO.
MIGDEV_KO=${MIGDEV_JOB_MODULE:-$MIGDEV_ROOT/migdev.ko}
export MIGDEV_KO

# Writable scratch directories.  Keep the repository and the guest
# script visible even if they live under one of them (the host's /tmp is
# hidden by the guest's tmpfs otherwise): its directory, or only the file
# if it sits directly in /tmp, /var/tmp or /root.
mount_once tmpfs /run mode=755
mkdir -p /run/migdev/host
mount --bind / /run/migdev/host	# non-recursive: the host's tree only
script_dir=${script%/*}
for dir in /tmp /var/tmp /root; do
	mode=1777
	[ "$dir" = /root ] && mode=700
	mount -t tmpfs -o mode=$mode tmpfs "$dir" || log "warning: no tmpfs on $dir"
	keep=("$MIGDEV_ROOT" "$script_dir")
	[ "$script_dir" = "$dir" ] && keep=("$MIGDEV_ROOT" "$script")
	[ -z "${MIGDEV_JOB_MODULE:-}" ] || keep+=("$MIGDEV_JOB_MODULE")
	for path in "${keep[@]}"; do
		case $path/ in
		"$dir"/?*) ;;
		*) continue ;;
		esac
		if [ -d "/run/migdev/host$path" ]; then
			mkdir -p "$path"
		else
			mkdir -p "${path%/*}" && : >"$path"
		fi
		if ! mount --bind "/run/migdev/host$path" "$path"; then
			log "warning: cannot keep $path visible"
		fi
	done
done

echo migdev-vm >/proc/sys/kernel/hostname
# The hung-task detector, armed short: a task in an uninterruptible wait
# for 30 s is reported ("blocked for more than 30 seconds"), and that
# fails the run.  No test waits that long; a user's stalled memory may
# hold only that user's own threads, in killable waits, which it skips.
if [ -w /proc/sys/kernel/hung_task_timeout_secs ]; then
	echo 30 >/proc/sys/kernel/hung_task_timeout_secs
fi
ip link set lo up 2>/dev/null

log "kernel $(uname -r), up $(up_s) s"

# The kernel's checkers, from the symbols and files they bring (reading
# /proc/kallsyms takes a second: only on a kernel that has lockdep).
features=()
kallsyms=
if [ "${MIGDEV_JOB_DEBUG:-0}" = 1 ] || [ -e /proc/lockdep ]; then
	kallsyms=$(grep -oE ' (kasan_report|__ubsan_handle_out_of_bounds|__might_resched|debug_object_init)$' \
		/proc/kallsyms 2>/dev/null)
fi
for f in kasan_report:kasan __ubsan_handle_out_of_bounds:ubsan \
	__might_resched:atomic_sleep debug_object_init:debugobjects; do
	[[ $kallsyms == *" ${f%%:*}"* ]] && features+=("${f#*:}")
done
[ -e /proc/lockdep ] && features+=(lockdep)
[ -e /sys/kernel/debug/kmemleak ] && features+=(kmemleak)
[ -e /sys/kernel/debug/kfence ] && features+=(kfence)
echo "${features[*]}" >"$RESULTS/debug-features"
if [ ${#features[@]} -gt 0 ]; then
	log "kernel checkers: ${features[*]}"
fi
if [ "${MIGDEV_JOB_DEBUG:-0}" = 1 ]; then
	for f in kasan ubsan lockdep atomic_sleep debugobjects kmemleak kfence; do
		[[ " ${features[*]} " == *" $f "* ]] ||
			setup_failed "--debug: this kernel has no $f (have: ${features[*]:-none})"
	done
	if [ -r /proc/lockdep_stats ] &&
		! grep -qE '^ *debug_locks: *1$' /proc/lockdep_stats; then
		setup_failed "--debug: lockdep is off already at boot (debug_locks is not 1)"
	fi
fi

# Leaks from before the test are not its business: mark what a scan
# finds now as known (kmemleak's "clear"), keep it for reference.
kmemleak=/sys/kernel/debug/kmemleak
if [ -e $kmemleak ]; then
	if echo scan >$kmemleak && cat $kmemleak >"$RESULTS/kmemleak-boot.txt" &&
		echo clear >$kmemleak; then
		log "kmemleak: scanned and cleared at up $(up_s) s"
	else
		echo "the scan at boot failed" >"$RESULTS/kmemleak-error"
	fi
fi

# A kernel whose modules are not the host's (run.sh --modroot): they are
# the guest's /lib/modules, for every modprobe from here on (taken from
# the host's tree: the root may be under the guest's own /root).
if [ -n "${MIGDEV_JOB_MODROOT:-}" ]; then
	mount --bind "/run/migdev/host$MIGDEV_JOB_MODROOT/lib/modules" /lib/modules ||
		setup_failed "cannot mount $MIGDEV_JOB_MODROOT/lib/modules on /lib/modules"
fi

# vfio, vfio_iommu_type1 and mdev: loaded, or built in (then
# /sys/module/<name> exists, and modprobe would not know them: the
# host's /lib/modules has nothing for a kernel built elsewhere).
mods=()
for m in vfio vfio_iommu_type1 mdev; do
	[ -d "/sys/module/$m" ] || mods+=("$m")
done
if [ ${#mods[@]} -gt 0 ] && ! modprobe -a "${mods[@]}"; then
	dmesg | tail -n 30
	setup_failed "modprobe ${mods[*]} failed"
fi
for m in vfio vfio_iommu_type1 mdev; do
	if [ ! -d "/sys/module/$m" ]; then
		dmesg | tail -n 30
		setup_failed "module $m is not loaded after modprobe"
	fi
done

# With --module, tests that load "$MIGDEV_ROOT/migdev.ko" themselves get
# that build too: it is mounted over the repository's.
if [ -n "${MIGDEV_JOB_MODULE:-}" ] && [ "$MIGDEV_KO" != "$MIGDEV_ROOT/migdev.ko" ] &&
	[ -e "$MIGDEV_ROOT/migdev.ko" ]; then
	mount --bind "$MIGDEV_KO" "$MIGDEV_ROOT/migdev.ko" ||
		setup_failed "cannot mount $MIGDEV_KO over $MIGDEV_ROOT/migdev.ko"
fi

if [ "$insmod_migdev" = 1 ]; then
	if [ -e "$MIGDEV_KO" ]; then
		if ! insmod "$MIGDEV_KO"; then
			dmesg | tail -n 30
			setup_failed "insmod $MIGDEV_KO failed"
		fi
		log "loaded $MIGDEV_KO"
	elif [ -n "${MIGDEV_JOB_MODULE:-}" ]; then
		setup_failed "$MIGDEV_KO does not exist"
	else
		log "$MIGDEV_KO does not exist (module not built?): not loading it"
	fi
fi

# The link to another test VM (run.sh --net): the listening side is
# 10.77.0.1, the connecting side 10.77.0.2.
if [ -n "${MIGDEV_JOB_NET:-}" ]; then
	MIGDEV_NET_ADDR=10.77.0.1 MIGDEV_NET_PEER=10.77.0.2
	if [ "$MIGDEV_JOB_NET" = connect ]; then
		MIGDEV_NET_ADDR=10.77.0.2 MIGDEV_NET_PEER=10.77.0.1
	fi
	modprobe virtio_net || setup_failed "modprobe virtio_net failed"
	netif=
	for i in 1 2 3 4 5 6 7 8 9 10; do
		for d in /sys/class/net/*; do
			[ "$(cat "$d/address" 2>/dev/null)" = 52:54:00:6d:64:0${MIGDEV_NET_ADDR##*.} ] &&
				netif=${d##*/}
		done
		[ -n "$netif" ] && break
		sleep 0.5
	done
	[ -n "$netif" ] || setup_failed "--net: no network interface appeared"
	ip addr add "$MIGDEV_NET_ADDR/24" dev "$netif" && ip link set "$netif" up ||
		setup_failed "--net: cannot configure $netif"
	export MIGDEV_NET_ADDR MIGDEV_NET_PEER
	log "network: $netif $MIGDEV_NET_ADDR, peer $MIGDEV_NET_PEER"
fi

# The spare PCI function (run.sh's usage), for tests of a PCI parent.
export MIGDEV_SPARE_PCI=${MIGDEV_JOB_SPARE:-}

# Another userspace for the script (run.sh --root): the host's directory
# ROOT, made writable by an overlay on tmpfs, with this system's kernel
# file systems, the results share, the repository, the script and the
# module at their own paths, and /lib/modules; the script runs chrooted
# there.  The kernel and its modules were set up above, by this system.
runner=()
if [ -n "${MIGDEV_JOB_ROOT:-}" ]; then
	nr=/run/migdev/root rw=/run/migdev/root-rw
	lower=/run/migdev/host$MIGDEV_JOB_ROOT
	[ -x "$lower/bin/bash" ] || setup_failed "--root: no $MIGDEV_JOB_ROOT/bin/bash"
	[ -d /sys/module/overlay ] || modprobe overlay ||
		setup_failed "--root: modprobe overlay failed"
	mkdir -p "$nr" "$rw/upper" "$rw/work"
	mount -t overlay overlay -o "lowerdir=$lower,upperdir=$rw/upper,workdir=$rw/work" "$nr" ||
		setup_failed "--root: cannot mount an overlay of $MIGDEV_JOB_ROOT"
	if ! { mount -t proc proc "$nr/proc" && mount -t sysfs sysfs "$nr/sys" &&
	       mount -t debugfs debugfs "$nr/sys/kernel/debug" &&
	       mount --rbind /dev "$nr/dev" &&
	       mount -t tmpfs -o mode=755 tmpfs "$nr/run"; }; then
		setup_failed "--root: cannot mount /proc, /sys, /dev and /run there"
	fi
	binds=("$RESULTS" /lib/modules /run/migdev/host "$MIGDEV_ROOT" "$script_dir")
	[ -z "${MIGDEV_JOB_MODULE:-}" ] || binds+=("$MIGDEV_JOB_MODULE")
	for path in "${binds[@]}"; do
		[ -e "$nr$path" ] || is_mounted "$nr$path" || {
			if [ -d "$path" ]; then mkdir -p "$nr$path"; else mkdir -p "$nr${path%/*}" && : >"$nr$path"; fi
		}
		is_mounted "$nr$path" || mount --rbind "$path" "$nr$path" ||
			setup_failed "--root: cannot bind $path there"
	done
	runner=(chroot "$nr" /usr/bin/env -C "$MIGDEV_ROOT")
	# shellcheck source=/dev/null
	log "userspace: $MIGDEV_JOB_ROOT ($(. "$nr/etc/os-release" && echo "$PRETTY_NAME"))"
fi

cd "$MIGDEV_ROOT" || setup_failed "cannot cd to $MIGDEV_ROOT"
log "running $script ${MIGDEV_JOB_ARGS[*]} (up $(up_s) s)"
MIGDEV_RESULTS=$RESULTS MIGDEV_IN_VM=1 \
	"${runner[@]}" bash "$script" "${MIGDEV_JOB_ARGS[@]}" </dev/null
rc=$?
log "$script exited with $rc (up $(up_s) s)"

# Leaks: kmemleak reports an object only once it is 5 s old, hence a
# second scan after a pause.  The host fails the run on any report.
if [ -e $kmemleak ] && [ ! -e "$RESULTS/kmemleak-error" ]; then
	if echo scan >$kmemleak && sleep 5 && echo scan >$kmemleak &&
		cat $kmemleak >"$RESULTS/kmemleak.txt"; then
		log "kmemleak: scanned at up $(up_s) s: $(grep -c '^unreferenced object' "$RESULTS/kmemleak.txt") leaked objects"
	else
		echo "the scan at the end failed" >"$RESULTS/kmemleak-error"
	fi
fi
[ -r /proc/lockdep_stats ] && cat /proc/lockdep_stats >"$RESULTS/lockdep_stats"

echo "$rc" >"$RESULTS/rc"
dmesg >"$RESULTS/dmesg.txt" 2>&1
poweroff_now
