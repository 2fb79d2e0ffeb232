"use client";

import { useSyncExternalStore } from "react";

const STEP_MS = 30_000;
// Rounded, so repeated reads agree between ticks (useSyncExternalStore requires it).
const readNow = () => Math.floor(Date.now() / STEP_MS) * STEP_MS;
const subscribe = (onTick: () => void) => {
  const timer = setInterval(onTick, STEP_MS);
  return () => clearInterval(timer);
};

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/** "just now", "3 minutes ago", "yesterday", "2 weeks ago". */
export function relativeTime(at: number, now: number, locale = "en"): string {
  const seconds = Math.round((at - now) / 1000);
  if (Math.abs(seconds) < 60) return "just now";
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return format.format(Math.trunc(seconds / size), unit);
  }
  return format.format(Math.trunc(seconds / 60), "minute");
}

/** A time as "3 minutes ago", kept current; the exact date and time on hover. Client-rendered only. */
export function RelativeTime({ at, className }: { at: number; className?: string }) {
  // null on the server and while hydrating: its clock and time zone are not the browser's.
  const now = useSyncExternalStore(subscribe, readNow, () => null);
  return (
    <time
      dateTime={new Date(at).toISOString()}
      title={now === null ? undefined : new Date(at).toLocaleString()}
      className={className}
    >
      {now === null ? "" : relativeTime(at, Math.max(now, at))}
    </time>
  );
}
