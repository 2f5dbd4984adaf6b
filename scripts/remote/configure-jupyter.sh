#!/usr/bin/env bash
# Installs the Jupyter config, the self-signed TLS certificate and key and the unit's port
# drop-in read from stdin, restarts JupyterLab and waits until it answers over HTTPS. It serves
# the ACME certificate instead while a valid one is installed (the certificate step's).
# Secrets arrive only on stdin: never on the command line, in the environment or in a log line.
# stdin: one line per file, "<name> <base64 content>"
# Usage: configure-jupyter.sh PORT
set -euo pipefail

port=${1:?usage: configure-jupyter.sh PORT}
user=${JLD_USER:?}
config_file=${JLD_CONFIG_FILE:?}
cert_file=${JLD_SELF_SIGNED_CERT_FILE:?}
key_file=${JLD_SELF_SIGNED_KEY_FILE:?}
port_drop_in=${JLD_PORT_DROP_IN:?}
notebook_dir=${JLD_NOTEBOOK_DIR:?}
service=${JLD_SERVICE:?}
home=${JLD_HOME:?}

umask 077
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT

# read_file_payload comes from lib/file-payload.sh, sent ahead of this script.
read_file_payload "$staging" jupyter_server_config.json tls.crt tls.key port.conf

# install(1) sets owner and mode before the content is visible under the final name.
install -d -o "$user" -g "$user" -m 0700 "$(dirname "$config_file")" "$(dirname "$cert_file")" "$(dirname "$key_file")"
install -o "$user" -g "$user" -m 0600 "${staging}/tls.key" "$key_file"
install -o "$user" -g "$user" -m 0600 "${staging}/tls.crt" "$cert_file"
install -o "$user" -g "$user" -m 0600 "${staging}/jupyter_server_config.json" "$config_file"
install -d -m 0755 "$(dirname "$port_drop_in")"
install -m 0644 "${staging}/port.conf" "$port_drop_in"
# serve_best_certificate and wait_until_serving come from lib/served-certificate.sh.
served_name=$(serve_best_certificate)

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

wait_until_serving "$port" "$served_name"
