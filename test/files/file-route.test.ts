import { beforeAll, describe, expect, it } from "vitest";
import { GET, HEAD } from "@/app/api/files/[jobId]/[file]/route";
import { localVideoStore } from "@/lib/files";
import { videoKey } from "@/lib/files/types";
import { embeddedStoreForFile } from "@/test/support/embedded-store";
import { makeJob, newJobId } from "@/test/support/job-factory";
import { ownerCookie, TEST_OWNER_ID } from "@/test/support/owner";

const id = newJobId();
const data = embeddedStoreForFile("p2v-route-");

/** The job owner's cookie: only the owner is served a job's files. */
let cookie = "";

/** As the owner, unless `headers` has a cookie of its own ("" for none). */
const call = (handler: typeof GET, jobId: string, file: string, headers: Record<string, string> = {}, query = "") =>
  handler(new Request(`http://app.test/api/files/${jobId}/${file}${query}`, { headers: { cookie, ...headers } }), {
    params: Promise.resolve({ jobId, file }),
  });

beforeAll(async () => {
  await data.store.create(makeJob({ id, prompt: "Café at dawn, rain on the window" }));
  cookie = await ownerCookie();
  const body = new Response("0123456789").body!;
  await localVideoStore().put(videoKey(id, "video.mp4"), body, { contentType: "video/mp4", maxBytes: 100 });
  await localVideoStore().put(videoKey(id, "poster.jpg"), new Response("jpg").body!, {
    contentType: "image/jpeg",
    maxBytes: 100,
  });
});

describe("GET /api/files/[jobId]/[file]", () => {
  it("serves the whole file with caching and range headers", async () => {
    const res = await call(GET, id, "video.mp4");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("video/mp4");
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("content-length")).toBe("10");
    // Only the owner's browser may keep it; never a shared cache.
    expect(res.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
    expect(res.headers.get("vary")).toBe("Cookie");
    expect(await res.text()).toBe("0123456789");
    expect((await call(GET, id, "poster.jpg")).headers.get("content-type")).toBe("image/jpeg");
  });

  it("answers a range with 206 and an unsatisfiable one with 416", async () => {
    const part = await call(GET, id, "video.mp4", { range: "bytes=2-4" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 2-4/10");
    expect(part.headers.get("content-length")).toBe("3");
    expect(await part.text()).toBe("234");

    const tail = await call(GET, id, "video.mp4", { range: "bytes=-3" });
    expect(await tail.text()).toBe("789");

    const none = await call(GET, id, "video.mp4", { range: "bytes=10-" });
    expect(none.status).toBe(416);
    expect(none.headers.get("content-range")).toBe("bytes */10");
  });

  it("answers HEAD without a body", async () => {
    const res = await call(HEAD, id, "video.mp4");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("10");
    expect(await res.text()).toBe("");
  });

  it("answers 400 for malformed names and 404 for missing files", async () => {
    for (const [jobId, file] of [
      [id, "..%2Fsecret.mp4"],
      [id, "../x.mp4"],
      ["short", "video.mp4"],
      [id, "video.txt"],
    ] as const) {
      const res = await call(GET, jobId, file);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: "Malformed file name." });
    }
    const missing = await call(GET, newJobId(), "video.mp4");
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toBe("File not found.");
  });

  it("names a download after the job's prompt with ?download=1", async () => {
    const res = await call(GET, id, "video.mp4", { cookie }, "?download=1");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="cafe-at-dawn-rain-on-the-window.mp4"; filename*=UTF-8''caf%C3%A9-at-dawn-rain-on-the-window.mp4`,
    );
    expect((await call(GET, id, "video.mp4")).headers.get("content-disposition")).toBeNull();
    expect(
      (await call(GET, id, "poster.jpg", { cookie }, "?download=1")).headers.get("content-disposition"),
    ).toBeNull();
  });

  it("answers anyone but the owner 404, as for a file that does not exist", async () => {
    const missing = await (await call(GET, newJobId(), "video.mp4")).json();
    const stranger = await ownerCookie("someoneElsesBrowser000");
    for (const headers of [{ cookie: "" }, { cookie: stranger }, { cookie: `p2v_owner=${TEST_OWNER_ID}.forged` }]) {
      for (const handler of [GET, HEAD]) {
        const res = await call(handler, id, "video.mp4", headers);
        expect(res.status).toBe(404);
        expect(res.headers.get("cache-control")).toBe("no-store");
        expect(res.headers.get("content-length")).not.toBe("10");
        if (handler === GET) expect(await res.json()).toEqual(missing);
      }
    }
    // A file whose job is gone is nobody's: not served at all.
    const orphan = newJobId();
    await localVideoStore().put(videoKey(orphan, "video.mp4"), new Response("v").body!, {
      contentType: "video/mp4",
      maxBytes: 10,
    });
    expect((await call(GET, orphan, "video.mp4")).status).toBe(404);
  });
});
