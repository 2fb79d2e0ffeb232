import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { resetEnvCache } from "@/lib/env";
import { setStoreForTests } from "@/lib/store";
import { EmbeddedStore } from "@/lib/store/embedded-store";

export type EmbeddedStoreForTests = { dir: string; store: EmbeddedStore };

/**
 * For a test file that calls route handlers and actions directly: an embedded store in a new
 * temporary DATA_DIR (the local video store's home too) as the app's store, from before the
 * file's first test (register this before the file's own `beforeAll`) until after its last; then
 * DATA_DIR is put back and the directory removed. The fields are set once `beforeAll` has run.
 */
export function embeddedStoreForFile(prefix: string): EmbeddedStoreForTests {
  const data = {} as EmbeddedStoreForTests;
  const previousDataDir = process.env.DATA_DIR;
  beforeAll(async () => {
    data.dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    process.env.DATA_DIR = data.dir;
    resetEnvCache();
    data.store = new EmbeddedStore({ dir: data.dir });
    setStoreForTests(data.store);
  });
  afterAll(async () => {
    setStoreForTests(null);
    if (previousDataDir === undefined) delete process.env.DATA_DIR;
    else process.env.DATA_DIR = previousDataDir;
    resetEnvCache();
    await rm(data.dir, { recursive: true, force: true });
  });
  return data;
}
