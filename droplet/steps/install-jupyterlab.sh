#!/usr/bin/env bash
# Installs JupyterLab at one exact version into an environment of its own, owned by root so
# nothing run from a notebook can change it. The new environment is built beside the old one
# and swapped in only once complete: a failed install leaves the running server untouched.
# Usage: install-jupyterlab.sh VERSION
# If it fails: the installer's message is above (often PyPI out of reach, or no such version); `pulumi up` again retries.
set -euo pipefail

version=${1:?usage: install-jupyterlab.sh VERSION}
root=${JLD_SERVER_ENV_ROOT:?}
current=${JLD_SERVER_ENV:?}
target="${root}/jupyterlab-${version}"

# take_setup_lock comes from lib/setup-lock.sh, part of this script as installed.
take_setup_lock jupyterlab

if [ -f "${target}/.complete" ] && [ "$(readlink -f "$current")" = "$target" ]; then
  echo "JupyterLab ${version} is already installed"
  exit 0
fi

started=$(date +%s)
if [ ! -f "${target}/.complete" ]; then
  rm -rf "$target"
  install -d -m 0755 "$root"
  # install_uv comes from lib/environment.sh: JupyterLab's ~90 packages go in with uv.
  install_uv "$target"
  "${target}/bin/uv" pip install --quiet --no-cache --no-config --compile-bytecode --python "${target}/bin/python" "jupyterlab==${version}"
  "${target}/bin/jupyter-lab" --version >/dev/null
  # Notebooks run in the kernel environment (install-kernel-packages.sh), never in this one:
  # drop the kernel spec ipykernel installs here, which would shadow that one.
  rm -rf "${target}/share/jupyter/kernels/python3"
  touch "${target}/.complete"
fi

# switch_environment comes from lib/environment.sh.
switch_environment "$current" "$target" "$root" 'jupyterlab-*'
echo "JupyterLab ${version} installed in $(($(date +%s) - started))s"
