/**
 * The headless Chromium both browser tests launch: Debian's package (or CHROMIUM_PATH), with the
 * flags that keep it off the network and out of the user's profile, and whether a missing one is
 * a failure (in CI) or a skip.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const IN_CI = Boolean(process.env.CI && process.env.CI !== "false" && process.env.CI !== "0");
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];
