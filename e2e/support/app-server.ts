import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "../../test/support/redis";
import { waitFor } from "../../test/support/wait-for";

/**
 * A second instance of the built app (`next start`) that a test owns: it can be killed with
 * SIGKILL, as a crash would, or stopped with SIGTERM, as a deploy would, and started again on the
 * same port and data. A kill takes its process group too, so renders it started die with it.
 */
export { freePort };

export type AppServer = {
  origin: string;
  port: number;
  kill(): Promise<void>;
  /** SIGTERM to the server alone (as `docker stop` sends); resolves with its exit code once it exited. */
  stop(): Promise<number | null>;
};

function spawnNextStart(port: number, env: Record<string, string>, stdio: "inherit" | "pipe"): ChildProcess {
  return spawn(process.execPath, ["node_modules/next/dist/bin/next", "start", "-p", String(port), "-H", "127.0.0.1"], {
    env: { ...process.env, NODE_ENV: "production", LOG_LEVEL: "warn", ...env },
    detached: true,
    stdio: ["ignore", stdio, stdio],
  });
}

/**
 * Runs `next start` expecting it to stop by itself (a refused start): its exit code and
 * everything it printed. Killed (and an error thrown) if it answers requests instead.
 */
export async function runAppServerToExit(
  port: number,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawnNextStart(port, env, "pipe");
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (child.exitCode === null && child.signalCode === null) {
    const answered = await fetch(`http://127.0.0.1:${port}/api/health`).then(
      () => true,
      () => false,
    );
    if (answered || Date.now() > deadline) {
      process.kill(-child.pid!, "SIGKILL");
      await exited;
      throw new Error(
        answered
          ? `next start answered requests instead of refusing to start:\n${output}`
          : "next start neither answered nor exited within 60 s",
      );
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 250))]);
  }
  return { code: await exited, output };
}

export async function startAppServer(port: number, env: Record<string, string>): Promise<AppServer> {
  const child = spawnNextStart(port, env, "inherit");
  const origin = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}`);
      return fetch(`${origin}/api/health`).then(
        (r) => r.status < 500,
        () => false,
      );
    },
    Boolean,
    60_000,
    250,
  );
  return {
    origin,
    port,
    async kill() {
      if (child.exitCode !== null || child.pid === undefined) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(-child.pid, "SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.pid === undefined) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      process.kill(child.pid, "SIGTERM");
      return exited;
    },
  };
}
