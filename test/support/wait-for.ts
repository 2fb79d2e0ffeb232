// Captured at load: a test that fakes the clock still waits in real time.
const realNow = Date.now;
const realSetTimeout = setTimeout;

/**
 * The one way tests wait: on a condition, never on the clock. `read` is asked again every
 * `intervalMs` until `ok` holds; the timeout only keeps a broken run from hanging, so it is
 * generous and never part of what a test asserts.
 */
export async function waitFor<T>(
  read: () => Promise<T> | T,
  ok: (value: T) => boolean,
  timeoutMs = 60_000,
  intervalMs = 20,
): Promise<T> {
  const deadline = realNow() + timeoutMs;
  let last: T = await read();
  while (!ok(last)) {
    if (realNow() > deadline) throw new Error(`Timed out waiting; last value: ${JSON.stringify(last)?.slice(0, 2000)}`);
    await new Promise((r) => realSetTimeout(r, intervalMs));
    last = await read();
  }
  return last;
}

/** Waits until `check` holds (see waitFor). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  await waitFor(check, Boolean, timeoutMs);
}
