#!/usr/bin/env bash
# Builds the "local droplet" test image: Debian 13 (trixie) made with debootstrap,
# with cloud-init set up like DigitalOcean's images (root logs in with the
# datasource's SSH keys, NoCloud datasource), plus this machine's CA certificates.
#
# The image lives outside the repository, in
#   ${JUPYTERLAB_DROPLET_CACHE:-$HOME/.cache/jupyterlab-droplet}/images/debian13-<recipe hash>/
# holding vmlinuz, initrd.img and two bare ext4 root filesystems (no partition table)
# made from the same debootstrap tree:
#   disk.raw             OpenSSH as Debian ships it (ssh.service enabled): stands in for
#                        DigitalOcean's debian-13-x64.
#   disk-ssh-socket.raw  OpenSSH socket-activated the way Ubuntu 24.04 ships it: ssh.socket
#                        enabled, ssh.service disabled (so its sshd.service alias is gone),
#                        so `systemctl reload ssh` fails ("ssh.service is not active") until
#                        a first connection has started ssh.service: stands in for
#                        DigitalOcean's ubuntu-24-04-x64, whose SSH setup code must cope with it.
# It is rebuilt only when the recipe changes (this script's content, test/vm/image-files/,
# the host's CA certs); where the checkout lives does not matter.
# Progress goes to stderr; the LAST line on stdout is the image directory.
#
# Environment:
#   JUPYTERLAB_DROPLET_CACHE  cache root (default ~/.cache/jupyterlab-droplet)
#   DEBIAN_MIRROR             mirror URL (default: the Debian archive in this machine's apt
#                             sources, whatever release they are for)
#   IMAGE_SIZE                size of the root filesystem (default 10G)
set -euo pipefail

start_s=$(date +%s)
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
files_dir="$script_dir/image-files"
suite=trixie
image_size=${IMAGE_SIZE:-10G}
# ifupdown brings eth0 up with DHCP from what cloud-init writes to /etc/network/interfaces.d/;
# its DHCP client on trixie is dhcpcd (ISC's dhclient is end-of-life; cloud-init depends on
# dhcpcd-base anyway). python3-cffi-backend: debootstrap does not resolve the virtual
# python3-cffi-backend-api-* that python3-cryptography (pulled in by cloud-init) depends on.
packages=(
  systemd-sysv linux-image-cloud-amd64 cloud-init openssh-server python3 python3-venv
  sudo curl ca-certificates ifupdown dhcpcd-base iproute2 locales
  python3-cffi-backend e2fsprogs xfsprogs udev dbus kmod netbase procps libpam-systemd
)

log() { printf 'build-image: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need() { # need COMMAND DEBIAN-PACKAGE
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found: install the Debian package '$2' (apt-get install $2)"
}

host_ca_files() {
  # The CA certificates this machine added to its trust store; if there are none,
  # the whole bundle.
  local found=0 f
  if [[ -d /usr/local/share/ca-certificates ]]; then
    while IFS= read -r -d '' f; do
      printf '%s\n' "$f"; found=1
    done < <(find /usr/local/share/ca-certificates -type f -name '*.crt' -print0 | sort -z)
  fi
  if [[ $found -eq 0 && -f /etc/ssl/certs/ca-certificates.crt ]]; then
    printf '%s\n' /etc/ssl/certs/ca-certificates.crt
  fi
}

recipe_hash() {
  # Content only (and image-files/ paths relative to it): the same recipe hashes the same
  # wherever the checkout is.
  {
    printf 'size=%s suite=%s packages=%s\n' "$image_size" "$suite" "${packages[*]}"
    sha256sum <"$script_dir/build-image.sh"
    (cd "$files_dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    local f
    while IFS= read -r f; do sha256sum <"$f"; done < <(host_ca_files)
  } | sha256sum | cut -c1-16
}

debian_suite() { # debian_suite SUITE: true for a Debian release (not -security, not Ubuntu's)
  local base=${1%%-*}
  [[ "$1" != *-security && -f "/usr/share/debootstrap/scripts/$base" ]] &&
    grep -q debian-common "/usr/share/debootstrap/scripts/$base"
}

apt_mirror() {
  # The Debian archive this machine's apt uses, for whichever release (the host may be older
  # than $suite): the first "deb" source, in apt's order, whose suite is a Debian release
  # and not -security. DEBIAN_MIRROR overrides it.
  if [[ -n "${DEBIAN_MIRROR:-}" ]]; then printf '%s\n' "$DEBIAN_MIRROR"; return; fi
  local f uri suites s
  shopt -s nullglob
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*; do
    [[ -f "$f" && ( "$f" == *.list || "$f" == *.sources ) ]] || continue
    # One "URI SUITE..." line per deb source.
    while read -r uri suites; do
      for s in $suites; do
        if debian_suite "$s"; then shopt -u nullglob; printf '%s\n' "$uri"; return; fi
      done
    done < <(
      if [[ "$f" == *.sources ]]; then
        awk 'BEGIN { RS = ""; FS = "\n" }
          {
            uris = ""; suites = ""; deb = 0
            for (i = 1; i <= NF; i++) {
              if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
              if ($i ~ /^Suites:/) { suites = $i; sub(/^Suites:[ \t]*/, "", suites) }
              if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) deb = 1
              if ($i ~ /^Enabled:[ \t]*no/) deb = 0
            }
            if (deb && uris != "") { split(uris, u, /[ \t]+/); print u[1], suites }
          }' "$f"
      else
        # deb [options] URI SUITE COMPONENT...
        awk '$1 == "deb" {
            i = 2
            if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
            if (i < NF) print $i, $(i + 1)
          }' "$f"
      fi
    )
  done
  shopt -u nullglob
  die "no Debian archive found in /etc/apt's sources; set DEBIAN_MIRROR"
}

need sha256sum coreutils
need debootstrap debootstrap
need mkfs.ext4 e2fsprogs
need flock util-linux
[[ $(id -u) -eq 0 ]] || die "debootstrap needs root: run as root"

cache_root=${JUPYTERLAB_DROPLET_CACHE:-$HOME/.cache/jupyterlab-droplet}
images_dir="$cache_root/images"
hash=$(recipe_hash)
image_dir="$images_dir/debian13-$hash"
mkdir -p "$images_dir" "$cache_root/debootstrap-debs"

exec 9>"$images_dir/.lock"
flock 9

if [[ -f "$image_dir/disk.raw" && -f "$image_dir/disk-ssh-socket.raw" && -f "$image_dir/vmlinuz" && -f "$image_dir/initrd.img" && -f "$image_dir/.complete" ]]; then
  log "cached image $image_dir (built $(cat "$image_dir/.complete"))"
  log "wall time $(( $(date +%s) - start_s ))s (cached)"
  printf '%s\n' "$image_dir"
  exit 0
fi

mirror=$(apt_mirror)
log "building $image_dir from Debian $suite ($mirror)"
work=$(mktemp -d "$images_dir/.build-$hash.XXXXXX")
cleanup() {
  local rc=$?
  local m
  for m in dev/pts dev proc sys; do
    mountpoint -q "$work/rootfs/$m" 2>/dev/null && umount -l "$work/rootfs/$m"
  done
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
rootfs="$work/rootfs"

include=$(IFS=,; printf '%s' "${packages[*]}")
log "debootstrap ($(date -u +%H:%M:%S))"
debootstrap --include="$include" \
  --cache-dir="$cache_root/debootstrap-debs" \
  "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 40 "$work/debootstrap.log" >&2
  die "debootstrap failed"
}
log "debootstrap done after $(( $(date +%s) - start_s ))s"

# Files of the test image (cloud-init config, fstab, trust settings).
cp -a "$files_dir/." "$rootfs/"
chown -R root:root "$rootfs/etc/cloud/cloud.cfg.d" "$rootfs/etc/uv" "$rootfs/etc/systemd/system.conf.d"

# This machine's CA certificates, trusted inside the image.
mkdir -p "$rootfs/usr/local/share/ca-certificates/host"
n=0
while IFS= read -r f; do
  n=$((n + 1))
  cp "$f" "$rootfs/usr/local/share/ca-certificates/host/host-$n-$(basename "${f%.crt}").crt"
done < <(host_ca_files)
log "trusting $n CA file(s) from this machine"

mount --bind /dev "$rootfs/dev"
mount -t devpts devpts "$rootfs/dev/pts"
mount -t proc proc "$rootfs/proc"
mount -t sysfs sysfs "$rootfs/sys"
chroot "$rootfs" /usr/sbin/update-ca-certificates >&2
echo "en_US.UTF-8 UTF-8" >"$rootfs/etc/locale.gen"
chroot "$rootfs" /usr/sbin/locale-gen >&2
echo "LANG=en_US.UTF-8" >"$rootfs/etc/default/locale"
echo "localhost" >"$rootfs/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
# No password for root (locked), like a fresh droplet created with SSH keys.
chroot "$rootfs" /usr/bin/passwd -l root >&2
chroot "$rootfs" /usr/bin/apt-get clean
umount "$rootfs/sys" "$rootfs/proc" "$rootfs/dev/pts" "$rootfs/dev"

# A fresh machine-id on every droplet's first boot.
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
rm -rf "$rootfs/var/lib/apt/lists/"* "$rootfs/var/lib/cloud"

out="$work/out"
mkdir -p "$out"
kernel=$(find "$rootfs/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)
initrd=$(find "$rootfs/boot" -maxdepth 1 -name 'initrd.img-*' | sort -V | tail -n 1)
[[ -n "$kernel" && -n "$initrd" ]] || die "no kernel/initrd in the root filesystem"
cp "$kernel" "$out/vmlinuz"
cp "$initrd" "$out/initrd.img"
log "mkfs.ext4 -d disk.raw ($image_size)"
mkfs.ext4 -q -L droplet-root -d "$rootfs" "$out/disk.raw" "$image_size" >&2

# The Ubuntu 24.04 variant: the same tree with OpenSSH socket-activated. Disabling
# ssh.service also removes its sshd.service alias (Ubuntu 24.04 has no sshd.service);
# enabling ssh.socket links it into sockets.target.wants. Debian 13's ssh.socket is already
# Ubuntu's kind (Accept=no: the first connection starts ssh.service, which then serves all);
# unlike Ubuntu's it has no RequiredBy=ssh.service and no sshd-socket-generator.
mount -t proc proc "$rootfs/proc"
chroot "$rootfs" /usr/bin/systemctl disable ssh.service >&2
chroot "$rootfs" /usr/bin/systemctl enable ssh.socket >&2
umount "$rootfs/proc"
[[ ! -e "$rootfs/etc/systemd/system/sshd.service" && ! -e "$rootfs/etc/systemd/system/multi-user.target.wants/ssh.service" &&
  -L "$rootfs/etc/systemd/system/sockets.target.wants/ssh.socket" ]] || die "ssh.socket/ssh.service links not as expected"
log "mkfs.ext4 -d disk-ssh-socket.raw ($image_size)"
mkfs.ext4 -q -L droplet-root -d "$rootfs" "$out/disk-ssh-socket.raw" "$image_size" >&2
date -u +%Y-%m-%dT%H:%M:%SZ >"$out/.complete"

rm -rf "$image_dir"
mv "$out" "$image_dir"
log "built $image_dir"
# Images of older recipes are not used any more (running droplets keep theirs open).
for old in "$images_dir"/debian12-* "$images_dir"/debian13-*; do
  if [[ -e "$old" && "$old" != "$image_dir" ]]; then log "removing old image $old"; rm -rf "$old"; fi
done
log "wall time $(( $(date +%s) - start_s ))s (built)"
printf '%s\n' "$image_dir"
