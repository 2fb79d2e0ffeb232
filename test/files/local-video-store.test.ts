import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalVideoStore } from "@/lib/files/local-video-store";
import { InvalidVideoKeyError, VideoFileError, videoKey } from "@/lib/files/types";
import { newJobId } from "@/test/support/job-factory";

let dir: string;
let store: LocalVideoStore;

const webStream = (data: Uint8Array) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(data);
      controller.close();
    },
  });

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "p2v-store-"));
  store = new LocalVideoStore(dir);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("LocalVideoStore", () => {
  const id = newJobId();

  it.each([
    "../../etc/passwd",
    `${id}/../../x.mp4`,
    `${id}/..`,
    `${id}/video.MP4`,
    `${id}/a/b.mp4`,
    `${id}/video.mp4.exe`,
    `${id}/.hidden.mp4`,
    `${id}/video%2e.mp4`,
    `${id.slice(1)}/video.mp4`,
    `../${id.slice(3)}/video.mp4`,
    `/etc/${id}.mp4`,
    `${id}\\..\\x.mp4`,
    "",
  ])("refuses the key %j", async (key) => {
    await expect(
      store.put(key, webStream(new Uint8Array([1])), { contentType: "video/mp4", maxBytes: 10 }),
    ).rejects.toBeInstanceOf(InvalidVideoKeyError);
    await expect(store.stat(key)).rejects.toBeInstanceOf(InvalidVideoKeyError);
    await expect(store.open(key)).rejects.toBeInstanceOf(InvalidVideoKeyError);
  });

  it("refuses to delete anything but one job's folder", async () => {
    await writeFile(path.join(dir, "keep.txt"), "x");
    await expect(store.delete("..")).rejects.toBeInstanceOf(InvalidVideoKeyError);
    await expect(store.delete(`${id}/..`)).rejects.toBeInstanceOf(InvalidVideoKeyError);
    expect(existsSync(path.join(dir, "keep.txt"))).toBe(true);
  });

  it("stores web and Node streams, serves ranges and deletes a job's files", async () => {
    const key = videoKey(id, "video.mp4");
    const stored = await store.put(key, webStream(new TextEncoder().encode("0123456789")), {
      contentType: "video/mp4",
      maxBytes: 10,
    });
    expect(stored).toEqual({ url: `/api/files/${id}/video.mp4`, bytes: 10 });
    const poster = await store.put(videoKey(id, "poster.jpg"), Readable.from([Buffer.from("jpg")]), {
      contentType: "image/jpeg",
      maxBytes: 10,
    });
    expect(poster.url).toBe(`/api/files/${id}/poster.jpg`);

    expect(await store.stat(key)).toEqual({ size: 10, contentType: "video/mp4" });
    expect((await store.stat(videoKey(id, "poster.jpg")))?.contentType).toBe("image/jpeg");
    const whole = await store.open(key);
    expect(await text(whole!.stream)).toBe("0123456789");
    const part = await store.open(key, { start: 2, end: 4 });
    expect(part?.size).toBe(10);
    expect(await text(part!.stream)).toBe("234");

    await store.delete(id);
    expect(await store.stat(key)).toBeNull();
    expect(await store.open(key)).toBeNull();
  });

  it("fails a write past maxBytes and leaves nothing behind", async () => {
    const other = newJobId();
    const key = videoKey(other, "video.mp4");
    const error = await store
      .put(key, Readable.from([Buffer.alloc(6), Buffer.alloc(6)]), { contentType: "video/mp4", maxBytes: 10 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VideoFileError);
    expect((error as VideoFileError).reason).toBe("too_large");
    expect(await store.stat(key)).toBeNull();
    expect(await readdir(path.join(store.root, other))).toEqual([]);
  });

  it("replaces a file atomically", async () => {
    const key = videoKey(id, "video.mp4");
    await store.put(key, webStream(new TextEncoder().encode("old")), { contentType: "video/mp4", maxBytes: 10 });
    await store.put(key, webStream(new TextEncoder().encode("new")), { contentType: "video/mp4", maxBytes: 10 });
    expect(await readFile(store.pathOf(key), "utf8")).toBe("new");
  });
});
