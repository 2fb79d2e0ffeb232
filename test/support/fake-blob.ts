import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A Vercel-Blob-compatible server on loopback, for the real `@vercel/blob` client (pointed at it
 * with VERCEL_BLOB_API_URL, which the client reads for its API base). It keeps files in memory,
 * as a public Blob store does: the API (put, multipart upload, copy, list, delete) needs the
 * store's token; the files themselves are served to anyone with their URL, with the
 * Cache-Control the upload asked for (`x-cache-control-max-age`; a month by default, as Blob).
 */

type StoredBlob = { body: Buffer; contentType: string; maxAge: number; uploadedAt: number; etag: string };
type Upload = { pathname: string; headers: IncomingMessage["headers"]; parts: Map<number, Buffer> };

export type FakeBlob = {
  /** BLOB_READ_WRITE_TOKEN for this store. */
  token: string;
  /** VERCEL_BLOB_API_URL. */
  apiUrl: string;
  /** Pathnames stored now, sorted. */
  pathnames(): string[];
  close(): Promise<void>;
};

const DEFAULT_MAX_AGE = 30 * 24 * 60 * 60;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

export async function startFakeBlob(): Promise<FakeBlob> {
  const storeId = randomBytes(8).toString("hex");
  const token = `vercel_blob_rw_${storeId}_${randomBytes(12).toString("hex")}`;
  const blobs = new Map<string, StoredBlob>();
  const uploads = new Map<string, Upload>();
  let origin = "";

  const urlOf = (pathname: string) => `${origin}/files/${pathname}`;
  const pathnameOf = (url: string) =>
    url.startsWith(`${origin}/files/`) ? decodeURIComponent(url.slice(`${origin}/files/`.length)) : url;

  /** The pathname as stored: with `x-add-random-suffix: 1`, a random part before the extension. */
  function finalPathname(pathname: string, headers: IncomingMessage["headers"]): string {
    if (headers["x-add-random-suffix"] !== "1") return pathname;
    const dot = pathname.lastIndexOf(".");
    const suffix = randomBytes(16).toString("base64url").replace(/[-_]/g, "x").slice(0, 21);
    return dot > pathname.lastIndexOf("/")
      ? `${pathname.slice(0, dot)}-${suffix}${pathname.slice(dot)}`
      : `${pathname}-${suffix}`;
  }

  function store(pathname: string, body: Buffer, headers: IncomingMessage["headers"], contentType?: string) {
    const final = finalPathname(pathname, headers);
    if (blobs.has(final) && headers["x-allow-overwrite"] !== "1") return null;
    const maxAge = Number(headers["x-cache-control-max-age"] ?? DEFAULT_MAX_AGE);
    const blob: StoredBlob = {
      body,
      contentType: String(headers["x-content-type"] ?? contentType ?? "application/octet-stream"),
      maxAge,
      uploadedAt: Date.now(),
      etag: `"${randomBytes(8).toString("hex")}"`,
    };
    blobs.set(final, blob);
    return {
      url: urlOf(final),
      downloadUrl: `${urlOf(final)}?download=1`,
      pathname: final,
      contentType: blob.contentType,
      contentDisposition: `inline; filename="${final.split("/").pop()}"`,
      etag: blob.etag,
    };
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.headers.authorization !== `Bearer ${token}`)
      return json(res, 403, { error: { code: "forbidden", message: "Invalid token" } });
    const route = url.pathname.replace(/^\/api\/?/, "");
    const pathname = url.searchParams.get("pathname");

    if (req.method === "PUT" && route === "" && pathname) {
      const from = url.searchParams.get("fromUrl");
      if (from !== null) {
        const source = blobs.get(pathnameOf(from));
        if (!source) return json(res, 404, { error: { code: "not_found", message: "The source blob does not exist" } });
        const copied = store(pathname, source.body, req.headers, source.contentType);
        return copied
          ? json(res, 200, copied)
          : json(res, 400, { error: { code: "bad_request", message: "This blob already exists" } });
      }
      const put = store(pathname, await readBody(req), req.headers);
      return put
        ? json(res, 200, put)
        : json(res, 400, { error: { code: "bad_request", message: "This blob already exists" } });
    }

    if (req.method === "POST" && route === "mpu" && pathname) {
      const action = req.headers["x-mpu-action"];
      if (action === "create") {
        const uploadId = randomBytes(8).toString("hex");
        uploads.set(uploadId, { pathname, headers: req.headers, parts: new Map() });
        return json(res, 200, { key: pathname, uploadId });
      }
      const upload = uploads.get(String(req.headers["x-mpu-upload-id"]));
      if (!upload) return json(res, 404, { error: { code: "not_found", message: "No such upload" } });
      if (action === "upload") {
        const part = Number(req.headers["x-mpu-part-number"]);
        upload.parts.set(part, await readBody(req));
        return json(res, 200, { etag: `"part-${part}"` });
      }
      if (action === "complete") {
        const parts = JSON.parse((await readBody(req)).toString()) as { partNumber: number }[];
        const body = Buffer.concat(
          parts
            .sort((a, b) => a.partNumber - b.partNumber)
            .map((p) => upload.parts.get(p.partNumber) ?? Buffer.alloc(0)),
        );
        uploads.delete(String(req.headers["x-mpu-upload-id"]));
        const put = store(upload.pathname, body, upload.headers);
        return put
          ? json(res, 200, put)
          : json(res, 400, { error: { code: "bad_request", message: "This blob already exists" } });
      }
    }

    if (req.method === "GET" && route === "") {
      const prefix = url.searchParams.get("prefix") ?? "";
      const limit = Number(url.searchParams.get("limit") ?? 1000);
      const start = Number(url.searchParams.get("cursor") ?? 0);
      const matching = [...blobs.keys()].filter((p) => p.startsWith(prefix)).sort();
      const page = matching.slice(start, start + limit);
      const hasMore = start + limit < matching.length;
      return json(res, 200, {
        blobs: page.map((p) => {
          const b = blobs.get(p)!;
          return {
            url: urlOf(p),
            downloadUrl: `${urlOf(p)}?download=1`,
            pathname: p,
            size: b.body.length,
            uploadedAt: new Date(b.uploadedAt).toISOString(),
            etag: b.etag,
          };
        }),
        hasMore,
        ...(hasMore ? { cursor: String(start + limit) } : {}),
      });
    }

    if (req.method === "POST" && route === "delete") {
      const { urls } = JSON.parse((await readBody(req)).toString()) as { urls: string[] };
      for (const u of urls) blobs.delete(pathnameOf(u));
      return json(res, 200, {});
    }

    json(res, 400, { error: { code: "bad_request", message: `Unknown request ${req.method} ${url.pathname}` } });
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", origin);
    const handle = async () => {
      if (url.pathname.startsWith("/files/") && (req.method === "GET" || req.method === "HEAD")) {
        const blob = blobs.get(decodeURIComponent(url.pathname.slice("/files/".length)));
        if (!blob)
          return void res
            .writeHead(404, { "content-type": "text/plain", "cache-control": "no-store" })
            .end("The file does not exist.");
        res.writeHead(200, {
          "content-type": blob.contentType,
          "content-length": String(blob.body.length),
          "cache-control": `public, max-age=${blob.maxAge}`,
          etag: blob.etag,
        });
        return void res.end(req.method === "GET" ? blob.body : undefined);
      }
      if (url.pathname === "/api" || url.pathname.startsWith("/api/")) return api(req, res, url);
      res.writeHead(404).end();
    };
    handle().catch((error: unknown) =>
      json(res, 500, { error: { code: "internal_server_error", message: String(error) } }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    token,
    apiUrl: `${origin}/api`,
    pathnames: () => [...blobs.keys()].sort(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
