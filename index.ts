// jupyterlab-droplet: a personal JupyterLab server on a DigitalOcean droplet.
// Reads and validates the stack's config, wires the components, exports what the user needs.
import * as pulumi from "@pulumi/pulumi";
import { renderCloudInit } from "./droplet/cloud-init";
import { defaults, DropletConfig, formatProblems, httpsPort, namespace, readConfig } from "./config/config";
import { DataVolume } from "./components/data-volume";
import { DomainName, findZone, ZonePlace } from "./components/domain-name";
import { Firewall } from "./components/firewall";
import { JupyterPassword } from "./components/jupyter-password";
import { serverLayout } from "./droplet/server-layout";
import { dataVolumeName, resourceBaseName, stackTags } from "./config/naming";
import { costSummary, reservedIpPrice, totalPrice, volumePrice } from "./config/pricing";
import { ReservedAddress } from "./components/reserved-address";
import { RemoteSetup } from "./components/remote-setup";
import { Server } from "./components/server";
import { knownHostsLine as knownHostsEntry, sshConfigEntry, sshKeyFingerprint } from "./droplet/ssh-config";
import { SshKey } from "./components/ssh-key";
import { TlsCertificate } from "./components/tls-certificate";
import { existingVolume, volumeChangeProblem } from "./config/volume-guard";
import { apiErrorMessage, missingTokenProblem } from "./config/preflight";

// The SDK knows which keys were set with --secret but marks the function internal; the SDK
// version is pinned in package.json, and without the function no key counts as plain text.
const sdkRuntime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
const isConfigSecret = (key: string) => sdkRuntime.isConfigSecret?.(key) ?? true;

const stack = pulumi.getStack();
const stackConfig = new pulumi.Config(namespace);
const config = readConfigOrStop();

/** Bad config stops the program before any resource exists, with the messages alone (no stack trace). */
function readConfigOrStop(): DropletConfig {
    const reading = readConfig(
        {
            get: (key) => stackConfig.get(key),
            isSecret: (key) => isConfigSecret(`${namespace}:${key}`),
            keys: () =>
                Object.keys(pulumi.runtime.allConfig())
                    .filter((key) => key.startsWith(`${namespace}:`))
                    .map((key) => key.slice(namespace.length + 1)),
        },
        __dirname,
    );
    if (!reading.ok) {
        throw new pulumi.RunError(formatProblems(reading.problems));
    }
    return reading.config;
}

const tokenProblem = missingTokenProblem(process.env, new pulumi.Config("digitalocean").get("token"));
if (tokenProblem !== undefined) {
    throw new pulumi.RunError(tokenProblem);
}

/** The zone lookup is the one check that needs the API: it too stops the program before any resource. */
async function findZoneOrStop(domain: string): Promise<ZonePlace> {
    try {
        return await findZone(domain);
    } catch (e) {
        throw new pulumi.RunError((e as Error).message);
    }
}

const baseName = resourceBaseName(stack);
const tags = stackTags(stack);

if (config.domain === undefined && (config.acmeEmail !== undefined || config.acmeServer !== defaults.acmeServer)) {
    void pulumi.log.warn("acmeEmail and acmeServer take effect only with a domain: set domain, or unset them.");
}
if (config.dataVolumeGb === 0) {
    void pulumi.log.warn(
        "dataVolumeGb is 0: notebooks live on the droplet's own disk and are lost if the droplet is " +
            "ever replaced (a change of image, region or sshPublicKey). A data volume keeps them.",
    );
}

/**
 * A change that would lose the notebooks stops the program before any resource exists too.
 * Returns the volume's name: one made before long stack names got a hash keeps its own, which
 * the user-data's mount names (a new name there would replace the droplet).
 */
async function volumeNameOrStop(): Promise<string> {
    const wanted = dataVolumeName(baseName);
    try {
        const previous = await existingVolume(wanted, stack);
        const problem = volumeChangeProblem(previous, config);
        if (problem !== undefined) {
            throw problem;
        }
        return previous?.name ?? wanted;
    } catch (e) {
        // The volume lookup is the first authenticated read: a token DigitalOcean refuses shows here.
        throw new pulumi.RunError(apiErrorMessage((e as Error).message));
    }
}

/** Async only for the checks that must stop the program before any resource exists. */
export = async () => {
    const volumeName = await volumeNameOrStop();
    const zonePlace = config.domain === undefined ? undefined : await findZoneOrStop(config.domain);

    const sshKey = new SshKey("ssh", { keyName: baseName, publicKey: config.sshPublicKey });
    const jupyterPassword = new JupyterPassword("password", {
        password: config.password === undefined ? undefined : pulumi.secret(config.password),
    });
    const dataVolume =
        config.dataVolumeGb > 0
            ? new DataVolume("data", {
                  volumeName,
                  region: config.region,
                  sizeGb: config.dataVolumeGb,
                  retain: config.retainData,
                  tags,
              })
            : undefined;

    const reservedAddress = config.reservedIp ? new ReservedAddress("address", { region: config.region }) : undefined;
    // With a reserved IP the certificate names an address that outlives droplets, so it stays
    // through pause, resume and replacement; otherwise it lives and dies with the droplet's address.
    const lastingCertificate =
        reservedAddress === undefined
            ? undefined
            : new TlsCertificate("tls", { ipAddress: reservedAddress.ipAddress, commonName: baseName });

    /** The droplet and everything that exists only for it: what `paused: true` deletes. */
    function launchServer() {
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
            acmeHttpChallenge: config.domain !== undefined,
        });

        // The address users and the setup reach it at: the reserved IP once it points here, or its own.
        const address = reservedAddress?.assignTo(server.dropletId) ?? server.ipv4Address;
        const certificate = lastingCertificate ?? new TlsCertificate("tls", { ipAddress: server.ipv4Address, commonName: baseName });
        // The record exists before the setup asks the ACME server to look the name up.
        const domainName = zonePlace === undefined ? undefined : new DomainName("domain", { place: zonePlace, address });

        const setup = new RemoteSetup("setup", {
            dropletId: server.dropletId,
            host: address,
            privateKey: sshKey.privateKey,
            settings: {
                jupyterlabVersion: config.jupyterlabVersion,
                jupyterPort: config.jupyterPort,
                idleKernelMinutes: config.idleKernelMinutes,
                maxLoginFailures: config.maxLoginFailures,
                banMinutes: config.banMinutes,
                pythonPackages: config.pythonPackages,
                requirementsText: config.requirements?.text,
                domain: config.domain,
                acmeServer: config.acmeServer,
                acmeEmail: config.acmeEmail,
                dataVolume: dataVolume === undefined ? undefined : { name: volumeName, sizeGb: config.dataVolumeGb },
            },
            secrets: { hashedPassword: jupyterPassword.hash, certPem: certificate.certPem, keyPem: certificate.privateKeyPem },
            domainRecord: domainName,
            dataVolume,
        });
        return { server, address, certificate, setup };
    }

    const running = config.paused ? undefined : launchServer();
    const keptPrices = [volumePrice(config.dataVolumeGb), ...(config.reservedIp ? [reservedIpPrice(running !== undefined)] : [])];
    const price =
        running === undefined
            ? pulumi.output(totalPrice(...keptPrices))
            : pulumi
                  .all([running.server.priceHourly, running.server.priceMonthly])
                  .apply(([hourlyUsd, monthlyUsd]) => totalPrice({ hourlyUsd, monthlyUsd }, ...keptPrices));
    const cost = price.apply((p) =>
        costSummary({ paused: config.paused, dataVolumeGb: config.dataVolumeGb, reservedIp: config.reservedIp, price: p }),
    );
    // Runs once the droplet's price is known (not in a preview of a new droplet): a reminder on every `up`.
    cost.apply((line) => pulumi.log.info(`${baseName}: ${line}`));

    const sshUser = serverLayout.user;

    /** What a running server adds to the outputs: how to reach it and how to trust it. */
    function serverOutputs({ address: ip, certificate, setup }: NonNullable<typeof running>) {
        // With a domain, browsers reach it by name and trust its ACME certificate; without one,
        // by address, trusting the self-signed certificate whose fingerprint the outputs give.
        const host = config.domain === undefined ? ip : pulumi.output(config.domain);
        const trust =
            config.domain === undefined
                ? {
                      certificateSha256: certificate.sha256Fingerprint,
                      certificatePem: certificate.certPem,
                      certificateValidUntil: certificate.validUntil,
                  }
                : { certificate: setup.certificateReport };
        return {
            url: pulumi.interpolate`https://${host}${config.jupyterPort === httpsPort ? "" : `:${config.jupyterPort}`}/lab`,
            ipAddress: ip,
            sshCommand:
                sshKey.privateKey === undefined
                    ? pulumi.interpolate`ssh ${sshUser}@${ip}`
                    : pulumi.interpolate`ssh -i ~/.ssh/${baseName} ${sshUser}@${ip}`,
            ...trust,
            setupReport: setup.readyMessage,
            sshHostKey: setup.hostKey,
            sshHostKeyFingerprint: setup.hostKey.apply(sshKeyFingerprint),
            knownHostsLine: setup.hostKey.apply((hostKey) => knownHostsEntry(baseName, hostKey)),
            sshConfig: host.apply((hostName) =>
                sshConfigEntry({
                    alias: baseName,
                    hostName,
                    user: sshUser,
                    identityFile: sshKey.privateKey === undefined ? undefined : `~/.ssh/${baseName}`,
                }),
            ),
        };
    }

    // Only the outputs that exist in this state: a paused stack has no url, a stack with the
    // user's own key no private key (an undefined output would only add a warning).
    return {
        state: config.paused ? "paused" : "running",
        costNote: cost,
        hourlyPriceUsd: price.apply((p) => p.hourlyUsd),
        monthlyPriceUsd: price.apply((p) => p.monthlyUsd),
        password: jupyterPassword.password,
        ...(sshKey.privateKey === undefined ? {} : { sshPrivateKey: sshKey.privateKey }),
        ...(running === undefined ? {} : serverOutputs(running)),
    };
};
