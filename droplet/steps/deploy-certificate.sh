#!/usr/bin/env bash
# certbot's deploy hook, installed by the certificate step with the server's settings (JLD_*)
# set at its top: after a certificate is issued or renewed, copies it for JupyterLab (owner
# root, readable by JupyterLab's group) and restarts JupyterLab so it serves the new one (no restart when nothing changed).
# With a data volume (JLD_VOLUME_DEVICE), certbot's account and certificate are kept on it after
# each one, for the next droplet (lib/volume-cache.sh): a resume or replacement asks the ACME
# server for nothing new.
# Environment (from certbot): RENEWED_LINEAGE, the live directory of the renewed certificate.
set -euo pipefail

lineage=${RENEWED_LINEAGE:?run by certbot, which sets RENEWED_LINEAGE}
if [ "$(basename "$lineage")" != "${JLD_ACME_CERT_NAME:?}" ]; then
  exit 0 # another certificate on this machine: not JupyterLab's
fi

# Root's own copies, in the root-owned TLS dir (the configure step makes it): the served copy is
# made from them.
install -o root -g root -m 0600 "${lineage}/privkey.pem" "${JLD_ACME_KEY_FILE:?}"
install -o root -g root -m 0600 "${lineage}/fullchain.pem" "${JLD_ACME_CERT_FILE:?}"
printf '%s\n' "${JLD_DOMAIN:?}" | install -o root -g root -m 0600 /dev/stdin "${JLD_ACME_NAME_FILE:?}"

# switch_served_certificate comes from lib/served-certificate.sh.
switch_served_certificate "${JLD_PORT:?}"

# Named by the certificate: a renewed one replaces the kept one.
if [ -n "${JLD_VOLUME_DEVICE:-}" ]; then
  trap close_volume_cache EXIT
  open_volume_cache certificate-hook "$JLD_VOLUME_DEVICE"
  touch /etc/letsencrypt/.complete
  save_to_volume_cache "letsencrypt-$(sha256sum "${lineage}/cert.pem" | cut -c1-12)" /etc/letsencrypt 'letsencrypt-*'
fi
