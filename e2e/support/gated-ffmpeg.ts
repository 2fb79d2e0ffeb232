import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

/**
 * An ffmpeg for the app (through FFMPEG_PATH) that waits at a gate: every call blocks until the
 * test opens it, then runs the bundled ffmpeg. A test can then look at a job while its render is
 * held, at its own pace, instead of racing a render that a fast machine finishes in seconds.
 * `holding`: only calls whose arguments contain this text wait (e.g. "aevalsrc=", the local
 * soundtrack), every other call runs at once; so a job can be held between two of its steps.
 */
export type GatedFfmpeg = { path: string; open(): void };

export function gatedFfmpeg(options: { holding?: string } = {}): GatedFfmpeg {
  const dir = mkdtempSync(path.join(os.tmpdir(), "p2v-gated-ffmpeg-"));
  const gate = path.join(dir, "open");
  const real = (createRequire(import.meta.url)("@ffmpeg-installer/ffmpeg") as { path: string }).path;
  const wrapper = path.join(dir, "ffmpeg");
  const wait = `while [ ! -e '${gate}' ]; do sleep 0.05; done\n`;
  const hold =
    options.holding === undefined
      ? wait
      : `case "$*" in *'${options.holding.replace(/'/g, "'\\''")}'*) ${wait.trim()} ;; esac\n`;
  writeFileSync(wrapper, `#!/bin/sh\n${hold}exec '${real}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  return { path: wrapper, open: () => writeFileSync(gate, "") };
}
