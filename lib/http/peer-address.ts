import { randomBytes } from "node:crypto";
import { subscribe } from "node:diagnostics_channel";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";

/**
 * The address of the connection a request came in on, for route handlers and server actions,
 * which only see the request's headers.
 *
 * Next (16.x, `next start` and the standalone server) passes the socket's address on only as
 * `x-forwarded-for`, and only when the request has none (`headers['x-forwarded-for'] ??=
 * socket.remoteAddress` in base-server.js): a client that sends its own header chooses its
 * address. So the app stamps each request itself: Node publishes every request on the
 * `http.server.request.start` diagnostics channel, with its socket, before the server's request
 * handler (Next) sees it. The stamp overwrites any header of that name the client sent, and
 * carries a random token of this process, so requests that arrived before the stamp was installed
 * (while the server was starting) cannot pass off a header of their own: they have no peer.
 *
 * Installed by instrumentation.ts (before Next handles its first request) and by the tests' servers.
 */
export const PEER_HEADER = "x-prompt2video-peer";

type StampState = { token: string };
// On globalThis: instrumentation and the route bundles are separate module graphs in one process.
const KEY = Symbol.for("prompt2video.peer-stamp");
const state = () => (globalThis as { [KEY]?: StampState })[KEY];

type RequestStart = { request: IncomingMessage; socket: Socket };

/** Starts stamping every HTTP request this process serves (once; later calls do nothing). */
export function installPeerStamp(): void {
  if (state()) return;
  const stamp: StampState = { token: randomBytes(12).toString("base64url") };
  (globalThis as { [KEY]?: StampState })[KEY] = stamp;
  subscribe("http.server.request.start", (message) => {
    const { request, socket } = message as RequestStart;
    request.headers[PEER_HEADER] = `${stamp.token} ${socket.remoteAddress ?? ""}`;
  });
}

/** The stamp's value for an address, for tests that call server code without a connection. */
export function peerStampFor(address: string): string {
  const stamp = state();
  if (!stamp) throw new Error("installPeerStamp() has not run in this process");
  return `${stamp.token} ${address}`;
}

/** The connection's address as stamped, or null (no stamp, a stale or forged one). */
export function peerAddress(headers: Pick<Headers, "get">): string | null {
  const stamp = state();
  const value = headers.get(PEER_HEADER);
  if (!stamp || !value) return null;
  const space = value.indexOf(" ");
  if (space < 0 || value.slice(0, space) !== stamp.token) return null;
  return value.slice(space + 1) || null;
}
