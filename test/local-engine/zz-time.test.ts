import { it } from "vitest";
import { buildRenderPlan } from "@/lib/engines/local/render-plan";
import { fontPath, runFfmpeg } from "@/lib/media/ffmpeg";
const cases: [string, string, number?][] = [
  ["A paper boat on a rainy street", "anime", 4],
  ["A paper boat on a rainy street", "anime", 5],
  ["A red fox running through fresh snow at dawn", "cinematic"],
  ["A detective lights a cigarette under a streetlamp", "film-noir"],
  ["Neon city street in the rain, flying cars", "cyberpunk"],
  ["Clay snail racing a clay turtle", "claymation"],
  ["A toy robot dancing on a kitchen table", "3d-animation"],
];
it("times", async () => {
  for (const [prompt, styleId, duration] of cases) {
    const plan = buildRenderPlan({ prompt, styleId, params: { duration: duration ?? 5 }, outputPath: "/tmp/p2v/t.mp4", fontFile: fontPath() });
    const t = performance.now();
    await runFfmpeg(plan.args);
    console.log(styleId, duration ?? 5, Math.round(performance.now() - t), "ms");
  }
}, 120000);
