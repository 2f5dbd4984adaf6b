#!/usr/bin/env bash
# Part of the install steps' scripts (setup-steps.ts): what a droplet installs is kept on the data
# volume, so that the next droplet (a resume, a replacement) restores it in seconds instead of
# installing it again. Entries are named by what they were built from and for (platform_key), so
# a different image, Python, JupyterLab version or package list never restores a stale one.
#
# The cache is the volume's .jupyterlab-droplet/cache, root-only. The jupyter user owns the
# volume's top directory (its notebooks), so it could rename any ordinary directory there and put
# one of its own in its place: .jupyterlab-droplet is made immutable (chattr +i), which no one but
# root can undo, so it can be neither entered, moved nor replaced. The steps reach the volume
# through a mount of their own in a root-only directory, never through the jupyter user's home.

# The cache directory open_volume_cache found, or empty: then nothing is restored or kept.
volume_cache=""
volume_cache_mount=""

# Mounts the volume DEVICE (none: no volume, no cache) at a root-only place of STEP's own and
# sets volume_cache. On any doubt it says why in a warning and leaves volume_cache empty: the
# step then installs as if there were no cache. close_volume_cache undoes the mount.
# Usage: open_volume_cache STEP [DEVICE]
open_volume_cache() {
  local step=${1:?} device=${2:-} top
  volume_cache=""
  if [ -z "$device" ]; then
    return 0
  fi
  if [ ! -b "$device" ]; then
    echo "warning: no volume at ${device}: installing without the volume's cache" >&2
    return 0
  fi
  install -d -o root -g root -m 0700 "${JLD_SETUP_LOCK_DIR:?}"
  volume_cache_mount=${JLD_SETUP_LOCK_DIR}/volume-${step}
  install -d -o root -g root -m 0700 "$volume_cache_mount"
  # A run cut short may have left its mount behind.
  if mountpoint --quiet "$volume_cache_mount"; then
    umount "$volume_cache_mount"
  fi
  if ! mount -o nosuid,nodev,noexec "$device" "$volume_cache_mount"; then
    echo "warning: ${device} could not be mounted for its cache: installing without it" >&2
    volume_cache_mount=""
    return 0
  fi
  top=${volume_cache_mount}/.jupyterlab-droplet
  (
    # The JupyterLab and kernel steps run side by side: one of them makes the directory.
    flock 8
    if [ ! -e "$top" ] && [ ! -L "$top" ]; then
      mkdir -m 0700 "$top"
    fi
    if root_only_directory "$top" && [ ! -d "${top}/cache" ]; then
      chattr -i "$top"
      mkdir -m 0700 "${top}/cache"
    fi
    if root_only_directory "$top"; then
      chattr +i "$top"
    fi
  ) 8>"${JLD_SETUP_LOCK_DIR}/volume-cache.lock" || true
  if ! root_only_directory "$top" || ! lsattr -d "$top" | cut -d ' ' -f 1 | grep -q i || ! root_only_directory "${top}/cache"; then
    echo "warning: the volume's .jupyterlab-droplet is not the setup's own (root's, 0700, immutable): installing without its cache" >&2
    return 0
  fi
  volume_cache=${top}/cache
}

# Unmounts what open_volume_cache mounted (for a script's EXIT trap).
close_volume_cache() {
  if [ -n "$volume_cache_mount" ] && mountpoint --quiet "$volume_cache_mount"; then
    umount "$volume_cache_mount" || umount --lazy "$volume_cache_mount"
  fi
  volume_cache_mount=""
  volume_cache=""
}

# True for a directory, not a link, owned by root and closed to everyone else.
root_only_directory() {
  [ -d "$1" ] && [ ! -L "$1" ] && [ "$(stat -c '%u %a' "$1")" = "0 700" ]
}

# What an environment built here can run on: the system, its architecture and its Python (every
# environment is a venv of the system's python3). Part of each cache entry's name.
platform_key() {
  {
    grep -E '^(ID|VERSION_ID)=' /etc/os-release
    uname -m
    python3 -c 'import sys; print(sys.version)'
  } | sha256sum | cut -c1-12
}

# Restores the cache entry NAME into TARGET (made anew); as USER when given, who then owns it.
# Succeeds only when the entry exists and holds a complete environment (TARGET/.complete).
# Usage: restore_from_volume_cache NAME TARGET [USER]
restore_from_volume_cache() {
  local name=${1:?} target=${2:?} user=${3:-} archive
  archive=${volume_cache}/${name}.tar
  if [ -z "$volume_cache" ] || [ ! -f "$archive" ]; then
    return 1
  fi
  rm -rf "$target"
  if [ -n "$user" ]; then
    # Unpacked by the user, from a neutral directory: it can write nothing the user could not.
    install -d -o "$user" -g "$(id -g "$user")" -m 0755 "$target"
    (cd / && runuser -u "$user" -- tar -C "$target" -xf -) <"$archive"
  else
    install -d -o root -g root -m 0755 "$target"
    tar -C "$target" --same-owner -xpf - <"$archive"
  fi
  if [ ! -f "${target}/.complete" ]; then
    echo "warning: the volume's ${name} was incomplete: installing anew" >&2
    rm -rf "$target"
    return 1
  fi
}

# Prints the name of the cache entry of FAMILY (a glob), if there is one.
# Usage: latest_in_volume_cache FAMILY
latest_in_volume_cache() {
  local family=${1:?} entry
  if [ -z "$volume_cache" ]; then
    return 0
  fi
  for entry in "${volume_cache}"/${family}.tar; do
    if [ -f "$entry" ]; then
      basename "$entry" .tar
    fi
  done | tail -n 1
}

# Keeps SOURCE on the volume as the cache entry NAME, read as USER when given (the user's own
# environment: root reads nothing there the user could point elsewhere), and removes the other
# entries of its FAMILY (the same glob), so the volume holds one environment of each kind. Kept
# only while a quarter of the volume stays free for the notebooks.
# Usage: save_to_volume_cache NAME SOURCE FAMILY [USER]
save_to_volume_cache() {
  local name=${1:?} source=${2:?} family=${3:?} user=${4:-} archive size avail total old
  if [ -z "$volume_cache" ]; then
    return 0
  fi
  archive=${volume_cache}/${name}.tar
  if [ ! -f "$archive" ]; then
    size=$(du --summarize --bytes "$source" | cut -f 1)
    avail=$(df --output=avail --block-size=1 "$volume_cache" | tail -n 1)
    total=$(df --output=size --block-size=1 "$volume_cache" | tail -n 1)
    if [ $((avail - size)) -lt $((total / 4)) ]; then
      echo "warning: the volume has too little room to keep ${name} ($((size / 1048576)) MB) for the next droplet; it will install it anew" >&2
      return 0
    fi
    if [ -n "$user" ]; then
      (cd / && runuser -u "$user" -- tar -C "$source" -cf - .) >"${archive}.partial"
    else
      tar -C "$source" -cf - . >"${archive}.partial"
    fi
    mv -T "${archive}.partial" "$archive"
    echo "kept on the volume for the next droplet: ${name} ($((size / 1048576)) MB)"
  fi
  for old in "${volume_cache}"/${family}.tar "${volume_cache}"/${family}.tar.partial; do
    if [ "$old" != "$archive" ] && [ -f "$old" ]; then
      rm -f "$old"
    fi
  done
}
