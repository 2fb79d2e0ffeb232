"use client";

import { useState, useTransition } from "react";
import { Button } from "@/components/ui/button";
import { controlClasses, describedBy, FieldError } from "@/components/ui/field";
import { enhancePrompt } from "@/lib/jobs/adapters/actions";
import { PROMPT_MAX } from "@/lib/jobs/domain/form-limits";
import { SparklesIcon } from "@/components/ui/icons";

type Enhancement = { from: { prompt: string; style: string }; note: string | null; engine: "llm" | "rules" };

/**
 * The "Enhance" button and what it gives: the prompt rewritten for video beside the original,
 * editable, sent as `enhancedPrompt` instead of the prompt (the job then shows its enhance step
 * as done by you). The note says which enhancer ran; "Discard" goes back to the plain prompt.
 */
export function EnhancePanel({
  id,
  prompt,
  style,
  value,
  error,
  disabled,
  onChange,
}: {
  id: string;
  prompt: string;
  style: string;
  /** The enhanced prompt as it will be sent; "" when there is none. */
  value: string;
  error: string | undefined;
  disabled?: boolean;
  onChange: (value: string) => void;
}) {
  const [pending, startEnhance] = useTransition();
  const [enhancement, setEnhancement] = useState<Enhancement | null>(null);
  // Open once enhanced (or when the page came back with an enhanced prompt), until discarded.
  const [open, setOpen] = useState(value !== "");
  const [message, setMessage] = useState<string | null>(null);

  const enhance = () =>
    startEnhance(async () => {
      setMessage(null);
      try {
        const result = await enhancePrompt(prompt, style);
        if (!result.ok) {
          setMessage(result.message);
          return;
        }
        setEnhancement({ from: { prompt, style }, note: result.note, engine: result.engine });
        onChange(result.enhanced);
        setOpen(true);
        setMessage(
          `Enhanced${result.engine === "rules" ? " by the rule-based enhancer" : ""}. Review and edit it below your prompt.`,
        );
      } catch {
        setMessage("The request did not reach the server. Try again.");
      }
    });

  const discard = () => {
    onChange("");
    setOpen(false);
    setEnhancement(null);
    setMessage("Enhanced prompt discarded: your own prompt will be sent.");
  };

  const stale = enhancement !== null && (enhancement.from.prompt !== prompt || enhancement.from.style !== style);

  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-center gap-3">
        <Button
          variant="secondary"
          onClick={enhance}
          disabled={pending || disabled}
          aria-describedby={`${id}-enhance-button-hint`}
        >
          <SparklesIcon className="size-4" />
          {pending ? "Enhancing…" : open ? "Enhance again" : "Enhance"}
        </Button>
        <p id={`${id}-enhance-button-hint`} className="text-sm text-zinc-600 dark:text-zinc-400">
          Rewrites your prompt with camera and lighting detail, for you to read and edit before generating.
        </p>
      </div>
      <p role="status" aria-live="polite" className="text-sm text-zinc-600 dark:text-zinc-400">
        {message}
      </p>

      {open ? (
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
            {enhancement?.note ? <p>{enhancement.note}</p> : null}
            {stale ? (
              <p className="font-medium text-amber-800 dark:text-amber-200">
                Your prompt or style changed after enhancing. The enhanced prompt is still what will be sent: enhance
                again, edit it, or discard it.
              </p>
            ) : null}
            <p>This text is sent to the model instead of your prompt; the job page will show it as edited by you.</p>
          </div>
          <Button variant="ghost" onClick={discard} className="-ml-2">
            Discard enhanced prompt
          </Button>
        </div>
      ) : null}
    </div>
  );
}
