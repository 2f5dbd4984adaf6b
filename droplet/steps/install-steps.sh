#!/usr/bin/env bash
# Installs the setup's step scripts read from stdin, root-owned, where the later steps run them by
# path (through run-step): each is sent once per change, never as a command line. A script's name
# carries the hash of its content, so a step's command changes, and it runs again, only when its
# own script does. Scripts no longer named are removed.
# stdin: one line per file, "<name> <base64 content>"
# Usage: install-steps.sh NAME...
# If it fails: `pulumi up` again retries; nothing of the setup has changed yet.
set -euo pipefail

dir=${JLD_STEPS_DIR:?}
umask 022
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
# read_file_payload comes from lib/file-payload.sh, part of this script as sent.
read_file_payload "$staging" "$@"

install -d -o root -g root -m 0755 "$dir"
for name in "$@"; do
  install -o root -g root -m 0755 "${staging}/${name}" "${dir}/.${name}.new"
  mv -f "${dir}/.${name}.new" "${dir}/${name}"
done
for installed in "$dir"/*; do
  keep=no
  for name in "$@"; do
    if [ "$installed" = "${dir}/${name}" ]; then
      keep=yes
    fi
  done
  if [ "$keep" = no ]; then
    rm -f "$installed"
  fi
done
echo "the setup's $# scripts are in ${dir}"
