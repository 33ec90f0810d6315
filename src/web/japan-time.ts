/** Times shown to people are Japan time (JST, UTC+9, no daylight saving); times stored are UTC epoch ms. */
export const JST_OFFSET_MS = 9 * 3600_000;

const p = (n: number) => String(n).padStart(2, '0');

/** "2026-11-24" in Japan time. */
export function japanDate(at: number): string {
  return new Date(at + JST_OFFSET_MS).toISOString().slice(0, 10);
}

/** "2026-11-24 14:09" (or with seconds) in Japan time; "-" for no time. */
export function japanDateTime(at: number | null, seconds = false): string {
  if (at === null) return '-';
  const d = new Date(at + JST_OFFSET_MS);
  const hm = `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}${seconds ? `:${p(d.getUTCSeconds())}` : ''}`;
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${hm}`;
}

/** "2026-11-24T14:09" in Japan time, for <input type=datetime-local>-style fields. */
export function japanLocalInput(at: number | null): string {
  return at === null ? '' : new Date(at + JST_OFFSET_MS).toISOString().slice(0, 16);
}

/**
 * Whether `value + suffix` (an ISO time in UTC) reads back as `value`: Date.parse rolls an impossible day over
 * ("2026-02-30" is 2 March, "T24:00" the next midnight) instead of refusing it.
 */
function exists(value: string, suffix: string): boolean {
  const at = Date.parse(value + suffix);
  return !Number.isNaN(at) && new Date(at).toISOString().startsWith(value);
}

/** "2026-11-24" (a day in Japan) → its first millisecond; undefined when empty, 'bad' when malformed or impossible. */
export function parseJapanDate(v: string | undefined): number | undefined | 'bad' {
  if (!v) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || !exists(v, 'T00:00:00Z')) return 'bad';
  const at = Date.parse(`${v}T00:00:00Z`) - JST_OFFSET_MS;
  return Number.isNaN(at) ? 'bad' : at;
}

/** "2026-11-24T14:09" (Japan time) → epoch ms; undefined when empty, 'bad' when malformed or impossible. */
export function parseJapanLocalInput(v: string): number | undefined | 'bad' {
  if (!v) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v) || !exists(v, ':00Z')) return 'bad';
  const at = Date.parse(`${v}:00Z`) - JST_OFFSET_MS;
  return Number.isNaN(at) ? 'bad' : at;
}

/** "2026-12-01T19:05:00+09:00": Japan time with its offset, for exports a spreadsheet or a script reads unambiguously. */
export function japanIsoOffset(at: number): string {
  return `${new Date(at + JST_OFFSET_MS).toISOString().slice(0, 19)}+09:00`;
}
