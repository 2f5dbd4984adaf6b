import * as os from "os";
import * as path from "path";

/** Where tests keep what they build (venvs, images, engine binaries): outside the repo. */
export function cacheDir(): string {
    return process.env.JUPYTERLAB_DROPLET_CACHE ?? path.join(os.homedir(), ".cache", "jupyterlab-droplet");
}
