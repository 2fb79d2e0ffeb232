import type { JobQueue, QueueEntry, QueueLimits, QueueSnapshot } from "@/lib/store/queue";
import { AVERAGE_WEIGHT, HEAD_ROUND, QUEUE_SCAN } from "@/lib/store/queue";
import type { RunScript } from "@/lib/store/redis-scripts";

/**
 * The line of waiting jobs on Redis (and Upstash, which runs the same scripts): each operation is
 * one Lua script, so a claim by one instance and a release by another never interleave. The rules
 * are those of QueueState in lib/store/queue.ts.
 *
 * Layout under the store's prefix: `q:wait` sorted set (score: round; member: 15-digit join
 * number + ":" + job id, so equal rounds keep their join order), `q:entry:<id>` hash (owner,
 * engine, round, member), `q:run` hash (id → admitted at), `q:hold` hash (engine → until),
 * `q:meta` hash (seq, round, avgMs), `q:owner:<owner>` (the owner's last round, a day's TTL).
 */

const ENQUEUE = `
local p, id, owner, engine, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local key = p .. 'q:entry:' .. id
if redis.call('EXISTS', key) == 1 then return 0 end
local served = tonumber(redis.call('HGET', p .. 'q:meta', 'round') or '0')
local last = tonumber(redis.call('GET', p .. 'q:owner:' .. owner) or '0')
local round = math.max(served, last + 1)
local seq = redis.call('HINCRBY', p .. 'q:meta', 'seq', 1)
local member = string.format('%015d', seq) .. ':' .. id
redis.call('HSET', key, 'owner', owner, 'engine', engine, 'round', round, 'member', member)
redis.call('EXPIRE', key, ttl)
redis.call('ZADD', p .. 'q:wait', round, member)
redis.call('SET', p .. 'q:owner:' .. owner, round, 'EX', 86400)
return 1`;

const CLAIM = `
local p, maxRunning, perOwner, now, scan = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local running = redis.call('HKEYS', p .. 'q:run')
local count = #running
if maxRunning > 0 and count >= maxRunning then return {} end
local owners = {}
for _, id in ipairs(running) do
  local owner = redis.call('HGET', p .. 'q:entry:' .. id, 'owner') or ''
  owners[owner] = (owners[owner] or 0) + 1
end
local holds = {}
local h = redis.call('HGETALL', p .. 'q:hold')
for i = 1, #h, 2 do
  local untilMs = tonumber(h[i + 1])
  if untilMs > now then holds[h[i]] = untilMs else redis.call('HDEL', p .. 'q:hold', h[i]) end
end
local served = tonumber(redis.call('HGET', p .. 'q:meta', 'round') or '0')
local admitted = {}
for _, member in ipairs(redis.call('ZRANGE', p .. 'q:wait', 0, scan - 1)) do
  if maxRunning > 0 and count >= maxRunning then break end
  local id = string.sub(member, 17)
  local e = redis.call('HMGET', p .. 'q:entry:' .. id, 'owner', 'engine', 'round')
  if not e[1] then
    redis.call('ZREM', p .. 'q:wait', member)
  else
    local owner, engine, round = e[1], e[2], tonumber(e[3])
    if not holds[engine] and not (perOwner > 0 and (owners[owner] or 0) >= perOwner) then
      redis.call('ZREM', p .. 'q:wait', member)
      redis.call('HSET', p .. 'q:run', id, now)
      owners[owner] = (owners[owner] or 0) + 1
      count = count + 1
      if round > served then served = round end
      admitted[#admitted + 1] = id
    end
  end
end
redis.call('HSET', p .. 'q:meta', 'round', served)
return admitted`;

const RELEASE = `
local p, id, now, finished, weight = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local key = p .. 'q:entry:' .. id
local member = redis.call('HGET', key, 'member')
if not member then return 0 end
redis.call('ZREM', p .. 'q:wait', member)
local since = redis.call('HGET', p .. 'q:run', id)
if since then
  redis.call('HDEL', p .. 'q:run', id)
  if finished == '1' then
    local took = math.max(0, now - tonumber(since))
    local avg = redis.call('HGET', p .. 'q:meta', 'avgMs')
    if avg then took = tonumber(avg) * (1 - weight) + took * weight end
    redis.call('HSET', p .. 'q:meta', 'avgMs', took)
  end
end
redis.call('DEL', key)
return 1`;

const REQUEUE = `
local p, id, engine, holdUntil, head = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local key = p .. 'q:entry:' .. id
if redis.call('HDEL', p .. 'q:run', id) == 0 then return 0 end
local member = redis.call('HGET', key, 'member')
if not member then return 0 end
redis.call('HSET', key, 'round', head)
redis.call('ZADD', p .. 'q:wait', head, member)
local current = tonumber(redis.call('HGET', p .. 'q:hold', engine) or '0')
if holdUntil > current then redis.call('HSET', p .. 'q:hold', engine, holdUntil) end
return 1`;

const SNAPSHOT = `
local p, scan = ARGV[1], tonumber(ARGV[2])
return {
  redis.call('ZRANGE', p .. 'q:wait', 0, scan - 1),
  redis.call('HGETALL', p .. 'q:run'),
  redis.call('HGETALL', p .. 'q:hold'),
  redis.call('HGET', p .. 'q:meta', 'avgMs') or ''
}`;

const pairs = (flat: unknown): [string, string][] => {
  const list = Array.isArray(flat) ? flat.map(String) : [];
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < list.length; i += 2) out.push([list[i]!, list[i + 1]!]);
  return out;
};

/**
 * `script` runs a Lua script (EVALSHA, falling back to EVAL). Keys are derived inside the scripts
 * from the prefix, as the store's own scripts do: one Redis, not a cluster.
 */
export function redisQueue(script: RunScript, prefix: string, ttlSeconds: number): JobQueue {
  return {
    async enqueue(e: QueueEntry): Promise<boolean> {
      return (await script(ENQUEUE, [], [prefix, e.jobId, e.ownerId, e.engine, ttlSeconds])) === 1;
    },
    async claim(limits: QueueLimits, now: number): Promise<string[]> {
      const reply = await script(CLAIM, [], [prefix, limits.maxRunning, limits.perOwner, now, QUEUE_SCAN]);
      return Array.isArray(reply) ? reply.map(String) : [];
    },
    async release(jobId: string, now: number, finished: boolean): Promise<boolean> {
      return (await script(RELEASE, [], [prefix, jobId, now, finished ? "1" : "0", AVERAGE_WEIGHT])) === 1;
    },
    async requeue(jobId: string, engine: string, holdUntil: number): Promise<boolean> {
      return (await script(REQUEUE, [], [prefix, jobId, engine, holdUntil, HEAD_ROUND])) === 1;
    },
    async snapshot(now: number): Promise<QueueSnapshot> {
      const [waiting, running, holds, avg] = (await script(SNAPSHOT, [], [prefix, QUEUE_SCAN])) as unknown[];
      return {
        waiting: Array.isArray(waiting) ? waiting.map((m) => String(m).slice(16)) : [],
        running: pairs(running).map(([jobId, since]) => ({ jobId, since: Number(since) })),
        holds: Object.fromEntries(
          pairs(holds)
            .map(([engine, until]) => [engine, Number(until)] as const)
            .filter(([, until]) => until > now),
        ),
        averageRunMs: avg === "" || avg === null || avg === undefined ? null : Number(avg),
      };
    },
  };
}
