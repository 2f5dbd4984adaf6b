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
/** fail2ban names a filter by its file in filter.d. */
const filterName = serverLayout.loginGuardFilterFile.replace(/^.*\//, "").replace(/\.conf$/, "");

/** The server's own start of a line, "[W <date> ServerApp] ", after "<host> <ident>[<pid>]: " in the journal. */
const serverLineStart = String.raw`^(?:\S+ ){0,2}\[[A-Z] [^\]]*ServerApp\] `;
/** The login page's path in origin or absolute form, and any query: no space, whatever else it holds. */
const loginTarget = String.raw`(?:[A-Za-z][A-Za-z0-9+.-]*://[^/ ]*)?/login(?:\?[^ ]*)?`;

/**
 * A refused login as jupyter_server 2.x logs it: any answer of 400 or more to a POST to the
 * login page from a client that is not logged in. That is a wrong password (401), and also what
 * a script gets for a missing or mismatched _xsrf (403), a foreign Origin (404), or a password or
 * `next` that is not UTF-8 (400, after the password was checked). The request log line:
 *   [W 2026-11-26 17:25:43.709 ServerApp] 401 POST /login?next=%2Flab (@203.0.113.7) 105.33ms referer=None
 * and in the journal, where fail2ban reads it, behind "<host> jupyter-lab[<pid>]: ".
 *
 * Only the address right after the request target is credited: tornado's own socket peer
 * (jupyter_server trusts no X-Forwarded-For unless told to), with an empty user part (no valid
 * login cookie; a wrong password empties it too). Everything else on the line is the client's to
 * choose, so the pattern is anchored at the line's start, which only the server writes, and
 * steps over the target without reading it:
 * - the target holds no space (tornado refuses a request line that does, and any control byte),
 *   so `[^ ]*` ends exactly before the real "(@address)". Not `\S*`: Python's \s also
 *   matches U+0085 and U+00A0, which tornado makes of the bytes 0x85 and 0xA0 (it reads latin1);
 * - a line that is not a login POST never matches, whatever its Referer holds: jupyter_server
 *   appends "referer=<Referer header>" to every answer of 400 or more, spaces and all, and an
 *   unanchored pattern found a forged "401 POST /login (@<someone else>)" there;
 * - the absolute form of the target (`POST https://host:port/login`) counts too: tornado 6 answers
 *   it 404 without reading the password, a server that routes it would read it.
 * A refusal that names a user ("(<user>@address)", e.g. the owner's stale _xsrf) does not count.
 * The level letter and the date are left open: fail2ban-regex cuts the date out of a log file's
 * lines, the journal keeps it. <ADDR> takes an IP address only, never a name.
 * No pattern covers a line journald cut in two (it cuts lines longer than its LineMax, 48 KiB by
 * default, and tornado takes 64 KiB of request line and headers): a longer target would evade
 * the filter, and the tail of a longer Referer would reach fail2ban as a line of its own, which
 * the client wrote. renderJournaldSettings raises LineMax above the longest line, so none is cut.
 */
export const loginFailureRegex = String.raw`${serverLineStart}[45]\d\d POST ${loginTarget} \(@<ADDR>\) \d+(?:\.\d+)?ms`;

/** filter.d/jupyterlab-droplet.conf */
export function renderLoginFilter(): string {
    return `# Written by jupyterlab-droplet: a refused JupyterLab login, as jupyter_server logs it
# (see components/login-guard.ts for why the pattern is what it is).
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

/**
 * journald.conf.d/jupyterlab-droplet.conf: journald cuts a log line longer than LineMax (48 KiB by
 * default) into pieces, and a request line and headers of up to 64 KiB reach jupyter_server's
 * log. A cut refused login would not be counted, and the cut-off tail of a long Referer would
 * start a line of its own, one an attacker writes. Longer than any line the server logs: none is cut.
 */
export function renderJournaldSettings(): string {
    return `# Written by jupyterlab-droplet: no log line of JupyterLab's is cut in two (see its login guard).
[Journal]
LineMax=1M
`;
}

/** The files configure-login-guard.sh installs, by the names it knows them by. */
export function loginGuardFiles(args: LoginGuardArgs): Record<string, string> {
    return {
        "jail.local": renderLoginJails(args),
        "filter.conf": renderLoginFilter(),
        "fail2ban.local": renderFail2banSettings(),
        "journald.conf": renderJournaldSettings(),
    };
}
