"use client";

import { FramePicker, type PickedImage } from "@/components/generate/frame-picker";
import type { ModelOption } from "@/lib/jobs/adapters/queries";
import type { Frame } from "@/lib/core/frame-image";

/**
 * "Start from an image": the first frame, and the last when the model takes one. Shown while the
 * model takes images or an image is picked (kept for another model); otherwise a sentence.
 */
export function FramesSection(props: {
  id: string;
  model: ModelOption | undefined;
  frames: Record<Frame, PickedImage | null>;
  errors: Partial<Record<string, string>>;
  disabled: boolean;
  frameNote: (frame: Frame) => string | null;
  onPick: (frame: Frame, file: File) => void;
  onClear: (frame: Frame) => void;
}) {
  const { id, model, frames, errors } = props;
  if (!(model?.images || frames.first || frames.last)) {
    return (
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        {model?.label ?? "This model"} makes video from text only; pick another model to start from an image.
      </p>
    );
  }
  return (
    <fieldset className="space-y-3">
      <legend className="text-sm font-medium text-zinc-900 dark:text-zinc-100">Start from an image</legend>
      <FramePicker
        id={id}
        frame="first"
        image={frames.first}
        error={errors.firstFrame}
        note={props.frameNote("first")}
        disabled={props.disabled}
        onPick={(file) => props.onPick("first", file)}
        onClear={() => props.onClear("first")}
      />
      {model?.images?.last || frames.last ? (
        <FramePicker
          id={id}
          frame="last"
          image={frames.last}
          error={errors.lastFrame}
          note={props.frameNote("last")}
          disabled={props.disabled}
          onPick={(file) => props.onPick("last", file)}
          onClear={() => props.onClear("last")}
        />
      ) : null}
    </fieldset>
  );
}
