import type { ReactNode } from "react";
import { AlertCircleIcon } from "@/components/ui/icons";

/** The shared look of text inputs, selects and textareas; red border when invalid. */
export function controlClasses(invalid: boolean, extra = "", width = "block w-full"): string {
  const border = invalid ? "border-red-600 dark:border-red-400" : "border-zinc-300 dark:border-zinc-600";
  return `${width} rounded-lg border ${border} bg-white px-3 py-2 text-sm text-zinc-900 placeholder:text-zinc-500 disabled:opacity-60 dark:bg-zinc-900 dark:text-zinc-100 dark:placeholder:text-zinc-400 ${extra}`.trim();
}

/** The ids a control's aria-describedby should list: hint first, then the error when there is one. */
export function describedBy(...ids: (string | false | null | undefined)[]): string | undefined {
  const list = ids.filter((id): id is string => typeof id === "string" && id !== "");
  return list.length > 0 ? list.join(" ") : undefined;
}

export function Label({ htmlFor, children, id }: { htmlFor?: string; children: ReactNode; id?: string }) {
  return (
    <label htmlFor={htmlFor} id={id} className="block text-sm font-medium text-zinc-900 dark:text-zinc-100">
      {children}
    </label>
  );
}

export function FieldHint({ id, children }: { id: string; children: ReactNode }) {
  return (
    <p id={id} className="text-sm text-zinc-600 dark:text-zinc-400">
      {children}
    </p>
  );
}

/** A field's error as a sentence; renders nothing when there is none. */
export function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p id={id} className="flex items-start gap-1.5 text-sm font-medium text-red-700 dark:text-red-300">
      <AlertCircleIcon className="mt-0.5 size-4 shrink-0" />
      <span>{message}</span>
    </p>
  );
}
