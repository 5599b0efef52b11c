#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# migdev through mdevctl 1.2 (Debian 12's), as users manage mdevs: types
# with their descriptions, start/stop of transient devices,
# define/undefine of persistent ones, a start that the parent's capacity
# refuses, per-instance attributes from a JSON file, definitions that
# start by themselves when the module loads (udev runs mdevctl, as on a
# host) and, on a PCI parent, when its function is bound, and the
# --dumpjson of definitions defined again.  KTAP output.
set -u

# shellcheck source=tests/lib/pci_parent.sh
. "$(dirname "$0")/lib/pci_parent.sh"
# shellcheck source=tests/lib/ktap.sh
. "$(dirname "$0")/lib/ktap.sh"
uuid() { cat /proc/sys/kernel/random/uuid; }

t_types() {
	local out t name q mib
	out=$(mdevctl types) || return 1
	for t in small:1024 medium:64 large:16 xlarge:4; do
		grep -A1 "  migdev-${t%%:*}\$" <<<"$out" |
			grep -q "Available instances: ${t##*:}" ||
			{ diag "migdev-${t%%:*} not listed with ${t##*:} available"; return 1; }
	done
	grep -q 'Device API: vfio-pci' <<<"$out" || return 1
	# Each type's description (sysfs description), as mdevctl shows it.
	for t in small:1:4 large:4:256; do
		IFS=: read -r name q mib <<<"$t"
		grep -A4 "  migdev-$name\$" <<<"$out" |
			grep -q "Description: DMA engine with $q queues\{0,1\}, $mib MiB device memory" ||
			{ diag "migdev-$name has no description of $q queue(s), $mib MiB"; return 1; }
	done
}

# The VM's root is read-only: persistent configs go to a tmpfs.
writable_configs() {
	touch /etc/mdevctl.d/.w 2>/dev/null && return 0
	cp -a /etc/mdevctl.d /tmp/mdevctl.d
	mount --bind /tmp/mdevctl.d /etc/mdevctl.d
}

t_start_stop() {
	local u
	u=$(uuid)
	mdevctl start -p migdev0 -t migdev-large -u "$u" || return 1
	mdevctl list | grep -q "^$u migdev0 migdev-large" || return 1
	[ "$(cat /sys/bus/mdev/devices/"$u"/migdev/queues)" = 4 ] || return 1
	[ "$(cat /sys/class/mdev_bus/migdev0/mdev_supported_types/migdev-large/available_instances)" = 15 ] || return 1
	mdevctl stop -u "$u" || return 1
	[ ! -e "/sys/bus/mdev/devices/$u" ] && [ -z "$(mdevctl list)" ]
}

t_start_refused_when_full() {
	local u ret=0 us=()
	for _ in 1 2 3 4; do
		u=$(uuid); us+=("$u")
		mdevctl start -p migdev0 -t migdev-xlarge -u "$u" || ret=1
	done
	u=$(uuid)
	if mdevctl start -p migdev0 -t migdev-xlarge -u "$u" 2>/tmp/mdevctl.err; then
		diag "a fifth xlarge started"; ret=1; mdevctl stop -u "$u"
	else
		diag "refused: $(head -1 /tmp/mdevctl.err)"
	fi
	for u in "${us[@]}"; do mdevctl stop -u "$u" || ret=1; done
	return $ret
}

t_define_start_undefine() {
	local u ret=0
	writable_configs || return 1
	u=$(uuid)
	mdevctl define -p migdev0 -t migdev-medium -u "$u" || return 1
	mdevctl list --defined | grep -q "^$u migdev0 migdev-medium" || ret=1
	mdevctl start -u "$u" || ret=1
	[ -e "/sys/bus/mdev/devices/$u" ] || ret=1
	mdevctl stop -u "$u" || ret=1
	mdevctl undefine -u "$u" || ret=1
	[ -z "$(mdevctl list --defined)" ] || ret=1
	return $ret
}

attr() { cat "/sys/bus/mdev/devices/$1/migdev/$2"; }

# Attributes from --jsonfile: written to the instance's sysfs files, in
# order, when mdevctl starts it; one that the device refuses fails the
# start, and the instance is not left behind.
t_jsonfile_attrs() {
	local u ret=0 j=/tmp/mdevctl-attrs.json
	writable_configs || return 1
	u=$(uuid)
	cat >"$j" <<EOJ
{"mdev_type": "migdev-small", "start": "manual",
 "attrs": [{"migdev/migration_minor": "3"}, {"migdev/migration_precopy": "0"}]}
EOJ
	mdevctl define -p migdev0 -u "$u" --jsonfile "$j" || return 1
	mdevctl start -u "$u" || ret=1
	[ "$(attr "$u" migration_minor)" = 3 ] || { diag "migration_minor $(attr "$u" migration_minor)"; ret=1; }
	[ "$(attr "$u" migration_precopy)" = 0 ] || { diag "migration_precopy $(attr "$u" migration_precopy)"; ret=1; }
	mdevctl stop -u "$u" || ret=1
	mdevctl undefine -u "$u" || ret=1
	# A stream version this module does not speak: refused.
	u=$(uuid)
	sed 's/"3"/"99"/' "$j" >"$j.bad"
	mdevctl define -p migdev0 -u "$u" --jsonfile "$j.bad" || return 1
	if mdevctl start -u "$u" 2>/tmp/mdevctl.err; then
		diag "started with migration_minor 99"; ret=1
	else
		diag "refused: $(head -1 /tmp/mdevctl.err)"
	fi
	[ ! -e "/sys/bus/mdev/devices/$u" ] || { diag "refused instance left behind"; ret=1; }
	mdevctl undefine -u "$u" || ret=1
	[ -z "$(mdevctl list --defined)" ] || ret=1
	return $ret
}

# --dumpjson of the definitions, undefined, and defined again from it:
# the same definitions.
t_dumpjson_round_trip() {
	local u1 u2 ret=0 before after
	writable_configs || return 1
	u1=$(uuid) u2=$(uuid)
	mdevctl define -p migdev0 -t migdev-medium -u "$u1" --auto || return 1
	printf '{"mdev_type": "migdev-small", "start": "manual", "attrs": [{"migdev/migration_minor": "2"}]}' >/tmp/mdevctl-u2.json
	mdevctl define -p migdev0 -u "$u2" --jsonfile /tmp/mdevctl-u2.json || return 1
	before=$(mdevctl list --defined --dumpjson) || return 1
	python3 - "$before" "$u1" "$u2" /tmp/mdevctl-dump <<'EOP' || ret=1
import json, sys
dump, want, out = json.loads(sys.argv[1]), set(sys.argv[2:4]), sys.argv[4]
# [{"migdev0": [{UUID: {...}}, ...]}]
devs = {u: cfg for parent in dump for p, lst in parent.items() for d in lst
        for u, cfg in d.items()}
assert want <= set(devs), f"dump lacks {want - set(devs)}: {dump}"
for u, cfg in devs.items():
    json.dump(cfg, open(f"{out}-{u}.json", "w"))
EOP
	mdevctl undefine -u "$u1" && mdevctl undefine -u "$u2" || ret=1
	[ -z "$(mdevctl list --defined)" ] || ret=1
	for u in "$u1" "$u2"; do
		mdevctl define -p migdev0 -u "$u" --jsonfile "/tmp/mdevctl-dump-$u.json" || ret=1
	done
	after=$(mdevctl list --defined --dumpjson)
	python3 -c 'import json, sys
a, b = (json.loads(x) for x in sys.argv[1:3])
norm = lambda d: sorted((u, json.dumps(c, sort_keys=True)) for p in d for k, l in p.items() for e in l for u, c in e.items())
sys.exit(0 if norm(a) == norm(b) else 1)' "$before" "$after" ||
		{ diag "defined again: $after, before: $before"; ret=1; }
	mdevctl undefine -u "$u1"; mdevctl undefine -u "$u2"
	return $ret
}

# Definitions with start "auto" start when the parent appears: the mdev
# core says so in a uevent (MDEV_STATE=registered), and mdevctl's udev
# rule runs "mdevctl start-parent-mdevs".  Debian 12's mdevctl (1.2.0-3)
# installs /usr/bin/mdevctl but its rule runs /usr/sbin/mdevctl, so on
# Debian nothing starts until a rule of the same name in /etc (here /run,
# the VM's /etc being read-only) runs the right path: the remedy
# Documentation/migdev.rst gives.  udevd runs for this test only; the
# module is loaded again under it.
# udevd, with mdevctl's rule running the mdevctl that is installed.
udevd=
udev_start() {
	local rule=/lib/udev/rules.d/60-mdevctl.rules bin
	for d in /lib/systemd/systemd-udevd /usr/lib/systemd/systemd-udevd; do
		[ -x "$d" ] && udevd=$d && break
	done
	[ -n "$udevd" ] || { diag "no systemd-udevd"; return 1; }
	[ -e "$rule" ] || { diag "no $rule"; return 1; }
	bin=$(command -v mdevctl)
	grep -q "$bin start-parent-mdevs" "$rule" ||
		diag "$rule runs $(grep -o '/[a-z/]*mdevctl start' "$rule" | head -1 | cut -d' ' -f1), not $bin: overridden in /run/udev/rules.d"
	mkdir -p /run/udev/rules.d
	sed "s|/usr/s\{0,1\}bin/mdevctl|$bin|g" "$rule" >/run/udev/rules.d/60-mdevctl.rules
	"$udevd" --daemon --resolve-names=never 2>/tmp/udevd.err ||
		{ diag "udevd: $(cat /tmp/udevd.err)"; return 1; }
}
udev_stop() {
	udevadm control --exit
	rm -f /run/udev/rules.d/60-mdevctl.rules
}

t_auto_start_on_load() {
	local u ua ret=0
	[ -n "${MIGDEV_KO:-}" ] || { diag "no MIGDEV_KO"; return 1; }
	writable_configs || return 1
	u=$(uuid) ua=$(uuid)
	mdevctl define -p migdev0 -t migdev-large -u "$u" --auto || return 1
	printf '{"mdev_type": "migdev-small", "start": "auto", "attrs": [{"migdev/migration_precopy": "0"}]}' >/tmp/mdevctl-auto.json
	mdevctl define -p migdev0 -u "$ua" --jsonfile /tmp/mdevctl-auto.json || ret=1
	[ ! -e "/sys/bus/mdev/devices/$u" ] || { diag "started before the module loaded again"; ret=1; }
	udev_start || return 1
	rmmod migdev && insmod "$MIGDEV_KO" || ret=1
	udevadm settle --timeout=60 || ret=1
	for _ in $(seq 50); do
		[ -e "/sys/bus/mdev/devices/$u" ] && [ -e "/sys/bus/mdev/devices/$ua" ] && break
		sleep 0.2
	done
	udev_stop
	if [ -e "/sys/bus/mdev/devices/$u" ] && [ -e "/sys/bus/mdev/devices/$ua" ]; then
		diag "started on load: $(mdevctl list | tr '\n' ';')"
		[ "$(attr "$u" queues)" = 4 ] || ret=1
		[ "$(attr "$ua" migration_precopy)" = 0 ] || { diag "attrs not applied"; ret=1; }
	else
		diag "not started when migdev loaded: $(mdevctl list | tr '\n' ';')"
		ret=1
	fi
	mdevctl stop -u "$u"; mdevctl stop -u "$ua"
	mdevctl undefine -u "$u" || ret=1
	mdevctl undefine -u "$ua" || ret=1
	return $ret
}

# A PCI parent (the VM's spare function): an "auto" definition on it
# starts when the function is given to migdev, as a vGPU's definitions
# start when its GPU's driver binds; the definition is kept under the
# function's address.
t_auto_start_on_bind() {
	local a=${MIGDEV_SPARE_PCI:-} u ret=0
	[ -n "$a" ] || { diag "no spare PCI function"; return 1; }
	writable_configs || return 1
	[ -z "$(pci_parent_driver "$a")" ] || pci_parent_unbind "$a" || return 1
	u=$(uuid)
	mdevctl define -p "$a" -t migdev-medium -u "$u" --auto || return 1
	[ -e "/etc/mdevctl.d/$a/$u" ] || { diag "no /etc/mdevctl.d/$a/$u"; ret=1; }
	udev_start || return 1
	pci_parent_bind "$a" || ret=1
	udevadm settle --timeout=60 || ret=1
	for _ in $(seq 50); do
		[ -e "/sys/bus/mdev/devices/$u" ] && break
		sleep 0.2
	done
	udev_stop
	if [ -e "/sys/bus/mdev/devices/$u" ]; then
		diag "started on bind: $(mdevctl list | tr '\n' ';')"
		[ "$(attr "$u" queues)" = 2 ] || ret=1
		case $(readlink -f "/sys/bus/mdev/devices/$u") in
		"/sys/devices/pci0000:00/$a/$u") ;;
		*) diag "at $(readlink -f "/sys/bus/mdev/devices/$u")"; ret=1 ;;
		esac
	else
		diag "not started when $a was bound: $(mdevctl list --defined | tr '\n' ';')"
		ret=1
	fi
	mdevctl stop -u "$u"
	mdevctl undefine -u "$u" || ret=1
	pci_parent_unbind "$a" || ret=1
	return $ret
}

if ! command -v mdevctl >/dev/null; then
	echo "1..0 # SKIP mdevctl is not installed"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 0
fi
echo "TAP version 13"
echo "1..8"
check types t_types
check start_stop t_start_stop
check start_refused_when_full t_start_refused_when_full
check define_start_undefine t_define_start_undefine
check jsonfile_attrs t_jsonfile_attrs
check dumpjson_round_trip t_dumpjson_round_trip
check auto_start_on_load t_auto_start_on_load
check auto_start_on_bind t_auto_start_on_bind
ktap_totals
