import { cronSweepResponse } from "@/lib/jobs/adapters/cron-sweep";

export const dynamic = "force-dynamic";
// A sweep may reconcile many jobs and copy videos into storage.
export const maxDuration = 300;

// GET /api/cron/sweep - Vercel Cron (vercel.json, every minute): reconcile unfinished jobs; Bearer CRON_SECRET or 401
export function GET(req: Request) {
  return cronSweepResponse(req);
}
