import type { Metadata, Viewport } from "next";
import { headers } from "next/headers";
import Link from "next/link";
import type { ReactNode } from "react";
import { ThemeScript } from "@/components/ui/theme-script";
import { ThemeToggle } from "@/components/ui/theme-toggle";
import "./globals.css";
import { LogoIcon } from "@/components/ui/icons";

export const metadata: Metadata = {
  title: { template: "%s · Prompt2Video", default: "Prompt2Video" },
  description: "Turn a prompt into a short video, and see exactly what was sent to which engine.",
};

export const viewport: Viewport = {
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#ffffff" },
    { media: "(prefers-color-scheme: dark)", color: "#09090b" },
  ],
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // proxy.ts puts this request's CSP nonce here; reading headers also renders every page per request.
  const nonce = (await headers()).get("x-nonce") ?? undefined;
  return (
    // The theme script changes <html>'s class before React hydrates.
    <html lang="en" suppressHydrationWarning>
      <head>
        <ThemeScript nonce={nonce} />
      </head>
      <body className="flex min-h-dvh flex-col font-sans">
        <a
          href="#main"
          className="sr-only focus:not-sr-only focus:fixed focus:top-2 focus:left-2 focus:z-50 focus:rounded-lg focus:bg-white focus:px-4 focus:py-2 focus:text-sm focus:font-medium focus:text-zinc-900 focus:shadow-lg dark:focus:bg-zinc-900 dark:focus:text-zinc-100"
        >
          Skip to content
        </a>
        <header className="border-b border-zinc-200 dark:border-zinc-800">
          <div className="mx-auto flex max-w-5xl items-center justify-between gap-2 px-3 py-3 sm:px-4">
            <Link href="/" className="flex items-center gap-2 text-base font-semibold tracking-tight">
              <LogoIcon className="size-6 text-brand-600 dark:text-indigo-400" />
              Prompt2Video
            </Link>
            <nav aria-label="Main" className="flex items-center gap-1 sm:gap-4">
              <Link
                href="/history"
                className="rounded-lg px-2 py-1.5 text-sm font-medium whitespace-nowrap text-zinc-700 hover:bg-zinc-100 dark:text-zinc-200 dark:hover:bg-zinc-800"
              >
                Your videos
              </Link>
              <ThemeToggle />
            </nav>
          </div>
        </header>
        <main id="main" tabIndex={-1} className="mx-auto w-full max-w-5xl flex-1 px-4 py-8 focus:outline-none">
          {children}
        </main>
        <footer className="border-t border-zinc-200 dark:border-zinc-800">
          <div className="mx-auto max-w-5xl space-y-1 px-4 py-6 text-sm text-zinc-600 dark:text-zinc-400">
            <p>
              Engines: the <strong className="font-medium text-zinc-800 dark:text-zinc-200">local preview</strong> is
              not AI. It draws shapes and colors from your prompt and style with ffmpeg on this server. AI models run on
              Replicate, and only when this server has a Replicate API token.
            </p>
            <p>Every video page says which model and engine made it, and shows the exact prompt that was sent.</p>
          </div>
        </footer>
      </body>
    </html>
  );
}
