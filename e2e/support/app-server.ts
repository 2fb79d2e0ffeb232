import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "../../test/support/redis";

/**
 * A second instance of the built app (`next start`) that a test owns: it can be killed with
 * SIGKILL, as a crash would, and started again on the same port and data. Its process group is
 * killed too, so renders it started die with it.
 */
export { freePort };

export type AppServer = { origin: string; port: number; kill(): Promise<void> };

export async function startAppServer(port: number, env: Record<string, string>): Promise<AppServer> {
  const child: ChildProcess = spawn(process.execPath, ["node_modules/next/dist/bin/next", "start", "-p", String(port), "-H", "127.0.0.1"], {
    env: { ...process.env, NODE_ENV: "production", LOG_LEVEL: "warn", ...env },
    detached: true,
    stdio: ["ignore", "inherit", "inherit"],
  });
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}`);
    const ok = await fetch(`${origin}/api/health`).then((r) => r.status < 500, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error("next start did not answer within 60 s");
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    origin,
    port,
    async kill() {
      if (child.exitCode !== null || child.pid === undefined) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(-child.pid, "SIGKILL");
      await exited;
    },
  };
}
