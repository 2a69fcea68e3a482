// REST over `fetch`, typed by the server's own OpenAPI document: `api.gen.ts`
// is generated from `/api/openapi.json` by openapi-typescript (see
// `ui/e2e-browser/api-types.mjs`; CI fails when it differs from the running
// server's document), and openapi-fetch checks every path, parameter and body
// against it at compile time.

import createClient, { type Client } from "openapi-fetch";

import { BackendError } from "../../backend";
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
