"use client";

import { Button } from "@/components/ui/button";
import { controlClasses, describedBy, FieldError } from "@/components/ui/field";
import { PROMPT_MAX } from "@/lib/jobs/domain/form-limits";

/**
 * The enhanced prompt beside the original, editable, sent as `enhancedPrompt` instead of the
 * prompt; its notes (which enhancer ran, whether the prompt changed since) and "Discard". Shown
 * by EnhancePanel once a prompt is enhanced, and loaded only then.
 */
export function EnhancedPrompt({
  id,
  prompt,
  value,
  error,
  note,
  stale,
  onChange,
  onDiscard,
}: {
  id: string;
  prompt: string;
  /** The enhanced prompt as it will be sent. */
  value: string;
  error: string | undefined;
  /** The enhancer's note about this enhancement, if any. */
  note: string | null;
  /** The prompt or style changed after enhancing. */
  stale: boolean;
  onChange: (value: string) => void;
  onDiscard: () => void;
}) {
  return (
    <div className="space-y-2 rounded-xl border border-zinc-200 p-4 dark:border-zinc-800">
      <div className="grid gap-4 md:grid-cols-2">
        <div className="space-y-1.5">
          <p className="text-sm font-medium">Your prompt</p>
          <p className="rounded-lg bg-zinc-50 px-3 py-2 text-sm break-words whitespace-pre-wrap text-zinc-700 dark:bg-zinc-900 dark:text-zinc-300">
            {prompt.trim() === "" ? <span className="italic">Empty</span> : prompt}
          </p>
        </div>
        <div className="space-y-1.5">
          <label htmlFor={`${id}-enhancedPrompt`} className="block text-sm font-medium">
            Enhanced prompt{" "}
            <span className="font-normal text-zinc-600 dark:text-zinc-400">(sent instead, edit freely)</span>
          </label>
          <textarea
            id={`${id}-enhancedPrompt`}
            name="enhancedPrompt"
            rows={6}
            value={value}
            maxLength={PROMPT_MAX}
            onChange={(e) => onChange(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={describedBy(`${id}-enhance-note`, error && `${id}-enhancedPrompt-error`)}
            className={controlClasses(Boolean(error), "resize-y text-base sm:text-sm")}
          />
          <FieldError id={`${id}-enhancedPrompt-error`} message={error} />
        </div>
      </div>
      <div id={`${id}-enhance-note`} className="space-y-1 text-sm text-zinc-600 dark:text-zinc-400">
        {note ? <p>{note}</p> : null}
        {stale ? (
          <p className="font-medium text-amber-800 dark:text-amber-200">
            Your prompt or style changed after enhancing. The enhanced prompt is still what will be sent: enhance again,
            edit it, or discard it.
          </p>
        ) : null}
        <p>This text is sent to the model instead of your prompt; the job page will show it as edited by you.</p>
      </div>
      <Button variant="ghost" onClick={onDiscard} className="-ml-2">
        Discard enhanced prompt
      </Button>
    </div>
  );
}
