#!/usr/bin/env bash
# Installs the Jupyter config, the self-signed TLS certificate and key and the unit's drop-in
# read from stdin, restarts JupyterLab and waits until it answers over HTTPS. It serves the ACME
# certificate instead while a valid one is installed (the certificate step's).
# Secrets arrive only on stdin: never on the command line, in the environment or in a log line.
# Runs as root: it writes only to root-owned paths, and does what it must in the jupyter user's
# home as that user, so no link or file the user (or notebook code) planted there is followed.
# stdin: one line per file, "<name> <base64 content>"
# Usage: configure-jupyter.sh PORT
# If it fails: JupyterLab's own lines are above; `npm run server -- logs` shows more. Then `pulumi up` again.
set -euo pipefail

port=${1:?usage: configure-jupyter.sh PORT}
user=${JLD_USER:?}
config_dir=${JLD_CONFIG_DIR:?}
tls_dir=${JLD_TLS_DIR:?}
legacy_config_dir=${JLD_LEGACY_CONFIG_DIR:?}
unit_drop_in=${JLD_UNIT_DROP_IN:?}
unprivileged_ports_file=${JLD_UNPRIVILEGED_PORTS_FILE:?}
notebook_dir=${JLD_NOTEBOOK_DIR:?}
service=${JLD_SERVICE:?}
home=${JLD_HOME:?}

umask 077
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT

# read_file_payload comes from lib/file-payload.sh, sent ahead of this script.
read_file_payload "$staging" jupyter_server_config.json tls.crt tls.key unit.conf

# Root-owned, readable by the service's group: JupyterLab reads them and can change none of them.
# install(1) sets owner and mode before the content is visible under the final name.
install -d -o root -g "$user" -m 0750 "$config_dir" "$tls_dir"
install -o root -g root -m 0600 "${staging}/tls.key" "${JLD_SELF_SIGNED_KEY_FILE:?}"
install -o root -g root -m 0600 "${staging}/tls.crt" "${JLD_SELF_SIGNED_CERT_FILE:?}"
install -o root -g "$user" -m 0640 "${staging}/jupyter_server_config.json" "${JLD_CONFIG_FILE:?}"
# Jupyter's "already migrated from IPython" marker: without it, once a kernel has made ~/.ipython,
# every start tries to write it into the config dir, which JupyterLab cannot, and fails.
install -o root -g "$user" -m 0640 /dev/null "${config_dir}/migrated"
install -d -m 0755 "$(dirname "$unit_drop_in")"
install -m 0644 "${staging}/unit.conf" "$unit_drop_in"
rm -f "${JLD_LEGACY_PORT_DROP_IN:?}"

# Port 443 takes no capability (which kernels and terminals would inherit): ports from 443 up
# need no privilege, and port 80, the ACME challenge's, stays root's.
if [ "$port" -lt 1024 ]; then
  printf 'net.ipv4.ip_unprivileged_port_start = %s\n' "$port" | install -m 0644 /dev/stdin "$unprivileged_ports_file"
  sysctl --quiet --load="$unprivileged_ports_file"
elif [ -e "$unprivileged_ports_file" ]; then
  rm -f "$unprivileged_ports_file"
  sysctl --quiet --write net.ipv4.ip_unprivileged_port_start=1024
fi

# serve_best_certificate and wait_until_serving come from lib/served-certificate.sh.
served_name=$(serve_best_certificate)

# The home belongs to the user; /home is root's, so the path itself cannot be swapped.
chown "$user:$user" "$home"
chmod 0750 "$home"
# The notebook directory (the data volume's root when there is one, root-owned when new): never
# through a link, and whatever is inside is the user's own business.
if [ -L "$notebook_dir" ]; then
  echo "${notebook_dir} is a symbolic link: JupyterLab's root must be a directory. Move it aside and run 'pulumi up' again" >&2
  exit 1
fi
if [ ! -d "$notebook_dir" ]; then
  runuser -u "$user" -- mkdir -m 0750 "$notebook_dir"
elif [ "$(stat -c %U "$notebook_dir")" != "$user" ]; then
  chown -h "$user:$user" "$notebook_dir"
  runuser -u "$user" -- chmod 0750 "$notebook_dir"
fi

# What earlier versions kept in the user's own config dir: removed by the user, so no link is
# followed; whatever the user has made of the dir since may refuse, and is the user's own.
runuser -u "$user" -- rm -f "${legacy_config_dir}/jupyter_server_config.json" \
  "${legacy_config_dir}"/tls/{jupyterlab,self-signed,acme}.{crt,key} "${legacy_config_dir}/tls/acme.name" 2>/dev/null || true

# The same SSH keys as root, so VS Code Remote-SSH works as the user who owns the notebooks:
# written by the user, from root's file on stdin.
if [ -f /root/.ssh/authorized_keys ]; then
  # shellcheck disable=SC2016 # $1 is the inner shell's, the directory passed after "sh"
  if ! runuser -u "$user" -- sh -c 'umask 077 && mkdir -p "$1" && cat >"$1/authorized_keys"' sh "${home}/.ssh" </root/.ssh/authorized_keys; then
    echo "warning: could not write ${home}/.ssh/authorized_keys as ${user}: SSH as ${user} may not work; SSH as root does" >&2
  fi
fi

systemctl daemon-reload
systemctl enable "$service" >/dev/null 2>&1
systemctl restart "$service"

wait_until_serving "$port" "$served_name"
