import { log } from "@/lib/log";
import { isStoreUnavailable, isUnreadableRecord, STORE_RETRY_SECONDS } from "@/lib/store/types";

/**
 * Code-keyed errors for route handlers: each code maps to one HTTP status, and every error
 * response has the same JSON shape: { error: { code, message, ...details } }.
 */
export type ErrorCode =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "payload_too_large"
  | "rate_limited"
  | "unavailable"
  | "internal";

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
    /** More fields for the body's `error` object, e.g. `{ fieldErrors }` for a form. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "AppError";
  }

  get status(): number {
    return STATUS[this.code];
  }

  toResponse(): Response {
    return Response.json(
      { error: { ...this.details, code: this.code, message: this.message } },
      { status: this.status, headers: { "Cache-Control": "no-store", ...this.headers } },
    );
  }
}

/** Turns anything thrown in a route into a JSON response; unknown errors become a 500 without details. */
export function errorResponse(error: unknown): Response {
  if (error instanceof AppError) return error.toResponse();
  if (isStoreUnavailable(error)) {
    return new AppError("unavailable", "The job store is unreachable right now. Try again in a moment.", {
      "Retry-After": String(STORE_RETRY_SECONDS),
    }).toResponse();
  }
  if (isUnreadableRecord(error)) {
    // A 500, not a 404: the record exists. An engine retries its delivery, and nothing treats it as gone.
    log.warn({ record: error.record }, "answered 500: a stored record cannot be read");
    return new AppError(
      "internal",
      "This record is stored but cannot be read right now. Nothing was deleted; the site's operator has been told.",
    ).toResponse();
  }
  // pino serialises `err` (type, message, stack) into the same JSON line.
  log.error({ err: error }, "unexpected error in a route");
  return new AppError("internal", "Something went wrong on our side.").toResponse();
}
