// What the connection banner says for a `ConnectionState` (pure, tested).

import { errorText, t } from "./i18n";
import type { ConnectionState } from "./types";

export interface BannerView {
  kind: "offline" | "connecting" | "signedOut";
  text: string;
}

export function bannerFor(state: ConnectionState): BannerView | null {
  switch (state.state) {
    case "ONLINE":
      return null;
    case "CONNECTING":
      return { kind: "connecting", text: t("connecting") };
    case "OFFLINE": {
      const secs = Math.ceil(state.retryInMs / 1000);
      return { kind: "offline", text: secs > 0 ? `${t("offlineBanner")} ${t("retryIn", { s: secs })}` : t("offlineBanner") };
    }
    case "SIGNED_OUT":
      return { kind: "signedOut", text: t("signedOutBanner", { why: errorText(state) }) };
  }
}
