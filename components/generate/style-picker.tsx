import { FieldError } from "@/components/ui/field";
import type { StyleId } from "@/lib/style-ids";
import type { StyleOption } from "@/lib/styles";
import { CheckIcon } from "@/components/ui/icons";

/**
 * The style choice as native radio buttons drawn as swatches: Tab reaches the group, the arrow
 * keys move and select, and the form submits `style` even without JavaScript.
 */
export function StylePicker({
  id,
  styles,
  value,
  onChange,
  error,
  disabled,
}: {
  id: string;
  /** From the server (lib/styles.ts), so the presets' templates stay out of the page's JavaScript. */
  styles: StyleOption[];
  value: StyleId;
  onChange: (style: StyleId) => void;
  error: string | undefined;
  disabled?: boolean;
}) {
  const legendId = `${id}-legend`;
  const errorId = `${id}-error`;
  return (
    <fieldset
      role="radiogroup"
      aria-labelledby={legendId}
      aria-describedby={error ? errorId : undefined}
      aria-invalid={error ? true : undefined}
      disabled={disabled}
      className="space-y-2"
    >
      <legend id={legendId} className="text-sm font-medium text-zinc-900 dark:text-zinc-100">
        Style
      </legend>
      <div className="grid grid-cols-2 gap-2 sm:grid-cols-4">
        {styles.map((style) => {
          const optionId = `${id}-${style.id}`;
          const [a, b, c] = style.palette;
          return (
            <label
              key={style.id}
              htmlFor={optionId}
              className="group flex cursor-pointer flex-col overflow-hidden rounded-xl border border-zinc-300 bg-white has-checked:border-brand-600 has-checked:ring-2 has-checked:ring-brand-600 has-focus-visible:outline-2 has-focus-visible:outline-offset-2 has-focus-visible:outline-(--focus-ring) dark:border-zinc-700 dark:bg-zinc-900 dark:has-checked:border-indigo-400 dark:has-checked:ring-indigo-400"
            >
              <input
                type="radio"
                id={optionId}
                name="style"
                value={style.id}
                checked={value === style.id}
                onChange={() => onChange(style.id)}
                aria-labelledby={`${optionId}-label`}
                aria-describedby={`${optionId}-desc`}
                className="sr-only"
              />
              {/* SVG gradient rather than an inline style, so a strict style-src CSP keeps it. */}
              <svg viewBox="0 0 120 48" preserveAspectRatio="none" aria-hidden="true" className="h-12 w-full">
                <defs>
                  <linearGradient id={`${optionId}-gradient`} x1="0" y1="0" x2="1" y2="1">
                    <stop offset="0" stopColor={`#${a}`} />
                    <stop offset="0.55" stopColor={`#${b}`} />
                    <stop offset="1" stopColor={`#${c}`} />
                  </linearGradient>
                </defs>
                <rect width="120" height="48" fill={`url(#${optionId}-gradient)`} />
              </svg>
              <span className="flex flex-1 flex-col gap-0.5 px-2.5 py-2">
                <span id={`${optionId}-label`} className="flex items-center gap-1 text-sm font-medium">
                  {style.label}
                  <CheckIcon className="hidden size-4 text-brand-600 group-has-checked:inline dark:text-indigo-300" />
                </span>
                <span id={`${optionId}-desc`} className="text-xs leading-snug text-zinc-600 dark:text-zinc-400">
                  {style.description}
                </span>
              </span>
            </label>
          );
        })}
      </div>
      <FieldError id={errorId} message={error} />
    </fieldset>
  );
}
