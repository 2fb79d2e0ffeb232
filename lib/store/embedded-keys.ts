import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { log } from "@/lib/log";
import { createFileDurable, isStaleTemp, removeFileDurable, writeFileDurable } from "@/lib/store/durable-file";
import type { KeyedQueue } from "@/lib/store/keyed-queue";
import type { Quarantine } from "@/lib/store/quarantine";
import { UnreadableRecordError } from "@/lib/store/types";

/**
 * The embedded store's small keys, each in a file of its own so that no write rewrites anything
 * else:
 * - `secrets/<name>.json` and `secrets/<name>.copy.json`: two copies, each written once (a
 *   create that never replaces) and never rewritten. When one cannot be read, the other is used
 *   and the bad one set aside and made again; when neither can, both are left where they are and
 *   refused, never replaced by a new secret (a new session secret would take every browser's
 *   jobs away from it).
 * - `marks/<hash>.json` (setOnce) and `counters/<hash>.json` (increment): the key, its expiry
 *   time and, for a counter, its count. An expired file counts as absent and is removed by
 *   `prune` (the store's sweep). An unreadable one is set aside in quarantine and counts as
 *   absent: a mark or a counter lives minutes, and losing one at worst lets a duplicate delivery
 *   through (the transition ignores it) or restarts one limit window.
 */
const keyRecord = z.object({
  key: z.string(),
  expiresAt: z.number(),
  count: z.number().int().nonnegative().optional(),
});
type KeyRecord = z.infer<typeof keyRecord>;
type KeyKind = "marks" | "counters";

const secretRecord = z.object({ name: z.string(), value: z.string().min(1) });
const SECRET_NAME = /^[a-z0-9-]{1,64}$/;

const errno = (error: unknown) => (error as NodeJS.ErrnoException | null)?.code;

export class EmbeddedKeys {
  private readonly secrets = new Map<string, string>();
  private readonly unreadableSecrets = new Set<string>();
  private legacy: Promise<Record<string, string>> | null = null;

  constructor(
    private readonly dir: string,
    private readonly queue: KeyedQueue,
    private readonly quarantine: Quarantine,
    /** Counts one file read or write, for the benchmark. */
    private readonly command: () => void,
  ) {}

  setOnce(key: string, ttlSeconds: number): Promise<boolean> {
    return this.queue.run(`mark\n${key}`, async () => {
      const now = Date.now();
      const record = JSON.stringify({ key, expiresAt: now + ttlSeconds * 1000 });
      // Most marks are new (a webhook id, a lock): one create, no read first.
      this.command();
      if (await createFileDurable(this.fileOf("marks", key), record)) return true;
      if (await this.readLive("marks", key, now)) return false;
      this.command();
      await writeFileDurable(this.fileOf("marks", key), record);
      return true;
    });
  }

  forget(key: string): Promise<void> {
    return this.queue.run(`mark\n${key}`, async () => {
      this.command();
      await removeFileDurable(this.fileOf("marks", key));
    });
  }

  increment(key: string, windowSeconds: number): Promise<{ count: number; resetInSeconds: number }> {
    return this.queue.run(`counter\n${key}`, async () => {
      const now = Date.now();
      const live = await this.readLive("counters", key, now);
      const next = { key, expiresAt: live?.expiresAt ?? now + windowSeconds * 1000, count: (live?.count ?? 0) + 1 };
      await this.write("counters", next);
      return { count: next.count, resetInSeconds: Math.ceil((next.expiresAt - now) / 1000) };
    });
  }

  decrement(key: string): Promise<void> {
    return this.queue.run(`counter\n${key}`, async () => {
      const live = await this.readLive("counters", key, Date.now());
      const count = live?.count ?? 0;
      if (!live || count <= 0) return;
      // A counter back at 0 counts nothing: gone, so that a refused request leaves nothing behind.
      if (count > 1) return this.write("counters", { ...live, count: count - 1 });
      this.command();
      await removeFileDurable(this.fileOf("counters", key));
    });
  }

  getOrCreateSecret(name: string, fresh: string): Promise<string> {
    if (!SECRET_NAME.test(name)) return Promise.reject(new Error(`Not a secret name: ${JSON.stringify(name)}`));
    const known = this.secrets.get(name);
    if (known !== undefined) return Promise.resolve(known);
    return this.queue.run(`secret\n${name}`, async () => {
      const cached = this.secrets.get(name);
      if (cached !== undefined) return cached;
      const folder = path.join(this.dir, "secrets");
      const files = [path.join(folder, `${name}.json`), path.join(folder, `${name}.copy.json`)];
      let found = await Promise.all(files.map((file) => this.readSecret(name, file)));
      if (found.every((f) => f === "absent")) {
        // A secret kept by a version that had one kv.json file is carried over, not replaced.
        const value = (await this.legacySecrets())[name] ?? fresh;
        this.command();
        const created = await createFileDurable(files[0]!, JSON.stringify({ name, value }), { mode: 0o600 });
        found = created ? [{ value }, "absent"] : await Promise.all(files.map((file) => this.readSecret(name, file)));
      }
      const value = found.find((f): f is { value: string } => typeof f === "object")?.value;
      if (value === undefined) {
        this.unreadableSecrets.add(name);
        log.error(
          { files, secret: name },
          "store: no copy of a secret can be read. They are kept as they are and no new secret is made (that would take every browser's jobs away from it): " +
            "restore them from a backup; only if there is none, delete them (a new secret is then made, and earlier owner cookies stop working).",
        );
        throw new UnreadableRecordError(`secret ${name}`);
      }
      // Two copies, each written once: one that is missing (a crash between the two) is made again,
      // one that cannot be read is set aside and made again from the other.
      for (const [i, file] of files.entries()) {
        if (found[i] === "unreadable") {
          const movedTo = await this.quarantine.setAside("secrets", file);
          log.error(
            { file, movedTo, secret: name },
            "store: an unreadable copy of a secret was set aside and made again from the other copy",
          );
        }
        if (typeof found[i] !== "object") {
          this.command();
          await createFileDurable(file, JSON.stringify({ name, value }), { mode: 0o600 });
        }
      }
      this.unreadableSecrets.delete(name);
      this.secrets.set(name, value);
      return value;
    });
  }

  /** Secrets none of whose copies could be read (left in place). */
  unreadableSecretCount(): number {
    return this.unreadableSecrets.size;
  }

  /** Removes expired marks and counters, and temporary files a crash left (secrets included). Returns how many went. */
  async prune(now: number): Promise<number> {
    let removed = 0;
    for (const kind of ["marks", "counters", "secrets"] as const) {
      const folder = path.join(/*turbopackIgnore: true*/ this.dir, kind);
      for (const name of await readdir(/*turbopackIgnore: true*/ folder).catch(() => [] as string[])) {
        const file = path.join(/*turbopackIgnore: true*/ folder, name);
        if (isStaleTemp(file)) {
          if (await removeFileDurable(file).catch(() => false)) removed++;
          continue;
        }
        if (kind === "secrets" || !name.endsWith(".json")) continue;
        const record = await this.readFile(kind, file);
        if (!record || record.expiresAt > now) continue;
        // Under the key's queue, and read again: a write may have renewed it meanwhile.
        const gone = await this.queue.run(`${kind === "marks" ? "mark" : "counter"}\n${record.key}`, async () => {
          const again = await this.readFile(kind, file);
          return again !== null && again.expiresAt <= now && removeFileDurable(file);
        });
        if (gone) removed++;
      }
    }
    return removed;
  }

  private fileOf(kind: KeyKind, key: string): string {
    return path.join(this.dir, kind, `${createHash("sha256").update(key).digest("base64url")}.json`);
  }

  private async write(kind: KeyKind, record: KeyRecord): Promise<void> {
    this.command();
    await writeFileDurable(this.fileOf(kind, record.key), JSON.stringify(record));
  }

  private async readLive(kind: KeyKind, key: string, now: number): Promise<KeyRecord | null> {
    const record = await this.readFile(kind, this.fileOf(kind, key));
    return record && record.key === key && record.expiresAt > now ? record : null;
  }

  /** The record in `file`; null when there is none, or it was unreadable (then it is set aside). */
  private async readFile(kind: KeyKind, file: string): Promise<KeyRecord | null> {
    this.command();
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if (errno(error) === "ENOENT") return null;
      throw error;
    }
    try {
      return keyRecord.parse(JSON.parse(text));
    } catch (error) {
      const movedTo = await this.quarantine.setAside(kind, file);
      log.error(
        { file, movedTo, err: (error as Error).message },
        "store: an unreadable file was set aside in quarantine",
      );
      return null;
    }
  }

  private async readSecret(name: string, file: string): Promise<{ value: string } | "absent" | "unreadable"> {
    this.command();
    try {
      const parsed = secretRecord.safeParse(safeJson(await readFile(file, "utf8")));
      return parsed.success && parsed.data.name === name ? { value: parsed.data.value } : "unreadable";
    } catch (error) {
      if (errno(error) === "ENOENT") return "absent";
      throw error;
    }
  }

  private legacySecrets(): Promise<Record<string, string>> {
    this.legacy ??= (async () => {
      const file = path.join(this.dir, "kv.json");
      this.command();
      try {
        const parsed = z
          .object({ secrets: z.record(z.string(), z.string()) })
          .safeParse(JSON.parse(await readFile(file, "utf8")));
        return parsed.success ? parsed.data.secrets : {};
      } catch (error) {
        if (errno(error) !== "ENOENT")
          log.warn(
            { file, err: (error as Error).message },
            "store: the former kv.json cannot be read; its secrets are not carried over",
          );
        return {};
      }
    })();
    return this.legacy;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
