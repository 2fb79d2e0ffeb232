import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { findRedisServer, redisAnswers } from "../test/support/redis";
import { expectVideoSaved, waitForHydration } from "./helpers";
import { freePort, startAppServer, type AppServer } from "./support/app-server";

/**
 * The job store (Redis over TCP) goes away under a running app: a job page says the store is
 * unreachable and that it tries again (not "Something went wrong"), the APIs answer 503 JSON,
 * and the page comes back by itself, without a reload, once Redis is back with its data.
 */

let server: AppServer | undefined;
let redis: ChildProcess | undefined;
let redisDir: string | undefined;

async function startRedis(port: number, dir: string): Promise<void> {
  // Append-only file, synced on every write: a restart on the same directory brings the jobs back.
  redis = spawn(
    findRedisServer()!,
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
    ],
    {
      stdio: "ignore",
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  await expect.poll(() => redisAnswers(url), { timeout: 10_000 }).toBe(true);
}

async function stopRedis(): Promise<void> {
  const child = redis;
  redis = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill();
  await exited;
}

test.afterEach(async () => {
  await server?.kill();
  server = undefined;
  await stopRedis();
  if (redisDir) await rm(redisDir, { recursive: true, force: true });
  redisDir = undefined;
});

test("with the job store down, a job page says so, and comes back by itself when it returns", async ({ page }) => {
  test.skip(!findRedisServer(), "needs redis-server on PATH");
  redisDir = mkdtempSync(path.join(os.tmpdir(), "p2v-store-down-redis-"));
  const redisPort = await freePort();
  await startRedis(redisPort, redisDir);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "p2v-store-down-"));
  server = await startAppServer(await freePort(), { DATA_DIR: dataDir, REDIS_URL: `redis://127.0.0.1:${redisPort}` });
  const origin = server.origin;

  await page.goto(`${origin}/`);
  await waitForHydration(page);
  await page.getByRole("textbox", { name: "Prompt", exact: true }).fill("a lighthouse in thick fog");
  await page.getByLabel("Length").selectOption("4");
  await page.getByRole("button", { name: "Generate" }).click();
  await page.waitForURL(/\/jobs\/[A-Za-z0-9_-]{22}$/);
  const id = page.url().split("/").pop()!;
  await expectVideoSaved(page, 90_000);

  await stopRedis();

  const events = await page.request.get(`${origin}/api/events/${id}`);
  expect(events.status()).toBe(503);
  expect(events.headers()["retry-after"]).toMatch(/^\d+$/);
  expect(((await events.json()) as { error: { code: string } }).error.code).toBe("unavailable");

  await page.goto(`${origin}/jobs/${id}`);
  const down = page.getByRole("heading", { name: "The job store is unreachable right now." });
  await expect(down).toBeVisible();
  await expect(page.getByText(/Trying again by itself in \d+ s\./)).toBeVisible();
  await expect(page.getByText("Something went wrong on our side.")).toHaveCount(0);

  // Back with its data: the page notices on its next try, with no reload.
  await startRedis(redisPort, redisDir);
  await expect(page.locator("video")).toBeVisible({ timeout: 30_000 });
  await expect(down).toHaveCount(0);
  expect(page.url()).toBe(`${origin}/jobs/${id}`);
});
