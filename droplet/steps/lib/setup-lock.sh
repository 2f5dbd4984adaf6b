#!/usr/bin/env bash
# Sent ahead of the install steps (remote-scripts.ts): one install at a time on the server.

# Takes the setup lock on file descriptor 9, for as long as the calling script runs. A `pulumi up`
# cut short (Ctrl-C) may leave an install going on: the next run waits for it rather than build
# the same environment at the same time. The lock lives in a root-only directory, so no other
# user can hold it; and the wait is bounded, so a stuck install fails the step instead of hanging it.
# Usage: take_setup_lock
take_setup_lock() {
  local lock=${JLD_SETUP_LOCK:?} minutes=30
  install -d -o root -g root -m 0700 "$(dirname "$lock")"
  exec 9>"$lock"
  if ! flock --wait $((minutes * 60)) 9; then
    echo "another setup step has held ${lock} for ${minutes} minutes; see 'ps -ef' on the server, then run 'pulumi up' again" >&2
    exit 1
  fi
}
