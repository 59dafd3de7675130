/**
 * Small pure helpers of the page: times and colours. No DOM.
 * @module
 */

/** `09:14` in the viewer's time zone. */
export function clockTime(iso: string, locale?: string): string {
  return new Date(iso).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
}

/** `Monday 23 November 2026, 09:14:44` in the viewer's time zone, for tooltips. */
export function fullTime(iso: string, locale?: string): string {
  return new Date(iso).toLocaleString(locale, {
    weekday: "long",
    year: "numeric",
    month: "long",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/** The local calendar day of a time, as `YYYY-MM-DD`, to put day separators between messages. */
export function dayKey(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** `Today`, `Yesterday` or a date, for a day separator. */
export function dayLabel(iso: string, now: Date = new Date(), locale?: string): string {
  const key = dayKey(iso);
  if (key === dayKey(now.toISOString())) return "Today";
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (key === dayKey(yesterday.toISOString())) return "Yesterday";
  return new Date(iso).toLocaleDateString(locale, {
    weekday: "long",
    year: "numeric",
    month: "long",
    day: "numeric",
  });
}

/** Whether two messages are close enough in time to be shown as one group (5 minutes). */
export function sameGroup(earlier: string, later: string): boolean {
  return Date.parse(later) - Date.parse(earlier) < 5 * 60_000 && dayKey(earlier) === dayKey(later);
}

/** One of 8 colour classes for a user name, the same every time. */
export function colourIndex(name: string): number {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)!) >>> 0;
  return hash % 8;
}
