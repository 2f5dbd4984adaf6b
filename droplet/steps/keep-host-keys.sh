#!/usr/bin/env bash
# Gives a new droplet the SSH host keys of the last droplet that had this data volume, or keeps
# this droplet's on the volume when none are kept yet (lib/volume-cache.sh). A resumed or replaced
# server then answers with the key ssh, connect.sh's entry and VS Code already trust (with a
# reserved IP, at the same address too). Runs before the host key is read, which reads the kept
# key; carries no secret to the droplet: the keys never leave it and its volume.
# Usage: keep-host-keys.sh VOLUME_DEVICE
# If it fails: on the droplet, `ls -l /etc/ssh` and `journalctl -u ssh` tell more; `pulumi up` again retries.
set -euo pipefail

device=${1:?usage: keep-host-keys.sh VOLUME_DEVICE}
staging=$(mktemp -d)
# close_volume_cache and the rest come from lib/volume-cache.sh, sent ahead of this script.
trap 'rm -rf "$staging"; close_volume_cache' EXIT
open_volume_cache host-keys "$device"

kept=$(latest_in_volume_cache 'ssh-host-keys-*')
if [ -n "$kept" ] && restore_from_volume_cache "$kept" "${staging}/keys"; then
  if cmp --silent "${staging}/keys/ssh_host_ed25519_key.pub" /etc/ssh/ssh_host_ed25519_key.pub; then
    echo "the SSH host keys are the ones kept on the volume"
    exit 0
  fi
  install -d -m 0700 "${staging}/own"
  cp -p /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub "${staging}/own/"
  for key in "${staging}"/keys/ssh_host_*_key; do
    install -o root -g root -m 0600 "$key" "/etc/ssh/$(basename "$key")"
    install -o root -g root -m 0644 "${key}.pub" "/etc/ssh/$(basename "$key").pub"
  done
  # Keys sshd would refuse would lock everyone out at its next start: keep this droplet's then.
  if ! refusal=$(sshd -t 2>&1); then
    cp -p "${staging}"/own/ssh_host_* /etc/ssh/
    echo "warning: sshd refuses the host keys kept on the volume (${refusal}): this droplet keeps its own" >&2
    exit 0
  fi
  # sshd reads its host keys when it starts. A restart, not a reload: a reload re-executes sshd,
  # which loses the listening socket systemd hands a socket-activated ssh.service (Ubuntu's) and
  # exits. The sessions stay (KillMode=process), this one included.
  systemctl try-restart ssh.service
  echo "the SSH host keys of the last droplet were restored from the volume"
  exit 0
fi

install -d -m 0700 "${staging}/keys"
cp -p /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub "${staging}/keys/"
touch "${staging}/keys/.complete"
save_to_volume_cache "ssh-host-keys-$(sha256sum /etc/ssh/ssh_host_ed25519_key.pub | cut -c1-12)" "${staging}/keys" 'ssh-host-keys-*'
