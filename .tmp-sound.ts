import { buildSoundPlan } from "@/lib/engines/local/sound-plan";
import { spawnSync } from "node:child_process";
const F = process.cwd() + "/node_modules/@ffmpeg-installer/linux-x64/ffmpeg";
for (const [i, style] of ["cinematic", "anime", "claymation", "cyberpunk"].entries()) {
  const plan = buildSoundPlan({ inputPath: `/tmp/p2v/r${i}.mp4`, outputPath: `/tmp/p2v/s${i}.mp4`, styleId: style, seed: 1234 + i, durationSeconds: 5 });
  const t = Date.now();
  const r = spawnSync(F, ["-hide_banner", "-loglevel", "error", ...plan.args], { encoding: "utf8" });
  console.log(style, r.status, Date.now() - t, "ms", plan.notes, r.stderr.slice(-500));
  const p = spawnSync(F, ["-hide_banner", "-i", `/tmp/p2v/s${i}.mp4`, "-af", "volumedetect", "-f", "null", "-"], { encoding: "utf8" });
  console.log(p.stderr.split("\n").filter((l) => /Stream|Duration|mean_volume|max_volume/.test(l)).join("\n"));
}
