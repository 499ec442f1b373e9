#!/bin/busybox sh
# /init of the hardware-in-the-loop guest (shared qemu-guest.md "Guest design that works").
# Built into an uncompressed initramfs by scripts/guest/initramfs.mjs; changing this file changes the
# cache key, so the next setup rebuilds the image.
#
# Kernel command line it reads:
#   ddk.bind=VVVV:DDDD,…   PCI vendor:device IDs on the root bus to bind to vfio-pci (driver_override + drivers_probe)
#   ddk.ports=SS,…         pcie.0 slots (hex) of root ports whose device is bound to vfio-pci too (--device)
#   ddk.tmp=1              mount a tmpfs over the host's /tmp (the host script leaves it off when the
#                          project itself lives under /tmp)
#   module.param=value     forwarded to `insmod module` (busybox insmod ignores the command line)
# Progress markers on the console ("@@ddk:<phase>") are turned into progress lines by the host runner.
/bin/busybox mkdir -p /bin /proc /sys /dev /host /results
/bin/busybox --install -s /bin
export PATH=/bin

mount -t devtmpfs dev /dev
# The kernel could not open /dev/console before devtmpfs was mounted (no mknod in the image).
exec 0</dev/console 1>/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sys /sys
echo "@@ddk:modules"

CMDLINE=$(cat /proc/cmdline)

# Parameters given as <module>.<param>=<value> on the command line, for one module.
# The kernel treats '-' and '_' in module names alike: so does this.
module_params() {
  params=""
  for word in $CMDLINE; do
    case "$word" in
      *.*=*) ;;
      *) continue ;;
    esac
    prefix=${word%%.*}
    [ "$(echo "$prefix" | tr - _)" = "$1" ] && params="$params ${word#*.}"
  done
  echo "$params"
}

# /modules.order: one module file name per line, in dependency order (modprobe --show-depends).
while read -r file; do
  [ -n "$file" ] || continue
  name=${file%.ko}
  name=$(echo "$name" | tr - _)
  # shellcheck disable=SC2046
  insmod "/modules/$file" $(module_params "$name") || echo "@@ddk:warn insmod $file failed"
done < /modules.order

ddk_arg() {
  for word in $CMDLINE; do
    case "$word" in
      "ddk.$1="*) echo "${word#ddk."$1"=}"; return ;;
    esac
  done
}

mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 results /results || {
  echo "@@ddk:fail cannot mount the results share"; poweroff -f; }
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=524288 hostroot /host || {
  echo "@@ddk:fail cannot mount the host root"; poweroff -f; }

# The host's /proc, /sys and /dev come along with / over 9p: mount the guest's own over them.
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
mkdir -p /host/dev/shm /host/dev/pts
mount -t tmpfs -o mode=1777 shm /host/dev/shm
mount -t devpts devpts /host/dev/pts
mount -t tmpfs -o mode=755 run /host/run
[ "$(ddk_arg tmp)" = "1" ] && mount -t tmpfs -o mode=1777 tmp /host/tmp
mkdir -p /host/run/ddk
mount --bind /results /host/run/ddk

# Bind the requested devices to vfio-pci; record "<vendor:device> <bdf> <group> <class> <port>" per
# device (<port>: the root-port slot of an extra device, - for edu/nvme).
bind_vfio() {
  dev=$1
  vendor=$(cat "$dev/vendor"); device=$(cat "$dev/device"); class=$(cat "$dev/class")
  id="${vendor#0x}:${device#0x}"
  bdf=${dev##*/}
  [ -e "$dev/driver" ] && echo "$bdf" > "$dev/driver/unbind"
  echo vfio-pci > "$dev/driver_override"
  echo "$bdf" > /sys/bus/pci/drivers_probe
  group=$(readlink "$dev/iommu_group"); group=${group##*/}
  if [ -e "/dev/vfio/$group" ]; then
    echo "$id $bdf $group ${class#0x} $2" >> /results/devices
  else
    echo "@@ddk:warn $bdf ($id) did not bind to vfio-pci (iommu group '${group}')"
  fi
}
: > /results/devices
for want in $(ddk_arg bind | tr , ' '); do
  found=""
  # Only devices on the root bus: extra devices (behind root ports) are bound below, by port.
  for dev in /sys/bus/pci/devices/0000:00:*; do
    v=$(cat "$dev/vendor"); d=$(cat "$dev/device")
    [ "${v#0x}:${d#0x}" = "$want" ] || continue
    bind_vfio "$dev" -
    found=1
  done
  [ -n "$found" ] || echo "@@ddk:warn no PCI device $want in the guest"
done
# Extra devices (--device): the device behind each pcie-root-port at pcie.0 slot ddk.ports lists
# (scripts/guest/qemu.mjs puts the ports there, so the guest's bus numbering does not matter).
for slot in $(ddk_arg ports | tr , ' '); do
  found=""
  for dev in /sys/bus/pci/devices/0000:00:"$slot".0/0000:*; do
    [ -e "$dev/vendor" ] || continue
    bind_vfio "$dev" "$slot"
    found=1
  done
  [ -n "$found" ] || echo "@@ddk:warn no PCI device behind the root port at 00:$slot.0"
done

echo "@@ddk:running"
ulimit -l unlimited
# cttyhack gives the command the console as its controlling terminal (needed for an interactive shell).
# In a subshell: busybox setsid forks (and returns at once) when called by a process-group leader.
(exec setsid cttyhack chroot /host /bin/sh /run/ddk/command.sh)
echo $? > /results/status
sync
echo "@@ddk:done $(cat /results/status)"
umount /host/run/ddk /results 2>/dev/null
poweroff -f
