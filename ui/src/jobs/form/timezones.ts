/** IANA time zone names the browser knows, UTC first. */
let cached: string[] | null = null;

export function timeZones(): string[] {
  if (cached) return cached;
  let zones: string[];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    zones = [];
  }
  cached = ["UTC", ...zones.filter((z) => z !== "UTC")];
  return cached;
}
