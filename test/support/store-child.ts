/**
 * A second process for the embedded store's fault tests (`node --import tsx`):
 * - `lock <dir>`: takes the data directory's lock, says `locked`, and waits to be killed;
 * - `write <dir> <jobId>`: round after round, updates the job, counts a counter and sets a mark,
 *   saying `acked <n>` once round n is written, until it is killed (kill -9 mid-write).
 */
import { EmbeddedStore } from "@/lib/store/embedded-store";
import { lockDataDir } from "@/lib/store/data-dir-lock";

const [mode, dir, jobId] = process.argv.slice(2);
if (!dir) throw new Error("usage: store-child.ts lock|write <dir> [jobId]");

if (mode === "lock") {
  await lockDataDir(dir);
  process.stdout.write("locked\n");
  setInterval(() => undefined, 60_000);
} else if (mode === "write" && jobId) {
  const store = new EmbeddedStore({ dir, retentionDays: 30 });
  for (let n = 1; ; n++) {
    await store.update(jobId, (job) => ({ ...job, message: `round ${n}`, progress: n % 100 }));
    await store.increment("rounds", 3600);
    await store.setOnce(`round:${n}`, 3600);
    process.stdout.write(`acked ${n}\n`);
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
