// The local droplet harness reads a guest's console to tell a kernel that started init from one
// that panicked at boot (which emulation very rarely causes, and which the backend boots again).
import * as assert from "node:assert/strict";
import { test } from "node:test";
import { kernelStage } from "../vm/local-droplet";

test("a console that reached init, one that panicked, and one still booting", () => {
    const early = "[    0.000000] Linux version 6.12.117+deb13-cloud-amd64\n[    0.412345] smpboot: CPU0: AMD EPYC\n";
    assert.equal(kernelStage(early), "booting");
    assert.equal(kernelStage(`${early}[    8.416297] Run /init as init process\n`), "init");
    assert.equal(kernelStage(`${early}[   14.782977] systemd[1]: Inserted module 'autofs4'\n`), "init");
    const panic = `${early}[    0.751234] Kernel panic - not syncing: Attempted to kill the idle task!\n[    0.752000] ---[ end Kernel panic - not syncing: Attempted to kill the idle task! ]---\n`;
    assert.equal(kernelStage(panic), "panic");
});
