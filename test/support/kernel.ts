// Runs code in a Jupyter kernel through the server's kernel channels WebSocket, as the
// JupyterLab front end does (the JSON message protocol, version 5.3).
import { randomUUID } from "crypto";
import WebSocket from "ws";
import { JupyterClient } from "./jupyter-client";

export interface CellResult {
    /** The execute_result's text/plain, or undefined when the cell printed nothing. */
    result?: string;
    stdout: string;
    error?: string;
}

interface KernelMessage {
    parent_header: { msg_id?: string };
    msg_type: string;
    content: { data?: Record<string, string>; text?: string; name?: string; ename?: string; evalue?: string; execution_state?: string };
}

/** Starts a kernel through the REST API, as opening a notebook does; returns its id. */
export async function startKernel(client: JupyterClient, kernelName?: string): Promise<string> {
    const started = await client.api("POST", "/api/kernels", kernelName === undefined ? {} : { name: kernelName });
    if (started.status !== 201) {
        throw new Error(`POST /api/kernels answered ${started.status}: ${started.body}`);
    }
    return (JSON.parse(started.body) as { id: string }).id;
}

/**
 * Connects to a kernel's channels, sends `code` as an execute request and hands each message
 * answering it to `onMessage` until that returns true (or 120 s pass); then disconnects.
 */
async function execute(
    client: JupyterClient,
    baseUrl: string,
    caPem: string,
    kernelId: string,
    code: string,
    onMessage: (message: KernelMessage) => boolean,
): Promise<void> {
    const url = new URL(`/api/kernels/${kernelId}/channels?session_id=${randomUUID()}`, baseUrl);
    url.protocol = "wss:";
    const socket = new WebSocket(url, { ca: caPem, headers: { Cookie: client.cookieHeader(), "X-XSRFToken": client.xsrf() } });
    try {
        await new Promise<void>((resolve, reject) => {
            const msgId = randomUUID();
            const timer = setTimeout(() => reject(new Error(`the kernel did not answer ${JSON.stringify(code)} in 120 s`)), 120_000);
            socket.on("error", (e) => {
                clearTimeout(timer);
                reject(e);
            });
            socket.on("open", () => {
                socket.send(
                    JSON.stringify({
                        header: {
                            msg_id: msgId,
                            msg_type: "execute_request",
                            username: "test",
                            session: randomUUID(),
                            date: new Date().toISOString(),
                            version: "5.3",
                        },
                        parent_header: {},
                        metadata: {},
                        channel: "shell",
                        buffers: [],
                        content: {
                            code,
                            silent: false,
                            store_history: false,
                            user_expressions: {},
                            allow_stdin: false,
                            stop_on_error: true,
                        },
                    }),
                );
            });
            socket.on("message", (data: Buffer) => {
                const message = JSON.parse(data.toString("utf8")) as KernelMessage;
                if (message.parent_header.msg_id === msgId && onMessage(message)) {
                    clearTimeout(timer);
                    resolve();
                }
            });
        });
    } finally {
        socket.close();
    }
}

/** Runs one cell in a new kernel and shuts the kernel down again. */
export async function runCell(
    client: JupyterClient,
    baseUrl: string,
    caPem: string,
    code: string,
    kernelName?: string,
): Promise<CellResult> {
    const kernelId = await startKernel(client, kernelName);
    const outcome: CellResult = { stdout: "" };
    try {
        await execute(client, baseUrl, caPem, kernelId, code, (message) => {
            if (message.msg_type === "execute_result") {
                outcome.result = message.content.data?.["text/plain"];
            } else if (message.msg_type === "stream" && message.content.name === "stdout") {
                outcome.stdout += message.content.text ?? "";
            } else if (message.msg_type === "error") {
                outcome.error = `${message.content.ename}: ${message.content.evalue}`;
            }
            return message.msg_type === "status" && message.content.execution_state === "idle";
        });
    } finally {
        await client.api("DELETE", `/api/kernels/${kernelId}`);
    }
    return outcome;
}

/**
 * Starts a kernel, sets `code` running in it and disconnects while it runs, as a user who starts
 * a long cell and closes the tab; returns the kernel's id. The kernel is left running.
 */
export async function leaveCellRunning(client: JupyterClient, baseUrl: string, caPem: string, code: string): Promise<string> {
    const kernelId = await startKernel(client);
    await execute(
        client,
        baseUrl,
        caPem,
        kernelId,
        code,
        (message) => message.msg_type === "status" && message.content.execution_state === "busy",
    );
    return kernelId;
}
