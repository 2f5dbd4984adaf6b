// The systemd unit that runs JupyterLab: starts on boot, restarts on failure, never as root.
import { serverLayout } from "./server-layout";

/**
 * The unit as the user-data writes it at the droplet's first boot. It can never change (a new
 * user-data replaces the droplet), so it still names the config dir of earlier versions:
 * renderUnitDropIn, which the configure step writes and rewrites, overrides what has changed since.
 */
export function renderSystemdUnit(): string {
    const l = serverLayout;
    return `[Unit]
Description=JupyterLab server (jupyterlab-droplet)
Documentation=https://jupyterlab.readthedocs.io
Wants=network-online.target
After=network-online.target local-fs.target
# The remote setup writes the config; until then there is nothing to start.
ConditionPathExists=${l.legacyConfigFile}

[Service]
Type=simple
User=${l.user}
Group=${l.user}
WorkingDirectory=${l.notebookDir}
Environment=JUPYTER_CONFIG_DIR=${l.legacyConfigDir}
ExecStart=${l.serverEnv}/bin/jupyter-lab
Restart=on-failure
RestartSec=5s
UMask=0027
NoNewPrivileges=true
PrivateTmp=true
ProtectSystem=full

[Install]
WantedBy=multi-user.target
`;
}

export interface UnitDropInArgs {
    /** Whether the notebooks live on a data volume mounted at notebookDir. */
    dataVolume: boolean;
}

/**
 * The unit's drop-in, written by the configure step (so the user-data stays the same):
 * - the config comes from the root-owned config dir, and Python's user site (~/.local, which
 *   notebook code can write) is not read, so nothing the jupyter user writes runs in the server;
 * - with a data volume, JupyterLab runs only while the volume is mounted: never on the root disk
 *   under an empty mount point, where notebooks saved would vanish once the volume is mounted.
 */
export function renderUnitDropIn(args: UnitDropInArgs): string {
    const l = serverLayout;
    const volume = args.dataVolume
        ? `# Stops with the volume's unmount; starts it (or fails) first.
RequiresMountsFor=${l.notebookDir}
`
        : "";
    const volumeCheck = args.dataVolume
        ? `# A volume that did not attach leaves an empty mount point: refuse to serve it.
ExecStartPre=/usr/bin/mountpoint --quiet ${l.notebookDir}
`
        : "";
    return `# Written by jupyterlab-droplet on every \`pulumi up\` that pushes the config.
[Unit]
# An empty value drops the unit's own condition, on the config file of earlier versions.
ConditionPathExists=
ConditionPathExists=${l.configFile}
${volume}
[Service]
Environment=JUPYTER_CONFIG_DIR=${l.configDir}
Environment=PYTHONNOUSERSITE=1
${volumeCheck}`;
}
