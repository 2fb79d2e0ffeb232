"use client";

import { useLayoutEffect, useSyncExternalStore, type ReactNode } from "react";
import { applyTheme, readStoredTheme, THEME_STORAGE_KEY, type Theme } from "@/components/ui/theme";
import { MonitorIcon, MoonIcon, SunIcon } from "@/components/ui/icons";

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
    icon: <MonitorIcon className="size-4" />,
  },
  {
    value: "light",
    label: "Light",
    icon: <SunIcon className="size-4" />,
  },
  {
    value: "dark",
    label: "Dark",
    icon: <MoonIcon className="size-4" />,
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
          className="relative flex size-7 cursor-pointer items-center justify-center rounded-full text-zinc-600 hover:text-zinc-900 has-checked:bg-zinc-200 has-checked:text-zinc-900 has-focus-visible:outline-2 has-focus-visible:outline-offset-1 has-focus-visible:outline-(--focus-ring) sm:size-8 dark:text-zinc-400 dark:hover:text-zinc-100 dark:has-checked:bg-zinc-700 dark:has-checked:text-white"
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
