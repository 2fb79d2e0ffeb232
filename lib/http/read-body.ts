import { AppError } from "@/lib/errors";

/**
 * Reads a request body as text, refusing it (413) as soon as it passes `maxBytes`, whatever
 * Content-Length claims.
 */
export async function readBodyCapped(req: Request, maxBytes: number): Promise<string> {
  return (await readBytesCapped(req, maxBytes)).toString("utf8");
}

/** The same, as bytes (multipart bodies carry files). */
export async function readBytesCapped(req: Request, maxBytes: number): Promise<Buffer> {
  const tooLarge = () =>
    new AppError(
      "payload_too_large",
      maxBytes >= 1024 * 1024
        ? `The body is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB.`
        : `The body is larger than ${Math.round(maxBytes / 1024)} KiB.`,
    );
  const declared = Number(req.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  if (!req.body) return Buffer.alloc(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
