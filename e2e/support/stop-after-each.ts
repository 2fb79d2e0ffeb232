import { test } from "@playwright/test";

type Stoppable = { kill(): Promise<void> } | { close(): Promise<void> };

/**
 * After each test, stops what the test started, in the order given: an app server is killed
 * (`kill`), a fake provider closed (`close`). Each is stopped once: a test that starts none
 * leaves nothing to stop. Pass getters, since each test assigns new ones to the file's variables.
 */
export function stopAfterEach(...running: Array<() => Stoppable | undefined>): void {
  const stopped = new WeakSet<Stoppable>();
  test.afterEach(async () => {
    for (const current of running) {
      const one = current();
      if (!one || stopped.has(one)) continue;
      await ("kill" in one ? one.kill() : one.close());
      stopped.add(one);
    }
  });
}
