import { describe, expect, it } from "vitest";

import { errorCode, isTransient, reasonOf, refusal, unwrap } from "./rest";

describe("REST answers", () => {
  it("turns the API's error body into a BackendError with code, reason and field", () => {
    const e = refusal(409, { error: { code: "CONFLICT", message: "full", reason: "STUDY_FULL" } });
    expect(e).toMatchObject({ code: "CONFLICT", reason: "STUDY_FULL", status: 409, message: "full", field: null });
    expect(isTransient(e)).toBe(false);
  });

  it("words answers that are not the API's (a proxy's page) by status", () => {
    expect(refusal(502, "<html>bad gateway</html>")).toMatchObject({ code: "UNAVAILABLE", status: 502 });
    expect(refusal(404, null)).toMatchObject({ code: "BAD_RESPONSE", status: 404 });
    expect(refusal(400, { error: { message: "no code" } }).code).toBe("BAD_RESPONSE");
  });

  it("treats no answer, 408, 429 and 5xx as worth retrying", async () => {
    const lost = await unwrap(Promise.reject(new TypeError("Failed to fetch"))).catch((e: unknown) => e);
    expect(lost).toMatchObject({ code: "UNAVAILABLE", status: null });
    for (const status of [408, 429, 500, 503]) expect(isTransient(refusal(status, { error: { code: "X", message: "" } }))).toBe(true);
    for (const status of [400, 401, 403, 404, 413]) expect(isTransient(refusal(status, { error: { code: "X", message: "" } }))).toBe(false);
  });

  it("returns the body of a success", async () => {
    const ok = await unwrap(Promise.resolve({ data: { token: "t" }, response: new Response(null, { status: 200 }) }));
    expect(ok).toEqual({ token: "t" });
  });

  it("reads a server's code and reason as the client's, classifying unknown codes by status", () => {
    expect(errorCode("CONFLICT", 409)).toBe("CONFLICT");
    expect(errorCode("NOT_SUBSCRIBED", 409)).toBe("CONFLICT");
    expect(errorCode("SOMETHING_NEW", 403)).toBe("FORBIDDEN");
    expect(errorCode("SOMETHING_NEW", 503)).toBe("UNAVAILABLE");
    expect(errorCode("SOMETHING_NEW", null)).toBe("INTERNAL");
    expect(errorCode("constructor", 418)).toBe("INTERNAL");
    expect(reasonOf("STUDY_FULL")).toBe("STUDY_FULL");
    expect(reasonOf("SOMETHING_NEW")).toBeNull();
    expect(reasonOf("toString")).toBeNull();
    expect(reasonOf("")).toBeNull();
    expect(reasonOf(null)).toBeNull();
  });
});
