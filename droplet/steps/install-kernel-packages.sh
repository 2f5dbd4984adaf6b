#!/usr/bin/env bash
# Builds the notebook kernel's environment: ipykernel plus the user's requirements, read from
# stdin (requirements.txt syntax). It is kept apart from JupyterLab's own environment, so a
# user's package can never break the server. A new environment is built beside the current
# one and swapped in only when the install succeeded; on failure the installer's own message
# is printed and the previous packages stay in use.
# With a data volume the environment is also kept on it, and the next droplet restores it from
# there instead of installing it again (lib/volume-cache.sh).
# Usage: install-kernel-packages.sh [VOLUME_DEVICE] <requirements
# If it fails: fix or remove the package the installer names (config pythonPackages or requirementsFile), then `pulumi up`.
set -euo pipefail

user=${JLD_USER:?}
home=${JLD_HOME:?}
root=${JLD_KERNEL_ENV_ROOT:?}
current=${JLD_KERNEL_ENV:?}
installer=${JLD_KERNEL_INSTALLER_ENV:?}
volume_device=${1:-}
# Raise it when this script builds the environment differently: older cache entries then go unused.
recipe=1

# take_setup_lock comes from lib/setup-lock.sh, part of this script as installed.
take_setup_lock kernel

umask 022
requirements=$(mktemp)
# close_volume_cache comes from lib/volume-cache.sh.
trap 'rm -f "$requirements"; close_volume_cache' EXIT
cat >"$requirements"
# The install runs as the user; package names are no secret.
chmod 0644 "$requirements"

digest=$(sha256sum "$requirements" | cut -c1-16)
target="${root}/env-${digest}"
open_volume_cache kernel "$volume_device"
cached="kernel-${digest}-r${recipe}-$(platform_key)"
if [ -f "${target}/.complete" ] && [ "$(readlink -f "$current")" = "$target" ]; then
  echo "the kernel environment is up to date (${digest})"
  save_to_volume_cache "$cached" "$target" 'kernel-*' "$user"
  exit 0
fi

started=$(date +%s)
# Unpacked as the user, whose environment it is (restore_from_volume_cache).
if [ ! -f "${target}/.complete" ] && restore_from_volume_cache "$cached" "$target" "$user"; then
  if (cd / && runuser -u "$user" -- env HOME="$home" "${target}/bin/python" -c 'import ipykernel'); then
    echo "the kernel environment was restored from the volume (${digest})"
  else
    echo "warning: the kernel environment restored from the volume does not import ipykernel: building it anew" >&2
    rm -rf "$target"
  fi
fi
if [ ! -f "${target}/.complete" ]; then
  install -d -m 0755 "$root"
  # uv of its own, so this step installs while JupyterLab's does (install_uv: lib/environment.sh).
  # Built beside and moved in whole: a run cut short leaves no half installer in use.
  uv=${installer}/bin/uv
  if [ ! -x "$uv" ]; then
    rm -rf "${installer}.partial"
    install_uv "${installer}.partial"
    rm -rf "$installer"
    mv -T "${installer}.partial" "$installer"
  fi
  rm -rf "$target"
  install -d -o "$user" -g "$user" -m 0755 "$target"
  # Built as the user, who owns it: `%pip install` from a notebook works in it too.
  # From a neutral directory, with the user's HOME and no config files: root's must not apply.
  cd /
  runuser -u "$user" -- env HOME="$home" python3 -m venv --without-pip "$target"
  if ! runuser -u "$user" -- env HOME="$home" "$uv" pip install --quiet --no-cache --no-config --compile-bytecode \
    --python "${target}/bin/python" pip ipykernel -r "$requirements" 2>"${target}.log"; then
    echo "installing the kernel packages failed; the previous packages stay in use. The installer said:" >&2
    cat "${target}.log" >&2
    rm -rf "$target" "${target}.log"
    exit 1
  fi
  rm -f "${target}.log"
  # The environment is the user's: mark it as the user, so no link planted in it is followed.
  runuser -u "$user" -- touch "${target}/.complete"
fi
save_to_volume_cache "$cached" "$target" 'kernel-*' "$user"

# The default kernel ("python3") runs this environment, through the stable `current` link.
kernel_dir=/usr/local/share/jupyter/kernels/python3
install -d -m 0755 "$kernel_dir"
cat >"${kernel_dir}/kernel.json" <<JSON
{
  "argv": ["${current}/bin/python", "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
  "display_name": "Python 3",
  "language": "python",
  "metadata": {"debugger": true}
}
JSON

# switch_environment comes from lib/environment.sh; the installer is no env-*, and stays.
switch_environment "$current" "$target" "$root" 'env-*'
echo "the kernel environment is ready (${digest}, $(($(date +%s) - started))s)"
