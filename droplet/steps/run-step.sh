#!/usr/bin/env bash
# Runs one setup step's script, installed beside it by install-steps.sh, so that a failed step
# shows in `pulumi up` its name, its last lines and what to do, and not a page of progress.
# The script's stdout (the step's result) passes through; its stderr goes to the step's log,
# root-only, and only a failure prints the end of it, with the script's "# If it fails:" line.
# Usage: run-step STEP SCRIPT [ARG...]     (stdin goes to the script)
set -uo pipefail

step=${1:?usage: run-step STEP SCRIPT [ARG...]}
script=${2:?usage: run-step STEP SCRIPT [ARG...]}
shift 2
steps_dir=${JLD_STEPS_DIR:?}
log_dir=${JLD_STEP_LOG_DIR:?}
shown_lines=30

install -d -o root -g root -m 0700 "$log_dir"
log="${log_dir}/${step}.log"
touch "$log"
first_line=$(($(wc -l <"$log") + 2))
echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) ${script} $*" >>"$log"

status=0
"${steps_dir}/${script}" "$@" 2>>"$log" || status=$?

if [ "$status" -eq 0 ]; then
  # A warning still reaches `pulumi up`.
  tail -n "+${first_line}" "$log" | grep '^warning: ' >&2 || true
  exit 0
fi
{
  echo "the ${step} step failed (exit ${status}). Its last lines (all of them: sudo cat ${log}, on the droplet):"
  tail -n "+${first_line}" "$log" | tail -n "$shown_lines" | sed 's/^/  | /'
  what_to_do=$(sed -n 's/^# If it fails: //p' "${steps_dir}/${script}" | head -n 1)
  echo "What to do: ${what_to_do:-read the whole log, then run pulumi up again.}"
} >&2
exit "$status"
