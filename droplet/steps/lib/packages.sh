#!/usr/bin/env bash
# Sent ahead of the steps that install Debian packages of their own (remote-scripts.ts): those
# come with the remote setup, not cloud-init, so the droplet's user-data never changes for them.

# Package lists younger than this are used as they are: cloud-init refreshed them at the
# droplet's first boot (package_update), and refreshing them again costs a minute on a small
# droplet. Older lists are refreshed first; an install that fails on fresh-enough lists (a
# mirror that moved on) refreshes them and tries once more.
package_lists_max_age_minutes=60
package_lists_dir=/var/lib/apt/lists

# Installs the PACKAGEs that are not installed yet (nothing when all are), and says how long it took.
# Usage: install_missing_packages PACKAGE...
install_missing_packages() {
  local installed started
  installed=$(dpkg-query --show --showformat='${db:Status-Status}\n' "$@" 2>/dev/null | grep -c '^installed$' || true)
  if [ "$installed" -eq "$#" ]; then
    return 0
  fi
  started=$(date +%s)
  if package_lists_are_fresh; then
    if ! apt_get install -y -qq --no-install-recommends "$@" >/dev/null; then
      echo "the package lists were out of date: refreshing them and trying again" >&2
      apt_get update -qq
      apt_get install -y -qq --no-install-recommends "$@" >/dev/null
    fi
  else
    apt_get update -qq
    apt_get install -y -qq --no-install-recommends "$@" >/dev/null
  fi
  echo "installed $* in $(($(date +%s) - started))s"
}

# Whether apt's package lists were refreshed within package_lists_max_age_minutes. The lists
# themselves carry the mirror's dates; their directory changes when apt-get update writes new ones.
package_lists_are_fresh() {
  [ -n "$(find "$package_lists_dir" -maxdepth 0 -mmin "-${package_lists_max_age_minutes}" -print 2>/dev/null)" ]
}

# apt-get, non-interactive, waiting for dpkg's lock: unattended-upgrades may hold it on a new droplet.
apt_get() {
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"
}
