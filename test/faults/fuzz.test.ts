import { request } from "node:http";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PREDICTION_STATUSES } from "@/lib/engines/types";
import { predictionSchema } from "@/lib/jobs/domain/prediction-event";
import { createJobSchema, fieldErrors } from "@/lib/jobs/domain/request";
import { JOB_ID_PATTERN, STEP_NAMES, stepNameSchema } from "@/lib/core/job";
import { LOCAL_MODEL_ID, MODELS } from "@/lib/models/registry";
import { STYLE_IDS } from "@/lib/styles";
import { startAppHarness, type AppHarness } from "@/test/support/app-harness";
import { newJobId } from "@/test/support/job-factory";
import { generatingJob, newWebhookId, outputOf, refOf, signedHeaders } from "@/test/faults/support";
import { formValues } from "@/lib/jobs/pipeline/submit-job";
import { asOwner } from "@/test/support/owner";

/**
 * Whatever arrives, the routes answer with a 2xx or 4xx, never a 5xx, and only a validly signed,
 * well-formed delivery for a job can change that job. Bounded: a fixed number of runs each.
 */

const RUNS = 200;
const MAX_BODY = 512 * 1024;

let app: AppHarness;
beforeAll(async () => {
  app = await startAppHarness();
});
afterAll(async () => {
  await app.close();
});

/** Printable ASCII: what a header value or a query string can carry. */
const printable = (maxLength = 40) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });

/** null stands for "the id of the job under test". */
const queryArb = fc.record({
  job: fc.oneof(
    { arbitrary: fc.constant(null), weight: 4 },
    fc.string({ maxLength: 30 }),
    fc.constant(undefined),
    fc.constant("x".repeat(22)),
  ),
  step: fc.oneof(
    { arbitrary: fc.constant("generate"), weight: 4 },
    fc.constantFrom(...STEP_NAMES),
    fc.string({ maxLength: 12 }),
    fc.constant(undefined),
  ),
  attempt: fc.oneof(
    { arbitrary: fc.constant("1"), weight: 3 },
    fc.integer({ min: -3, max: 5 }).map(String),
    fc.string({ maxLength: 6 }),
    fc.constant(undefined),
  ),
  extra: fc.array(
    fc.tuple(
      fc.oneof(fc.constantFrom("job", "step", "attempt"), fc.string({ maxLength: 8 })),
      fc.string({ maxLength: 20 }),
    ),
    {
      maxLength: 2,
    },
  ),
});
type Query = typeof queryArb extends fc.Arbitrary<infer T> ? T : never;

function urlFor(q: Query, jobId: string): string {
  const params = new URLSearchParams();
  if (q.job !== undefined) params.append("job", q.job ?? jobId);
  if (q.step !== undefined) params.append("step", q.step);
  if (q.attempt !== undefined) params.append("attempt", q.attempt);
  for (const [k, v] of q.extra) params.append(k, v);
  return `${app.origin}/api/webhook?${params}`;
}

/** Mirrors what the handler accepts, read from the URL it will see. */
function acceptable(url: string, body: string): { ok: boolean; forJob: string | null } {
  const p = new URL(url).searchParams;
  const job = p.get("job") ?? "";
  const attempt = p.get("attempt");
  const queryOk =
    JOB_ID_PATTERN.test(job) &&
    stepNameSchema.safeParse(p.get("step")).success &&
    (attempt === null || (Number.isInteger(Number(attempt)) && Number(attempt) > 0));
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, forJob: null };
  }
  const ok = queryOk && predictionSchema.safeParse(parsed).success;
  return { ok, forJob: ok ? job : null };
}

const predictionArb = (jobId: string) =>
  fc.record(
    {
      id: fc.oneof({ arbitrary: fc.constant(refOf(jobId)), weight: 3 }, fc.string({ minLength: 1, maxLength: 20 })),
      status: fc.constantFrom(...PREDICTION_STATUSES),
      logs: fc.option(fc.string({ maxLength: 200 })),
      output: fc.option(fc.oneof(fc.constant(outputOf(jobId)), fc.string(), fc.jsonValue())),
      error: fc.option(fc.jsonValue()),
      started_at: fc.option(
        fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.string(),
        ),
      ),
      extra: fc.jsonValue(),
    },
    { requiredKeys: ["id", "status"] },
  );

const bodyArb = (jobId: string) =>
  fc.oneof(
    fc.json(),
    fc.string({ unit: "binary", maxLength: 300 }),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.constant(""),
    { arbitrary: predictionArb(jobId).map((p) => JSON.stringify(p)), weight: 5 },
  );

/** Job ids drawn by fast-check (not at random), so a shrunk counterexample replays the same job. */
const jobIdArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString("base64url"));

async function seqOf(id: string): Promise<number> {
  return (await app.store.get(id))!.seq;
}

/** A job waiting on its generate step; an earlier one with the same id is replaced. */
async function freshJob(id?: string): Promise<string> {
  const job = generatingJob(id ? { id } : {});
  if (id) await app.store.delete(id);
  await app.store.create(job);
  return job.id;
}

describe("fuzzing POST /api/webhook", () => {
  it("refuses unsigned, wrongly signed, tampered and stale deliveries with 401, changing nothing", async () => {
    const jobId = await freshJob();
    const otherSecret = `whsec_${Buffer.from("some-other-secret-0123456789abcd").toString("base64")}`;
    await fc.assert(
      fc.asyncProperty(
        bodyArb(jobId),
        queryArb,
        fc.constantFrom(
          "none",
          "no-signature",
          "no-timestamp",
          "no-id",
          "wrong-secret",
          "stale",
          "future",
          "tampered",
          "garbage",
        ),
        fc.record({ id: printable(), timestamp: printable(12), signature: printable(80) }),
        async (body, q, mode, garbage) => {
          const before = await seqOf(jobId);
          const url = urlFor(q, jobId);
          const webhookId = newWebhookId();
          let headers: Record<string, string> = signedHeaders({ body, webhookId });
          const drop = (name: string) => Object.fromEntries(Object.entries(headers).filter(([k]) => k !== name));
          let sent = body;
          switch (mode) {
            case "none":
              headers = { "content-type": "application/json" };
              break;
            case "no-signature":
              headers = drop("webhook-signature");
              break;
            case "no-timestamp":
              headers = drop("webhook-timestamp");
              break;
            case "no-id":
              headers = drop("webhook-id");
              break;
            case "wrong-secret":
              headers = signedHeaders({ body, webhookId, secret: otherSecret });
              break;
            case "stale":
              headers = signedHeaders({ body, webhookId, at: new Date(Date.now() - 10 * 60_000) });
              break;
            case "future":
              headers = signedHeaders({ body, webhookId, at: new Date(Date.now() + 10 * 60_000) });
              break;
            case "tampered":
              sent = `${body} `;
              break;
            case "garbage":
              headers = {
                "webhook-id": garbage.id,
                "webhook-timestamp": garbage.timestamp,
                "webhook-signature": garbage.signature,
              };
              break;
          }
          const res = await fetch(url, { method: "POST", headers, body: sent });
          const json = (await res.json()) as { error?: { code: string } };
          expect(res.status).toBe(401);
          expect(json.error?.code).toBe("unauthorized");
          expect(await seqOf(jobId)).toBe(before);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("answers validly signed deliveries with 200 or 400, and only a well-formed one for the job changes it", async () => {
    let changed = 0;
    await fc.assert(
      fc.asyncProperty(
        jobIdArb.chain((id) => fc.tuple(fc.constant(id), bodyArb(id))),
        queryArb,
        fc.dictionary(
          printable(10).map((k) => `x-fuzz-${k.replace(/[^A-Za-z0-9-]/g, "")}`),
          printable(),
          { maxKeys: 3 },
        ),
        async ([jobId, body], q, extraHeaders) => {
          await freshJob(jobId);
          const url = urlFor(q, jobId);
          const before = await seqOf(jobId);
          const res = await fetch(url, {
            method: "POST",
            headers: { ...extraHeaders, ...signedHeaders({ body, webhookId: newWebhookId() }) },
            body,
          });
          await res.arrayBuffer();
          const { ok, forJob } = acceptable(url, body);
          expect(res.status, `body ${body.slice(0, 200)} url ${url}`).toBe(ok ? 200 : 400);
          const after = await seqOf(jobId);
          if (forJob !== jobId) expect(after).toBe(before);
          if (after !== before) changed++;
        },
      ),
      { numRuns: RUNS },
    );
    await app.settle();
    console.info(`[fuzz] ${changed} of ${RUNS} signed deliveries changed their job`);
    // The generator does reach the "applies" branch, so the property is not vacuous.
    expect(changed).toBeGreaterThan(0);
  });

  it("refuses bodies over 512 KiB with 413, with or without Content-Length, signed or not", async () => {
    const jobId = await freshJob();
    const before = await seqOf(jobId);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: MAX_BODY + 1, max: 3 * MAX_BODY }),
        fc.boolean(),
        fc.boolean(),
        async (size, chunked, signed) => {
          const prefix = JSON.stringify({ id: refOf(jobId), status: "processing", logs: "" }).slice(0, -2);
          const body = `${prefix}${"a".repeat(size - prefix.length - 2)}"}`;
          expect(body.length).toBe(size);
          const headers = signed
            ? signedHeaders({ body, webhookId: newWebhookId() })
            : { "content-type": "application/json" };
          const res = await postRaw(
            `/api/webhook?job=${jobId}&step=generate&attempt=1`,
            headers,
            Buffer.from(body),
            chunked,
          );
          expect(res.status).toBe(413);
          expect((JSON.parse(res.body) as { error: { code: string } }).error.code).toBe("payload_too_large");
        },
      ),
      { numRuns: 20 },
    );
    expect(await seqOf(jobId)).toBe(before);
  });
});

/**
 * POSTs on a connection of its own and stops sending once the answer is in, as a client does
 * when refused early. (fetch would keep the half-sent body on a pooled keep-alive connection.)
 */
function postRaw(
  path: string,
  headers: Record<string, string>,
  body: Buffer,
  chunked: boolean,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(`${app.origin}${path}`, {
      method: "POST",
      agent: false,
      headers: {
        ...headers,
        ...(chunked ? { "transfer-encoding": "chunked" } : { "content-length": String(body.length) }),
      },
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        answered = true;
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
        req.destroy();
      });
    });
    // Writing may fail once the server has answered and the client hung up: that is expected.
    req.on("error", (error) => (answered ? undefined : reject(error)));
    const step = 64 * 1024;
    for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step));
    req.end();
  });
}

describe("fuzzing GET /api/status/<id>", () => {
  it("answers only 200, 400 or 404", async () => {
    const jobId = await freshJob();
    const owner = await asOwner();
    const base64url = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: "binary", maxLength: 60 }),
          fc.string({ unit: base64url, minLength: 22, maxLength: 22 }),
          fc.string({ unit: base64url, minLength: 20, maxLength: 24 }),
          fc.constantFrom(jobId, "..", ".", "%", "%00", "../../etc/passwd", newJobId(), `${jobId}/x`, "a".repeat(5000)),
        ),
        async (id) => {
          let path: string;
          try {
            path = encodeURIComponent(id);
          } catch {
            fc.pre(false); // a lone surrogate has no URL form
            return;
          }
          const res = await fetch(`${app.origin}/api/status/${path}`, owner);
          expect([200, 400, 404], `id ${JSON.stringify(id)} → ${res.status}`).toContain(res.status);
          if (res.status === 200) expect(id).toBe(jobId);
          else expect(res.headers.get("content-type")).toMatch(/^application\/json/);
          await res.arrayBuffer();
        },
      ),
      { numRuns: RUNS },
    );
    await app.settle();
  });
});

describe("fuzzing the createJob form data (as the action and POST /api/jobs read it)", () => {
  const schema = createJobSchema(MODELS);
  const FIELDS = [
    "prompt",
    "style",
    "model",
    "duration",
    "aspectRatio",
    "resolution",
    "seed",
    "negativePrompt",
    "enhancedPrompt",
    "enhance",
    "sound",
    "remixOf",
  ];

  const valueArb = fc.oneof(
    fc.string({ unit: "binary", maxLength: 80 }),
    fc.constantFrom(
      "",
      "on",
      "true",
      "-1",
      "0",
      "5",
      "1e309",
      "NaN",
      "16:9",
      "720p",
      LOCAL_MODEL_ID,
      ...STYLE_IDS,
      ...MODELS.map((m) => m.id),
    ),
    fc.integer().map(String),
    fc.double().map(String),
    fc.string({ minLength: 1990, maxLength: 2100 }),
  );

  it("never throws on arbitrary FormData, and explains every refusal per field", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 10 }), fc.constant("$ACTION_ID_x")),
            valueArb,
          ),
          { maxLength: 16 },
        ),
        fc.boolean(),
        (entries, startValid) => {
          const form = new FormData();
          if (startValid) {
            form.append("prompt", "a quiet harbour at dusk");
            form.append("style", STYLE_IDS[0]);
            form.append("model", LOCAL_MODEL_ID);
          }
          for (const [k, v] of entries) form.append(k, v);
          if (entries.length % 3 === 0) form.append("file", new Blob(["x"]), "x.txt");
          const result = schema.safeParse(formValues(form.entries()));
          if (result.success) {
            expect(result.data.prompt.length).toBeGreaterThanOrEqual(3);
            expect(result.data.prompt.length).toBeLessThanOrEqual(2000);
            expect(MODELS.map((m) => m.id)).toContain(result.data.model);
          } else {
            const errors = fieldErrors(result.error);
            expect(Object.keys(errors).length).toBeGreaterThan(0);
            for (const message of Object.values(errors)) expect(typeof message).toBe("string");
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("never throws on values that are not form data at all", () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const result = schema.safeParse(value);
        if (!result.success) expect(typeof fieldErrors(result.error)).toBe("object");
      }),
      { numRuns: RUNS },
    );
  });
});
