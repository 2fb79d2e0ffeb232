import { describe, expect, it, vi } from "vitest";
import { startAppHarness, type AppHarness } from "@/test/support/app-harness";
import { startFakeReplicate, type FakeReplicate } from "@/test/support/fake-replicate";
import { closeAfterEach } from "@/test/support/close-after-each";

/**
 * The "Enhance" button starts a paid LLM prediction each time: it gives the browser an owner and
 * counts uses per network, for the whole site and per browser. Outside Next there is no request,
 * so `next/headers` is one cookie jar per "browser" and the connection's address as the app's
 * peer stamp gives it; the owner cookie itself is minted by the real code. LLM calls are counted
 * on the fake Replicate server.
 */

const browser = vi.hoisted(() => ({ jar: new Map<string, string>(), ip: "203.0.113.9" }));

vi.mock("next/headers", () => ({
  cookies: async () => ({
    get: (name: string) => (browser.jar.has(name) ? { name, value: browser.jar.get(name)! } : undefined),
    set: (name: string, value: string) => void browser.jar.set(name, value),
  }),
  headers: async () => {
    const { PEER_HEADER, peerStampFor } = await import("@/lib/http/peer-address");
    return new Headers({ [PEER_HEADER]: peerStampFor(browser.ip) });
  },
}));

const { enhancePrompt } = await import("@/lib/jobs/adapters/actions");

let app: AppHarness | undefined;
let fake: FakeReplicate | undefined;

closeAfterEach(
  () => app,
  () => fake,
);

const PROMPT = "a lighthouse in a storm";

describe("the Enhance action's limits", () => {
  it("refuses a browser past its hourly uses, then a network, saying when to retry and calling no LLM", async () => {
    fake = await startFakeReplicate({ timing: { startingMs: 20, processingMs: 60, ticks: 1 } });
    app = await startAppHarness({
      env: {
        REPLICATE_API_TOKEN: fake.token,
        REPLICATE_BASE_URL: fake.baseUrl,
        ENHANCE_LIMIT_PER_BROWSER_PER_HOUR: "2",
        ENHANCE_LIMIT_PER_IP_PER_HOUR: "3",
      },
    });
    const llmCalls = () => [...fake!.predictions.values()].filter((p) => p.prediction.model.startsWith("meta/")).length;

    browser.jar = new Map();
    for (let i = 0; i < 2; i++)
      expect(await enhancePrompt(PROMPT, "cinematic")).toMatchObject({ ok: true, engine: "llm" });
    // The first use gave this browser its owner cookie; both uses counted against it.
    expect(browser.jar.get("p2v_owner")).toMatch(/^[A-Za-z0-9_-]{22}\./);
    expect(llmCalls()).toBe(2);

    const refused = await enhancePrompt(PROMPT, "cinematic");
    expect(refused.ok).toBe(false);
    if (refused.ok) throw new Error("unreachable");
    expect(refused.message).toMatch(
      /^This browser has used Enhance 2 times this hour, as often as it can; you can use it again in .+\.$/,
    );
    expect(llmCalls()).toBe(2);

    // Another browser on the same network has the network's last use.
    browser.jar = new Map();
    expect(await enhancePrompt(PROMPT, "cinematic")).toMatchObject({ ok: true });
    browser.jar = new Map();
    const network = await enhancePrompt(PROMPT, "cinematic");
    expect(network).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^Your network has used Enhance 3 times this hour/),
    });
    expect(llmCalls()).toBe(3);
  });

  it("stops at the site-wide hourly cap for every browser and network, with a message and no LLM call past it", async () => {
    fake = await startFakeReplicate({ timing: { startingMs: 20, processingMs: 60, ticks: 1 } });
    app = await startAppHarness({
      env: { REPLICATE_API_TOKEN: fake.token, REPLICATE_BASE_URL: fake.baseUrl, ENHANCE_LIMIT_PER_SITE_PER_HOUR: "3" },
    });
    const llmCalls = () => [...fake!.predictions.values()].filter((p) => p.prediction.model.startsWith("meta/")).length;
    for (let i = 0; i < 3; i++) {
      browser.jar = new Map();
      browser.ip = `198.51.100.${i + 1}`;
      expect(await enhancePrompt(PROMPT, "cinematic")).toMatchObject({ ok: true, engine: "llm" });
    }
    expect(llmCalls()).toBe(3);
    for (let i = 0; i < 5; i++) {
      browser.jar = new Map();
      browser.ip = `192.0.2.${i + 1}`;
      const refused = await enhancePrompt(PROMPT, "cinematic");
      expect(refused).toMatchObject({
        ok: false,
        message: expect.stringMatching(
          /^Enhance has been used 3 times on this site this hour, as often as it can be; you can use it again in .+\.$/,
        ),
        retryAfterSeconds: expect.any(Number),
      });
    }
    expect(llmCalls()).toBe(3);
    browser.ip = "203.0.113.9";
  });

  it("is not limited with RATE_LIMITS=off", async () => {
    app = await startAppHarness({ env: { RATE_LIMITS: "off", ENHANCE_LIMIT_PER_BROWSER_PER_HOUR: "1" } });
    browser.jar = new Map();
    for (let i = 0; i < 4; i++)
      expect(await enhancePrompt(PROMPT, "anime")).toMatchObject({ ok: true, engine: "rules" });
  });
});
