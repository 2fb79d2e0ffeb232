import { randomBytes } from "node:crypto";
import { readFileSync, unlinkSync } from "node:fs";
import { readFile, rename, stat, unlink, utimes, link } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { log } from "@/lib/log";
import { createFileDurable } from "@/lib/store/durable-file";

/**
 * The embedded store serves one process: two processes on one DATA_DIR would each keep their own
 * index and locks in memory and overwrite each other's records. The server takes this lock at
 * start (instrumentation.ts); a second process finds it held and refuses to start.
 *
 * The lock file names its holder (pid, host, the process's start time). A holder on this host
 * whose pid is gone, or whose pid now belongs to a younger process, is dead: its lock is taken
 * over. A holder on another host (a shared volume) cannot be asked, so it touches the file every
 * HEARTBEAT_MS; a lock not touched for STALE_AFTER_MS is taken over.
 */
export const LOCK_FILE_NAME = "server.lock";
const HEARTBEAT_MS = 10_000;
const STALE_AFTER_MS = 30_000;

export type LockHolder = { pid: number; host: string; startedAt: string; procStart: string | null };

export class DataDirInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `Another Prompt2Video process (pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}) is using the data directory ${dir}. ` +
        "The embedded store (the default) is for one process only: stop the other process, or give this one its own DATA_DIR. " +
        "To run several processes on the same jobs, set REDIS_URL (or Upstash's KV_REST_API_URL and KV_REST_API_TOKEN), and BLOB_READ_WRITE_TOKEN for the videos.",
    );
    this.name = "DataDirInUseError";
  }
}

export type DataDirLock = { file: string; release(): void };

/** When this process started, in clock ticks since boot (Linux); tells a live pid from a reused one. */
function procStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid …": comm may hold spaces; field 22, starttime, is the 20th after ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (!Number.isInteger(h.pid) || typeof h.host !== "string" || typeof h.startedAt !== "string") return null;
    return {
      pid: h.pid!,
      host: h.host,
      startedAt: h.startedAt,
      procStart: typeof h.procStart === "string" ? h.procStart : null,
    };
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function holderAlive(file: string, holder: LockHolder): Promise<boolean> {
  if (holder.host !== hostname()) {
    const touched = await stat(file).then(
      (s) => s.mtimeMs,
      () => 0,
    );
    return Date.now() - touched < STALE_AFTER_MS;
  }
  // Our own pid in a lock we do not hold yet: a former process that had the same pid (a container restart).
  if (holder.pid === process.pid || !pidAlive(holder.pid)) return false;
  const now = procStart(holder.pid);
  return holder.procStart === null || now === null || now === holder.procStart;
}

const held = new Map<string, DataDirLock>();

/** Takes the data directory's lock for this process, or throws DataDirInUseError naming its holder. */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const file = path.join(path.resolve(/*turbopackIgnore: true*/ dir), LOCK_FILE_NAME);
  const mine = held.get(file);
  if (mine) return mine;
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    procStart: procStart(process.pid),
  };
  const text = JSON.stringify(me);

  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createFileDurable(file, text)) return hold(file, text);
    const found = await readFile(file, "utf8").catch(() => null);
    if (found === null) continue; // released in between
    const holder = parseHolder(found);
    if (holder && (await holderAlive(file, holder))) throw new DataDirInUseError(path.dirname(file), holder);
    // Stale. Move it aside under a name of our own, and make sure what moved is what was judged stale:
    // another process starting at the same moment may have taken it over in between.
    const aside = `${file}.${randomBytes(6).toString("hex")}.stale`;
    if (
      !(await rename(file, aside).then(
        () => true,
        () => false,
      ))
    )
      continue;
    const moved = await readFile(aside, "utf8").catch(() => null);
    if (moved !== found)
      await link(aside, file).catch(() => undefined); // theirs: put it back
    else
      log.warn(
        { file, pid: holder?.pid ?? null, host: holder?.host ?? null },
        "took over the data directory's lock from a process that is gone",
      );
    await unlink(aside).catch(() => undefined);
  }
  throw new Error(`Could not take the lock ${file}: other processes keep taking it.`);
}

/**
 * At server start: takes the lock, or stops this process (exit code 1) with a log line at level
 * `fatal` and the same sentence as plain text on stderr, saying why and what to do.
 */
export async function lockDataDirOrExit(dir: string): Promise<void> {
  try {
    await lockDataDir(dir);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.fatal({ dataDir: dir }, message);
    // Also as plain text, for whoever reads the terminal rather than the JSON logs.
    process.stderr.write(`\nPrompt2Video cannot start: ${message}\n\n`);
    process.exit(1);
  }
}

function hold(file: string, text: string): DataDirLock {
  let released = false;
  const ours = () => {
    try {
      return readFileSync(file, "utf8") === text;
    } catch {
      return false;
    }
  };
  let warned = false;
  const heartbeat = setInterval(() => {
    if (!ours()) {
      if (!warned)
        log.error(
          { file },
          "the data directory's lock was taken by another process: two processes now share the embedded store",
        );
      warned = true;
      return;
    }
    const now = new Date();
    utimes(file, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const release = () => {
    if (released) return;
    released = true;
    clearInterval(heartbeat);
    held.delete(file);
    process.off("exit", release);
    // Only our own lock: never one another process took over.
    if (ours()) {
      try {
        unlinkSync(file);
      } catch {
        // Gone already.
      }
    }
  };
  process.on("exit", release);
  const lock = { file, release };
  held.set(file, lock);
  return lock;
}
