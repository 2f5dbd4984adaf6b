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

export async function runCell(client: JupyterClient, baseUrl: string, caPem: string, code: string, kernelName?: string): Promise<CellResult> {
    const started = await client.api("POST", "/api/kernels", kernelName === undefined ? {} : { name: kernelName });
    if (started.status !== 201) {
        throw new Error(`POST /api/kernels answered ${started.status}: ${started.body}`);
    }
    const kernelId = (JSON.parse(started.body) as { id: string }).id;
    const url = new URL(`/api/kernels/${kernelId}/channels?session_id=${randomUUID()}`, baseUrl);
    url.protocol = "wss:";
    const socket = new WebSocket(url, { ca: caPem, headers: { Cookie: client.cookieHeader(), "X-XSRFToken": client.xsrf() } });
    try {
        return await new Promise<CellResult>((resolve, reject) => {
            const msgId = randomUUID();
            const outcome: CellResult = { stdout: "" };
            const timer = setTimeout(() => reject(new Error(`the kernel did not finish running ${JSON.stringify(code)} in 120 s`)), 120_000);
            socket.on("error", (e) => { clearTimeout(timer); reject(e); });
            socket.on("open", () => {
                socket.send(JSON.stringify({
                    header: { msg_id: msgId, msg_type: "execute_request", username: "test", session: randomUUID(), date: new Date().toISOString(), version: "5.3" },
                    parent_header: {}, metadata: {}, channel: "shell", buffers: [],
                    content: { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true },
                }));
            });
            socket.on("message", (data: Buffer) => {
                const message = JSON.parse(data.toString("utf8")) as {
                    parent_header: { msg_id?: string }; msg_type: string; channel: string;
                    content: { data?: Record<string, string>; text?: string; name?: string; ename?: string; evalue?: string; execution_state?: string };
                };
                if (message.parent_header.msg_id !== msgId) {
                    return;
                }
                if (message.msg_type === "execute_result") {
                    outcome.result = message.content.data?.["text/plain"];
                } else if (message.msg_type === "stream" && message.content.name === "stdout") {
                    outcome.stdout += message.content.text ?? "";
                } else if (message.msg_type === "error") {
                    outcome.error = `${message.content.ename}: ${message.content.evalue}`;
                } else if (message.msg_type === "status" && message.content.execution_state === "idle") {
                    clearTimeout(timer);
                    resolve(outcome);
                }
            });
        });
    } finally {
        socket.close();
        await client.api("DELETE", `/api/kernels/${kernelId}`);
    }
}
