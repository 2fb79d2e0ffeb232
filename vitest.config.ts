import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    alias: {
      "@": fileURLToPath(new URL("./", import.meta.url)),
      // Server-only guards throw outside React Server Components; tests import the modules directly.
      "server-only": fileURLToPath(new URL("./test/support/empty.ts", import.meta.url)),
    },
  },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    // Hang guards only, never a speed target: a render on a machine busy with other work can take a while.
    testTimeout: 90_000,
    hookTimeout: 60_000,
    globalSetup: ["test/support/global-setup.ts"],
    pool: "forks",
    env: { LOG_LEVEL: "silent" },
  },
});
