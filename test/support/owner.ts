import { OWNER_COOKIE, ownerCookieValue } from "@/lib/auth/owner";

/**
 * The owner of the test jobs, and the cookie its browser sends: signed by the app's own code, as
 * the owner cookie of a real browser is. Only the owner can see a job (lib/jobs/adapters/access.ts), so a
 * test that reads a job's status, events or files asks as that owner.
 */
export const TEST_OWNER_ID = "ownerOfTheTestJobs0000";

/** `p2v_owner=<id>.<signature>` for a Cookie header. */
export async function ownerCookie(ownerId: string = TEST_OWNER_ID): Promise<string> {
  return `${OWNER_COOKIE}=${await ownerCookieValue(ownerId)}`;
}

/** Fetch options with the owner's cookie (and any other headers). */
export async function asOwner(
  headers: Record<string, string> = {},
  ownerId: string = TEST_OWNER_ID,
): Promise<{ headers: Record<string, string> }> {
  return { headers: { ...headers, cookie: await ownerCookie(ownerId) } };
}

/** A fetch that sends the owner's cookie on every request, as the owner's browser does. */
export async function ownerFetch(ownerId: string = TEST_OWNER_ID): Promise<typeof fetch> {
  const cookie = await ownerCookie(ownerId);
  return (input, init) =>
    fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), cookie } });
}
