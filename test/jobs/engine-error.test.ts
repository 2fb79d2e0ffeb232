import { describe, expect, it } from "vitest";
import { EngineError } from "@/lib/engines/types";

/**
 * The engines are shared by the server's module graphs (instrumentation.ts and each route are
 * bundled apart and run in one process), so the pipeline may catch an EngineError made by another
 * copy of the class: a 429 must still be a 429 (the job waits in line), not a failed job.
 */
/** The brand every copy of the class puts on its errors (lib/engines/types.ts). */
const BRAND: unique symbol = Symbol.for("prompt2video.EngineError");

describe("EngineError across bundles", () => {
  it("is recognised whichever copy of the class made it, and nothing else is", () => {
    // What another bundle's copy of the class makes: the same shape, a different class.
    class CopyOfEngineError extends Error {
      readonly [BRAND] = true;
      readonly code = "rate_limited";
      readonly retryAfterSeconds = 7;
    }
    const elsewhere: unknown = new CopyOfEngineError("rate limited");
    expect(elsewhere instanceof EngineError).toBe(true);
    expect(new EngineError("x", "unavailable") instanceof EngineError).toBe(true);
    expect(new Error("x") instanceof EngineError).toBe(false);
    const lookalike: unknown = { code: "rate_limited" };
    expect(lookalike instanceof EngineError).toBe(false);
    const nothing: unknown = null;
    expect(nothing instanceof EngineError).toBe(false);
  });
});
