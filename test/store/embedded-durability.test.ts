import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DataDirInUseError, lockDataDir, LOCK_FILE_NAME } from "@/lib/store/data-dir-lock";
import { writeFileDurable } from "@/lib/store/durable-file";
import { EmbeddedStore } from "@/lib/store/embedded-store";
import { UnreadableRecordError } from "@/lib/store/types";
import { makeJob } from "@/test/support/job-factory";

/**
 * The embedded store on a bad day: a process killed in the middle of its writes, the leftovers
 * of a torn write beside every kind of file, files that cannot be read, a second process on the
 * same data directory. Nothing may be lost, and nothing unreadable may pass for absent.
 */

const ROOT = path.resolve(import.meta.dirname, "../..");
let dir: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "p2v-durable-"));
});
afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

const open = () => new EmbeddedStore({ dir, retentionDays: 30 });

/** Every file under the data directory, relative. */
async function files(sub = ""): Promise<string[]> {
  const root = path.join(dir, sub);
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
}

/** Starts test/support/store-child.ts; resolves with the child once `ready` matches a line of its output. */
function child(args: string[], ready: (line: string) => boolean): Promise<{ proc: ChildProcess; lines: string[] }> {
  const proc = spawn(process.execPath, ["--import", "tsx", "test/support/store-child.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: "silent" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(proc);
  const lines: string[] = [];
  let stderr = "";
  proc.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let buffered = "";
    proc.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (ready(line)) resolve({ proc, lines });
      }
    });
    proc.once("exit", (code) =>
      reject(new Error(`store-child exited (${code}) before it was ready: ${stderr.slice(-2000)}`)),
    );
  });
}

async function kill9(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  proc.kill("SIGKILL");
  await exited;
}

describe("durable writes", () => {
  it("many at once in one folder all land whole (their folder flushes are shared), and leave no temporary file", async () => {
    const names = Array.from({ length: 200 }, (_, i) => `f${i}.json`);
    await Promise.all(names.map((name, i) => writeFileDurable(path.join(dir, "many", name), JSON.stringify({ i }))));
    for (const [i, name] of names.entries())
      expect(JSON.parse(await readFile(path.join(dir, "many", name), "utf8"))).toEqual({ i });
    expect((await files("many")).sort()).toEqual([...names].sort());
  });
});

describe("a crash in the middle of writes", () => {
  it("kill -9 of a writing process: every acknowledged write is there, and every file reads", async () => {
    const job = makeJob({ ownerId: "crash" });
    const store = open();
    await store.create(job);
    const secret = await store.getOrCreateSecret("session", "the-first-secret");
    await store.close();

    // Killed at whatever write it is in the middle of, after at least 30 acknowledged rounds.
    const writer = await child(["write", dir, job.id], (line) => Number(line.split(" ")[1]) >= 30);
    await kill9(writer.proc);
    const acked = Math.max(...writer.lines.map((l) => Number(l.split(" ")[1])));

    const again = open();
    const after = await again.get(job.id);
    // Round n's update is acknowledged before round n+1 starts: at least `acked` updates, at most one more.
    expect(after!.seq).toBeGreaterThanOrEqual(acked);
    expect(after!.seq).toBeLessThanOrEqual(acked + 1);
    expect(after!.message).toBe(`round ${after!.seq}`);
    expect((await again.listByOwner("crash", { limit: 5 })).jobs.map((j) => j.id)).toEqual([job.id]);
    const counted = (await again.increment("rounds", 3600)).count - 1;
    expect(counted).toBeGreaterThanOrEqual(acked);
    for (let n = 1; n <= acked; n++) expect(await again.setOnce(`round:${n}`, 3600)).toBe(false);
    expect(await again.getOrCreateSecret("session", "a-new-secret")).toBe(secret);
    expect(await again.unreadableRecords()).toBe(0);
    expect(await files("quarantine")).toEqual([]);
    await again.close();
  });

  it("the leftovers of a torn write beside each kind of file change nothing, and are cleaned up", async () => {
    const store = open();
    const job = makeJob({ ownerId: "torn" });
    await store.create(job);
    const updated = (await store.update(job.id, (j) => ({ ...j, message: "kept" })))!.job;
    const secret = await store.getOrCreateSecret("session", "kept-secret");
    await store.getOrCreateSecret("local-webhook", "whsec_kept");
    await store.increment("limit:browser:torn", 3600);
    await store.setOnce("webhook:msg_1", 3600);
    await store.close();

    // What a crash in the middle of writing each file leaves: half a new version under a temporary name.
    const real = (await files()).filter((f) => f.endsWith(".json"));
    expect(real.map((f) => f.split("/")[0])).toEqual(expect.arrayContaining(["jobs", "secrets", "counters", "marks"]));
    for (const file of real) {
      const text = await readFile(path.join(dir, file), "utf8");
      await writeFile(path.join(dir, `${file}.0123456789ab.tmp`), text.slice(0, Math.floor(text.length / 2)));
    }

    const again = open();
    expect(await again.get(job.id)).toEqual(updated);
    expect((await again.listRecent(5)).map((j) => j.id)).toEqual([job.id]);
    expect(await again.getOrCreateSecret("session", "a-new-secret")).toBe(secret);
    expect(await again.getOrCreateSecret("local-webhook", "whsec_new")).toBe("whsec_kept");
    expect((await again.increment("limit:browser:torn", 3600)).count).toBe(2);
    expect(await again.setOnce("webhook:msg_1", 3600)).toBe(false);
    expect(await again.unreadableRecords()).toBe(0);

    await again.sweep(Date.now());
    expect((await files()).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    await again.close();
  });
});

describe("an unreadable record", () => {
  it("a torn job file is set aside, reported, and never taken for an absent job", async () => {
    const store = open();
    const job = makeJob({ ownerId: "owner", createdAt: Date.now() - 40 * 86_400_000 });
    const other = makeJob({ ownerId: "owner" });
    await store.create(job);
    await store.create(other);
    await store.close();
    const file = path.join(dir, "jobs", `${job.id}.json`);
    const text = await readFile(file, "utf8");
    await writeFile(file, text.slice(0, 40));

    const again = open();
    await expect(again.get(job.id)).rejects.toBeInstanceOf(UnreadableRecordError);
    expect(existsSync(file)).toBe(false);
    const [aside] = await files("quarantine/jobs");
    expect(aside).toMatch(new RegExp(`^${job.id}\\.`));
    expect(await readFile(path.join(dir, "quarantine/jobs", aside!), "utf8")).toBe(text.slice(0, 40));
    expect(await again.unreadableRecords()).toBe(1);
    // Still an error, not "no such job": for the webhook, the pipeline and retention alike.
    await expect(again.get(job.id)).rejects.toBeInstanceOf(UnreadableRecordError);
    await expect(again.update(job.id, (j) => j)).rejects.toBeInstanceOf(UnreadableRecordError);
    expect((await again.listByOwner("owner", { limit: 10 })).jobs.map((j) => j.id)).toEqual([other.id]);
    // Past the retention period, yet nothing is deleted: the set-aside file stays.
    await again.sweep(Date.now());
    expect(await files("quarantine/jobs")).toEqual([aside]);
    await again.close();

    // After a restart too.
    const third = open();
    await expect(third.get(job.id)).rejects.toBeInstanceOf(UnreadableRecordError);
    expect(await third.get(other.id)).toEqual(other);
    expect(await third.unreadableRecords()).toBe(1);
    await third.close();
  });

  it("a job file this version cannot parse is left where it is and reported", async () => {
    const job = makeJob();
    const file = path.join(dir, "jobs", `${job.id}.json`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify({ ...job, status: "some-future-status" }));
    const store = open();
    await expect(store.get(job.id)).rejects.toBeInstanceOf(UnreadableRecordError);
    expect(existsSync(file)).toBe(true);
    expect(await store.unreadableRecords()).toBe(1);
    expect(await store.listRecent(5)).toEqual([]);
    await store.close();
  });

  it("a secret: the other copy is used and the bad one made again; with no readable copy, no new secret is made", async () => {
    const store = open();
    const secret = await store.getOrCreateSecret("session", "the-one-secret");
    await store.close();
    const primary = path.join(dir, "secrets", "session.json");
    const copy = path.join(dir, "secrets", "session.copy.json");
    const good = await readFile(primary, "utf8");

    await writeFile(primary, good.slice(0, 10));
    const healed = open();
    expect(await healed.getOrCreateSecret("session", "another")).toBe(secret);
    expect(await readFile(primary, "utf8")).toBe(good);
    expect(await files("quarantine/secrets")).toHaveLength(1);
    expect(await healed.unreadableRecords()).toBe(1);
    await healed.close();

    await writeFile(primary, "");
    await writeFile(copy, "{");
    const broken = open();
    await expect(broken.getOrCreateSecret("session", "another")).rejects.toBeInstanceOf(UnreadableRecordError);
    await expect(broken.getOrCreateSecret("session", "another")).rejects.toBeInstanceOf(UnreadableRecordError);
    // Left as they were, for the operator to restore.
    expect(await readFile(primary, "utf8")).toBe("");
    expect(await readFile(copy, "utf8")).toBe("{");
    expect(await broken.unreadableRecords()).toBe(2);
    await broken.close();
  });

  it("a secret kept in a former kv.json is carried over, not replaced", async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, "kv.json"),
      JSON.stringify({ once: {}, counters: {}, secrets: { session: "from-kv-json" } }),
    );
    const store = open();
    expect(await store.getOrCreateSecret("session", "fresh")).toBe("from-kv-json");
    await store.close();
    await rm(path.join(dir, "kv.json"));
    const again = open();
    expect(await again.getOrCreateSecret("session", "fresh")).toBe("from-kv-json");
    await again.close();
  });

  it("a counter or a mark is set aside and counts as absent (it lives minutes)", async () => {
    const store = open();
    await store.increment("limit:ip:1", 3600);
    await store.increment("limit:ip:1", 3600);
    await store.setOnce("webhook:msg_2", 3600);
    await store.close();
    for (const sub of ["counters", "marks"]) {
      const [name] = await files(sub);
      await writeFile(path.join(dir, sub, name!), '{"key":');
    }
    const again = open();
    expect((await again.increment("limit:ip:1", 3600)).count).toBe(1);
    expect(await again.setOnce("webhook:msg_2", 3600)).toBe(true);
    expect((await files("quarantine")).map((f) => f.split("/")[0]).sort()).toEqual(["counters", "marks"]);
    expect(await again.unreadableRecords()).toBe(2);
    await again.close();
  });
});

describe("marks and counters expire without rewriting anything else", () => {
  it("the sweep removes expired ones and keeps live ones and everything else", async () => {
    const store = open();
    const job = makeJob();
    await store.create(job);
    await store.getOrCreateSecret("session", "s");
    await store.setOnce("short", 1);
    await store.setOnce("long", 3600);
    await store.increment("short", 1);
    await store.increment("long", 3600);
    const before = await files();
    expect(await store.sweep(Date.now() + 2000)).toBe(0);
    const after = await files();
    expect(before.filter((f) => !after.includes(f))).toHaveLength(2);
    expect(await store.setOnce("long", 3600)).toBe(false);
    expect((await store.increment("long", 3600)).count).toBe(2);
    expect(await store.get(job.id)).toEqual(job);
    expect(await store.getOrCreateSecret("session", "t")).toBe("s");
    await store.close();
  });

  it("a counter given back to 0 leaves no file", async () => {
    const store = open();
    await store.increment("limit:ip:2", 3600);
    await store.decrement("limit:ip:2");
    expect(await files("counters")).toEqual([]);
    await store.close();
  });
});

describe("one process per data directory", () => {
  it("a second process is refused with a message saying what to do; a dead holder's lock is taken over", async () => {
    const holder = await child(["lock", dir], (line) => line === "locked");
    const error = await lockDataDir(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataDirInUseError);
    const message = (error as Error).message;
    expect(message).toContain(`pid ${holder.proc.pid}`);
    expect(message).toContain(dir);
    expect(message).toMatch(/one process only/);
    expect(message).toMatch(/REDIS_URL/);

    await kill9(holder.proc);
    const lock = await lockDataDir(dir);
    expect(JSON.parse(await readFile(path.join(dir, LOCK_FILE_NAME), "utf8"))).toMatchObject({ pid: process.pid });
    lock.release();
    expect(existsSync(path.join(dir, LOCK_FILE_NAME))).toBe(false);
  });

  it("a lock that names this very pid is a former process's (a restarted container)", async () => {
    await mkdir(dir, { recursive: true });
    const former = {
      pid: process.pid,
      host: (await import("node:os")).hostname(),
      startedAt: "2020-01-01T00:00:00.000Z",
      procStart: "1",
    };
    await writeFile(path.join(dir, LOCK_FILE_NAME), JSON.stringify(former));
    const lock = await lockDataDir(dir);
    expect(JSON.parse(await readFile(path.join(dir, LOCK_FILE_NAME), "utf8")).startedAt).not.toBe(former.startedAt);
    lock.release();
  });
});
