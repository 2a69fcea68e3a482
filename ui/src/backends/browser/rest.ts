// REST over `fetch`, typed by the server's own OpenAPI document: `api.gen.ts`
// is generated from `/api/openapi.json` by openapi-typescript (see
// `ui/e2e-browser/api-types.mjs`; CI fails when it differs from the running
// server's document), and openapi-fetch checks every path, parameter and body
// against it at compile time.

import createClient, { type Client } from "openapi-fetch";

import { BackendError } from "../../backend";
import type { ErrorCode, Reason } from "../../types";
import type { paths } from "./api.gen";

export type Api = Client<paths>;

/** A client of the server at `base` that sends the current token, if any;
 * `unauthorized` hears a 401 to a request that carried one (the session ended
 * while the WebSocket was down, or expired), with the server's reason. */
export function restClient(
  base: string,
  token: () => string | null,
  unauthorized: (message: string, reason: string | null) => void = () => undefined,
): Api {
  const api = createClient<paths>({ baseUrl: base });
  api.use({
    onRequest({ request }) {
      const t = token();
      if (t) request.headers.set("Authorization", `Bearer ${t}`);
      return request;
    },
    async onResponse({ request, response }) {
      if (response.status === 401 && request.headers.has("Authorization")) {
        const body: unknown = await response.clone().json().catch(() => null);
        const refused = refusal(401, body);
        unauthorized(refused.message || "the session ended", refused.reason);
      }
      return response;
    },
  });
  return api;
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The body of a success, or the server's refusal as a `BackendError`; a
 * request that never got an answer is `UNAVAILABLE` (status null), like the
 * desktop client's transport errors. */
export async function unwrap<T>(call: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await call;
  } catch (e) {
    throw new BackendError({ code: "UNAVAILABLE", message: e instanceof Error ? e.message : String(e) });
  }
  if (answer.response.ok) return answer.data as T;
  throw refusal(answer.response.status, answer.error);
}

export function refusal(status: number, body: unknown): BackendError {
  const detail =
    typeof body === "object" && body !== null && "error" in body ? (body as { error: Record<string, unknown> }).error : null;
  if (!detail || typeof detail.code !== "string") {
    // Not the API's error shape: a proxy's page, or a gateway down behind it.
    return new BackendError({ code: status >= 500 ? "UNAVAILABLE" : "BAD_RESPONSE", message: `HTTP ${status}`, status });
  }
  return new BackendError({
    code: detail.code,
    message: typeof detail.message === "string" ? detail.message : "",
    reason: typeof detail.reason === "string" ? detail.reason : null,
    field: typeof detail.field === "string" ? detail.field : null,
    status,
  });
}

/** Worth trying again later: no answer, the server busy or unavailable. A
 * refusal (a 4xx other than 408/429) will be refused again. */
export function isTransient(e: BackendError): boolean {
  if (e.status === null) return true;
  return e.status === 408 || e.status === 429 || e.status >= 500;
}

// Every code and reason of the client's types: the compiler fails here when the
// generated unions (app.gen.ts) gain or lose one.
const ERROR_CODES: Record<ErrorCode, true> = {
  VALIDATION: true,
  UNAUTHORIZED: true,
  FORBIDDEN: true,
  NOT_FOUND: true,
  CONFLICT: true,
  PAYLOAD_TOO_LARGE: true,
  RATE_LIMITED: true,
  UNAVAILABLE: true,
  INTERNAL: true,
  BAD_RESPONSE: true,
};
const REASONS: Record<Reason, true> = {
  EMAIL_TAKEN: true,
  WRONG_CREDENTIALS: true,
  WRONG_PASSWORD: true,
  WEAK_PASSWORD: true,
  ACCOUNT_SUSPENDED: true,
  SESSION_EXPIRED: true,
  STUDY_FULL: true,
  NOT_RECRUITING: true,
  ALREADY_MEMBER: true,
  REQUEST_PENDING: true,
  ALREADY_APPROVED: true,
  OWNER_MUST_TRANSFER: true,
  SAME_ROLE: true,
  NOT_YOURSELF: true,
  CALL_FULL: true,
  ALREADY_IN_CALL: true,
  NOT_IN_CALL: true,
  ALREADY_REPORTED: true,
  REPORT_PROCESSED: true,
  NOT_SUSPENDED: true,
  ALREADY_SUBSCRIBED: true,
  NO_DEVICE: true,
};

/** A server's code as the client's; one it does not know (a newer server's, or
 * a real-time protocol code) is classified by the HTTP status it came with, as
 * the Rust client's `Error::from_remote` does. */
export function errorCode(code: string, status: number | null): ErrorCode {
  if (Object.hasOwn(ERROR_CODES, code)) return code as ErrorCode;
  switch (status) {
    case 400:
      return "VALIDATION";
    case 401:
      return "UNAUTHORIZED";
    case 403:
      return "FORBIDDEN";
    case 404:
    case 405:
      return "NOT_FOUND";
    case 409:
      return "CONFLICT";
    case 413:
      return "PAYLOAD_TOO_LARGE";
    case 429:
      return "RATE_LIMITED";
    case 502:
    case 503:
    case 504:
      return "UNAVAILABLE";
    default:
      return "INTERNAL";
  }
}

/** Every code the client has, and every reason. */
export const knownErrorCodes = Object.keys(ERROR_CODES) as ErrorCode[];
export const knownReasons = Object.keys(REASONS) as Reason[];

/** A server's reason as the client's; one it does not know is none. */
export function reasonOf(text: string | null | undefined): Reason | null {
  return text && Object.hasOwn(REASONS, text) ? (text as Reason) : null;
}
