import { z } from "zod";
import { parseTrustProxy } from "@/lib/http/trust-proxy";

/**
 * The one place that reads process.env. Every variable is optional: with none at all the app
 * runs offline on the embedded store and the local preview engine.
 */

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .optional();

const optionalUrl = optionalString.pipe(
  z
    .string()
    .url({ message: "must be an absolute URL such as https://example.com" })
    .transform((v) => v.replace(/\/+$/, ""))
    .optional(),
);

const optionalInt = (min: number, fallback: number) =>
  optionalString.transform((v, ctx) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n)) {
      ctx.addIssue({ code: "custom", message: "must be a whole number" });
      return z.NEVER;
    }
    if (n < min) {
      ctx.addIssue({ code: "custom", message: `must be at least ${min}` });
      return z.NEVER;
    }
    return n;
  });

const flag = (fallback: boolean) =>
  optionalString.pipe(
    z
      .enum(["1", "0", "true", "false", "on", "off", "yes", "no"], {
        message: "must be one of on/off, true/false, 1/0, yes/no",
      })
      .optional()
      .transform((v) => (v === undefined ? fallback : ["1", "true", "on", "yes"].includes(v))),
  );

export const envSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).optional().default("development"),
    PORT: optionalInt(1, 3000),
    /** Public origin of this deployment, used for webhook URLs. Unset: no webhooks, the app polls. */
    APP_URL: optionalUrl,
    // Vercel's file system is read-only but for /tmp.
    DATA_DIR: optionalString,
    VERCEL: optionalString,
    VERCEL_PROJECT_PRODUCTION_URL: optionalString,

    KV_REST_API_URL: optionalUrl,
    KV_REST_API_TOKEN: optionalString,
    UPSTASH_REDIS_REST_URL: optionalUrl,
    UPSTASH_REDIS_REST_TOKEN: optionalString,
    REDIS_URL: optionalString.pipe(
      z
        .string()
        .regex(/^rediss?:\/\//, { message: "must start with redis:// or rediss://" })
        .optional(),
    ),
    JOB_RETENTION_DAYS: optionalInt(1, 30),

    REPLICATE_API_TOKEN: optionalString,
    REPLICATE_BASE_URL: optionalUrl,
    REPLICATE_WEBHOOK_SIGNING_SECRET: optionalString.pipe(
      z.string().startsWith("whsec_", { message: "must start with whsec_" }).optional(),
    ),
    /** Seconds without news from the engine before the app asks it directly. */
    RECONCILE_AFTER_SECONDS: optionalInt(1, 20),
    /** Self-hosted: seconds between sweeps of unfinished jobs by a timer in the server (0: no timer). */
    SWEEP_INTERVAL_SECONDS: optionalInt(0, 60),
    /** Vercel Cron sends it as `Authorization: Bearer …`; the cron route refuses requests without it. */
    CRON_SECRET: optionalString.pipe(z.string().min(16, { message: "must be at least 16 characters" }).optional()),

    BLOB_READ_WRITE_TOKEN: optionalString,
    /** An ffmpeg binary to use instead of the bundled one (e.g. the system's /usr/bin/ffmpeg). */
    FFMPEG_PATH: optionalString.pipe(
      z.string().startsWith("/", { message: "must be an absolute path to an ffmpeg binary" }).optional(),
    ),
    MAX_VIDEO_MB: optionalInt(1, 200),

    LOCAL_WEBHOOK_SECRET: optionalString.pipe(
      z.string().startsWith("whsec_", { message: "must start with whsec_" }).optional(),
    ),
    SESSION_SECRET: optionalString.pipe(z.string().min(32, { message: "must be at least 32 characters" }).optional()),

    RATE_LIMITS: flag(true),
    RATE_LIMIT_PER_IP_PER_HOUR: optionalInt(0, 30),
    RATE_LIMIT_PER_BROWSER_PER_HOUR: optionalInt(0, 10),
    /** Jobs generating at once on the whole site, every engine counted (lib/jobs/pipeline/dispatch.ts); more wait in line. */
    MAX_RUNNING_JOBS: optionalInt(0, 4),
    /** One browser's share of those slots; its other jobs wait in line. */
    MAX_RUNNING_JOBS_PER_BROWSER: optionalInt(0, 2),
    /** Jobs one browser may have waiting in line on top of its running share; past it, new ones are refused. */
    MAX_QUEUED_JOBS_PER_BROWSER: optionalInt(0, 3),
    DAILY_JOB_BUDGET: optionalInt(0, 500),
    /** Uses of the "Enhance" button (one LLM prediction each with a Replicate token). */
    ENHANCE_LIMIT_PER_BROWSER_PER_HOUR: optionalInt(0, 20),
    ENHANCE_LIMIT_PER_IP_PER_HOUR: optionalInt(0, 60),
    ENHANCE_LIMIT_PER_SITE_PER_HOUR: optionalInt(0, 300),
    /** Which proxies may say who the client is (lib/http/trust-proxy.ts); off: the connection's address. */
    TRUST_PROXY: optionalString.transform((v, ctx) => {
      const parsed = parseTrustProxy(v);
      if (typeof parsed === "string") {
        ctx.addIssue({ code: "custom", message: parsed });
        return z.NEVER;
      }
      return parsed;
    }),
    /** Live event streams open at once on one instance, per client address and in total. */
    EVENT_STREAMS_PER_CLIENT: optionalInt(0, 20),
    EVENT_STREAMS_MAX: optionalInt(0, 1000),

    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional().default("info"),
  })
  .superRefine((env, ctx) => {
    const pairs: [keyof typeof env, keyof typeof env][] = [
      ["KV_REST_API_URL", "KV_REST_API_TOKEN"],
      ["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"],
    ];
    for (const [a, b] of pairs) {
      if (Boolean(env[a]) !== Boolean(env[b])) {
        const missing = env[a] ? b : a;
        ctx.addIssue({ code: "custom", path: [missing], message: `is required when ${env[a] ? a : b} is set` });
      }
    }
    if (env.REPLICATE_BASE_URL && !env.REPLICATE_API_TOKEN) {
      ctx.addIssue({
        code: "custom",
        path: ["REPLICATE_API_TOKEN"],
        message: "is required when REPLICATE_BASE_URL is set",
      });
    }
  });

export type Env = Omit<z.infer<typeof envSchema>, "DATA_DIR"> & { DATA_DIR: string };

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "EnvError";
  }
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    throw new EnvError(result.error.issues.map((i) => `${i.path.join(".") || "environment"} ${i.message}`));
  }
  const e = result.data;
  return {
    ...e,
    DATA_DIR: e.DATA_DIR ?? (e.VERCEL ? "/tmp/prompt2video" : ".data"),
    // On Vercel the production domain is known; previews behind Deployment Protection would refuse webhooks anyway.
    APP_URL: e.APP_URL ?? (e.VERCEL_PROJECT_PRODUCTION_URL ? `https://${e.VERCEL_PROJECT_PRODUCTION_URL}` : undefined),
  };
}

let cached: Env | null = null;

export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

/** Tests change process.env between cases; this makes the next env() read it again. */
export function resetEnvCache(): void {
  cached = null;
}

/** Which store backend the environment selects. */
export function storeConfig(
  e: Env = env(),
):
  { kind: "upstash"; url: string; token: string } | { kind: "redis"; url: string } | { kind: "embedded"; dir: string } {
  const url = e.KV_REST_API_URL ?? e.UPSTASH_REDIS_REST_URL;
  const token = e.KV_REST_API_TOKEN ?? e.UPSTASH_REDIS_REST_TOKEN;
  if (url && token) return { kind: "upstash", url, token };
  if (e.REDIS_URL) return { kind: "redis", url: e.REDIS_URL };
  return { kind: "embedded", dir: e.DATA_DIR };
}
