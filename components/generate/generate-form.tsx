"use client";

import { FramesSection } from "@/components/generate/frames-section";
import { randomSeed, type GenerateFormValues } from "@/components/generate/form-values";
import { ModelSelect } from "@/components/generate/model-select";
import { ParamsPanel } from "@/components/generate/params-panel";
import { PromptField } from "@/components/generate/prompt-field";
import { StepOptions } from "@/components/generate/step-options";
import { StylePicker } from "@/components/generate/style-picker";
import { SubmitRow } from "@/components/generate/submit-row";
import { loadRequest, useGenerateForm } from "@/components/generate/use-generate-form";
import { VariationsPanel } from "@/components/generate/variations-panel";
import type { ModelOption } from "@/lib/jobs/adapters/queries";
import type { StyleOption } from "@/lib/styles";

/** The generate form's layout; its state and submission are in use-generate-form.ts. */
export function GenerateForm({
  models,
  styles,
  initialValues,
  maxMembers = 1,
}: {
  models: ModelOption[];
  styles: StyleOption[];
  /** How many videos one submission may make (takes or compared models); 1 hides the choice. */
  maxMembers?: number;
  /** Pre-filled values: from the URL's search params, or (later) from a job being remixed. */
  initialValues?: Partial<GenerateFormValues>;
}) {
  // Destructured: the result holds the form's ref, which render must not read through an object.
  const {
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
  } = useGenerateForm(models, initialValues);

  return (
    <form
      ref={formRef}
      action={formAction}
      onSubmit={onSubmit}
      onPaste={onPaste}
      onFocus={() => void loadRequest()}
      noValidate
      className="space-y-6"
    >
      <PromptField id={id} values={values} errors={errors} disabled={busy} onChange={update} />

      <StylePicker
        id={`${id}-style`}
        styles={styles}
        value={values.style}
        onChange={(style) => update("style", style)}
        error={errors.style}
      />

      <ModelSelect id={id} models={models} value={values.model} error={errors.model} onChange={changeModel} />

      <FramesSection
        id={id}
        model={model}
        frames={frames}
        errors={errors}
        disabled={busy}
        frameNote={frameNote}
        onPick={pickFrame}
        onClear={clearFrame}
      />

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

      <StepOptions id={id} model={model} enhance={values.enhance} sound={values.sound} onChange={update} />

      {values.remixOf ? <input type="hidden" name="remixOf" value={values.remixOf} /> : null}

      <SubmitRow id={id} busy={busy} state={state} statusLine={statusLine} />
    </form>
  );
}
