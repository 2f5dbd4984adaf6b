#!/usr/bin/env bash
# Waits until cloud-init has finished preparing the droplet (user, packages, swap, unit).
# Runs as root over SSH right after the droplet accepts connections.
set -euo pipefail

if ! command -v cloud-init >/dev/null 2>&1; then
  echo "cloud-init is not installed on this image; jupyterlab-droplet needs an Ubuntu or Debian cloud image" >&2
  exit 1
fi

started=$(date +%s)
status=0
cloud-init status --wait >/dev/null || status=$?
waited=$(($(date +%s) - started))

case "$status" in
  0)
    echo "cloud-init finished (waited ${waited}s)"
    ;;
  2)
    # Done, with recoverable errors (for example deprecated keys): the machine is usable.
    echo "cloud-init finished with recoverable errors (waited ${waited}s):"
    cloud-init status --long || true
    ;;
  *)
    echo "cloud-init failed (exit ${status}) after ${waited}s:" >&2
    cloud-init status --long >&2 || true
    echo "--- last lines of /var/log/cloud-init-output.log ---" >&2
    tail -n 40 /var/log/cloud-init-output.log >&2 || true
    exit 1
    ;;
esac

if ! id "${JLD_USER:?}" >/dev/null 2>&1; then
  echo "cloud-init finished but the user ${JLD_USER} does not exist: the user-data was not applied" >&2
  exit 1
fi
