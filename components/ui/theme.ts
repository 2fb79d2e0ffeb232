/** The theme choice: "system" follows prefers-color-scheme; the others pin a class on <html>. */
export const THEMES = ["system", "light", "dark"] as const;
export type Theme = (typeof THEMES)[number];

export const THEME_STORAGE_KEY = "p2v-theme";

export function isTheme(value: unknown): value is Theme {
  return typeof value === "string" && (THEMES as readonly string[]).includes(value);
}

export function readStoredTheme(): Theme {
  try {
    const stored = window.localStorage.getItem(THEME_STORAGE_KEY);
    return isTheme(stored) ? stored : "system";
  } catch {
    // Storage can be unavailable (privacy modes); the system theme applies.
    return "system";
  }
}

/** Puts `light` or `dark` on <html>, or neither for "system" (the CSS media query then decides). */
export function applyTheme(theme: Theme): void {
  const classes = document.documentElement.classList;
  classes.remove("light", "dark");
  if (theme !== "system") classes.add(theme);
}

/** The same as readStoredTheme + applyTheme, as plain ES5 for the inline script before first paint. */
export const THEME_BOOT_SCRIPT = `(function(){try{var t=localStorage.getItem(${JSON.stringify(
  THEME_STORAGE_KEY,
)});var c=document.documentElement.classList;c.remove("light","dark");if(t==="light"||t==="dark")c.add(t)}catch(e){}})()`;
