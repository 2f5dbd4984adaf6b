// The systemd unit that runs JupyterLab: starts on boot, restarts on failure, never as root.
import { serverLayout } from "./server-layout";

export function renderSystemdUnit(): string {
    const l = serverLayout;
    return `[Unit]
Description=JupyterLab server (jupyterlab-droplet)
Documentation=https://jupyterlab.readthedocs.io
Wants=network-online.target
After=network-online.target local-fs.target
# The remote setup writes the config; until then there is nothing to start.
ConditionPathExists=${l.configFile}

[Service]
Type=simple
User=${l.user}
Group=${l.user}
WorkingDirectory=${l.notebookDir}
Environment=JUPYTER_CONFIG_DIR=${l.configDir}
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

/**
 * The drop-in that lets JupyterLab, an unprivileged user, bind a port below 1024 (443): the one
 * capability it needs, only then. Written by the configure step, so the user-data stays the same.
 */
export function renderPortDropIn(port: number): string {
    if (port >= 1024) {
        return `# Port ${port} needs no privilege.\n[Service]\n`;
    }
    return `# Port ${port} is below 1024: binding it takes this capability, and JupyterLab gets no other.
[Service]
AmbientCapabilities=CAP_NET_BIND_SERVICE
`;
}
