#!/usr/bin/env bash
# Part of the install steps' scripts (setup-steps.ts): one run of each install at a time.

# Takes the step's lock, NAME.lock, on file descriptor 9, for as long as the calling script runs. A `pulumi up`
# cut short (Ctrl-C) may leave an install going on: the next run waits for it rather than build
# the same environment at the same time. The lock lives in a root-only directory, so no other
# user can hold it; and the wait is bounded, so a stuck install fails the step instead of hanging it.
# Usage: take_setup_lock NAME
take_setup_lock() {
  local lock=${JLD_SETUP_LOCK_DIR:?}/${1:?}.lock minutes=30
  install -d -o root -g root -m 0700 "${JLD_SETUP_LOCK_DIR}"
  exec 9>"$lock"
  if ! flock --wait $((minutes * 60)) 9; then
    echo "another run of this step has held ${lock} for ${minutes} minutes; see 'ps -ef' on the server, then run 'pulumi up' again" >&2
    exit 1
  fi
}
