// jupyterlab-droplet: a personal JupyterLab server on a DigitalOcean droplet.
// Reads and validates the stack's config, wires the components, exports what the user needs.
import * as pulumi from "@pulumi/pulumi";
import { renderCloudInit } from "./components/cloud-init";
import { DropletConfig, namespace, readConfig } from "./components/config";
import { DataVolume } from "./components/data-volume";
import { Firewall } from "./components/firewall";
import { JupyterPassword } from "./components/jupyter-password";
import { renderConfigPayload, renderJupyterConfig } from "./components/jupyter-config";
import { kernelRequirements } from "./components/kernel-requirements";
import { resourceBaseName, stackTags } from "./components/naming";
import { RemoteSetup } from "./components/remote-setup";
import { Server } from "./components/server";
import { knownHostsLine as knownHostsEntry, sshConfigEntry, sshKeyFingerprint } from "./components/ssh-config";
import { SshKey } from "./components/ssh-key";
import { TlsCertificate } from "./components/tls-certificate";

// The SDK knows which keys were set with --secret but marks the function internal; the SDK
// version is pinned in package.json, and without the function no key counts as plain text.
const sdkRuntime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
const isConfigSecret = (key: string) => sdkRuntime.isConfigSecret?.(key) ?? true;

const stack = pulumi.getStack();
const stackConfig = new pulumi.Config(namespace);
const config = readConfigOrStop();

/** Bad config stops the program before any resource exists, with the messages alone (no stack trace). */
function readConfigOrStop(): DropletConfig {
    try {
        return readConfig({
            get: (key) => stackConfig.get(key),
            isSecret: (key) => isConfigSecret(`${namespace}:${key}`),
        }, __dirname);
    } catch (e) {
        throw new pulumi.RunError((e as Error).message);
    }
}

const baseName = resourceBaseName(stack);
const tags = stackTags(stack);
const volumeName = `${baseName}-notebooks`;

if (config.dataVolumeGb === 0) {
    void pulumi.log.warn("dataVolumeGb is 0: notebooks live on the droplet's own disk and are lost if the droplet is " +
        "ever replaced (a change of image, region or sshPublicKey). A data volume keeps them.");
}

const sshKey = new SshKey("ssh", { keyName: baseName, publicKey: config.sshPublicKey });
const jupyterPassword = new JupyterPassword("password", {
    password: config.password === undefined ? undefined : pulumi.secret(config.password),
});
const dataVolume = config.dataVolumeGb > 0
    ? new DataVolume("data", {
        volumeName,
        region: config.region,
        sizeGb: config.dataVolumeGb,
        retain: config.retainData,
        tags,
    })
    : undefined;

const server = new Server("server", {
    dropletName: baseName,
    region: config.region,
    size: config.size,
    image: config.image,
    sshKeyFingerprints: [sshKey.fingerprint],
    userData: renderCloudInit({ dataVolumeName: dataVolume === undefined ? undefined : volumeName }),
    volumeIds: dataVolume === undefined ? [] : [dataVolume.volumeId],
    tags,
});

new Firewall("firewall", {
    firewallName: baseName,
    dropletId: server.dropletId,
    allowedCidrs: config.allowedCidrs,
    jupyterPort: config.jupyterPort,
});

const certificate = new TlsCertificate("tls", { ipAddress: server.ipv4Address, commonName: baseName });

const setup = new RemoteSetup("setup", {
    dropletId: server.dropletId,
    host: server.ipv4Address,
    privateKey: sshKey.privateKey,
    jupyterlabVersion: config.jupyterlabVersion,
    jupyterPort: config.jupyterPort,
    configPayload: pulumi.all([jupyterPassword.hash, certificate.certPem, certificate.privateKeyPem]).apply(
        ([hashedPassword, certPem, keyPem]) => renderConfigPayload({
            "jupyter_server_config.json": renderJupyterConfig({
                hashedPassword,
                port: config.jupyterPort,
                idleKernelMinutes: config.idleKernelMinutes,
            }),
            "tls.crt": certPem,
            "tls.key": keyPem,
        })),
    kernelRequirements: kernelRequirements(config.pythonPackages, config.requirements?.text),
});

const sshUser = "jupyter";
export const url = pulumi.interpolate`https://${server.ipv4Address}:${config.jupyterPort}/lab`;
export const ipAddress = server.ipv4Address;
export const password = jupyterPassword.password;
export const sshCommand = sshKey.privateKey === undefined
    ? pulumi.interpolate`ssh ${sshUser}@${server.ipv4Address}`
    : pulumi.interpolate`ssh -i ~/.ssh/${baseName} ${sshUser}@${server.ipv4Address}`;
export const sshPrivateKey = sshKey.privateKey;
export const certificateSha256 = certificate.sha256Fingerprint;
export const certificatePem = certificate.certPem;
export const certificateValidUntil = certificate.validUntil;
export const monthlyPriceUsd = server.priceMonthly;
export const setupReport = setup.readyMessage;
export const sshHostKey = setup.hostKey;
export const sshHostKeyFingerprint = setup.hostKey.apply(sshKeyFingerprint);
export const knownHostsLine = setup.hostKey.apply((hostKey) => knownHostsEntry(baseName, hostKey));
export const sshConfig = server.ipv4Address.apply((hostName) => sshConfigEntry({
    alias: baseName,
    hostName,
    user: sshUser,
    identityFile: sshKey.privateKey === undefined ? undefined : `~/.ssh/${baseName}`,
}));
