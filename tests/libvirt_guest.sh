#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# One of the two test VMs of tests/libvirt_test.sh, each a libvirt host:
# started by tests/vm/run.sh --net (MIGDEV_NET_ADDR, MIGDEV_NET_PEER) and
# --root (Debian 12 with libvirt 11.3 and QEMU 10 from bookworm-backports,
# scripts/libvirt-root.sh), so the root is a writable overlay.
#
#   libvirt_guest.sh b   host B: libvirtd, the instance, and
#                        tests/qemu/hosts.py's agent on the link (for the
#                        domain's serial log and the module) until told
#                        to stop
#   libvirt_guest.sh a   host A: libvirtd, the instance, and
#                        tests/qemu/virsh_pingpong.py, which drives both
#                        libvirts with virsh.  KTAP, also kept in
#                        $MIGDEV_RESULTS/libvirt.ktap.
#
# libvirt as Documentation/migdev.rst ("With libvirt") sets it up on a
# host, with what a throw-away VM without systemd, udev or cgroups also
# needs (qemu.conf: no cgroups, namespaces or security driver).  Both
# hosts have the same hostname: libvirt tells them apart by host_uuid.
set -u

ROOT=${MIGDEV_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
RES=${MIGDEV_RESULTS:-/tmp}
PORT=7070
# The instance (the same UUID on both hosts, as the domain names it) and
# the host UUIDs.
MDEV=6d696764-6576-4000-8000-6d6465763031
# The instances on the PCI parent that libvirt makes: the domain's (on
# both hosts), and a transient one.
PCI_MDEV=6d696764-6576-4000-8000-706369303031
PCI_MDEV_TRANSIENT=6d696764-6576-4000-8000-706369303032
role=${1:-}
case $role in
a) HOST_UUID=6d696764-6576-4000-8000-686f73740a0a ;;
b) HOST_UUID=6d696764-6576-4000-8000-686f73740b0b ;;
*) echo "usage: libvirt_guest.sh a|b" >&2; exit 2 ;;
esac
: "${MIGDEV_NET_ADDR:?run by tests/vm/run.sh --net}" "${MIGDEV_NET_PEER:?}"

die() { echo "libvirt_guest($role): $*" >&2; exit 1; }

# The serial log of the domain lives in the agent's directory on both
# hosts (the same path: it moves with the domain).
mkdir -p "$RES/agent/libvirt" "$RES/libvirtd/qemu" /var/log/libvirt/qemu
# QEMU's log of the domain, kept with the results.
mount --bind "$RES/libvirtd/qemu" /var/log/libvirt/qemu
hostname "migdev-$role" 2>/dev/null

cat >/etc/libvirt/libvirtd.conf <<EOC
listen_tls = 0
listen_tcp = 1
auth_tcp = "none"
auth_unix_ro = "none"
auth_unix_rw = "none"
host_uuid = "$HOST_UUID"
log_outputs = "3:file:$RES/libvirtd/libvirtd.log"
EOC
cat >/etc/libvirt/qemu.conf <<EOC
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
EOC

echo "$MDEV" >/sys/class/mdev_bus/migdev0/mdev_supported_types/migdev-small/create ||
	die "cannot create instance $MDEV"
# The spare function, given to migdev: a PCI parent, which libvirt's
# node-device API manages (nodedev-define, -start, -create).  udevd tells
# libvirt of the instances libvirt makes through mdevctl.
# shellcheck source=tests/lib/pci_parent.sh
. "$ROOT/tests/lib/pci_parent.sh"
pci_parent_bind "$MIGDEV_SPARE_PCI" || die "cannot bind $MIGDEV_SPARE_PCI to migdev"
/usr/lib/systemd/systemd-udevd --daemon --resolve-names=never ||
	die "systemd-udevd did not start"
libvirtd --listen >"$RES/libvirtd/stdout.log" 2>&1 &
lpid=$!
for _ in $(seq 100); do
	virsh -c qemu:///system version >/dev/null 2>&1 && break
	sleep 0.2
done
virsh -c qemu:///system version >/dev/null 2>&1 ||
	die "libvirtd did not start: $(tail -n 5 "$RES/libvirtd/"*.log)"
echo "# host $role: $(virsh -c qemu:///system version | grep -i 'running hypervisor\|library' | tr -s ' ' | tr '\n' ';')"

rc=0
if [ "$role" = b ]; then
	timeout 1800 python3 "$ROOT/tests/qemu/hosts.py" \
		--serve "$MIGDEV_NET_ADDR:$PORT" --workdir "$RES/agent" || rc=$?
else
	python3 "$ROOT/tests/qemu/virsh_pingpong.py" \
		--agent "$MIGDEV_NET_PEER:$PORT" --local-addr "$MIGDEV_NET_ADDR" \
		--peer-addr "$MIGDEV_NET_PEER" --mdev "$MDEV" \
		--pci-parent "$MIGDEV_SPARE_PCI" --pci-mdev "$PCI_MDEV" \
		--pci-mdev-transient "$PCI_MDEV_TRANSIENT" \
		--workdir "$RES/agent/libvirt" | tee "$RES/libvirt.ktap"
	rc=${PIPESTATUS[0]}
fi
virsh -c qemu:///system list --all --name | while read -r d; do
	[ -n "$d" ] && virsh -c qemu:///system destroy "$d" >/dev/null 2>&1
done
kill "$lpid" 2>/dev/null
wait "$lpid"
# (udevadm control --exit does nothing in a chroot.)
pkill -x systemd-udevd
echo 1 >"/sys/bus/mdev/devices/$MDEV/remove" 2>/dev/null
pci_parent_unbind "$MIGDEV_SPARE_PCI" || { echo "# cannot unbind $MIGDEV_SPARE_PCI"; rc=1; }
exit "$rc"
