#!/bin/busybox sh
# The guest's /init: mount the kernel filesystems, load the binding modules,
# run the guest script for the mode the host chose (e2e.mode= on the kernel
# command line), and power off. Output goes to the serial console the host reads.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/hugepages /tmp
mount -t hugetlbfs hugetlbfs /dev/hugepages
echo 16 > /proc/sys/vm/nr_hugepages

MODE=uio
for arg in $(cat /proc/cmdline); do
  case "$arg" in e2e.mode=*) MODE="${arg#e2e.mode=}" ;; esac
done

# Modules in dependency order (written by the host from modinfo: a path and its parameters a line).
while read -r ko params; do
  [ -n "$ko" ] && insmod "$ko" $params || true
done < /modules.order

echo "E2E-BOOTED|mode=$MODE|kernel=$(uname -r)"
cd /pkaccel
PKACCEL_VECTORS=/vectors node dist/test/e2e/guest/guest.js "$MODE"
echo "E2E-EXIT|$?"
sync
poweroff -f
