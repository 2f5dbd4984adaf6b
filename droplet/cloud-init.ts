// The droplet's user-data. It must stay the same for the droplet's whole life: a change of
// user-data replaces the droplet and its disk. So it holds only what never changes with the
// password, the certificate, the Jupyter config or the JupyterLab version, and nothing secret
// (any process on the droplet can read user-data from the metadata service).
import { serverLayout, volumeDevicePath } from "./server-layout";
import { renderSystemdUnit } from "./systemd-unit";

export interface CloudInitArgs {
    /** The data volume's name, when there is one; it is mounted as Jupyter's root directory. */
    dataVolumeName?: string;
}

/** Swap: pip installs on a 2 GB droplet can otherwise meet the OOM killer. Part of the user-data, so fixed. */
const swapBytes = 2048 * 1024 * 1024;

/** sshd drop-in: key logins only. Named to sort first, because sshd keeps the first value it reads. */
export const sshdHardening = `# Written by jupyterlab-droplet: key-based logins only.
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
`;

function block(text: string, indent: string): string {
    return text
        .trimEnd()
        .split("\n")
        .map((line) => (line === "" ? "" : indent + line))
        .join("\n");
}

export function renderCloudInit(args: CloudInitArgs = {}): string {
    const l = serverLayout;
    const mounts =
        args.dataVolumeName === undefined
            ? ""
            : `mounts:
  - [${JSON.stringify(volumeDevicePath(args.dataVolumeName))}, ${JSON.stringify(l.notebookDir)}, ext4, "defaults,nofail,discard,x-systemd.device-timeout=60s", "0", "2"]
`;
    return `#cloud-config
# jupyterlab-droplet: prepares the machine. JupyterLab itself, its config, certificate and
# password hash arrive later over SSH, so changing them never replaces this droplet.
disable_root: false
ssh_pwauth: false
package_update: true
packages:
  - python3-venv
  - curl
  - ca-certificates
  - unattended-upgrades
users:
  - name: ${l.user}
    gecos: JupyterLab
    shell: /bin/bash
    lock_passwd: true
swap:
  filename: ${l.swapFile}
  size: ${swapBytes}
  maxsize: ${swapBytes}
${mounts}write_files:
  - path: /etc/ssh/sshd_config.d/10-jupyterlab-droplet.conf
    owner: root:root
    permissions: "0644"
    content: |
${block(sshdHardening, "      ")}
  - path: /etc/systemd/system/${l.service}
    owner: root:root
    permissions: "0644"
    content: |
${block(renderSystemdUnit(), "      ")}
runcmd:
  # The volume's mount point can be made under the home before the user exists: own it again.
  - [chown, "${l.user}:${l.user}", ${l.home}]
  - [chmod, "0750", ${l.home}]
  - [sh, -c, "cp -rn /etc/skel/. ${l.home}/ && chown -R ${l.user}:${l.user} ${l.home}/.bashrc ${l.home}/.profile ${l.home}/.bash_logout || true"]
  - [install, -d, -o, ${l.user}, -g, ${l.user}, -m, "0750", ${l.notebookDir}]
  - [systemctl, daemon-reload]
  - [systemctl, enable, ${l.service}]
  # Ubuntu 24.04 socket-activates ssh: ssh.service is inactive until a first connection and
  # sshd.service does not exist, so a plain reload fails there. try-reload-or-restart reloads a
  # running sshd and leaves an inactive one alone (the socket's next sshd reads the new config).
  # A connection that starts ssh.service at the same moment can make it fail once: try again.
  - [sh, -c, "for attempt in 1 2 3 4 5 6; do systemctl try-reload-or-restart ssh.service && exit 0; sleep 5; done; exit 1"]
`;
}
