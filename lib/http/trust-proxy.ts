import { BlockList, isIP } from "node:net";

/**
 * Which proxies in front of the app may say who the client is (`TRUST_PROXY`), parsed once:
 *
 * - off (unset, `off`, `false`, `0`): the client is the connection's address; forwarding
 *   headers are ignored, since any client can send them.
 * - a number N: N proxies stand in front of the app, each appending the address it got the
 *   request from to `X-Forwarded-For`; the client is the N-th address from the right of that
 *   list followed by the connection's address.
 * - a comma-separated list of addresses and CIDR ranges (`10.0.0.0/8, 2001:db8::/32`) and the
 *   names `loopback` and `private`: walking the same list from the right, the client is the
 *   first address that is not one of these proxies.
 */
export type TrustProxy =
  { kind: "off" } | { kind: "hops"; hops: number } | { kind: "proxies"; list: BlockList; text: string };

const NAMED: Record<string, [string, number, "ipv4" | "ipv6"][]> = {
  loopback: [
    ["127.0.0.0", 8, "ipv4"],
    ["::1", 128, "ipv6"],
  ],
  private: [
    ["10.0.0.0", 8, "ipv4"],
    ["172.16.0.0", 12, "ipv4"],
    ["192.168.0.0", 16, "ipv4"],
    ["fc00::", 7, "ipv6"],
  ],
};

/** The parsed value, or a sentence saying what is wrong (for the env validation message). */
export function parseTrustProxy(value: string | undefined): TrustProxy | string {
  const v = value?.trim().toLowerCase() ?? "";
  if (v === "" || v === "off" || v === "false" || v === "0") return { kind: "off" };
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    return hops >= 1 && hops <= 20 ? { kind: "hops", hops } : "must be a number of proxy hops from 1 to 20";
  }
  const list = new BlockList();
  for (const item of v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const named = NAMED[item];
    if (named) {
      for (const [net, prefix, type] of named) list.addSubnet(net, prefix, type);
      continue;
    }
    const [addr = "", prefixText, extra] = item.split("/");
    const type = isIP(addr) === 4 ? "ipv4" : isIP(addr) === 6 ? "ipv6" : null;
    const max = type === "ipv4" ? 32 : 128;
    const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!type || extra !== undefined || !(prefix >= 0 && prefix <= max)) {
      return `has "${item}", which is not an IP address, a CIDR range, "loopback" or "private" (or use off, or a number of hops)`;
    }
    list.addSubnet(addr, prefix, type);
  }
  return { kind: "proxies", list, text: v };
}
