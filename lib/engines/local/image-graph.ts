import { n } from "@/lib/engines/local/filter-text";
import type { Picture } from "@/lib/engines/local/picture-graph";

/** Image to video: the picture panned and zoomed over one or two given frames. */

/** A slow zoom (in, or out towards the last frame) with a gentle pan, over the whole clip. */
const IMAGE_ZOOM = 0.12;

/**
 * The picture from one or two images (ffmpeg inputs 0 and 1): each covers the frame, zoompan
 * moves over it (`on` is the output frame number), and with a last frame a blend cross-fades
 * from the first to the last over the clip, so the clip starts on the first image and ends on the last.
 */
export function imageGraph(opts: {
  width: number;
  height: number;
  fps: number;
  totalFrames: number;
  durationSeconds: number;
  withLast: boolean;
  panSign: 1 | -1;
}): Picture {
  const { width: W, height: H, fps, totalFrames, durationSeconds, withLast, panSign } = opts;
  const span = Math.max(1, totalFrames - 1);
  // Twice the frame size first, so the zoom's whole-pixel steps do not make the picture shake.
  const cover = (input: number, label: string) =>
    `[${input}:v]scale=${W * 2}:${H * 2}:force_original_aspect_ratio=increase,crop=${W * 2}:${H * 2},setsar=1,format=yuv420p[${label}]`;
  const move = (label: string, out: string, zoomIn: boolean) => {
    const progress = zoomIn ? `on/${span}` : `(1-on/${span})`;
    const zoom = `1+${n(IMAGE_ZOOM)}*${progress}`;
    const x = `(iw-iw/zoom)*(0.5+${n(0.5 * panSign)}*${progress})`;
    const y = "(ih-ih/zoom)/2";
    return `[${label}]zoompan=z='${zoom}':x='${x}':y='${y}':d=1:s=${W}x${H}:fps=${fps}[${out}]`;
  };
  const chains = [cover(0, "i0"), move("i0", withLast ? "m0" : "img", true)];
  if (withLast) {
    // The last frame ends unzoomed and unpanned, exactly the image given.
    chains.push(cover(1, "i1"), move("i1", "m1", false));
    const f = `min(1,T/${n(durationSeconds)})`;
    chains.push(`[m0][m1]blend=all_expr='A*(1-${f})+B*${f}'[img]`);
  }
  return { chains, out: "img" };
}
