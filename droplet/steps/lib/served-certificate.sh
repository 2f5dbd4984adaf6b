#!/usr/bin/env bash
# Sent ahead of the steps that choose JupyterLab's certificate (remote-scripts.ts): the
# configure step, the certificate step and certbot's renewal hook all choose by the same rule.

# Copies the certificate JupyterLab should serve into the place it reads it from: the ACME
# pair while one is installed and not expired, otherwise the self-signed pair. Prints the
# host name the served certificate is valid for (the domain, or 127.0.0.1).
# Usage: serve_best_certificate
serve_best_certificate() {
  local cert=${JLD_SELF_SIGNED_CERT_FILE:?} key=${JLD_SELF_SIGNED_KEY_FILE:?} name=127.0.0.1
  if [ -s "${JLD_ACME_CERT_FILE:?}" ] && [ -s "${JLD_ACME_KEY_FILE:?}" ] && [ -s "${JLD_ACME_NAME_FILE:?}" ] &&
    openssl x509 -checkend 0 -noout -in "$JLD_ACME_CERT_FILE" >/dev/null 2>&1; then
    cert=$JLD_ACME_CERT_FILE
    key=$JLD_ACME_KEY_FILE
    name=$(cat "$JLD_ACME_NAME_FILE")
  fi
  # Root's, readable by JupyterLab's group: install(1) sets owner and mode before the content
  # is visible under the final name.
  install -o root -g "${JLD_USER:?}" -m 0640 "$key" "${JLD_KEY_FILE:?}"
  install -o root -g "$JLD_USER" -m 0640 "$cert" "${JLD_CERT_FILE:?}"
  printf '%s\n' "$name"
}

# Waits until JupyterLab answers over HTTPS on PORT with the served certificate, verified for
# NAME; on a timeout or a failed unit, prints its last log lines and returns 1.
# Usage: wait_until_serving PORT NAME
wait_until_serving() {
  local port=$1 name=$2 started deadline
  started=$(date +%s)
  deadline=$((started + ${JLD_READY_TIMEOUT:-300}))
  # --connect-to reaches this machine under the certificate's name, whatever DNS says.
  until curl --silent --fail --max-time 5 --cacert "${JLD_CERT_FILE:?}" --connect-to "::127.0.0.1:" \
    --output /dev/null "https://${name}:${port}/api"; do
    if [ "$(date +%s)" -ge "$deadline" ] || systemctl is-failed --quiet "${JLD_SERVICE:?}"; then
      echo "JupyterLab did not answer on https://${name}:${port}/api; its last log lines:" >&2
      journalctl --unit "$JLD_SERVICE" --no-pager --lines 40 >&2 || true
      return 1
    fi
    sleep 2
  done
  echo "JupyterLab answers over HTTPS on port ${port} as ${name} ($(($(date +%s) - started))s after restart)"
}

# Serves the best certificate, restarting JupyterLab (and waiting until it answers on PORT)
# only when that changes the certificate it serves.
# Usage: switch_served_certificate PORT
switch_served_certificate() {
  local port=$1 before name
  before=$(cat "${JLD_CERT_FILE:?}" 2>/dev/null || true)
  name=$(serve_best_certificate)
  if [ "$before" = "$(cat "$JLD_CERT_FILE")" ]; then
    return 0
  fi
  systemctl restart "${JLD_SERVICE:?}"
  wait_until_serving "$port" "$name"
}
