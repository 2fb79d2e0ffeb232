import { randomBytes } from "node:crypto";
import { link, mkdir, open, rename, unlink } from "node:fs/promises";
import path from "node:path";

/**
 * Every write of the embedded store goes through here. A file is written whole to a temporary
 * name beside it, flushed to the disk (fsync), renamed over the target, and then the folder is
 * flushed too, so that the rename itself survives a power cut. A reader sees the old file or the
 * new one, never part of one; a write that returned is on the disk. A crash leaves at most a
 * `*.tmp` file, which `isStaleTemp` recognises.
 */

const TEMP_SUFFIX = ".tmp";
/** Temporary files being written by this process right now: never cleaned up from under a write. */
const inFlight = new Set<string>();

export type WriteOptions = { mode?: number };

const errno = (error: unknown) => (error as NodeJS.ErrnoException | null)?.code;

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems cannot fsync a folder (EINVAL), and Windows cannot open one for it.
    if (errno(error) !== "EINVAL" && errno(error) !== "EISDIR" && errno(error) !== "EPERM") throw error;
  } finally {
    await handle.close();
  }
}

type Waiter = { resolve: () => void; reject: (error: unknown) => void };
/** Per folder: callers waiting for its next flush, and whether one is running. */
const dirSyncs = new Map<string, { running: boolean; waiting: Waiter[] }>();

async function drainDirSyncs(dir: string, state: { running: boolean; waiting: Waiter[] }): Promise<void> {
  state.running = true;
  while (state.waiting.length > 0) {
    const batch = state.waiting.splice(0);
    try {
      await fsyncDir(dir);
      for (const w of batch) w.resolve();
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  }
  dirSyncs.delete(dir);
}

/**
 * Flushes a folder's entries (a rename or unlink in it) to the disk. Group commit: whoever asks
 * while a flush of that folder runs waits for the next one, which starts after it and serves all
 * of them at once (that flush started after each of their changes, so it covers them).
 */
export function syncDir(dir: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let state = dirSyncs.get(dir);
    if (!state) {
      state = { running: false, waiting: [] };
      dirSyncs.set(dir, state);
    }
    state.waiting.push({ resolve, reject });
    if (!state.running) void drainDirSyncs(dir, state);
  });
}

async function writeTemp(file: string, data: string | Uint8Array, opts: WriteOptions): Promise<string> {
  const temp = `${file}.${randomBytes(6).toString("hex")}${TEMP_SUFFIX}`;
  inFlight.add(temp);
  try {
    await mkdir(path.dirname(file), { recursive: true });
    const handle = await open(temp, "wx", opts.mode ?? 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return temp;
  } catch (error) {
    inFlight.delete(temp);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Replaces `file` with `data`, atomically and durably. */
export async function writeFileDurable(
  file: string,
  data: string | Uint8Array,
  opts: WriteOptions = {},
): Promise<void> {
  const temp = await writeTemp(file, data, opts);
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  } finally {
    inFlight.delete(temp);
  }
  await syncDir(path.dirname(file));
}

/**
 * Creates `file` with `data` only when there is no such file, atomically and durably: false (and
 * the existing file untouched) when it exists. For what is written once and never again.
 */
export async function createFileDurable(
  file: string,
  data: string | Uint8Array,
  opts: WriteOptions = {},
): Promise<boolean> {
  const temp = await writeTemp(file, data, opts);
  try {
    // A hard link never replaces an existing name: the check and the create are one step.
    await link(temp, file);
  } catch (error) {
    if (errno(error) === "EEXIST") return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
    inFlight.delete(temp);
  }
  await syncDir(path.dirname(file));
  return true;
}

/** Removes `file` durably; false when there was none. */
export async function removeFileDurable(file: string): Promise<boolean> {
  try {
    await unlink(file);
  } catch (error) {
    if (errno(error) === "ENOENT") return false;
    throw error;
  }
  await syncDir(path.dirname(file));
  return true;
}

/** Moves `from` to `to` (same file system), durably: both folders are flushed. */
export async function moveFileDurable(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  await rename(from, to);
  await syncDir(path.dirname(to));
  if (path.dirname(to) !== path.dirname(from)) await syncDir(path.dirname(from));
}

/** A crash's leftover: a temporary file of ours that no write of this process is using. */
export function isStaleTemp(file: string): boolean {
  return file.endsWith(TEMP_SUFFIX) && !inFlight.has(file);
}
