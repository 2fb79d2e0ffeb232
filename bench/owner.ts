import { OWNER_COOKIE, signOwnerId } from "@/lib/auth/owner-cookie";

/**
 * Every benchmark job belongs to one owner, and the benchmark watches them as that owner: the
 * status and event routes answer anyone else 404 (lib/jobs/adapters/access.ts). The cookie is signed with
 * the server's SESSION_SECRET by the app's own rule.
 */
export const BENCH_OWNER_ID = "benchOwnerOfEveryJob00";

let cookie = "";

export function actAsBenchOwner(sessionSecret: string): void {
  cookie = `${OWNER_COOKIE}=${BENCH_OWNER_ID}.${signOwnerId(BENCH_OWNER_ID, sessionSecret)}`;
}

/** The owner's Cookie header, for every request the benchmark makes about a job. */
export function ownerHeaders(): Record<string, string> {
  return cookie ? { cookie } : {};
}
