import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { moveFileDurable } from "@/lib/store/durable-file";

export type QuarantineKind = "jobs" | "marks" | "counters" | "secrets";

/**
 * Where the embedded store puts files it cannot read: `<DATA_DIR>/quarantine/<kind>/`, under
 * their own name with the time they were set aside, `<name>.<time>-<random>.json`. Nothing in
 * there is read again or deleted by the app; an operator looks at them, repairs a job file and
 * moves it back to `jobs/<id>.json` (then restarts), or deletes them.
 */
export class Quarantine {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, "quarantine");
  }

  /** Moves `file` aside; where it went, or null when it was gone already (set aside by a concurrent read). */
  async setAside(kind: QuarantineKind, file: string): Promise<string | null> {
    const stamp = new Date().toISOString().replace(/[-:.]/g, "");
    const name = `${path.basename(file, ".json")}.${stamp}-${randomBytes(3).toString("hex")}.json`;
    const target = path.join(this.root, kind, name);
    try {
      await moveFileDurable(file, target);
      return target;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  /** The original names (before the first dot) of what lies in one kind's folder. */
  async names(kind: QuarantineKind): Promise<Set<string>> {
    const files = await readdir(path.join(this.root, kind)).catch(() => [] as string[]);
    return new Set(files.map((f) => f.split(".")[0]!));
  }

  /** How many files lie in quarantine, of every kind. */
  async count(): Promise<number> {
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isFile()).length;
  }
}
