import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeJob } from "../support/job-factory";
import { EmbeddedStore } from "@/lib/store/embedded-store";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function twoStores(): Promise<[EmbeddedStore, EmbeddedStore, string]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "p2v-read-cache-"));
  dirs.push(dir);
  return [new EmbeddedStore({ dir }), new EmbeddedStore({ dir }), dir];
}

describe("embedded store reads", () => {
  it("see every change to a job's file, whoever wrote it", async () => {
    const [a, b] = await twoStores();
    const job = makeJob({ message: "first" });
    await a.create(job);
    expect((await a.get(job.id))?.message).toBe("first");
    expect((await a.get(job.id))?.message).toBe("first");
    // Another writer (a tool, a restore): the reader sees it on its next get.
    await b.update(job.id, (j) => ({ ...j, message: "second" }));
    expect((await a.get(job.id))?.message).toBe("second");
    await b.delete(job.id);
    expect(await a.get(job.id)).toBeNull();
  });

  it("give each caller its own record, equal to the validated file", async () => {
    const [a, , dir] = await twoStores();
    const job = makeJob({ message: "kept" });
    await a.create(job);
    const first = (await a.get(job.id))!;
    first.message = "changed by a caller";
    first.steps[0]!.state = "failed";
    const again = (await a.get(job.id))!;
    expect(again.message).toBe("kept");
    expect(again.steps[0]!.state).toBe(job.steps[0]!.state);
    // A file that no longer passes the schema is an error, cached or not.
    await writeFile(path.join(dir, "jobs", `${job.id}.json`), JSON.stringify({ ...job, seq: -1 }));
    await expect(a.get(job.id)).rejects.toThrow();
  });
});
