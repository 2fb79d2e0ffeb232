import { createHash } from "node:crypto";
import type { RedisArg } from "@/lib/store/redis-commands";

/**
 * The job store's Lua scripts (the layout they keep is described in lib/store/redis-layout.ts) and
 * the runner that sends them: each operation is one script, so instances never interleave.
 */

export const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'seq', ARGV[2], 'owner', ARGV[3], 'createdAt', ARGV[4], 'share', ARGV[7])
redis.call('EXPIRE', KEYS[1], ARGV[6])
if ARGV[7] ~= '' then redis.call('SET', ARGV[8] .. 'share:' .. ARGV[7], ARGV[5], 'EX', ARGV[6]) end
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], ARGV[4], ARGV[5])
  redis.call('EXPIRE', KEYS[i], ARGV[6])
end
return 1`;

// Compare-and-set on seq; re-indexes only when owner or createdAt changed. The share index follows
// the share token: the old one's key goes, the new one's is set (and kept alive with the record).
export const UPDATE = `
local cur = redis.call('HMGET', KEYS[1], 'seq', 'owner', 'createdAt', 'share')
if not cur[1] then return -1 end
if cur[1] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'seq', ARGV[3], 'owner', ARGV[4], 'createdAt', ARGV[5], 'share', ARGV[10])
redis.call('EXPIRE', KEYS[1], ARGV[6])
local oldShare = cur[4] or ''
if oldShare ~= '' and oldShare ~= ARGV[10] then redis.call('DEL', ARGV[8] .. 'share:' .. oldShare) end
if ARGV[10] ~= '' then redis.call('SET', ARGV[8] .. 'share:' .. ARGV[10], ARGV[7], 'EX', ARGV[6]) end
if cur[2] ~= ARGV[4] or cur[3] ~= ARGV[5] then
  if cur[2] and cur[2] ~= '' then redis.call('ZREM', ARGV[8] .. 'owner:' .. cur[2], ARGV[7]) end
  if ARGV[4] ~= '' then
    redis.call('ZADD', ARGV[8] .. 'owner:' .. ARGV[4], ARGV[5], ARGV[7])
    redis.call('EXPIRE', ARGV[8] .. 'owner:' .. ARGV[4], ARGV[6])
  end
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[7])
end
if ARGV[9] == '1' then
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[7])
  redis.call('EXPIRE', KEYS[3], ARGV[6])
else
  redis.call('ZREM', KEYS[3], ARGV[7])
end
redis.call('PUBLISH', KEYS[1] .. ':events', ARGV[2])
return 1`;

export const DELETE = `
local cur = redis.call('HMGET', KEYS[1], 'owner', 'share')
local owner = cur[1]
if owner and owner ~= '' then redis.call('ZREM', ARGV[1] .. 'owner:' .. owner, ARGV[2]) end
if cur[2] and cur[2] ~= '' then redis.call('DEL', ARGV[1] .. 'share:' .. cur[2]) end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
return redis.call('DEL', KEYS[1])`;

// Newest first from (score ARGV[2], after id ARGV[3]); returns id, score, data triples and
// drops index entries whose record expired.
export const LIST = `
local want, max, after = tonumber(ARGV[4]), ARGV[2], ARGV[3]
local maxNum = tonumber(max)
local out, offset = {}, 0
while #out < want * 3 do
  local rows = redis.call('ZREVRANGEBYSCORE', KEYS[1], max, '-inf', 'WITHSCORES', 'LIMIT', offset, want + 16)
  if #rows == 0 then break end
  offset = offset + #rows / 2
  for i = 1, #rows, 2 do
    local id, score = rows[i], rows[i + 1]
    if not (after ~= '' and tonumber(score) == maxNum and id >= after) then
      local data = redis.call('HGET', ARGV[1] .. 'job:' .. id, 'data')
      if data then
        out[#out + 1] = id; out[#out + 1] = score; out[#out + 1] = data
        if #out >= want * 3 then break end
      else
        redis.call('ZREM', KEYS[1], id)
        offset = offset - 1
      end
    end
  end
end
return out`;

export const SWEEP = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local removed = 0
for _, id in ipairs(ids) do
  local key = ARGV[1] .. 'job:' .. id
  local cur = redis.call('HMGET', key, 'owner', 'share')
  local owner = cur[1]
  if owner and owner ~= '' then redis.call('ZREM', ARGV[1] .. 'owner:' .. owner, id) end
  if cur[2] and cur[2] ~= '' then redis.call('DEL', ARGV[1] .. 'share:' .. cur[2]) end
  removed = removed + redis.call('DEL', key)
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
return {#ids, removed}`;

export const INCREMENT = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

// A counter back at 0 counts nothing: deleted, so that a refused request leaves no key behind.
export const DECREMENT = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 1 then return redis.call('DECR', KEYS[1]) end
if n == 1 then redis.call('DEL', KEYS[1]) end
return 0`;

/** Runs a Lua script with these keys and arguments; resolves with the raw reply. */
export type RunScript = (source: string, keys: string[], args: RedisArg[]) => Promise<unknown>;

/** EVALSHA, loading the script with EVAL when the server does not know it yet. */
export function scriptRunner(cmd: (command: string, ...args: RedisArg[]) => Promise<unknown>): RunScript {
  const shas = new Map<string, string>();
  return async (source, keys, args) => {
    let sha = shas.get(source);
    if (!sha) shas.set(source, (sha = createHash("sha1").update(source).digest("hex")));
    try {
      return await cmd("EVALSHA", sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!/NOSCRIPT/i.test((err as Error).message)) throw err;
      return cmd("EVAL", source, keys.length, ...keys, ...args);
    }
  };
}
