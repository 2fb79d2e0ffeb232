"use client";

import { useLayoutEffect, useSyncExternalStore, type ReactNode } from "react";
import { applyTheme, readStoredTheme, THEME_STORAGE_KEY, type Theme } from "@/components/ui/theme";

const CHANGE_EVENT = "p2v-theme-change";

function subscribe(onChange: () => void): () => void {
  // "storage" fires when another tab changes the theme; CHANGE_EVENT when this one does.
  window.addEventListener("storage", onChange);
  window.addEventListener(CHANGE_EVENT, onChange);
  return () => {
    window.removeEventListener("storage", onChange);
    window.removeEventListener(CHANGE_EVENT, onChange);
  };
}

function setTheme(theme: Theme): void {
  try {
    if (theme === "system") window.localStorage.removeItem(THEME_STORAGE_KEY);
    else window.localStorage.setItem(THEME_STORAGE_KEY, theme);
  } catch {
    // Not persisted, but still applied to this page.
  }
  applyTheme(theme);
  window.dispatchEvent(new Event(CHANGE_EVENT));
}

const OPTIONS: { value: Theme; label: string; icon: ReactNode }[] = [
  {
    value: "system",
    label: "System",
    icon: (
      <svg viewBox="0 0 20 20" fill="none" stroke="currentColor" strokeWidth="1.6" aria-hidden="true" className="size-4">
        <rect x="2.5" y="3.5" width="15" height="10" rx="1.5" />
        <path d="M7 16.5h6M10 13.5v3" strokeLinecap="round" />
      </svg>
    ),
  },
  {
    value: "light",
    label: "Light",
    icon: (
      <svg viewBox="0 0 20 20" fill="none" stroke="currentColor" strokeWidth="1.6" aria-hidden="true" className="size-4">
        <circle cx="10" cy="10" r="3.5" />
        <path
          d="M10 1.5v2M10 16.5v2M1.5 10h2M16.5 10h2M4 4l1.4 1.4M14.6 14.6 16 16M4 16l1.4-1.4M14.6 5.4 16 4"
          strokeLinecap="round"
        />
      </svg>
    ),
  },
  {
    value: "dark",
    label: "Dark",
    icon: (
      <svg viewBox="0 0 20 20" fill="none" stroke="currentColor" strokeWidth="1.6" aria-hidden="true" className="size-4">
        <path d="M16.5 12.5A7 7 0 0 1 7.5 3.5a7 7 0 1 0 9 9Z" strokeLinejoin="round" />
      </svg>
    ),
  },
];

/** System / light / dark, as a segmented radio group (arrow keys move between the three). */
export function ThemeToggle() {
  // The server cannot know the stored theme: it renders "system", then the client corrects it.
  const theme = useSyncExternalStore(subscribe, readStoredTheme, () => "system" as const);

  // In development React's remount resets <html>'s class; put the stored theme back before paint.
  useLayoutEffect(() => applyTheme(readStoredTheme()), []);

  return (
    <fieldset className="flex items-center rounded-full border border-zinc-300 p-0.5 dark:border-zinc-700">
      <legend className="sr-only">Theme</legend>
      {OPTIONS.map((option) => (
        <label
          key={option.value}
          title={option.label}
          className="relative flex size-7 cursor-pointer sm:size-8 items-center justify-center rounded-full text-zinc-600 hover:text-zinc-900 has-checked:bg-zinc-200 has-checked:text-zinc-900 has-focus-visible:outline-2 has-focus-visible:outline-offset-1 has-focus-visible:outline-(--focus-ring) dark:text-zinc-400 dark:hover:text-zinc-100 dark:has-checked:bg-zinc-700 dark:has-checked:text-white"
        >
          <input
            type="radio"
            name="theme"
            value={option.value}
            checked={theme === option.value}
            onChange={() => setTheme(option.value)}
            className="peer sr-only"
          />
          {option.icon}
          <span className="sr-only">{option.label}</span>
        </label>
      ))}
    </fieldset>
  );
}
