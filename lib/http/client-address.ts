import { isIP } from "node:net";
import { env, type Env } from "@/lib/env";
import { peerAddress } from "@/lib/http/peer-address";

/**
 * Who the client is, for the spend limits, the server actions and the event-stream caps: one
 * IPv4 or IPv6 address, or "unknown" (the per-network limits are then skipped).
 *
 * - By default, the address of the connection (lib/http/peer-address.ts); `X-Forwarded-For`
 *   and `X-Real-IP` are ignored, since any client can send them.
 * - `TRUST_PROXY` (lib/http/trust-proxy.ts) names the proxies in front of the app; the client is
 *   then read from `X-Forwarded-For`, from the right, past those proxies only.
 * - On Vercel (`VERCEL` set), Vercel's own `x-vercel-forwarded-for`, which its edge sets.
 */
export function clientAddress(headers: Pick<Headers, "get">, e: Pick<Env, "TRUST_PROXY" | "VERCEL"> = env()): string {
  if (e.VERCEL) return normalizeIp(headers.get("x-vercel-forwarded-for")?.split(",")[0]) ?? "unknown";
  const peer = normalizeIp(peerAddress(headers));
  const trust = e.TRUST_PROXY;
  if (!peer) return "unknown";
  if (!trust || trust.kind === "off") return peer;
  // Nearest first: the connection, then X-Forwarded-For from its last entry to its first.
  const forwarded = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .reverse();
  const chain = [peer, ...forwarded.map((s) => normalizeIp(s))];
  let i = 0;
  if (trust.kind === "hops") i = Math.min(trust.hops, chain.length - 1);
  else {
    for (;;) {
      const hop = chain[i];
      if (i === chain.length - 1 || !hop || !trust.list.check(hop, isIP(hop) === 6 ? "ipv6" : "ipv4")) break;
      i++;
    }
  }
  // A malformed entry where the client should be: whoever wrote it is not to be believed.
  return chain[i] ?? "unknown";
}

/** A valid IPv4/IPv6 address from a header value (ports, brackets, zone ids and IPv4-mapped prefixes stripped), or null. */
export function normalizeIp(value: string | null | undefined): string | null {
  if (!value) return null;
  let v = value.trim();
  if (v.length > 64) return null;
  const bracketed = v.match(/^\[([^\]]+)\](?::\d{1,5})?$/);
  if (bracketed) v = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/.test(v)) v = v.slice(0, v.lastIndexOf(":"));
  // Zone ids (fe80::1%eth0) say nothing about the client.
  v = v.replace(/%.*$/, "");
  const version = isIP(v);
  if (version === 0) return null;
  if (version === 6) {
    const mapped = v.toLowerCase().match(/^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/);
    if (mapped && isIP(mapped[1]!) === 4) return mapped[1]!;
    return v.toLowerCase();
  }
  return v;
}
