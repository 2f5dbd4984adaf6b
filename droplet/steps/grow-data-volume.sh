#!/usr/bin/env bash
# Grows the notebooks volume's ext4 filesystem to the size DigitalOcean has grown the volume to
# (a volume resize grows the disk, never the filesystem on it). Online: the volume stays mounted
# and JupyterLab keeps running. Nothing to do when the filesystem already fills the disk.
# Usage: grow-data-volume.sh DEVICE SIZE_GB
# If it fails: on the droplet, `lsblk` and `df -h` show the volume and its filesystem; `pulumi up` again retries.
set -euo pipefail

device=${1:?usage: grow-data-volume.sh DEVICE SIZE_GB}
size_gb=${2:?}
notebook_dir=${JLD_NOTEBOOK_DIR:?}
wanted_bytes=$((size_gb * 1024 * 1024 * 1024))

if ! mountpoint --quiet "$notebook_dir"; then
  echo "the notebooks volume is not mounted at ${notebook_dir}: is it attached? ($(lsblk --noheadings --output NAME,SIZE,MOUNTPOINT "$device" 2>&1 | tr '\n' ' '))" >&2
  exit 1
fi
disk=$(readlink -f "$device")

# The disk may take a moment to show its new size; a SCSI disk can be asked to look again.
rescan=/sys/class/block/$(basename "$disk")/device/rescan
deadline=$(($(date +%s) + 120))
until [ "$(blockdev --getsize64 "$disk")" -ge "$wanted_bytes" ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "${device} is still $(blockdev --getsize64 "$disk") bytes, not the ${size_gb} GB DigitalOcean reports" >&2
    exit 1
  fi
  if [ -w "$rescan" ]; then
    echo 1 >"$rescan"
  fi
  sleep 2
done

if ! output=$(resize2fs "$disk" 2>&1); then
  echo "growing the notebooks filesystem failed:" >&2
  printf '%s\n' "$output" >&2
  exit 1
fi
echo "notebooks volume: $(df --human-readable --output=size,avail "$notebook_dir" | tail -n 1 | awk '{ print $1 " filesystem, " $2 " free" }')"
