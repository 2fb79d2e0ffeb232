"use client";

import { lazy, useState, useTransition, type ComponentProps, type ComponentType } from "react";
import { Button } from "@/components/ui/button";
import { enhancePrompt } from "@/lib/jobs/adapters/actions";
import { SparklesIcon } from "@/components/ui/icons";

// The enhanced prompt's editor shows only once a prompt is enhanced, so its code is not part of
// the page: it is fetched when Enhance is pressed (alongside the request, and shown once both are
// here), or while rendering a page that opens with an enhanced prompt.
type EditorModule = typeof import("@/components/generate/enhanced-prompt");
type Editor = ComponentType<ComponentProps<EditorModule["EnhancedPrompt"]>>;
let editorModule: Promise<EditorModule> | null = null;
const loadEditor = () =>
  (editorModule ??= import("@/components/generate/enhanced-prompt").catch((error: unknown) => {
    editorModule = null; // Fetched again next time.
    throw error;
  }));
// For a page that opens with an enhanced prompt: it suspends until its code is here, like code the
// page waits for (the server waits for it too, so the HTML has the editor even without JavaScript).
const LazyEditor = lazy(() => loadEditor().then((m) => ({ default: m.EnhancedPrompt })));

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
  // Open once enhanced (or when the page came back with an enhanced prompt), until discarded;
  // the editor is kept in state so that it stays the same component while open.
  const [Editor, setEditor] = useState<Editor | null>(() => (value !== "" ? LazyEditor : null));
  const open = Editor !== null;
  const [message, setMessage] = useState<string | null>(null);

  const enhance = () =>
    startEnhance(async () => {
      setMessage(null);
      try {
        const [result, editor] = await Promise.all([enhancePrompt(prompt, style), loadEditor()]);
        if (!result.ok) {
          setMessage(result.message);
          return;
        }
        setEnhancement({ from: { prompt, style }, note: result.note, engine: result.engine });
        onChange(result.enhanced);
        setEditor(() => editor.EnhancedPrompt);
        setMessage(
          `Enhanced${result.engine === "rules" ? " by the rule-based enhancer" : ""}. Review and edit it below your prompt.`,
        );
      } catch {
        setMessage("The request did not reach the server. Try again.");
      }
    });

  const discard = () => {
    onChange("");
    setEditor(null);
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

      {Editor ? (
        <Editor
          id={id}
          prompt={prompt}
          value={value}
          error={error}
          note={enhancement?.note ?? null}
          stale={stale}
          onChange={onChange}
          onDiscard={discard}
        />
      ) : null}
    </div>
  );
}
