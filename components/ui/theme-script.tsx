"use client";

import { THEME_BOOT_SCRIPT } from "@/components/ui/theme";

/**
 * Applies the stored theme before the first paint, so a dark page never flashes white.
 * The app's only inline script: when a Content-Security-Policy is added, pass its nonce here.
 */
export function ThemeScript({ nonce }: { nonce?: string }) {
  return (
    <script
      nonce={nonce}
      // A client component, so the browser renders it inert (React warns about live <script> there);
      // only the server-rendered copy runs.
      type={typeof window === "undefined" ? "text/javascript" : "text/plain"}
      suppressHydrationWarning
      dangerouslySetInnerHTML={{ __html: THEME_BOOT_SCRIPT }}
    />
  );
}
