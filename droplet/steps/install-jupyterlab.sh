#!/usr/bin/env bash
# Installs JupyterLab at one exact version into an environment of its own, owned by root so
# nothing run from a notebook can change it. The new environment is built beside the old one
# and swapped in only once complete: a failed install leaves the running server untouched.
# With a data volume the environment is also kept on it, and the next droplet restores it from
# there instead of installing it again (lib/volume-cache.sh).
# Usage: install-jupyterlab.sh VERSION [VOLUME_DEVICE]
# If it fails: the installer's message is above (often PyPI out of reach, or no such version); `pulumi up` again retries.
set -euo pipefail

version=${1:?usage: install-jupyterlab.sh VERSION [VOLUME_DEVICE]}
volume_device=${2:-}
root=${JLD_SERVER_ENV_ROOT:?}
current=${JLD_SERVER_ENV:?}
target="${root}/jupyterlab-${version}"
# Raise it when this script builds the environment differently: older cache entries then go unused.
recipe=1

# take_setup_lock comes from lib/setup-lock.sh, part of this script as installed.
take_setup_lock jupyterlab
# open_volume_cache, platform_key and the rest come from lib/volume-cache.sh.
trap close_volume_cache EXIT
open_volume_cache jupyterlab "$volume_device"
cached="jupyterlab-${version}-r${recipe}-$(platform_key)"

if [ -f "${target}/.complete" ] && [ "$(readlink -f "$current")" = "$target" ]; then
  echo "JupyterLab ${version} is already installed"
  save_to_volume_cache "$cached" "$target" 'jupyterlab-*'
  exit 0
fi

started=$(date +%s)
if [ ! -f "${target}/.complete" ] && restore_from_volume_cache "$cached" "$target"; then
  # The environment's Python runs on this droplet (its link to the system's Python resolves, its
  # packages load). `jupyter-lab --version` says no more and takes many times as long.
  if "${target}/bin/python" -c 'import jupyter_server' >/dev/null; then
    echo "JupyterLab ${version} restored from the volume"
  else
    echo "warning: JupyterLab ${version} restored from the volume does not start: installing it anew" >&2
    rm -rf "$target"
  fi
fi
if [ ! -f "${target}/.complete" ]; then
  rm -rf "$target"
  install -d -m 0755 "$root"
  # install_uv comes from lib/environment.sh: JupyterLab's ~90 packages go in with uv.
  install_uv "$target"
  "${target}/bin/uv" pip install --quiet --no-cache --no-config --compile-bytecode --python "${target}/bin/python" "jupyterlab==${version}"
  # Notebooks run in the kernel environment (install-kernel-packages.sh), never in this one:
  # drop the kernel spec ipykernel installs here, which would shadow that one.
  rm -rf "${target}/share/jupyter/kernels/python3"
  touch "${target}/.complete"
fi
save_to_volume_cache "$cached" "$target" 'jupyterlab-*'

# switch_environment comes from lib/environment.sh.
switch_environment "$current" "$target" "$root" 'jupyterlab-*'
echo "JupyterLab ${version} installed in $(($(date +%s) - started))s"
