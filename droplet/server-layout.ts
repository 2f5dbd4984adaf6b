// Where things live on the server. The single source of truth: the renderers use it and the
// shell steps receive it as environment variables, so no path is written twice.
//
// Root steps write only to paths the jupyter user cannot change, and code run from a notebook
// is that user: so everything JupyterLab is told (config, password hash, certificate, key)
// lives in a root-owned directory it may read but not change, and JupyterLab reads no config
// file of the user's own.

export const serverLayout = {
    /** The unprivileged account that runs JupyterLab (and notebook code) and owns the notebooks. */
    user: "jupyter",
    home: "/home/jupyter",
    /** Root-owned, group jupyter, 0750: JupyterLab's config dir (JUPYTER_CONFIG_DIR). */
    configDir: "/etc/jupyterlab-droplet",
    /** root:jupyter 0640: the Jupyter config with the password hash. */
    configFile: "/etc/jupyterlab-droplet/jupyter_server_config.json",
    /** Root-owned, group jupyter, 0750: the served pair and, root-only, the pairs it is chosen from. */
    tlsDir: "/etc/jupyterlab-droplet/tls",
    /** root:jupyter 0640: the certificate and key JupyterLab serves, a copy of the self-signed or the ACME pair. */
    certFile: "/etc/jupyterlab-droplet/tls/jupyterlab.crt",
    keyFile: "/etc/jupyterlab-droplet/tls/jupyterlab.key",
    /** root 0600: the self-signed pair the configure step pushes, served whenever no valid ACME pair is installed. */
    selfSignedCertFile: "/etc/jupyterlab-droplet/tls/self-signed.crt",
    selfSignedKeyFile: "/etc/jupyterlab-droplet/tls/self-signed.key",
    /** root 0600: the ACME pair (full chain) for the domain named in acmeNameFile, copied from certbot's lineage. */
    acmeCertFile: "/etc/jupyterlab-droplet/tls/acme.crt",
    acmeKeyFile: "/etc/jupyterlab-droplet/tls/acme.key",
    acmeNameFile: "/etc/jupyterlab-droplet/tls/acme.name",
    /**
     * Where versions before the root-owned config dir kept config, certificate and key, and what
     * the unit in the user-data still names (the user-data never changes, or droplets would be
     * replaced): the unit's drop-in points JupyterLab away from it, and the configure step removes,
     * as the jupyter user, what those versions left there.
     */
    legacyConfigDir: "/home/jupyter/.jupyter",
    legacyConfigFile: "/home/jupyter/.jupyter/jupyter_server_config.json",
    /**
     * JupyterLab's settings and saved layouts: the user's own data (JSON the browser reads, never
     * code the server runs), kept where JupyterLab kept them before the config dir became root's.
     */
    userSettingsDir: "/home/jupyter/.jupyter/lab/user-settings",
    workspacesDir: "/home/jupyter/.jupyter/lab/workspaces",
    /** certbot's name for the certificate it keeps and renews for the server. */
    acmeCertName: "jupyterlab-droplet",
    /** certbot runs every executable here after each renewal. */
    renewalHook: "/etc/letsencrypt/renewal-hooks/deploy/jupyterlab-droplet.sh",
    /** The unit's drop-in: config dir, no user site, the volume it needs. */
    unitDropIn: "/etc/systemd/system/jupyterlab.service.d/jupyterlab-droplet.conf",
    /** The drop-in earlier versions wrote for port 443 (a capability kernels inherited): removed. */
    legacyPortDropIn: "/etc/systemd/system/jupyterlab.service.d/port.conf",
    /** With port 443: ports from 443 up need no privilege, so JupyterLab needs no capability and 80 stays root's. */
    unprivilegedPortsFile: "/etc/sysctl.d/60-jupyterlab-droplet.conf",
    /** Jupyter's root directory; the data volume is mounted here when there is one. */
    notebookDir: "/home/jupyter/notebooks",
    /** JupyterLab's own environment, owned by root so nothing run from a notebook can break it. */
    serverEnv: "/opt/jupyterlab/current",
    serverEnvRoot: "/opt/jupyterlab",
    /** The notebook kernel's environment, where the user's packages go. */
    kernelEnv: "/opt/jupyter-kernel/current",
    kernelEnvRoot: "/opt/jupyter-kernel",
    /** uv, for the kernel step's installs: root-owned, its own, so it need not wait for JupyterLab's. */
    kernelInstallerEnv: "/opt/jupyter-kernel/installer",
    service: "jupyterlab.service",
    swapFile: "/swapfile",
    /**
     * Root-only: each install step holds `<step>.lock` here while it runs, as a run cut short by
     * Ctrl-C may leave its install going on; no other user can hold one and stall the setup.
     */
    setupLockDir: "/run/jupyterlab-droplet",
    /** Root-owned, 0755: the setup's step scripts, copied once per change and run by path. */
    stepsDir: "/usr/local/lib/jupyterlab-droplet",
    /** Runs a step's script: on failure prints the step's name, its last lines and what to do. */
    stepRunner: "/usr/local/lib/jupyterlab-droplet/run-step",
    /** Root-only: each step's whole output (`<step>.log`), which a failed step's message points to. */
    stepLogDir: "/var/log/jupyterlab-droplet",
    /** fail2ban's jails, filter and settings, and journald's setting for the login guard. */
    loginGuardJailFile: "/etc/fail2ban/jail.d/jupyterlab-droplet.local",
    loginGuardFilterFile: "/etc/fail2ban/filter.d/jupyterlab-droplet.conf",
    loginGuardSettingsFile: "/etc/fail2ban/fail2ban.d/jupyterlab-droplet.local",
    journaldDropIn: "/etc/systemd/journald.conf.d/jupyterlab-droplet.conf",
} as const;

/** The environment the shell steps get: every path they touch, from serverLayout. */
export function layoutEnvironment(): Record<string, string> {
    const l = serverLayout;
    return {
        JLD_USER: l.user,
        JLD_HOME: l.home,
        JLD_CONFIG_DIR: l.configDir,
        JLD_CONFIG_FILE: l.configFile,
        JLD_TLS_DIR: l.tlsDir,
        JLD_CERT_FILE: l.certFile,
        JLD_KEY_FILE: l.keyFile,
        JLD_SELF_SIGNED_CERT_FILE: l.selfSignedCertFile,
        JLD_SELF_SIGNED_KEY_FILE: l.selfSignedKeyFile,
        JLD_ACME_CERT_FILE: l.acmeCertFile,
        JLD_ACME_KEY_FILE: l.acmeKeyFile,
        JLD_ACME_NAME_FILE: l.acmeNameFile,
        JLD_ACME_CERT_NAME: l.acmeCertName,
        JLD_LEGACY_CONFIG_DIR: l.legacyConfigDir,
        JLD_RENEWAL_HOOK: l.renewalHook,
        JLD_UNIT_DROP_IN: l.unitDropIn,
        JLD_LEGACY_PORT_DROP_IN: l.legacyPortDropIn,
        JLD_UNPRIVILEGED_PORTS_FILE: l.unprivilegedPortsFile,
        JLD_NOTEBOOK_DIR: l.notebookDir,
        JLD_SERVER_ENV: l.serverEnv,
        JLD_SERVER_ENV_ROOT: l.serverEnvRoot,
        JLD_KERNEL_ENV: l.kernelEnv,
        JLD_KERNEL_ENV_ROOT: l.kernelEnvRoot,
        JLD_SERVICE: l.service,
        JLD_KERNEL_INSTALLER_ENV: l.kernelInstallerEnv,
        JLD_SETUP_LOCK_DIR: l.setupLockDir,
        JLD_STEPS_DIR: l.stepsDir,
        JLD_STEP_LOG_DIR: l.stepLogDir,
        JLD_LOGIN_GUARD_JAIL_FILE: l.loginGuardJailFile,
        JLD_LOGIN_GUARD_FILTER_FILE: l.loginGuardFilterFile,
        JLD_LOGIN_GUARD_SETTINGS_FILE: l.loginGuardSettingsFile,
        JLD_JOURNALD_DROP_IN: l.journaldDropIn,
    };
}

/** The device path under which DigitalOcean presents a volume to its droplet. */
export function volumeDevicePath(volumeName: string): string {
    return `/dev/disk/by-id/scsi-0DO_Volume_${volumeName}`;
}
