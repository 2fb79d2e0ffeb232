import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { sleep } from "./stats";
import { freePort } from "../test/support/redis";

/** The production build and a `next start` of it on loopback, owned (and killed) by the benchmark. */

const ROOT = path.resolve(import.meta.dirname, "..");
const NEXT_BIN = path.join(ROOT, "node_modules/next/dist/bin/next");

/**
 * Builds when there is no build, or when it predates the events route (an older checkout's
 * build would measure the wrong app). Returns the build id and whether this run built it.
 */
export function ensureBuild(): { buildId: string; built: boolean; builtAt: Date } {
  const buildIdFile = path.join(ROOT, ".next/BUILD_ID");
  const hasEvents = existsSync(path.join(ROOT, ".next/server/app/api/events/[id]/route.js"));
  let built = false;
  if (!existsSync(buildIdFile) || !hasEvents) {
    console.log("Building the app (next build)…");
    const result = spawnSync(process.execPath, [NEXT_BIN, "build"], {
      cwd: ROOT,
      stdio: "inherit",
      env: { ...process.env, NODE_ENV: "production" },
    });
    if (result.status !== 0) throw new Error(`next build failed (exit ${result.status})`);
    built = true;
  }
  return { buildId: readFileSync(buildIdFile, "utf8").trim(), built, builtAt: statSync(buildIdFile).mtime };
}

export { freePort };

export type BenchServer = { origin: string; port: number; pid: number; stop(): Promise<void> };

/** `next start` on 127.0.0.1 in its own process group, so that renders it starts die with it. */
export async function startServer(port: number, env: Record<string, string>): Promise<BenchServer> {
  const child: ChildProcess = spawn(process.execPath, [NEXT_BIN, "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: "production", LOG_LEVEL: "warn", ...env },
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}: ${stderr}`);
    const ok = await fetch(`${origin}/api/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`next start did not answer within 60 s: ${stderr}`);
    await sleep(200);
  }
  const pid = child.pid!;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(-pid, "SIGTERM");
    const timer = setTimeout(() => {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }, 5000);
    await exited;
    clearTimeout(timer);
  };
  return { origin, port, pid, stop };
}

/** The resident memory of a process (Linux: VmRSS in /proc), in bytes; NaN where it cannot be read. */
export function rssBytes(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Number(kb) * 1024 : NaN;
  } catch {
    return NaN;
  }
}
