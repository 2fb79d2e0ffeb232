"use client";

import { FieldHint, Label } from "@/components/ui/field";
import type { ModelOption } from "@/lib/jobs/adapters/queries";

function CheckField(props: {
  id: string;
  name: string;
  label: string;
  hint: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
}) {
  return (
    <div className="flex items-start gap-2.5">
      <input
        id={props.id}
        name={props.name}
        type="checkbox"
        checked={props.checked}
        onChange={(e) => props.onChange(e.target.checked)}
        aria-describedby={`${props.id}-hint`}
        className="mt-0.5 size-4 shrink-0 accent-brand-600"
      />
      <div className="space-y-0.5">
        <Label htmlFor={props.id}>{props.label}</Label>
        <FieldHint id={`${props.id}-hint`}>{props.hint}</FieldHint>
      </div>
    </div>
  );
}

/** The optional steps around the video: enhancing the prompt first, adding sound after. */
export function StepOptions(props: {
  id: string;
  model: ModelOption | undefined;
  enhance: boolean;
  sound: boolean;
  onChange: (field: "enhance" | "sound", checked: boolean) => void;
}) {
  const { id, model } = props;
  const soundHint = model?.ownAudio
    ? `${model?.label ?? "This model"} makes its own sound, so nothing is added.`
    : "Adds a soundtrack that follows the video.";
  return (
    <div className="space-y-3">
      <CheckField
        id={`${id}-enhance`}
        name="enhance"
        label="Enhance prompt automatically"
        hint="Rewrites your prompt for video (action, setting, camera, lighting) before generating. The next page shows your prompt and the one sent."
        checked={props.enhance}
        onChange={(checked) => props.onChange("enhance", checked)}
      />
      <CheckField
        id={`${id}-sound`}
        name="sound"
        label="Add sound"
        hint={soundHint}
        checked={props.sound}
        onChange={(checked) => props.onChange("sound", checked)}
      />
    </div>
  );
}
