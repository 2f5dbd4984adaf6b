#!/usr/bin/env bash
# Prints the droplet's ED25519 SSH host public key, "ssh-ed25519 AAAA...", for known_hosts.
set -euo pipefail
key_file=/etc/ssh/ssh_host_ed25519_key.pub
if [ ! -s "$key_file" ]; then
  echo "the droplet has no ${key_file}" >&2
  exit 1
fi
cut -d ' ' -f 1,2 "$key_file"
