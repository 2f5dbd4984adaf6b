// What the certificate step sends the server for a domain: certbot's renewal hook, with the
// server's layout, the domain and the Jupyter port written into it (the hook runs from
// certbot's timer, long after the step, with nothing else to tell it where things are).
import { renderFilePayload } from "./file-payload";
import { standaloneScript } from "./step-scripts";

export interface RenewalHookArgs {
    domain: string;
    jupyterPort: number;
    /** The data volume's device, when there is one: each certificate is kept on it for the next droplet. */
    volumeDevice?: string;
}

export function renderRenewalHook(args: RenewalHookArgs): string {
    return standaloneScript("deploy-certificate", {
        JLD_DOMAIN: args.domain,
        JLD_PORT: String(args.jupyterPort),
        ...(args.volumeDevice === undefined ? {} : { JLD_VOLUME_DEVICE: args.volumeDevice }),
    });
}

/** The certificate step's stdin (renderFilePayload's format). */
export function certificatePayload(args: RenewalHookArgs): string {
    return renderFilePayload({ "renewal-hook.sh": renderRenewalHook(args) });
}
