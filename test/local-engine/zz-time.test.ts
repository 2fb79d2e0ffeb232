import { it } from "vitest";
import { STYLES } from "@/lib/styles";
import { buildRenderPlan } from "@/lib/engines/local/render-plan";
import { fontPath, runFfmpeg } from "@/lib/media/ffmpeg";
it("times", async () => {
  const rows: string[] = [];
  for (const params of [{}, { resolution: "480p", duration: 6 }] as const) {
    for (const s of STYLES) {
      const ms: number[] = [];
      for (const prompt of ["A red fox running through fresh snow at dawn", "Neon city street in the rain at night", "A calm lake with stars"]) {
        const plan = buildRenderPlan({ prompt, styleId: s.id, params, outputPath: "/tmp/p2v/t.mp4", fontFile: fontPath() });
        const t = performance.now();
        await runFfmpeg(plan.args);
        ms.push(Math.round(performance.now() - t));
      }
      rows.push(`${JSON.stringify(params)} ${s.id}: ${ms.join(" / ")} ms`);
    }
  }
  console.log(rows.join("\n"));
}, 300000);
