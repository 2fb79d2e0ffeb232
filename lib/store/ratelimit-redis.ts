import { createHash } from "node:crypto";
import type { Redis } from "@upstash/redis";
import type { RedisArg } from "@/lib/store/redis-store";

/** What `new Ratelimit({ redis })` takes: the @upstash/redis client type. */
export type RatelimitRedis = Redis;

type Call = (command: string, ...args: RedisArg[]) => Promise<unknown>;

const arg = (value: unknown): RedisArg => (typeof value === "number" ? value : value == null ? "" : String(value));
const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");
/** Redis before 7 cannot parse a shebang; Redis 7 refuses flags it does not know. */
const SHEBANG_REFUSED = /shebang|near '#'/i;

/**
 * A client for @upstash/ratelimit over any of the store's Redis connections (ioredis over TCP,
 * @upstash/redis over REST). Its single-region limiters only run Lua scripts: EVALSHA, then EVAL
 * when the server answers NOSCRIPT (the reply error passes through unchanged for that). Deny
 * lists, analytics and multi-region need more commands; this app turns them off.
 *
 * The library's scripts start with `#!lua flags=allow-key-locking`, a flag Upstash knows and
 * Redis does not ("Unexpected flag in script shebang"). When a server refuses it, the scripts
 * are sent without that line from then on (they do the same, in Redis's default script mode),
 * and EVALSHA of the library's hash is pointed at the hash of the script as it was sent.
 */
export function ratelimitRedis(call: Call): RatelimitRedis {
  let withoutShebang = false;
  const sentAs = new Map<string, string>();
  const run = (command: "EVAL" | "EVALSHA", scriptOrSha: string, keys: string[], args: unknown[]) =>
    call(command, scriptOrSha, keys.length, ...keys, ...args.map(arg));

  const client = {
    evalsha: (sha: string, keys: string[], args: unknown[]) => run("EVALSHA", sentAs.get(sha) ?? sha, keys, args),
    async eval(script: string, keys: string[], args: unknown[]) {
      if (!withoutShebang) {
        try {
          return await run("EVAL", script, keys, args);
        } catch (error) {
          if (!SHEBANG_REFUSED.test(error instanceof Error ? error.message : String(error))) throw error;
          withoutShebang = true;
        }
      }
      const plain = script.replace(/^#![^\n]*\n/, "");
      sentAs.set(sha1(script), sha1(plain));
      return run("EVAL", plain, keys, args);
    },
  };
  // The library's type is the whole REST client; the two methods above are all it calls here.
  return client as unknown as RatelimitRedis;
}
