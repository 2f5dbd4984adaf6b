// Where things live on the server. The single source of truth: the renderers use it and the
// shell steps receive it as environment variables, so no path is written twice.

export const serverLayout = {
    /** The unprivileged account that runs JupyterLab and owns the notebooks. */
    user: "jupyter",
    home: "/home/jupyter",
    /** Jupyter's own per-user config dir: config, certificate and key live here, 0600. */
    configDir: "/home/jupyter/.jupyter",
    configFile: "/home/jupyter/.jupyter/jupyter_server_config.json",
    /** The certificate and key JupyterLab serves: a copy of the self-signed pair or of the ACME pair. */
    certFile: "/home/jupyter/.jupyter/tls/jupyterlab.crt",
    keyFile: "/home/jupyter/.jupyter/tls/jupyterlab.key",
    /** The self-signed pair the configure step pushes: served whenever no valid ACME pair is installed. */
    selfSignedCertFile: "/home/jupyter/.jupyter/tls/self-signed.crt",
    selfSignedKeyFile: "/home/jupyter/.jupyter/tls/self-signed.key",
    /** The ACME pair (full chain) for the domain named in acmeNameFile, copied from certbot's lineage. */
    acmeCertFile: "/home/jupyter/.jupyter/tls/acme.crt",
    acmeKeyFile: "/home/jupyter/.jupyter/tls/acme.key",
    acmeNameFile: "/home/jupyter/.jupyter/tls/acme.name",
    /** certbot's name for the certificate it keeps and renews for the server. */
    acmeCertName: "jupyterlab-droplet",
    /** certbot runs every executable here after each renewal. */
    renewalHook: "/etc/letsencrypt/renewal-hooks/deploy/jupyterlab-droplet.sh",
    /** The unit's drop-in for the Jupyter port (the capability a port below 1024 needs). */
    portDropIn: "/etc/systemd/system/jupyterlab.service.d/port.conf",
    /** Jupyter's root directory; the data volume is mounted here when there is one. */
    notebookDir: "/home/jupyter/notebooks",
    /** JupyterLab's own environment, owned by root so nothing run from a notebook can break it. */
    serverEnv: "/opt/jupyterlab/current",
    serverEnvRoot: "/opt/jupyterlab",
    /** The notebook kernel's environment, where the user's packages go. */
    kernelEnv: "/opt/jupyter-kernel/current",
    kernelEnvRoot: "/opt/jupyter-kernel",
    service: "jupyterlab.service",
    swapFile: "/swapfile",
    /** Held by each install step: a run cut short by Ctrl-C may leave its install going on. */
    setupLock: "/run/lock/jupyterlab-droplet-setup.lock",
} as const;

/** The environment the shell steps get: every path they touch, from serverLayout. */
export function layoutEnvironment(): Record<string, string> {
    return {
        JLD_USER: serverLayout.user,
        JLD_HOME: serverLayout.home,
        JLD_CONFIG_FILE: serverLayout.configFile,
        JLD_CERT_FILE: serverLayout.certFile,
        JLD_KEY_FILE: serverLayout.keyFile,
        JLD_SELF_SIGNED_CERT_FILE: serverLayout.selfSignedCertFile,
        JLD_SELF_SIGNED_KEY_FILE: serverLayout.selfSignedKeyFile,
        JLD_ACME_CERT_FILE: serverLayout.acmeCertFile,
        JLD_ACME_KEY_FILE: serverLayout.acmeKeyFile,
        JLD_ACME_NAME_FILE: serverLayout.acmeNameFile,
        JLD_ACME_CERT_NAME: serverLayout.acmeCertName,
        JLD_RENEWAL_HOOK: serverLayout.renewalHook,
        JLD_PORT_DROP_IN: serverLayout.portDropIn,
        JLD_NOTEBOOK_DIR: serverLayout.notebookDir,
        JLD_SERVER_ENV: serverLayout.serverEnv,
        JLD_SERVER_ENV_ROOT: serverLayout.serverEnvRoot,
        JLD_KERNEL_ENV: serverLayout.kernelEnv,
        JLD_KERNEL_ENV_ROOT: serverLayout.kernelEnvRoot,
        JLD_SERVICE: serverLayout.service,
        JLD_SETUP_LOCK: serverLayout.setupLock,
    };
}

/** The device path under which DigitalOcean presents a volume to its droplet. */
export function volumeDevicePath(volumeName: string): string {
    return `/dev/disk/by-id/scsi-0DO_Volume_${volumeName}`;
}
