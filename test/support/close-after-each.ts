import { afterEach } from "vitest";

type Closable = { close(): Promise<void> };

/**
 * After each test, closes the servers a test started (the app harness, the fake Replicate, …),
 * in the order given. A server is closed once: a test that starts none leaves nothing to close.
 * Pass getters, since each test assigns new servers to the file's variables.
 */
export function closeAfterEach(...servers: Array<() => Closable | null | undefined>): void {
  const closed = new WeakSet<Closable>();
  afterEach(async () => {
    for (const current of servers) {
      const server = current();
      if (!server || closed.has(server)) continue;
      await server.close();
      closed.add(server);
    }
  });
}
