import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { EnvError, parseEnv, type Env } from "@/lib/env";
import { clientAddress, normalizeIp } from "@/lib/http/client-address";
import { installPeerStamp, PEER_HEADER, peerStampFor } from "@/lib/http/peer-address";
import { parseTrustProxy, type TrustProxy } from "@/lib/http/trust-proxy";

installPeerStamp();

type AddressEnv = Pick<Env, "TRUST_PROXY" | "VERCEL">;
const trust = (value: string): AddressEnv => {
  const parsed = parseTrustProxy(value);
  if (typeof parsed === "string") throw new Error(parsed);
  return { TRUST_PROXY: parsed, VERCEL: undefined };
};
const OFF: AddressEnv = { TRUST_PROXY: { kind: "off" } satisfies TrustProxy, VERCEL: undefined };

/** Headers as a route sees them for a connection from `peer`. */
const from = (peer: string, more: Record<string, string> = {}) =>
  new Headers({ ...more, [PEER_HEADER]: peerStampFor(peer) });

describe("clientAddress", () => {
  it("is the connection's address by default, whatever forwarding headers say", () => {
    expect(
      clientAddress(from("198.51.100.4", { "x-forwarded-for": "203.0.113.7", "x-real-ip": "203.0.113.8" }), OFF),
    ).toBe("198.51.100.4");
    expect(clientAddress(from("::ffff:192.0.2.9"), OFF)).toBe("192.0.2.9");
    // No stamp, or one the client wrote itself: nobody is believed.
    expect(clientAddress(new Headers({ "x-forwarded-for": "203.0.113.7" }), OFF)).toBe("unknown");
    expect(clientAddress(new Headers({ [PEER_HEADER]: "guess 203.0.113.7" }), OFF)).toBe("unknown");
  });

  it("with a number of hops, reads X-Forwarded-For from the right past that many proxies", () => {
    const headers = from("10.0.0.2", { "x-forwarded-for": "6.6.6.6, 198.51.100.1, 10.0.0.1" });
    expect(clientAddress(headers, trust("1"))).toBe("10.0.0.1");
    expect(clientAddress(headers, trust("2"))).toBe("198.51.100.1");
    expect(clientAddress(headers, trust("3"))).toBe("6.6.6.6");
    // A chain shorter than promised: its first entry.
    expect(clientAddress(headers, trust("9"))).toBe("6.6.6.6");
    // What Next adds when a request has no X-Forwarded-For: the connection's address again.
    expect(clientAddress(from("198.51.100.9", { "x-forwarded-for": "198.51.100.9" }), trust("1"))).toBe("198.51.100.9");
  });

  it("with a list of proxies, is the nearest address that is not one of them", () => {
    const env = trust("loopback, 10.0.0.0/8, 2001:db8::/32");
    expect(clientAddress(from("127.0.0.1", { "x-forwarded-for": "6.6.6.6, 198.51.100.7, 10.1.2.3" }), env)).toBe(
      "198.51.100.7",
    );
    expect(clientAddress(from("2001:db8::5", { "x-forwarded-for": "2001:db9::1" }), env)).toBe("2001:db9::1");
    // A connection from elsewhere is the client itself, whatever it forwards.
    expect(clientAddress(from("203.0.113.3", { "x-forwarded-for": "6.6.6.6" }), env)).toBe("203.0.113.3");
    // A malformed entry where the client should be.
    expect(clientAddress(from("127.0.0.1", { "x-forwarded-for": "<script>, 10.1.2.3" }), env)).toBe("unknown");
  });

  it("on Vercel, is Vercel's own forwarded address", () => {
    const vercel = { TRUST_PROXY: { kind: "off" }, VERCEL: "1" } satisfies AddressEnv;
    expect(
      clientAddress(new Headers({ "x-vercel-forwarded-for": "203.0.113.5", "x-forwarded-for": "6.6.6.6" }), vercel),
    ).toBe("203.0.113.5");
    expect(clientAddress(new Headers({ "x-forwarded-for": "6.6.6.6" }), vercel)).toBe("unknown");
  });

  it("comes from the connection over real HTTP, not from headers the client sends", async () => {
    const server = createServer((req, res) => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      res.end(clientAddress(headers, OFF));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const forged = {
        "x-forwarded-for": "6.6.6.6",
        [PEER_HEADER]: `${peerStampFor("1.2.3.4").split(" ")[0]}x 6.6.6.6`,
      };
      expect(await (await fetch(url, { headers: forged })).text()).toBe("127.0.0.1");
    } finally {
      server.close();
    }
  });
});

describe("TRUST_PROXY", () => {
  it("is off by default and refuses what it cannot read, naming the variable", () => {
    expect(parseEnv({}).TRUST_PROXY).toEqual({ kind: "off" });
    expect(parseEnv({ TRUST_PROXY: "off" }).TRUST_PROXY).toEqual({ kind: "off" });
    expect(parseEnv({ TRUST_PROXY: "2" }).TRUST_PROXY).toEqual({ kind: "hops", hops: 2 });
    for (const bad of ["true", "10.0.0.0/33", "a.b.c.d", "99", "10.0.0.1/8/2"]) {
      expect(() => parseEnv({ TRUST_PROXY: bad })).toThrow(EnvError);
      expect(() => parseEnv({ TRUST_PROXY: bad })).toThrow(/TRUST_PROXY/);
    }
  });
});

describe("normalizeIp", () => {
  it("strips ports, brackets and IPv4-mapped prefixes, and lower-cases IPv6", () => {
    expect(normalizeIp("203.0.113.7:51234")).toBe("203.0.113.7");
    expect(normalizeIp("[2001:DB8::1]:443")).toBe("2001:db8::1");
    expect(normalizeIp("::ffff:192.0.2.9")).toBe("192.0.2.9");
    expect(normalizeIp("fe80::1%eth0")).toBe("fe80::1");
  });

  it("refuses missing or malformed values", () => {
    for (const bad of [null, "", " ", "999.1.1.1", "1.2.3", "<script>", "a".repeat(500), "1.2.3.4.5", "unknown"])
      expect(normalizeIp(bad)).toBeNull();
  });
});
