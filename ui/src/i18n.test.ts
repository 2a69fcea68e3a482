import { beforeEach, describe, expect, it } from "vitest";

import { BackendError } from "./backend";
import { knownErrorCodes, knownReasons } from "./backends/browser/rest";
import { errorText, pickLang, setLang, t } from "./i18n";
import { bannerFor } from "./status";

beforeEach(() => setLang("en"));

describe("language", () => {
  it("follows navigator.language until the user chose", () => {
    expect(pickLang("ko-KR", null)).toBe("ko");
    expect(pickLang("en-US", null)).toBe("en");
    expect(pickLang("de", null)).toBe("en");
    expect(pickLang("ko-KR", "en")).toBe("en");
    expect(pickLang(undefined, null)).toBe("en");
  });
  it("fills variables", () => {
    expect(t("members", { n: 3, max: 8 })).toBe("3/8 members");
    setLang("ko");
    expect(t("members", { n: 3, max: 8 })).toBe("멤버 3/8");
    expect(document.documentElement.lang).toBe("ko");
  });
});

describe("errors in words", () => {
  it("prefers the reason, then the code, then a generic text", () => {
    expect(errorText({ code: "CONFLICT", reason: "STUDY_FULL" })).toBe("This study is full.");
    expect(errorText({ code: "CONFLICT", reason: "SOMETHING_NEW" })).toBe("This conflicts with the current state.");
    expect(errorText({ code: "UNAVAILABLE" })).toMatch(/cannot be reached/);
    expect(errorText({ code: "TEAPOT" })).toBe("Something went wrong.");
    setLang("ko");
    expect(errorText({ code: "UNAUTHORIZED", reason: "WRONG_CREDENTIALS" })).toBe("이메일 또는 비밀번호가 올바르지 않습니다.");
  });
  it("turns any shell payload into a BackendError", () => {
    const e = BackendError.from({ code: "CONFLICT", reason: "ALREADY_MEMBER", message: "already", status: 409 });
    expect(e.code).toBe("CONFLICT");
    expect(e.reason).toBe("ALREADY_MEMBER");
    expect(e.status).toBe(409);
    expect(BackendError.from(new Error("boom")).code).toBe("INTERNAL");
    expect(BackendError.from("text").message).toBe("text");
  });
  it("words every reason and every code of the client in both languages", () => {
    // The lists are the generated types' (coup-core's `Reason` and `ErrorCode`):
    // rest.ts does not compile when they gain or lose one.
    expect(knownReasons).toContain("ACCOUNT_SUSPENDED");
    expect(knownReasons.length).toBeGreaterThan(20);
    expect(knownErrorCodes).toContain("BAD_RESPONSE");
    for (const lang of ["en", "ko"] as const) {
      setLang(lang);
      const generic = errorText({ code: "X" });
      for (const reason of knownReasons) expect(errorText({ code: "X", reason })).not.toBe(generic);
      for (const code of knownErrorCodes) expect(errorText({ code })).not.toBe(generic);
    }
  });
});

describe("connection banner", () => {
  it("shows nothing online and says offline with the next try", () => {
    expect(bannerFor({ state: "ONLINE" })).toBeNull();
    const off = bannerFor({ state: "OFFLINE", reason: "refused", retryInMs: 2500 });
    expect(off?.kind).toBe("offline");
    expect(off?.text).toMatch(/Next try in 3 s/);
    const suspended = bannerFor({ state: "SIGNED_OUT", code: "UNAUTHORIZED", message: "the session ended", reason: "ACCOUNT_SUSPENDED" });
    expect(suspended?.kind).toBe("signedOut");
    expect(suspended?.text).toBe("You were signed out: This account is suspended.");
    const ended = bannerFor({ state: "SIGNED_OUT", code: "UNAUTHORIZED", message: "the session ended", reason: null });
    expect(ended?.text).toMatch(/^You were signed out: /);
    expect(ended?.text).not.toContain("suspended");
  });
});
