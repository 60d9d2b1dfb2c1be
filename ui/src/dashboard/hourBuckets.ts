/** Stats hour buckets → chart buckets labelled in local time. */
import type { HourBucket } from "../api/types";
import type { Bucket } from "../charts/StackedBarChart";

const HOUR = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hour12: false });
const DAY_HOUR = new Intl.DateTimeFormat(undefined, { weekday: "short", hour: "2-digit", minute: "2-digit", hour12: false });

export function toBuckets(hourly: HourBucket[], labelEvery = 3): Bucket[] {
  return hourly.map((h, i) => {
    const t = Date.parse(h.hour);
    return {
      key: h.hour,
      label: i % labelEvery === 0 || i === hourly.length - 1 ? HOUR.format(t) : "",
      title: DAY_HOUR.format(t),
      counts: h.counts,
    };
  });
}
