import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { waitFor } from "./wait-for";

const DEFAULT_URL = "redis://127.0.0.1:6379";

export const REDIS_INSTALL_HELP =
  "The store tests need Redis 7. Install it (Debian/Ubuntu: `sudo apt-get install redis-server`, " +
  "macOS: `brew install redis`) so that `redis-server` is on PATH, or start one on 127.0.0.1:6379, " +
  "or set TEST_REDIS_URL=redis://host:port to an existing server.";

let started: { child: ChildProcess; dir: string } | null = null;

/** True when `url` answers PING within a moment. */
export async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 500,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** The redis-server binary on PATH, if any. */
export function findRedisServer(): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "redis-server");
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/**
 * A reachable Redis for tests: TEST_REDIS_URL, else 127.0.0.1:6379, else a throwaway
 * redis-server started here (no persistence, stopped at exit). Throws how to install Redis.
 */
export async function ensureRedis(): Promise<string> {
  const wanted = process.env.TEST_REDIS_URL;
  if (wanted) {
    if (await redisAnswers(wanted)) return wanted;
    throw new Error(`TEST_REDIS_URL=${wanted} does not answer PING. ${REDIS_INSTALL_HELP}`);
  }
  if (await redisAnswers(DEFAULT_URL)) return DEFAULT_URL;
  const binary = findRedisServer();
  if (!binary) throw new Error(`No Redis found at ${DEFAULT_URL} and no redis-server on PATH. ${REDIS_INSTALL_HELP}`);

  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), "p2v-redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir];
  const child = spawn(binary, args, { stdio: "ignore" });
  started = { child, dir };
  process.once("exit", () => child.kill());
  const url = `redis://127.0.0.1:${port}`;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const answered = await waitFor(
    async () => !exited() && (await redisAnswers(url)),
    (ok) => ok || exited(),
    10_000,
    100,
  ).catch(() => false);
  if (answered) return url;
  await stopStartedRedis();
  throw new Error(`Started ${binary} on port ${port}, but it did not answer PING. ${REDIS_INSTALL_HELP}`);
}

/** Stops the redis-server that ensureRedis started, if any. */
export async function stopStartedRedis(): Promise<void> {
  if (!started) return;
  const { child, dir } = started;
  started = null;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill();
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
}
