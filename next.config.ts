import type { NextConfig } from "next";
import { staticHeaderRules } from "./lib/security/csp";

const nextConfig: NextConfig = {
  // A self-contained server for self-hosting (`node .next/standalone/server.js`), on request:
  // `next start` (npm start, the tests, the benchmark) does not serve a standalone build.
  // A build-time switch, so it is read here rather than in lib/env.ts.
  output: process.env.NEXT_OUTPUT === "standalone" ? "standalone" : undefined,
  poweredByHeader: false,
  experimental: {
    // The Generate form may carry a first and a last frame of up to 10 MB each (lib/core/frame-image.ts);
    // POST /api/jobs reads its own body with its own cap. The proxy (proxy.ts) buffers bodies up
    // to this size; past it the route would get a cut body.
    serverActions: { bodySizeLimit: "21mb" },
    proxyClientMaxBodySize: "30mb",
  },
  // `next dev` serves its scripts to localhost only; opening http://127.0.0.1:3000 should work too.
  allowedDevOrigins: ["127.0.0.1"],
  // The ffmpeg binary ships inside this package; it must be loaded from node_modules at run time.
  serverExternalPackages: ["@ffmpeg-installer/ffmpeg", "ioredis", "pino"],
  outputFileTracingIncludes: {
    "/*": ["./node_modules/@ffmpeg-installer/**/*", "./node_modules/dejavu-fonts-ttf/ttf/DejaVuSans.ttf"],
  },
  // Security headers of API routes, files and build assets (static: no nonce), and the ones every
  // response shares; pages get their per-request policy from proxy.ts (lib/security/csp.ts).
  async headers() {
    return staticHeaderRules();
  },
};

export default nextConfig;
