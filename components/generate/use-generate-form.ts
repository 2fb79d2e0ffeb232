"use client";

import {
  startTransition,
  useActionState,
  useEffect,
  useId,
  useRef,
  useState,
  useTransition,
  type ClipboardEvent,
  type FormEvent,
} from "react";
import { useRouter } from "next/navigation";
import type { PickedImage } from "@/components/generate/frame-picker";
import {
  initialFormValues,
  paramsFor,
  randomSeed,
  toFormData,
  valuesFromSubmitted,
  type GenerateFormValues,
  type ParamField,
} from "@/components/generate/form-values";
import { createJob } from "@/lib/jobs/adapters/actions";
import type { ModelOption } from "@/lib/jobs/adapters/queries";
import type { CreateJobState } from "@/lib/jobs/domain/request";
import { FRAME_FIELDS, FRAMES, SNIFF_BYTES, type Frame } from "@/lib/core/frame-image";

export type Errors = Partial<Record<string, string>>;

/** Fields in the order they appear, to focus the first one with an error. */
const FIELD_ORDER = [
  "prompt",
  "style",
  "model",
  "firstFrame",
  "lastFrame",
  "duration",
  "aspectRatio",
  "resolution",
  "seed",
  "negativePrompt",
  "takes",
  "compare",
] as const;
const VISIBLE_FIELDS: readonly string[] = FIELD_ORDER;
/** The fields whose meaning depends on the model: a new model clears their errors. */
const MODEL_FIELDS = FIELD_ORDER.filter((f) => !["prompt", "style", "takes", "compare"].includes(f));

const initialState: CreateJobState = { status: "idle" };

// The form is checked with the same Zod schema as the server action, loaded on first use rather
// than with the page: it is the largest part of the page's JavaScript.
let requestModule: Promise<typeof import("@/lib/jobs/domain/request")> | null = null;
export const loadRequest = () => (requestModule ??= import("@/lib/jobs/domain/request"));
// The check of a picked image's bytes, loaded when an image is picked.
const loadFrameCheck = () => import("@/lib/core/frame-check");

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

/**
 * The generate form's state and submission: the values, the errors and status line (from the
 * form's own check or the server's answer), the frame images, and sending through `createJob`,
 * then going to the new job's page.
 */
export function useGenerateForm(models: ModelOption[], initialValues?: Partial<GenerateFormValues>) {
  const id = useId();
  const router = useRouter();
  const formRef = useRef<HTMLFormElement>(null);
  const [state, formAction, pending] = useActionState(createJob, initialState);
  const [navigating, startNavigation] = useTransition();

  const [values, setValues] = useState<GenerateFormValues>(() =>
    // Without JavaScript the action's answer renders the page again: keep what was typed.
    initialFormValues(
      models,
      "values" in state ? { ...initialValues, ...valuesFromSubmitted(state.values) } : initialValues,
    ),
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
    if (!model.images)
      return `${model.label} takes no images. Yours is kept, and sent if you pick a model that takes one.`;
    if (frame === "last" && !model.images.last)
      return `${model.label} takes no last frame. It is kept, and sent if you pick a model that takes one.`;
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
    void Promise.all([file.slice(0, SNIFF_BYTES).arrayBuffer(), loadFrameCheck()]).then(
      ([head, { checkFrameImage }]) => {
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
      for (const f of MODEL_FIELDS) delete rest[f];
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
          const parsed = createJobSchema(models).safeParse(Object.fromEntries(formData));
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

  const onPaste = (e: ClipboardEvent<HTMLFormElement>) => {
    // An image pasted anywhere in the form (not into a text field) becomes the first frame, or the last once there is a first.
    const file = e.clipboardData.files[0];
    if (!file || e.defaultPrevented || busy || !model?.images) return;
    e.preventDefault();
    pickFrame(frames.first && model.images.last ? "last" : "first", file);
  };

  return {
    id,
    formRef,
    formAction,
    state,
    values,
    errors,
    statusLine,
    frames,
    model,
    busy,
    lockSeed,
    setLockSeed,
    frameNote,
    pickFrame,
    clearFrame,
    update,
    changeModel,
    changeParam,
    onSubmit,
    onPaste,
  };
}
