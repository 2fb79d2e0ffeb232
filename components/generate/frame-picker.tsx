"use client";

import { useState, type ClipboardEvent, type DragEvent } from "react";
import { Button } from "@/components/ui/button";
import { describedBy, FieldError, FieldHint, Label } from "@/components/ui/field";
import { FRAME_FIELDS, FRAME_LABELS, IMAGE_TYPES, MAX_IMAGE_BYTES, type Frame } from "@/lib/core/frame-image";

/** One frame image as the form holds it: the checked file and a preview address for it. */
export type PickedImage = { file: File; preview: string };

const capitalized = (frame: Frame) => FRAME_LABELS[frame].charAt(0).toUpperCase() + FRAME_LABELS[frame].slice(1);

/**
 * A first or last frame: drop an image on it, paste one into it, or pick a file. The form checks
 * the file by its bytes (`onPick`), shows a preview, and keeps it while another model that takes
 * no such frame is chosen (`note` then says so and the image is not sent).
 */
export function FramePicker({
  id,
  frame,
  image,
  error,
  note,
  disabled,
  onPick,
  onClear,
}: {
  id: string;
  frame: Frame;
  image: PickedImage | null;
  error: string | undefined;
  /** Why this frame is not sent with the chosen model; null when it is. */
  note: string | null;
  disabled: boolean;
  onPick: (file: File) => void;
  onClear: () => void;
}) {
  const inputId = `${id}-${FRAME_FIELDS[frame]}`;
  const [over, setOver] = useState(false);
  const take = (files: FileList | null | undefined) => {
    const file = files?.[0];
    if (file) onPick(file);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (!disabled) take(e.dataTransfer.files);
  };
  const onPaste = (e: ClipboardEvent) => {
    if (disabled || e.clipboardData.files.length === 0) return;
    e.preventDefault();
    take(e.clipboardData.files);
  };
  const label = capitalized(frame);

  return (
    <div className="space-y-1.5">
      <Label htmlFor={inputId}>{label} (optional)</Label>
      <div
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
        onPaste={onPaste}
        data-testid={`${frame}-frame-drop`}
        className={`flex items-center gap-3 rounded-lg border border-dashed p-3 ${
          error
            ? "border-red-600 dark:border-red-400"
            : over
              ? "border-brand-600 bg-brand-50/50 dark:bg-indigo-950/40"
              : "border-zinc-300 dark:border-zinc-600"
        } ${note ? "opacity-70" : ""}`}
      >
        {image ? (
          // eslint-disable-next-line @next/next/no-img-element -- a local object URL: nothing for the image optimizer to do.
          <img src={image.preview} alt={`${label} preview`} className="h-16 w-24 shrink-0 rounded object-cover" />
        ) : null}
        <div className="min-w-0 flex-1 space-y-1">
          <input
            id={inputId}
            type="file"
            accept={IMAGE_TYPES.join(",")}
            disabled={disabled}
            onChange={(e) => {
              take(e.target.files);
              // The same file may be picked again after a removal.
              e.target.value = "";
            }}
            aria-invalid={error ? true : undefined}
            aria-describedby={describedBy(`${inputId}-hint`, note && `${inputId}-note`, error && `${inputId}-error`)}
            className="block w-full text-sm text-zinc-700 file:mr-3 file:rounded-md file:border-0 file:bg-zinc-100 file:px-3 file:py-1.5 file:text-sm file:font-medium dark:text-zinc-300 dark:file:bg-zinc-800 dark:file:text-zinc-100"
          />
          <FieldHint id={`${inputId}-hint`}>
            {image
              ? `${image.file.name || "Pasted image"}, ${Math.max(1, Math.round(image.file.size / 1024))} KB. `
              : ""}
            Drop, paste or pick a PNG, JPEG or WebP up to {MAX_IMAGE_BYTES / 1024 / 1024} MB.
          </FieldHint>
        </div>
        {image ? (
          <Button type="button" variant="secondary" onClick={onClear} disabled={disabled}>
            Remove<span className="sr-only"> the {FRAME_LABELS[frame]}</span>
          </Button>
        ) : null}
      </div>
      {note ? (
        <p id={`${inputId}-note`} className="text-sm text-amber-800 dark:text-amber-200">
          {note}
        </p>
      ) : null}
      <FieldError id={`${inputId}-error`} message={error} />
    </div>
  );
}
