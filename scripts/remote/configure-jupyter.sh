#!/usr/bin/env bash
# Installs the Jupyter config, TLS certificate and key read from stdin, restarts JupyterLab
# and waits until it answers over HTTPS. Secrets arrive only on stdin: never on the command
# line, in the environment or in a log line.
# stdin: one line per file, "<name> <base64 content>"
# Usage: configure-jupyter.sh PORT
set -euo pipefail

port=${1:?usage: configure-jupyter.sh PORT}
user=${JLD_USER:?}
config_file=${JLD_CONFIG_FILE:?}
cert_file=${JLD_CERT_FILE:?}
key_file=${JLD_KEY_FILE:?}
notebook_dir=${JLD_NOTEBOOK_DIR:?}
service=${JLD_SERVICE:?}
home=${JLD_HOME:?}

umask 077
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT

# read_file_payload comes from lib/file-payload.sh, sent ahead of this script.
read_file_payload "$staging" jupyter_server_config.json tls.crt tls.key

# install(1) sets owner and mode before the content is visible under the final name.
install -d -o "$user" -g "$user" -m 0700 "$(dirname "$config_file")" "$(dirname "$cert_file")" "$(dirname "$key_file")"
install -o "$user" -g "$user" -m 0600 "${staging}/tls.key" "$key_file"
install -o "$user" -g "$user" -m 0600 "${staging}/tls.crt" "$cert_file"
install -o "$user" -g "$user" -m 0600 "${staging}/jupyter_server_config.json" "$config_file"

# The home and the notebook directory (the data volume's root when there is one) belong to the user.
chown "$user:$user" "$home"
chmod 0750 "$home"
install -d -o "$user" -g "$user" -m 0750 "$notebook_dir"
chown "$user:$user" "$notebook_dir"

# The same SSH keys as root, so VS Code Remote-SSH works as the user who owns the notebooks.
if [ -f /root/.ssh/authorized_keys ]; then
  install -d -o "$user" -g "$user" -m 0700 "${home}/.ssh"
  install -o "$user" -g "$user" -m 0600 /root/.ssh/authorized_keys "${home}/.ssh/authorized_keys"
fi

systemctl daemon-reload
systemctl enable "$service" >/dev/null 2>&1
systemctl restart "$service"

started=$(date +%s)
deadline=$(( started + ${JLD_READY_TIMEOUT:-300} ))
until curl --silent --fail --max-time 5 --cacert "$cert_file" --output /dev/null "https://127.0.0.1:${port}/api"; do
  if [ "$(date +%s)" -ge "$deadline" ] || systemctl is-failed --quiet "$service"; then
    echo "JupyterLab did not answer on https://127.0.0.1:${port}/api; its last log lines:" >&2
    journalctl --unit "$service" --no-pager --lines 40 >&2 || true
    exit 1
  fi
  sleep 2
done
echo "JupyterLab answers over HTTPS on port ${port} ($(( $(date +%s) - started ))s after restart)"
