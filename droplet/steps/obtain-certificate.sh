#!/usr/bin/env bash
# Gets JupyterLab a certificate for DOMAIN from the ACME server (HTTP-01 on port 80, certbot's
# own listener) and serves it; certbot's packaged timer renews it and runs the renewal hook
# (read from stdin), which installs the new files and restarts JupyterLab.
# With DOMAIN empty, removes any certificate from an earlier domain and serves the self-signed one.
# While the ACME server's DNS lookup of DOMAIN fails (a record just made), it tries again for a
# few minutes. If it cannot get a certificate it exits 1 with certbot's message, and JupyterLab
# keeps serving what it served before.
# With a data volume, certbot's account and certificate are kept on it and a new droplet starts
# from them (lib/volume-cache.sh): it asks for a certificate only when the kept one is due, as
# the ACME server allows few certificates per name and week.
# stdin (DOMAIN set): one line per file, "<name> <base64 content>" (renewal-hook.sh)
# Usage: obtain-certificate.sh DOMAIN ACME_SERVER EMAIL PORT [VOLUME_DEVICE]
# If it fails: certbot's message is above: check that the domain's A record points at the droplet and that port 80 reaches it from the internet, then `pulumi up`.
set -euo pipefail

domain=${1?usage: obtain-certificate.sh DOMAIN ACME_SERVER EMAIL PORT}
server=${2?}
email=${3?}
port=${4:?}
volume_device=${5:-}
cert_name=${JLD_ACME_CERT_NAME:?}
renewal_hook=${JLD_RENEWAL_HOOK:?}
lineage=/etc/letsencrypt/live/${cert_name}
renewal_conf=/etc/letsencrypt/renewal/${cert_name}.conf
packages=(certbot openssl)
# Seconds to wait between tries while DNS does not answer: few tries, as Let's Encrypt allows
# only 5 failed validations per name and hour.
dns_retry_delays=(15 30 60 120)

forget_certificate() {
  if command -v certbot >/dev/null && [ -e "$renewal_conf" ]; then
    certbot delete --non-interactive --cert-name "$cert_name" >/dev/null 2>&1
  fi
  rm -f "${JLD_ACME_CERT_FILE:?}" "${JLD_ACME_KEY_FILE:?}" "${JLD_ACME_NAME_FILE:?}"
}

if [ -z "$domain" ]; then
  forget_certificate
  rm -f "$renewal_hook"
  # switch_served_certificate comes from lib/served-certificate.sh.
  switch_served_certificate "$port"
  echo "no domain: JupyterLab serves its self-signed certificate"
  exit 0
fi

umask 022
staging=$(mktemp -d)
# close_volume_cache comes from lib/volume-cache.sh.
trap 'rm -rf "$staging"; close_volume_cache' EXIT
# read_file_payload comes from lib/file-payload.sh, sent ahead of this script.
read_file_payload "$staging" renewal-hook.sh

# install_missing_packages comes from lib/packages.sh, sent ahead of this script.
install_missing_packages "${packages[@]}"
# A new droplet: certbot's account and certificate from the volume (before the hook is written), where the last droplet kept them.
open_volume_cache certificate "$volume_device"
if [ ! -e "$renewal_conf" ]; then
  kept=$(latest_in_volume_cache 'letsencrypt-*')
  if [ -n "$kept" ] && restore_from_volume_cache "$kept" /etc/letsencrypt; then
    echo "certbot's account and certificate restored from the volume"
  fi
fi
install -d -m 0755 "$(dirname "$renewal_hook")"
install -m 0755 "${staging}/renewal-hook.sh" "$renewal_hook"
systemctl enable --now certbot.timer >/dev/null 2>&1

# A certificate for another name or from another ACME server is not the one wanted: start afresh.
if [ -e "$renewal_conf" ]; then
  if ! grep -qxF "server = ${server}" "$renewal_conf" ||
    ! openssl x509 -noout -checkhost "$domain" -in "${lineage}/cert.pem" 2>/dev/null | grep -q 'does match'; then
    echo "replacing the certificate of an earlier domain or ACME server"
    forget_certificate
  fi
fi

certbot_args=(certonly --standalone --preferred-challenges http --non-interactive --agree-tos
  --server "$server" --cert-name "$cert_name" --domain "$domain" --keep-until-expiring)
if [ -n "$email" ]; then
  certbot_args+=(--email "$email" --no-eff-email)
else
  certbot_args+=(--register-unsafely-without-email)
fi

started=$(date +%s)
for delay in "${dns_retry_delays[@]}" stop; do
  if output=$(certbot "${certbot_args[@]}" 2>&1); then
    break
  fi
  # Let's Encrypt says "DNS problem: NXDOMAIN looking up A ..."; Pebble "could not resolve URL".
  if [ "$delay" != stop ] && grep -qE 'DNS problem|NXDOMAIN|could not resolve|while resolving' <<<"$output"; then
    echo "the ACME server cannot resolve ${domain} yet; trying again in ${delay}s" >&2
    sleep "$delay"
    continue
  fi
  {
    echo "certbot could not get a certificate for ${domain} from ${server}:"
    printf '%s\n' "$output"
    echo "JupyterLab keeps serving its current certificate."
  } >&2
  exit 1
done
echo "certbot: $(grep -E 'Successfully received|Certificate not yet due' <<<"$output" | head -n 1) ($(($(date +%s) - started))s)"

# The hook installs certbot's files for JupyterLab and keeps them on the volume; run here too, as
# certonly does not.
RENEWED_LINEAGE=$lineage RENEWED_DOMAINS=$domain "$renewal_hook"
echo "serving the certificate for ${domain}: $(openssl x509 -noout -serial -enddate -in "$JLD_CERT_FILE" | tr '\n' ' ')"
