import http from "node:http";

/**
 * A small server-sent events client over node:http (no EventSource in Node 20): parses the
 * event-stream format (fields id, event, data, retry; comment lines) and reports each message.
 * It does not reconnect; callers decide, with `lastEventId`. Used by the live tests and the bench.
 */

export type SseMessage =
  | { kind: "event"; id: string | null; event: string; data: string; at: number }
  | { kind: "comment"; text: string; at: number }
  | { kind: "retry"; ms: number; at: number };

/** Incremental parser: feed it text as it arrives, get complete messages back. */
export class SseParser {
  private buffer = "";
  private id: string | null = null;
  private event = "";
  private data: string[] = [];

  push(text: string): SseMessage[] {
    this.buffer += text;
    const out: SseMessage[] = [];
    const at = Date.now();
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      if (line === "") {
        if (this.data.length > 0)
          out.push({ kind: "event", id: this.id, event: this.event || "message", data: this.data.join("\n"), at });
        this.event = "";
        this.data = [];
        continue;
      }
      if (line.startsWith(":")) {
        out.push({ kind: "comment", text: line.slice(1).trim(), at });
        continue;
      }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") this.id = value;
      else if (field === "event") this.event = value;
      else if (field === "data") this.data.push(value);
      else if (field === "retry" && /^\d+$/.test(value)) out.push({ kind: "retry", ms: Number(value), at });
    }
    return out;
  }
}

export type SseConnection = {
  /** Resolves with the HTTP status and headers once the response starts. */
  response: Promise<{ status: number; headers: http.IncomingHttpHeaders }>;
  /** Resolves when the stream ends (by the server, or by `close`). */
  ended: Promise<void>;
  messages: SseMessage[];
  close(): void;
};

export function openSse(
  url: string,
  opts: {
    lastEventId?: string | number;
    onMessage?: (message: SseMessage) => void;
    agent?: http.Agent | false;
    cookie?: string;
  } = {},
): SseConnection {
  const messages: SseMessage[] = [];
  const parser = new SseParser();
  const headers: Record<string, string> = { accept: "text/event-stream" };
  if (opts.lastEventId !== undefined) headers["last-event-id"] = String(opts.lastEventId);
  if (opts.cookie !== undefined) headers.cookie = opts.cookie;
  let settleResponse!: (value: { status: number; headers: http.IncomingHttpHeaders }) => void;
  let failResponse!: (error: Error) => void;
  const response = new Promise<{ status: number; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    settleResponse = resolve;
    failResponse = reject;
  });
  let endStream!: () => void;
  const ended = new Promise<void>((resolve) => (endStream = resolve));
  const req = http.get(url, { headers, agent: opts.agent ?? false }, (res) => {
    settleResponse({ status: res.statusCode ?? 0, headers: res.headers });
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      for (const message of parser.push(chunk)) {
        messages.push(message);
        opts.onMessage?.(message);
      }
    });
    res.on("close", endStream);
    res.on("error", endStream);
  });
  req.on("error", (error) => {
    failResponse(error);
    endStream();
  });
  // An unread rejection must not crash a caller that only waits for `ended`.
  response.catch(() => undefined);
  return { response, ended, messages, close: () => req.destroy() };
}

export function jobEvents(
  messages: SseMessage[],
): { id: string | null; job: { id: string; seq: number; status: string } & Record<string, unknown> }[] {
  return messages.flatMap((m) =>
    m.kind === "event" ? [{ id: m.id, job: JSON.parse(m.data) as { id: string; seq: number; status: string } }] : [],
  );
}
