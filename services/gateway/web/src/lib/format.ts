/**
 * Number, price, percent and time formatting for the dashboard. One place, so every page
 * writes a price or a date the same way; a missing or non-finite value prints as a dash.
 * Locale is fixed (en-US grouping) so numbers read the same on every machine; times are UTC
 * because the platform's bars and signals are stamped in UTC.
 */

export const MISSING = '—';

type Num = number | null | undefined;

const isNum = (value: Num): value is number => typeof value === 'number' && Number.isFinite(value);

const formatters = new Map<string, Intl.NumberFormat>();

function fixed(digits: number, grouping = true): Intl.NumberFormat {
  const key = `${digits}:${grouping}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat('en-US', {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
      useGrouping: grouping,
    });
    formatters.set(key, formatter);
  }
  return formatter;
}

/** A plain number with `digits` decimals and thousands separators. */
export function formatNumber(value: Num, digits = 2): string {
  return isNum(value) ? fixed(digits).format(value) : MISSING;
}

/** A price: 2 decimals, 4 below one unit (penny stocks), grouped thousands. */
export function formatPrice(value: Num): string {
  if (!isNum(value)) return MISSING;
  return fixed(Math.abs(value) < 1 && value !== 0 ? 4 : 2).format(value);
}

/** Money with sign for losses, e.g. `-1,234.50`. */
export function formatMoney(value: Num): string {
  return isNum(value) ? fixed(2).format(value) : MISSING;
}

/** Money with an explicit sign, for profit and loss: `+12.00`, `-3.40`. */
export function formatSignedMoney(value: Num): string {
  if (!isNum(value)) return MISSING;
  const text = fixed(2).format(Math.abs(value));
  return value > 0 ? `+${text}` : value < 0 ? `-${text}` : text;
}

/** A fraction as a percent: 0.1234 -> `12.3%`. */
export function formatPercent(fraction: Num, digits = 1): string {
  return isNum(fraction) ? `${fixed(digits).format(fraction * 100)}%` : MISSING;
}

/** A change in percent points with its sign: 1.5 -> `+1.50%` (the API's change_pct). */
export function formatChangePct(percent: Num, digits = 2): string {
  if (!isNum(percent)) return MISSING;
  const text = `${fixed(digits).format(Math.abs(percent))}%`;
  return percent > 0 ? `+${text}` : percent < 0 ? `-${text}` : text;
}

/** A stage or total score in [0, 1], two decimals. */
export function formatScore(score: Num): string {
  return isNum(score) ? fixed(2, false).format(score) : MISSING;
}

/** Large counts such as volume: 1234 -> `1.2K`, 5_600_000 -> `5.6M`. */
export function formatCompact(value: Num): string {
  if (!isNum(value)) return MISSING;
  const abs = Math.abs(value);
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, suffix] of units) {
    if (abs >= size) return `${fixed(1, false).format(value / size)}${suffix}`;
  }
  return fixed(0, false).format(value);
}

function parseTime(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** The UTC calendar date of a timestamp: `2024-05-01`. */
export function formatDate(iso: string | null | undefined): string {
  const d = parseTime(iso);
  if (!d) return MISSING;
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** Date and time in UTC to the minute: `2024-05-01 14:30 UTC`. */
export function formatDateTime(iso: string | null | undefined): string {
  const d = parseTime(iso);
  if (!d) return MISSING;
  return `${formatDate(iso)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/** A bar time: the date alone for a midnight (daily) bar, else date and time. */
export function formatBarTime(iso: string | null | undefined): string {
  const d = parseTime(iso);
  if (!d) return MISSING;
  const midnight = d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0;
  return midnight ? formatDate(iso) : formatDateTime(iso);
}

/** How long ago, coarsely: `4 s ago`, `3 min ago`, `2 h ago`, `5 d ago`. */
export function formatAge(ms: Num): string {
  if (!isNum(ms) || ms < 0) return MISSING;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** A stage name for people: `ml_confidence` -> `ML confidence`. */
export function formatStage(stage: string): string {
  const words = stage.split('_').join(' ');
  const text = words.replace(/^ml\b/, 'ML');
  return text.charAt(0).toUpperCase() + text.slice(1);
}
