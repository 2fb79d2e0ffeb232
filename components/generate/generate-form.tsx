"use client";

import { startTransition, useActionState, useEffect, useId, useMemo, useRef, useState, useTransition, type FormEvent } from "react";
import { useRouter } from "next/navigation";
import { EnhancePanel } from "@/components/generate/enhance-panel";
import { FramePicker, type PickedImage } from "@/components/generate/frame-picker";
import { ParamsPanel } from "@/components/generate/params-panel";
import { VariationsPanel } from "@/components/generate/variations-panel";
import { StylePicker } from "@/components/generate/style-picker";
import {
  initialFormValues,
  paramsFor,
  randomSeed,
  toFormData,
  valuesFromSubmitted,
  type GenerateFormValues,
  type ParamField,
} from "@/components/generate/form-values";
import { Button } from "@/components/ui/button";
import { controlClasses, describedBy, FieldError, FieldHint, Label } from "@/components/ui/field";
import { createJob } from "@/lib/jobs/adapters/actions";
import type { ModelOption } from "@/lib/jobs/adapters/queries";
import { PROMPT_MAX, PROMPT_MIN } from "@/lib/jobs/domain/form-limits";
import type { CreateJobState } from "@/lib/jobs/domain/request";
import { checkFrameImage, FRAME_FIELDS, FRAMES, SNIFF_BYTES, type Frame } from "@/lib/core/frame-image";
import { MODELS } from "@/lib/models/registry";
import { SpinnerIcon } from "@/components/ui/icons";

type Errors = Partial<Record<string, string>>;

/** Fields in the order they appear, to focus the first one with an error. */
const FIELD_ORDER = ["prompt", "style", "model", "firstFrame", "lastFrame", "duration", "aspectRatio", "resolution", "seed", "negativePrompt", "takes", "compare"] as const;
const VISIBLE_FIELDS: readonly string[] = FIELD_ORDER;

const initialState: CreateJobState = { status: "idle" };

function CheckField(props: { id: string; name: string; label: string; hint: string; checked: boolean; onChange: (checked: boolean) => void }) {
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

// The form is checked with the same Zod schema as the server action, loaded on first use rather
// than with the page: it is the largest part of the page's JavaScript.
let requestModule: Promise<typeof import("@/lib/jobs/domain/request")> | null = null;
const loadRequest = () => (requestModule ??= import("@/lib/jobs/domain/request"));

/** The status line for a server answer: a sentence, or null when the fields say it all. */
function statusFor(state: CreateJobState): string | null {
  switch (state.status) {
    case "failed":
    case "rate_limited":
      // A refusal's sentence already says when to try again.
      return state.message;
    case "invalid": {
      // Errors about fields the form does not show (hidden ones, or the form as a whole).
      const other = Object.entries(state.fieldErrors)
        .filter(([field]) => !VISIBLE_FIELDS.includes(field))
        .map(([, message]) => message);
      return other.length > 0 ? other.join(" ") : "Some fields need a change before generating; each one says what.";
    }
    default:
      return null;
  }
}

export function GenerateForm({
  models,
  initialValues,
  maxMembers = 1,
}: {
  models: ModelOption[];
  /** How many videos one submission may make (takes or compared models); 1 hides the choice. */
  maxMembers?: number;
  /** Pre-filled values: from the URL's search params, or (later) from a job being remixed. */
  initialValues?: Partial<GenerateFormValues>;
}) {
  const id = useId();
  const router = useRouter();
  const formRef = useRef<HTMLFormElement>(null);
  const [state, formAction, pending] = useActionState(createJob, initialState);
  const [navigating, startNavigation] = useTransition();

  const [values, setValues] = useState<GenerateFormValues>(() =>
    // Without JavaScript the action's answer renders the page again: keep what was typed.
    initialFormValues(models, "values" in state ? { ...initialValues, ...valuesFromSubmitted(state.values) } : initialValues),
  );
  const [lockSeed, setLockSeed] = useState(() => Boolean(initialValues?.seed));
  const [errors, setErrors] = useState<Errors>(() => (state.status === "invalid" ? state.fieldErrors : {}));
  const [statusLine, setStatusLine] = useState<string | null>(() => statusFor(state));

  // A new answer from the server replaces the errors and the status line.
  const [seenState, setSeenState] = useState(state);
  if (seenState !== state) {
    setSeenState(state);
    setErrors(state.status === "invalid" ? state.fieldErrors : {});
    setStatusLine(statusFor(state));
  }

  // Frame images live here, not in `values`: files cannot come back from the server or the URL.
  const [frames, setFrames] = useState<Record<Frame, PickedImage | null>>({ first: null, last: null });

  const model = models.find((m) => m.id === values.model);
  /** Why a frame is not sent with this model (it is kept for another), or null when it is. */
  const frameNote = (frame: Frame): string | null => {
    if (!frames[frame] || !model) return null;
    if (!model.images) return `${model.label} takes no images. Yours is kept, and sent if you pick a model that takes one.`;
    if (frame === "last" && !model.images.last) return `${model.label} takes no last frame. It is kept, and sent if you pick a model that takes one.`;
    return null;
  };
  const sentFrames = (): Partial<Record<Frame, File>> => {
    const out: Partial<Record<Frame, File>> = {};
    for (const frame of FRAMES) {
      const picked = frames[frame];
      if (picked && !frameNote(frame)) out[frame] = picked.file;
    }
    return out;
  };

  const pickFrame = (frame: Frame, file: File) => {
    const field = FRAME_FIELDS[frame];
    void file
      .slice(0, SNIFF_BYTES)
      .arrayBuffer()
      .then(
        (head) => {
          const check = checkFrameImage(frame, file.name, file.size, new Uint8Array(head));
          if (!check.ok) {
            setErrors((prev) => ({ ...prev, [field]: check.message }));
            return;
          }
          clearError(field);
          setFrames((prev) => {
            if (prev[frame]) URL.revokeObjectURL(prev[frame].preview);
            return { ...prev, [frame]: { file, preview: URL.createObjectURL(file) } };
          });
        },
        () => setErrors((prev) => ({ ...prev, [field]: `The ${frame} frame could not be read; pick it again.` })),
      );
  };
  const clearFrame = (frame: Frame) => {
    clearError(FRAME_FIELDS[frame]);
    setFrames((prev) => {
      if (prev[frame]) URL.revokeObjectURL(prev[frame].preview);
      return { ...prev, [frame]: null };
    });
  };
  const offered = useMemo(() => MODELS.filter((m) => models.some((o) => o.id === m.id)), [models]);
  const checking = useRef(false);
  const busy = pending || navigating || state.status === "created";

  const focusFirstError = (errs: Errors) => {
    const first = FIELD_ORDER.find((f) => errs[f]);
    if (!first || !formRef.current) return;
    const el =
      first === "style"
        ? formRef.current.querySelector<HTMLElement>('input[name="style"]:checked')
        : formRef.current.querySelector<HTMLElement>(`#${CSS.escape(`${id}-${first}`)}`);
    el?.focus();
  };

  useEffect(() => {
    if (state.status === "invalid") focusFirstError(state.fieldErrors);
    // Focus only when a new answer arrives, not when ids change.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [state]);

  const navigatedTo = useRef<string | null>(null);
  useEffect(() => {
    if (state.status !== "created" || navigatedTo.current === state.id) return;
    navigatedTo.current = state.id;
    startNavigation(() => router.push(state.url));
  }, [state, router]);

  const clearError = (field: string) =>
    setErrors((prev) => {
      if (!prev[field]) return prev;
      const next = { ...prev };
      delete next[field];
      return next;
    });

  const update = <K extends keyof GenerateFormValues>(field: K, value: GenerateFormValues[K]) => {
    setValues((prev) => ({ ...prev, [field]: value }));
    clearError(field);
  };

  const changeModel = (modelId: string) => {
    const next = models.find((m) => m.id === modelId);
    setValues((prev) => ({ ...prev, model: modelId, ...paramsFor(next, prev) }));
    setErrors((prev) => {
      const rest = { ...prev };
      for (const f of ["model", "firstFrame", "lastFrame", "duration", "aspectRatio", "resolution", "seed", "negativePrompt"]) delete rest[f];
      return rest;
    });
  };

  const changeParam = (field: ParamField, value: string) => {
    update(field, value);
    // Typing a seed means wanting that seed.
    if (field === "seed" && value.trim() !== "") setLockSeed(true);
  };

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    // With JavaScript the form never posts by itself: it is checked here first, then sent.
    event.preventDefault();
    if (busy || checking.current) return;
    let submitted = values;
    if (model?.params.seed && !lockSeed) {
      submitted = { ...values, seed: String(randomSeed()) };
      setValues(submitted);
    }
    const formData = toFormData(submitted, model, sentFrames());
    checking.current = true;
    void loadRequest()
      .then(
        ({ createJobSchema, fieldErrors }) => {
          const parsed = createJobSchema(offered).safeParse(Object.fromEntries(formData));
          send(parsed.success ? null : fieldErrors(parsed.error), formData);
        },
        // Without the schema (a failed chunk load), the server checks the form anyway.
        () => send(null, formData),
      )
      .finally(() => {
        checking.current = false;
      });
  };

  const send = (errs: Errors | null, formData: FormData) => {
    if (errs) {
      setErrors(errs);
      const count = FIELD_ORDER.filter((f) => errs[f]).length;
      setStatusLine(
        count === 0
          ? Object.values(errs).join(" ")
          : `${count === 1 ? "One field needs" : `${count} fields need`} a change before generating; each one says what.`,
      );
      focusFirstError(errs);
      return;
    }
    setErrors({});
    setStatusLine(null);
    startTransition(() => formAction(formData));
  };

  const promptLength = values.prompt.trim().length;
  const promptOver = values.prompt.length > PROMPT_MAX;
  const soundHint = model?.ownAudio
    ? `${model?.label ?? "This model"} makes its own sound, so nothing is added.`
    : "Adds a soundtrack that follows the video.";

  return (
    <form
      ref={formRef}
      action={formAction}
      onSubmit={onSubmit}
      onPaste={(e) => {
        // An image pasted anywhere in the form (not into a text field) becomes the first frame, or the last once there is a first.
        const file = e.clipboardData.files[0];
        if (!file || e.defaultPrevented || busy || !model?.images) return;
        e.preventDefault();
        pickFrame(frames.first && model.images.last ? "last" : "first", file);
      }}
      onFocus={() => void loadRequest()}
      noValidate
      className="space-y-6"
    >
      <div className="space-y-1.5">
        <Label htmlFor={`${id}-prompt`}>Prompt</Label>
        <textarea
          id={`${id}-prompt`}
          name="prompt"
          rows={4}
          value={values.prompt}
          onChange={(e) => update("prompt", e.target.value)}
          placeholder="A lighthouse on a cliff at dusk, waves crashing below, seagulls circling"
          aria-invalid={errors.prompt ? true : undefined}
          aria-describedby={describedBy(`${id}-prompt-count`, errors.prompt && `${id}-prompt-error`)}
          className={controlClasses(Boolean(errors.prompt), "min-h-28 resize-y text-base sm:text-sm")}
        />
        <div className="flex flex-wrap items-start justify-between gap-x-4 gap-y-1">
          <FieldError id={`${id}-prompt-error`} message={errors.prompt} />
          <p
            id={`${id}-prompt-count`}
            className={`ml-auto text-sm tabular-nums ${promptOver ? "font-medium text-red-700 dark:text-red-300" : "text-zinc-600 dark:text-zinc-400"}`}
          >
            {values.prompt.length} / {PROMPT_MAX} characters
            {promptLength < PROMPT_MIN ? <span className="sr-only"> (at least {PROMPT_MIN})</span> : null}
          </p>
        </div>
        <EnhancePanel
          id={id}
          prompt={values.prompt}
          style={values.style}
          value={values.enhancedPrompt}
          error={errors.enhancedPrompt}
          disabled={busy}
          onChange={(enhanced) => update("enhancedPrompt", enhanced)}
        />
      </div>

      <StylePicker
        id={`${id}-style`}
        value={values.style}
        onChange={(style) => update("style", style)}
        error={errors.style}
      />

      <div className="space-y-1.5">
        <Label htmlFor={`${id}-model`}>Model</Label>
        <select
          id={`${id}-model`}
          name="model"
          value={values.model}
          onChange={(e) => changeModel(e.target.value)}
          aria-invalid={errors.model ? true : undefined}
          aria-describedby={describedBy(`${id}-model-hint`, errors.model && `${id}-model-error`)}
          className={controlClasses(Boolean(errors.model))}
        >
          {models.map((m) => (
            <option key={m.id} value={m.id}>
              {m.label}
            </option>
          ))}
        </select>
        <FieldHint id={`${id}-model-hint`}>{model?.description ?? "Pick a model."}</FieldHint>
        <FieldError id={`${id}-model-error`} message={errors.model} />
      </div>

      {model?.images || frames.first || frames.last ? (
        <fieldset className="space-y-3">
          <legend className="text-sm font-medium text-zinc-900 dark:text-zinc-100">Start from an image</legend>
          <FramePicker
            id={id}
            frame="first"
            image={frames.first}
            error={errors.firstFrame}
            note={frameNote("first")}
            disabled={busy}
            onPick={(file) => pickFrame("first", file)}
            onClear={() => clearFrame("first")}
          />
          {model?.images?.last || frames.last ? (
            <FramePicker
              id={id}
              frame="last"
              image={frames.last}
              error={errors.lastFrame}
              note={frameNote("last")}
              disabled={busy}
              onPick={(file) => pickFrame("last", file)}
              onClear={() => clearFrame("last")}
            />
          ) : null}
        </fieldset>
      ) : (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">{model?.label ?? "This model"} makes video from text only; pick another model to start from an image.</p>
      )}

      <ParamsPanel
        id={id}
        model={model}
        values={values}
        errors={errors}
        lockSeed={lockSeed}
        onChange={changeParam}
        onLockSeedChange={setLockSeed}
        onRandomSeed={() => changeParam("seed", String(randomSeed()))}
      />

      <VariationsPanel
        id={id}
        model={model}
        models={models}
        takes={values.takes}
        compare={values.compare.filter((m) => m !== values.model)}
        maxMembers={maxMembers}
        errors={errors}
        disabled={busy}
        onTakes={(takes) => update("takes", takes)}
        onCompare={(compare) => update("compare", compare)}
      />

      <div className="space-y-3">
        <CheckField
          id={`${id}-enhance`}
          name="enhance"
          label="Enhance prompt automatically"
          hint="Rewrites your prompt for video (action, setting, camera, lighting) before generating. The next page shows your prompt and the one sent."
          checked={values.enhance}
          onChange={(checked) => update("enhance", checked)}
        />
        <CheckField
          id={`${id}-sound`}
          name="sound"
          label="Add sound"
          hint={soundHint}
          checked={values.sound}
          onChange={(checked) => update("sound", checked)}
        />
      </div>

      {values.remixOf ? <input type="hidden" name="remixOf" value={values.remixOf} /> : null}

      <div className="flex flex-col gap-3 sm:flex-row sm:items-center">
        <Button type="submit" disabled={busy} aria-describedby={statusLine ? `${id}-status` : undefined} className="px-6 py-2.5 text-base">
          {busy ? (
            <>
              <SpinnerIcon track={0.3} className="size-4 motion-safe:animate-spin" />
              Generating…
            </>
          ) : (
            "Generate"
          )}
        </Button>
        <p
          id={`${id}-status`}
          role="status"
          aria-live="polite"
          className={`text-sm ${state.status === "failed" || state.status === "rate_limited" || statusLine ? "text-red-700 dark:text-red-300" : ""}`}
        >
          {statusLine}
        </p>
      </div>
    </form>
  );
}
