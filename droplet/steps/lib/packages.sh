#!/usr/bin/env bash
# Sent ahead of the steps that install Debian packages of their own (remote-scripts.ts): those
# come with the remote setup, not cloud-init, so the droplet's user-data never changes for them.

# Installs the PACKAGEs that are not installed yet (nothing when all are), and says how long it took.
# Usage: install_missing_packages PACKAGE...
install_missing_packages() {
  local installed started
  installed=$(dpkg-query --show --showformat='${db:Status-Status}\n' "$@" 2>/dev/null | grep -c '^installed$' || true)
  if [ "$installed" -eq "$#" ]; then
    return 0
  fi
  started=$(date +%s)
  # unattended-upgrades may hold dpkg's lock on a new droplet: wait for it rather than fail.
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null
  echo "installed $* in $(($(date +%s) - started))s"
}
