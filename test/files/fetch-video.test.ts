import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import Replicate from "replicate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resetEnvCache } from "@/lib/env";
import { checkVideoUrl, copyProviderVideo, defaultVideoHosts, fetchProviderVideo } from "@/lib/files/fetch-video";
import { LocalVideoStore } from "@/lib/files/local-video-store";
import { VideoFileError, videoKey } from "@/lib/files/types";
import { newJobId } from "@/test/support/job-factory";
import { sampleVideoPath, startFakeReplicate, type FakeReplicate } from "@/test/support/fake-replicate";

let server: http.Server;
let host: string;
let hits: Record<string, number> = {};
let dir: string;
let fake: FakeReplicate;

const MB = 1024 * 1024;

function route(req: http.IncomingMessage, res: http.ServerResponse) {
  const p = req.url ?? "";
  hits[p] = (hits[p] ?? 0) + 1;
  const video = (type = "video/mp4") => res.writeHead(200, { "content-type": type, "content-length": "4" }).end("MP4!");
  if (p === "/ok.mp4") return video();
  if (p === "/octet.mp4") return video("application/octet-stream");
  if (p === "/octet.bin") return video("application/octet-stream");
  if (p === "/page.mp4") return res.writeHead(200, { "content-type": "text/html" }).end("<html>");
  if (p === "/declared-big.mp4")
    return res.writeHead(200, { "content-type": "video/mp4", "content-length": String(5 * MB) }).end();
  if (p === "/streamed-big.mp4") {
    res.writeHead(200, { "content-type": "video/mp4" });
    for (let i = 0; i < 20; i++) res.write(Buffer.alloc(64 * 1024));
    return res.end();
  }
  if (p === "/stall.mp4")
    return res.writeHead(200, { "content-type": "video/mp4", "content-length": "1000" }).write("MP4!");
  if (p === "/no-answer.mp4") return;
  if (p === "/gone.mp4") return res.writeHead(410).end();
  if (p === "/redirect-in") return res.writeHead(302, { location: "/ok.mp4" }).end();
  if (p === "/redirect-out") return res.writeHead(302, { location: "https://example.com/x.mp4" }).end();
  if (p === "/redirect-port") return res.writeHead(302, { location: "http://127.0.0.1:1/x.mp4" }).end();
  if (p === "/flaky.mp4") return (hits[p] ?? 0) < 3 ? res.writeHead(503).end() : video();
  res.writeHead(404).end();
}

beforeAll(async () => {
  server = http.createServer(route);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(path.join(os.tmpdir(), "p2v-fetch-"));
  fake = await startFakeReplicate();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

const opts = () => ({ allowedHosts: [host], maxBytes: MB });
const reason = (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (e: unknown) => (e instanceof VideoFileError ? `${e.reason}${e.permanent ? "" : " (transient)"}` : String(e)),
  );

describe("checkVideoUrl", () => {
  const hosts = ["replicate.delivery", "*.replicate.delivery"];

  it.each(["https://replicate.delivery/a/out.mp4", "https://pbxt.replicate.delivery/a/out.mp4"])("allows %s", (url) => {
    expect(checkVideoUrl(url, hosts).href).toBe(url);
  });

  it.each([
    "https://example.com/out.mp4",
    "http://replicate.delivery/out.mp4",
    "https://replicate.delivery.example.com/out.mp4",
    "https://evilreplicate.delivery/out.mp4",
    "https://user:pw@replicate.delivery/out.mp4",
    "ftp://replicate.delivery/out.mp4",
    "file:///etc/passwd",
    "not a url",
  ])("refuses %s", (url) => {
    expect(() => checkVideoUrl(url, hosts)).toThrow(VideoFileError);
  });

  it("compares IPv6 hosts with their brackets, and the port when the entry names one", () => {
    expect(checkVideoUrl("http://[::1]:8080/out.mp4", ["[::1]:8080"]).port).toBe("8080");
    expect(checkVideoUrl("http://[::1]:9090/out.mp4", ["[::1]"]).port).toBe("9090");
    expect(() => checkVideoUrl("http://[::1]:9090/out.mp4", ["[::1]:8080"])).toThrow(VideoFileError);
    expect(checkVideoUrl("https://replicate.delivery/out.mp4", ["replicate.delivery:443"]).host).toBe(
      "replicate.delivery",
    );
  });

  it("allows the host of an IPv6 REPLICATE_BASE_URL", () => {
    process.env.REPLICATE_API_TOKEN = "r8_test";
    process.env.REPLICATE_BASE_URL = "http://[::1]:8080/v1";
    resetEnvCache();
    try {
      expect(checkVideoUrl("http://[::1]:8080/files/x.mp4").host).toBe("[::1]:8080");
      expect(() => checkVideoUrl("http://[::1]:8081/files/x.mp4")).toThrow(VideoFileError);
    } finally {
      delete process.env.REPLICATE_API_TOKEN;
      delete process.env.REPLICATE_BASE_URL;
      resetEnvCache();
    }
  });

  it("adds the host of REPLICATE_BASE_URL, over http only when it is loopback", () => {
    process.env.REPLICATE_API_TOKEN = "r8_test";
    process.env.REPLICATE_BASE_URL = `http://${host}/v1`;
    resetEnvCache();
    try {
      expect(defaultVideoHosts()).toEqual(["replicate.delivery", "*.replicate.delivery", host]);
      expect(checkVideoUrl(`http://${host}/ok.mp4`).host).toBe(host);
      expect(() => checkVideoUrl(`http://127.0.0.1:1/ok.mp4`)).toThrow(VideoFileError);
    } finally {
      delete process.env.REPLICATE_API_TOKEN;
      delete process.env.REPLICATE_BASE_URL;
      resetEnvCache();
    }
  });
});

describe("fetchProviderVideo", () => {
  it("streams a video and accepts octet-stream for an .mp4 path", async () => {
    const video = await fetchProviderVideo(`http://${host}/ok.mp4`, opts());
    expect(video.contentType).toBe("video/mp4");
    expect(await new Response(video.stream).text()).toBe("MP4!");
    expect((await fetchProviderVideo(`http://${host}/octet.mp4`, opts())).contentType).toBe("video/mp4");
  });

  it("follows a redirect on the same host but not off it", async () => {
    expect((await fetchProviderVideo(`http://${host}/redirect-in`, opts())).contentType).toBe("video/mp4");
    expect(await reason(fetchProviderVideo(`http://${host}/redirect-out`, opts()))).toBe("forbidden_url");
    expect(await reason(fetchProviderVideo(`http://${host}/redirect-port`, opts()))).toBe("forbidden_url");
  });

  it("refuses other hosts without contacting them", async () => {
    expect(await reason(fetchProviderVideo("https://example.com/x.mp4", opts()))).toBe("forbidden_url");
  });

  it("refuses what is not a video", async () => {
    expect(await reason(fetchProviderVideo(`http://${host}/page.mp4`, opts()))).toBe("wrong_type");
    expect(await reason(fetchProviderVideo(`http://${host}/octet.bin`, opts()))).toBe("wrong_type");
  });

  it("refuses a declared Content-Length over the cap, and cuts a stream that grows past it", async () => {
    expect(await reason(fetchProviderVideo(`http://${host}/declared-big.mp4`, opts()))).toBe("too_large");
    const video = await fetchProviderVideo(`http://${host}/streamed-big.mp4`, opts());
    expect(await reason(new Response(video.stream).arrayBuffer())).toBe("too_large");
  });

  it("abandons a download that stops sending, or never answers, as a transient failure", async () => {
    const stalled = await fetchProviderVideo(`http://${host}/stall.mp4`, { ...opts(), idleTimeoutMs: 200 });
    expect(await reason(new Response(stalled.stream).arrayBuffer())).toBe("network (transient)");
    expect(await reason(fetchProviderVideo(`http://${host}/no-answer.mp4`, { ...opts(), idleTimeoutMs: 200 }))).toBe(
      "network (transient)",
    );
  });

  it("tells deleted outputs (permanent) from server errors (transient)", async () => {
    expect(await reason(fetchProviderVideo(`http://${host}/gone.mp4`, opts()))).toBe("not_found");
    expect(await reason(fetchProviderVideo(`http://${host}/missing.mp4`, opts()))).toBe("not_found");
    hits = {};
    expect(await reason(fetchProviderVideo(`http://${host}/flaky.mp4`, opts()))).toBe("http (transient)");
  });
});

describe("copyProviderVideo", () => {
  const store = () => new LocalVideoStore(dir);
  const fakeOpts = () => ({ allowedHosts: [new URL(fake.baseUrl).host], maxBytes: 10 * MB, backoffMs: 10 });

  async function finishedOutput(): Promise<string> {
    const client = new Replicate({ auth: fake.token, baseUrl: fake.baseUrl, useFileOutput: false });
    const prediction = await client.predictions.create({ model: "wan-video/wan-2.2-t2v-fast", input: { prompt: "x" } });
    return (await fake.settled(prediction.id)).output as string;
  }

  it("copies a finished output from the fake Replicate into the store", async () => {
    const output = await finishedOutput();
    const key = videoKey(newJobId(), "video.mp4");
    const stored = await copyProviderVideo(output, store(), key, fakeOpts());
    const { size } = await stat(await sampleVideoPath());
    expect(stored.bytes).toBe(size);
    const copy = await readFile(store().pathOf(key));
    expect(copy.subarray(4, 8).toString("latin1")).toBe("ftyp");
  });

  it("fails at once with a permanent error when the output was deleted", async () => {
    const output = await finishedOutput();
    fake.deleteOutputs();
    const key = videoKey(newJobId(), "video.mp4");
    expect(await reason(copyProviderVideo(output, store(), key, fakeOpts()))).toBe("not_found");
    expect(fake.requests.filter((r) => output.endsWith(r.path))).toHaveLength(1);
    expect(await store().stat(key)).toBeNull();
  });

  it("retries transient failures", async () => {
    hits = {};
    const key = videoKey(newJobId(), "video.mp4");
    const stored = await copyProviderVideo(`http://${host}/flaky.mp4`, store(), key, {
      ...opts(),
      backoffMs: 10,
      tries: 3,
    });
    expect(stored.bytes).toBe(4);
    expect(hits["/flaky.mp4"]).toBe(3);
  });

  it("does not retry an oversize stream", async () => {
    hits = {};
    const key = videoKey(newJobId(), "video.mp4");
    const result = await reason(
      copyProviderVideo(`http://${host}/streamed-big.mp4`, store(), key, { ...opts(), backoffMs: 10 }),
    );
    expect(result).toBe("too_large");
    expect(hits["/streamed-big.mp4"]).toBe(1);
    expect(await store().stat(key)).toBeNull();
  });
});
