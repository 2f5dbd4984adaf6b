#!/usr/bin/env bash
# Installs fail2ban (once) and its settings read from stdin, then restarts it so they apply.
# fail2ban keeps its bans in its own database: a restart lifts none of them.
# stdin: one line per file, "<name> <base64 content>" (jail.local, filter.conf, fail2ban.local,
# journald.conf)
# If it fails: fail2ban's own message is above; on the droplet, `journalctl -u fail2ban` tells more. Then `pulumi up` again.
set -euo pipefail

jail_file=${JLD_LOGIN_GUARD_JAIL_FILE:?}
filter_file=${JLD_LOGIN_GUARD_FILTER_FILE:?}
settings_file=${JLD_LOGIN_GUARD_SETTINGS_FILE:?}
journald_file=${JLD_JOURNALD_DROP_IN:?}
packages=(fail2ban python3-systemd nftables)

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
# read_file_payload comes from lib/file-payload.sh, sent ahead of this script.
read_file_payload "$staging" jail.local filter.conf fail2ban.local journald.conf

# install_missing_packages comes from lib/packages.sh, sent ahead of this script.
install_missing_packages "${packages[@]}"

install -o root -g root -m 0644 "${staging}/jail.local" "$jail_file"
install -o root -g root -m 0644 "${staging}/filter.conf" "$filter_file"
install -o root -g root -m 0644 "${staging}/fail2ban.local" "$settings_file"

# journald reads its settings only when it starts; it keeps the services' log streams open across
# a restart.
if ! cmp --silent "${staging}/journald.conf" "$journald_file"; then
  install -d -m 0755 "$(dirname "$journald_file")"
  install -o root -g root -m 0644 "${staging}/journald.conf" "$journald_file"
  systemctl restart systemd-journald
fi

# A setting fail2ban cannot read must fail this step, not leave the server unguarded.
fail2ban-client --test >/dev/null

systemctl enable fail2ban >/dev/null 2>&1
systemctl restart fail2ban
deadline=$(($(date +%s) + 60))
until fail2ban-client ping >/dev/null 2>&1; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "fail2ban did not start; its last log lines:" >&2
    journalctl --unit fail2ban --no-pager --lines 40 >&2 || true
    exit 1
  fi
  sleep 1
done
fail2ban-client status | sed -n 's/.*Jail list:[[:space:]]*/fail2ban jails: /p'
