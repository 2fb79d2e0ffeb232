import { log } from "@/lib/log";

/**
 * Upstash's REST pub/sub: `POST <url>/subscribe/<channel>` with `Accept: text/event-stream`
 * answers a server-sent event stream: `data: subscribe,<channel>,<count>` once the subscription
 * is in place, then `data: message,<channel>,<message>` per message published on the channel
 * (what `redis.subscribe` in @upstash/redis 1.39 sends and parses). Each open stream costs one
 * command when it opens, and nothing while it waits.
 *
 * One stream per channel per instance, shared by all its listeners. Not `redis.subscribe` itself:
 * its Subscriber cannot tell that its stream ended (a cut connection, a server restart), and then
 * nothing would ever arrive again. Here the stream is opened again (with a growing pause while it
 * keeps failing), and every confirmation runs the listeners' `onSubscribed`: messages published
 * before it (also those between a listener's own read and the first confirmation) were not
 * delivered, so the listener catches up from the store.
 */

export type ChannelListener = { onMessage: (message: string) => void; onSubscribed?: () => void };

type Channel = { listeners: Set<ChannelListener>; controller: AbortController };

/** Upstash's client refuses a line longer than this; so do we (a job record is a few kB). */
const MAX_LINE_CHARS = 1 << 20;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;

export class UpstashChannels {
  private readonly channels = new Map<string, Channel>();
  private closed = false;

  constructor(private readonly opts: { url: string; token: string }) {}

  subscribe(channel: string, listener: ChannelListener): () => void {
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { listeners: new Set(), controller: new AbortController() };
      this.channels.set(channel, entry);
      if (!this.closed) void this.follow(channel, entry);
    }
    const ch = entry;
    // Joining a confirmed stream misses nothing from here on: no catch-up needed.
    const wrapped: ChannelListener = { ...listener };
    ch.listeners.add(wrapped);
    return () => {
      if (!ch.listeners.delete(wrapped) || ch.listeners.size > 0 || this.channels.get(channel) !== ch) return;
      this.channels.delete(channel);
      ch.controller.abort();
    };
  }

  /** Channels with a stream open now (for tests and the benchmark). */
  get size(): number {
    return this.channels.size;
  }

  close(): void {
    this.closed = true;
    for (const ch of this.channels.values()) ch.controller.abort();
    this.channels.clear();
  }

  /** Keeps one stream open for the channel while it has listeners. */
  private async follow(channel: string, ch: Channel): Promise<void> {
    const { signal } = ch.controller;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const heard = await this.stream(channel, ch, signal);
        if (heard) failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        if (failures === 0)
          log.warn(
            { channel, err: (err as Error).message },
            "store: the Upstash subscribe stream failed; opening it again",
          );
      }
      if (signal.aborted) return;
      const wait = failures === 0 ? 0 : Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (failures - 1));
      failures++;
      await pause(wait, signal);
    }
  }

  /** One stream, until it ends; true when it was confirmed. */
  private async stream(channel: string, ch: Channel, signal: AbortSignal): Promise<boolean> {
    // The channel goes into the path as @upstash/redis puts it (unencoded): ours are made of the
    // key prefix, a job id and ":events".
    const res = await fetch(`${this.opts.url.replace(/\/$/, "")}/subscribe/${channel}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${this.opts.token}`,
        accept: "text/event-stream",
        "content-type": "application/json",
      },
      body: "[]",
      signal,
      cache: "no-store",
    });
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`subscribe answered HTTP ${res.status}`);
    }
    let confirmed = false;
    const decoder = new TextDecoder();
    let buffer = "";
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return confirmed;
        buffer += decoder.decode(value, { stream: true });
        const lines = buffer.split("\n");
        buffer = lines.pop() ?? "";
        if (buffer.length > MAX_LINE_CHARS) throw new Error("a subscribe stream line is longer than 1 MiB");
        for (const raw of lines) {
          const event = parseLine(raw.replace(/\r$/, ""));
          if (!event) continue;
          if (event.type === "subscribe") {
            confirmed = true;
            for (const l of [...ch.listeners]) l.onSubscribed?.();
          } else if (event.type === "message" && event.channel === channel) {
            for (const l of [...ch.listeners]) l.onMessage(event.message);
          }
        }
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }
}

/** `data: <type>,<channel>,<rest>`; the channel holds no comma, the message may. */
export function parseLine(line: string): { type: string; channel: string; message: string } | null {
  if (!line.startsWith("data:")) return null;
  const data = line.slice(5).replace(/^ /, "");
  const first = data.indexOf(",");
  const second = first < 0 ? -1 : data.indexOf(",", first + 1);
  if (second < 0) return null;
  return { type: data.slice(0, first), channel: data.slice(first + 1, second), message: data.slice(second + 1) };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
