/** What the Redis-backed store and its queue need from a client (TCP Redis or Upstash REST). */

export type RedisArg = string | number;

/**
 * The few things the store needs from a Redis client. `call` resolves with the raw RESP reply
 * (strings, integers, arrays, null), rejects with StoreUnavailableError when the server cannot be
 * reached and with a plain Error for a reply error.
 */
export interface RedisCommands {
  call(command: string, ...args: RedisArg[]): Promise<unknown>;
  /**
   * Messages published on `channel` from now on. `onResubscribed` runs once the subscription is
   * (back) in place after a time it was not: messages published meanwhile were not delivered.
   */
  subscribe(channel: string, onMessage: (message: string) => void, onResubscribed?: () => void): () => void;
  close(): Promise<void>;
}
