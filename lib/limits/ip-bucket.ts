import { isIP } from "node:net";

/**
 * The counter key for an address. IPv6 is counted per /64: one home or phone usually gets a
 * whole /64, so counting single addresses would let it start videos without end.
 */
export function ipBucket(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const groups = expandIpv6(ip);
  return groups ? `${groups.slice(0, 4).join(":")}::/64` : ip;
}

function expandIpv6(ip: string): string[] | null {
  const [head = "", tail, extra] = ip.toLowerCase().split("::");
  if (extra !== undefined) return null;
  const part = (s: string) => (s ? s.split(":") : []);
  const left = part(head);
  const right = part(tail ?? "");
  // An embedded IPv4 tail (::ffff:1.2.3.4) takes two groups; only the first four matter here.
  const width = [...left, ...right].reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
  const fill = tail === undefined ? [] : Array<string>(Math.max(0, 8 - width)).fill("0");
  return [...left, ...fill, ...right].map((g) => (g.includes(".") ? g : g.replace(/^0+(?=.)/, "")));
}
