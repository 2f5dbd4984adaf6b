// fail2ban's settings for the droplet: a jail that bans an address from the JupyterLab port
// after too many refused passwords, and the stock sshd jail. Pushed by the remote setup (not
// written by cloud-init), so a change of the limits re-runs one step and replaces nothing.
import { serverLayout } from "./server-layout";

export interface LoginGuardArgs {
    jupyterPort: number;
    /** Refused logins from one address within findMinutes that ban it; 0 = the jail is off. */
    maxLoginFailures: number;
    banMinutes: number;
}

/** The window in which failures count (fail2ban's findtime). */
export const findMinutes = 10;
/** The jail's name, for `fail2ban-client status <jail>` and `... set <jail> unbanip <ip>`. */
export const jupyterJail = "jupyterlab";
const filterName = "jupyterlab-droplet";

/**
 * The failure jupyter_server 2.x logs for each refused password: a warning naming the client's
 * address after the user part, which is empty before a login. The address is the socket's peer
 * (jupyter_server trusts no X-Forwarded-For unless told to). The URI cannot hold a space, so
 * nothing a client sends can put another address in the "(@address)" position.
 *   [W 2026-11-26 17:25:43.709 ServerApp] 401 POST /login?next=%2Flab (@203.0.113.7) 105.33ms referer=None
 */
export const loginFailureRegex = String.raw`ServerApp\] 401 POST /login(?:\?\S*)? \(\S*@<HOST>\) \d+(?:\.\d+)?ms`;

/** filter.d/jupyterlab-droplet.conf */
export function renderLoginFilter(): string {
    return `# Written by jupyterlab-droplet: a refused JupyterLab password, as jupyter_server logs it.
[Definition]
failregex = ${loginFailureRegex}
ignoreregex =
`;
}

/** jail.d/jupyterlab-droplet.local: read after the distribution's jail.d/*.conf, so it wins. */
export function renderLoginJails(args: LoginGuardArgs): string {
    const jupyterJailEnabled = args.maxLoginFailures > 0;
    return `# Written by jupyterlab-droplet on every \`pulumi up\`: change the stack's config, not this file.
[DEFAULT]
# sshd and JupyterLab log to the journal on every supported image (Debian has no auth.log).
backend = systemd
banaction = nftables-multiport
banaction_allports = nftables-allports

[sshd]
enabled = true
backend = systemd

[${jupyterJail}]
# ${jupyterJailEnabled ? `${args.maxLoginFailures} refused passwords within ${findMinutes} minutes ban the address from port ${args.jupyterPort} for ${args.banMinutes} minutes.` : "maxLoginFailures is 0: no ban."}
# Only the JupyterLab port: the owner can still SSH in and lift a ban with
#   fail2ban-client set ${jupyterJail} unbanip <address>
enabled = ${jupyterJailEnabled}
filter = ${filterName}
# JupyterLab runs as an ordinary user, so journald files its log in that user's journal file;
# fail2ban reads only the system's unless told otherwise (journalflags 1: all local journals).
backend = systemd[journalflags=1]
journalmatch = _SYSTEMD_UNIT=${serverLayout.service}
port = ${args.jupyterPort}
protocol = tcp
# The log names addresses, never host names: nothing to look up.
usedns = no
maxretry = ${Math.max(args.maxLoginFailures, 1)}
findtime = ${findMinutes}m
bantime = ${args.banMinutes}m
`;
}

/** fail2ban.d/jupyterlab-droplet.local: bans and unbans go to the journal with everything else. */
export function renderFail2banSettings(): string {
    return `# Written by jupyterlab-droplet.
[Definition]
logtarget = SYSTEMD-JOURNAL
`;
}

/** The files configure-login-guard.sh installs, by the names it knows them by. */
export function loginGuardFiles(args: LoginGuardArgs): Record<string, string> {
    return {
        "jail.local": renderLoginJails(args),
        "filter.conf": renderLoginFilter(),
        "fail2ban.local": renderFail2banSettings(),
    };
}
