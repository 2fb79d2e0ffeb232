import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createReplicateClient } from "@/lib/engines/replicate/client";
import { EngineError } from "@/lib/engines/types";
import { resetEnvCache } from "@/lib/env";
import { replicateSigningSecret, SECRET_FAILURE_TTL_MS } from "@/lib/webhooks/replicate-secret";
import { startFakeReplicate, type FakeReplicate } from "@/test/support/fake-replicate";

let fake: FakeReplicate;
const secretRequests = () => fake.requests.filter((r) => r.path === "/v1/webhooks/default/secret");

beforeAll(async () => {
  delete process.env.REPLICATE_WEBHOOK_SIGNING_SECRET;
  resetEnvCache();
  fake = await startFakeReplicate();
});

afterEach(() => {
  delete process.env.REPLICATE_WEBHOOK_SIGNING_SECRET;
  resetEnvCache();
});

afterAll(async () => {
  await fake?.close();
});

describe("replicateSigningSecret", () => {
  it("fetches the default secret once, shared by concurrent callers, then answers from memory", async () => {
    const client = createReplicateClient({ auth: fake.token, baseUrl: fake.baseUrl });
    const before = secretRequests().length;
    const secrets = await Promise.all([replicateSigningSecret(client), replicateSigningSecret(client)]);
    expect(await replicateSigningSecret(client)).toBe(fake.signingSecret);
    expect(secrets).toEqual([fake.signingSecret, fake.signingSecret]);
    expect(secretRequests().length - before).toBe(1);
  });

  it("answers a failure from memory for 30 s, then asks again", async () => {
    const client = createReplicateClient({ auth: "r8_wrong", baseUrl: fake.baseUrl });
    const before = secretRequests().length;
    const first = await replicateSigningSecret(client).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(EngineError);
    expect((first as EngineError).code).toBe("auth");
    expect(await replicateSigningSecret(client).catch((e: unknown) => e)).toBe(first);
    expect(secretRequests().length - before).toBe(1);
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + SECRET_FAILURE_TTL_MS + 1);
      await replicateSigningSecret(client).catch(() => undefined);
    } finally {
      vi.useRealTimers();
    }
    expect(secretRequests().length - before).toBe(2);
  });

  it("prefers REPLICATE_WEBHOOK_SIGNING_SECRET without asking Replicate", async () => {
    process.env.REPLICATE_WEBHOOK_SIGNING_SECRET = "whsec_Y29uZmlndXJlZC1zZWNyZXQ=";
    resetEnvCache();
    const client = createReplicateClient({ auth: fake.token, baseUrl: fake.baseUrl });
    const before = secretRequests().length;
    expect(await replicateSigningSecret(client)).toBe("whsec_Y29uZmlndXJlZC1zZWNyZXQ=");
    expect(secretRequests().length).toBe(before);
  });
});
