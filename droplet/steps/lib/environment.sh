#!/usr/bin/env bash
# Part of the install steps' scripts (setup-steps.ts): environments built beside the one in use.

# Makes a new environment at DIR holding uv (from PyPI, through pip), owned by root: uv installs
# packages several times faster than pip.
# Usage: install_uv DIR
install_uv() {
  local env=${1:?}
  python3 -m venv "$env"
  "${env}/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir uv
  "${env}/bin/uv" --version >/dev/null
}

# Points the CURRENT link at TARGET in one step (a new link moved over the old), then removes the
# other environments matching ROOT/PATTERN: only the one in use is kept.
# Usage: switch_environment CURRENT TARGET ROOT PATTERN
switch_environment() {
  local current=${1:?} target=${2:?} root=${3:?} pattern=${4:?} old
  ln -sfn "$target" "${current}.new"
  mv -T "${current}.new" "$current"
  for old in "${root}"/${pattern}; do
    if [ "$old" != "$target" ] && [ -d "$old" ]; then
      rm -rf "$old"
    fi
  done
}
