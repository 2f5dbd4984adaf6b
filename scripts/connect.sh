#!/usr/bin/env bash
# Sets up SSH (and so VS Code Remote-SSH) for a stack's droplet in one step, safe to re-run:
#   - the generated private key  -> ~/.ssh/jupyterlab-<stack>                 (mode 0600)
#   - the droplet's host key     -> ~/.ssh/known_hosts.d/jupyterlab-<stack>   (replaced each run)
#   - a Host entry               -> ~/.ssh/config, between markers            (replaced each run)
# Then `ssh jupyterlab-<stack>` works, and VS Code lists the host under Remote-SSH.
# Usage: scripts/connect.sh [STACK]     (default: the current stack)
set -euo pipefail

if [ "$#" -gt 1 ]; then
  echo "usage: $0 [STACK]" >&2
  exit 2
fi
stack_args=()
if [ "$#" -eq 1 ]; then
  stack_args=(--stack "$1")
fi
for tool in pulumi node; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "connect.sh needs ${tool} on PATH" >&2
    exit 1
  fi
done

umask 077
outputs=$(mktemp)
trap 'rm -f "$outputs"' EXIT
pulumi stack output --json --show-secrets "${stack_args[@]}" >"$outputs"

field() {
  node -e 'const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const v = o[process.argv[2]]; if (v !== undefined && v !== null) process.stdout.write(String(v));' "$outputs" "$1"
}

if [ "$(field state)" = "paused" ]; then
  echo "the stack is paused: it has no droplet to connect to. Run 'pulumi config set paused false' and 'pulumi up', then this again" >&2
  exit 1
fi
entry=$(field sshConfig)
known_hosts_line=$(field knownHostsLine)
if [ -z "$entry" ] || [ -z "$known_hosts_line" ]; then
  echo "the stack has no sshConfig/knownHostsLine outputs yet: run 'pulumi up' first" >&2
  exit 1
fi
alias=$(printf '%s\n' "$entry" | awk '$1 == "Host" { print $2; exit }')
ssh_dir="${HOME}/.ssh"
mkdir -p "${ssh_dir}/known_hosts.d"
chmod 700 "$ssh_dir" "${ssh_dir}/known_hosts.d"

private_key=$(field sshPrivateKey)
if [ -n "$private_key" ]; then
  printf '%s\n' "$private_key" >"${ssh_dir}/${alias}.new"
  chmod 600 "${ssh_dir}/${alias}.new"
  mv -f "${ssh_dir}/${alias}.new" "${ssh_dir}/${alias}"
fi

printf '%s\n' "$known_hosts_line" >"${ssh_dir}/known_hosts.d/${alias}"

begin="# >>> jupyterlab-droplet ${alias} >>>"
end="# <<< jupyterlab-droplet ${alias} <<<"
config="${ssh_dir}/config"
touch "$config"
{
  awk -v begin="$begin" -v end="$end" '$0 == begin { skip = 1 } !skip { print } $0 == end { skip = 0 }' "$config"
  # $entry lost its final newline to the command substitution above.
  printf '%s\n%s\n%s\n' "$begin" "$entry" "$end"
} >"${config}.new"
chmod 600 "${config}.new"
mv -f "${config}.new" "$config"

echo "ready: ssh ${alias}   (VS Code: Remote-SSH: Connect to Host... -> ${alias})"
