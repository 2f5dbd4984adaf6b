#!/usr/bin/env bash
# Part of the install steps' scripts (setup-steps.ts): the installer they use.

# Makes a new environment at DIR holding uv (from PyPI, through pip), owned by root: uv installs
# packages several times faster than pip.
# Usage: install_uv DIR
install_uv() {
  local env=${1:?}
  python3 -m venv "$env"
  "${env}/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir uv
  "${env}/bin/uv" --version >/dev/null
}
