// The Jupyter server config (jupyter_server 2.x names) and the payload that carries it, the
// certificate and the key to the server on the setup command's stdin.
import { serverLayout } from "./server-layout";

export interface JupyterConfigArgs {
    hashedPassword: string;
    port: number;
    /** Idle minutes after which an unconnected kernel or an inactive terminal is shut down; 0 = never. */
    idleKernelMinutes: number;
}

/**
 * How often the server looks for idle kernels and terminals: jupyter_server's 5 minutes, or the
 * timeout itself when that is shorter, so a kernel goes within twice its timeout at most.
 */
export function cullIntervalSeconds(idleKernelMinutes: number): number {
    return Math.min(300, idleKernelMinutes * 60);
}

/** jupyter_server_config.json: TLS, the argon2 hash, all interfaces, no token, no browser, culling. */
export function renderJupyterConfig(args: JupyterConfigArgs): string {
    const l = serverLayout;
    const idleSeconds = args.idleKernelMinutes * 60;
    const culling =
        args.idleKernelMinutes === 0
            ? {}
            : {
                  // A kernel idle and with no browser tab connected frees its memory; a running cell
                  // (busy) or an open notebook (connected) keeps it. The notebook files are never touched.
                  MappingKernelManager: {
                      cull_idle_timeout: idleSeconds,
                      cull_interval: cullIntervalSeconds(args.idleKernelMinutes),
                      cull_connected: false,
                      cull_busy: false,
                  },
                  TerminalManager: {
                      cull_inactive_timeout: idleSeconds,
                      cull_interval: cullIntervalSeconds(args.idleKernelMinutes),
                  },
              };
    const config = {
        ServerApp: {
            ip: "0.0.0.0",
            port: args.port,
            port_retries: 0,
            certfile: l.certFile,
            keyfile: l.keyFile,
            root_dir: l.notebookDir,
            open_browser: false,
            allow_remote_access: true,
            allow_root: false,
        },
        IdentityProvider: {
            token: "",
        },
        PasswordIdentityProvider: {
            hashed_password: args.hashedPassword,
            password_required: true,
            allow_password_change: false,
        },
        // The only kernel is the kernel environment's; JupyterLab's own Python is not offered.
        KernelSpecManager: {
            ensure_native_kernel: false,
        },
        // JupyterLab would keep these under the config dir, which is root's and read-only to it.
        LabApp: {
            user_settings_dir: l.userSettingsDir,
            workspaces_dir: l.workspacesDir,
        },
        ContentsManager: {
            hide_globs: ["__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*.so", "*.dylib", "*~", "lost+found"],
        },
        ...culling,
    };
    return JSON.stringify(config, null, 2) + "\n";
}
