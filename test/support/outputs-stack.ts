// A stack whose outputs are the ones the program exports for SSH, set from values the test
// knows, so scripts/connect.sh runs against the real Pulumi CLI and `pulumi stack output`.
import * as fs from "fs";
import * as path from "path";
import { buildEngine, PulumiCli } from "../engine/pulumi-cli";

const repo = path.resolve(__dirname, "..", "..");

export interface SshOutputs {
    sshConfig: string;
    knownHostsLine: string;
    sshPrivateKey: string;
}

export class OutputsStack {
    readonly cli: PulumiCli;

    private constructor(readonly projectDir: string, cli: PulumiCli) {
        this.cli = cli;
    }

    static async create(workDir: string, stack: string): Promise<OutputsStack> {
        const engine = buildEngine(["pulumi", "pulumi-language-nodejs"]);
        const projectDir = path.join(workDir, "outputs-project");
        fs.mkdirSync(path.join(projectDir, "scripts"), { recursive: true });
        fs.writeFileSync(path.join(projectDir, "Pulumi.yaml"), "name: jupyterlab-droplet\nruntime: nodejs\nmain: index.js\n");
        fs.writeFileSync(path.join(projectDir, "index.js"), [
            "const pulumi = require(\"@pulumi/pulumi\");",
            "const config = new pulumi.Config();",
            "exports.sshConfig = config.require(\"sshConfig\");",
            "exports.knownHostsLine = config.require(\"knownHostsLine\");",
            "exports.sshPrivateKey = config.requireSecret(\"sshPrivateKey\");",
            "",
        ].join("\n"));
        fs.symlinkSync(path.join(repo, "node_modules"), path.join(projectDir, "node_modules"));
        fs.copyFileSync(path.join(repo, "scripts", "connect.sh"), path.join(projectDir, "scripts", "connect.sh"));
        const home = path.join(workDir, "home");
        fs.mkdirSync(path.join(workDir, "state"), { recursive: true });
        fs.mkdirSync(home, { recursive: true });
        const cli = new PulumiCli(projectDir, PulumiCli.environment(engine.binDir, home, "http://127.0.0.1:9"));
        await cli.ok(["login", `file://${path.join(workDir, "state")}`]);
        await cli.ok(["stack", "init", stack]);
        return new OutputsStack(projectDir, cli);
    }

    async publish(outputs: SshOutputs): Promise<void> {
        await this.cli.ok(["config", "set", "sshConfig"], { stdin: outputs.sshConfig });
        await this.cli.ok(["config", "set", "knownHostsLine", outputs.knownHostsLine]);
        await this.cli.ok(["config", "set", "--secret", "sshPrivateKey"], { stdin: outputs.sshPrivateKey });
        await this.cli.ok(["up", "--yes", "--skip-preview"]);
    }

    get home(): string {
        return String(this.cli.environment.HOME);
    }
}
