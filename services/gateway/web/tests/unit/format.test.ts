import { describe, expect, it } from 'vitest';
import {
  MISSING,
  formatAge,
  formatBarTime,
  formatChangePct,
  formatCompact,
  formatDate,
  formatDateTime,
  formatMoney,
  formatNumber,
  formatPercent,
  formatPrice,
  formatScore,
  formatSignedMoney,
  formatStage,
} from '../../src/lib/format';

describe('format helpers', () => {
  it('prints a dash for missing or non-finite numbers', () => {
    for (const f of [formatNumber, formatPrice, formatMoney, formatPercent, formatScore, formatCompact]) {
      expect(f(null)).toBe(MISSING);
      expect(f(undefined)).toBe(MISSING);
      expect(f(Number.NaN)).toBe(MISSING);
      expect(f(Number.POSITIVE_INFINITY)).toBe(MISSING);
    }
  });

  it('groups thousands and rounds prices to cents', () => {
    expect(formatPrice(1234.567)).toBe('1,234.57');
    expect(formatPrice(179.6)).toBe('179.60');
    expect(formatPrice(0)).toBe('0.00');
  });

  it('keeps four decimals for prices below one unit', () => {
    expect(formatPrice(0.12345)).toBe('0.1235');
    expect(formatPrice(-0.5)).toBe('-0.5000');
  });

  it('signs money for profit and loss', () => {
    expect(formatSignedMoney(12)).toBe('+12.00');
    expect(formatSignedMoney(-3.4)).toBe('-3.40');
    expect(formatSignedMoney(0)).toBe('0.00');
    expect(formatMoney(-1234.5)).toBe('-1,234.50');
  });

  it('turns fractions into percents and percent points into signed changes', () => {
    expect(formatPercent(0.1234)).toBe('12.3%');
    expect(formatPercent(0.5, 0)).toBe('50%');
    expect(formatChangePct(1.5)).toBe('+1.50%');
    expect(formatChangePct(-0.25)).toBe('-0.25%');
  });

  it('prints scores with two decimals and no grouping', () => {
    expect(formatScore(0.734)).toBe('0.73');
    expect(formatScore(1)).toBe('1.00');
  });

  it('abbreviates large counts', () => {
    expect(formatCompact(999)).toBe('999');
    expect(formatCompact(1234)).toBe('1.2K');
    expect(formatCompact(5_600_000)).toBe('5.6M');
    expect(formatCompact(-2_500_000_000)).toBe('-2.5B');
  });

  it('formats times in UTC whatever the offset given', () => {
    expect(formatDate('2024-05-01T23:30:00-02:00')).toBe('2024-05-02');
    expect(formatDateTime('2024-05-01T14:30:59Z')).toBe('2024-05-01 14:30 UTC');
    expect(formatDate('not a date')).toBe(MISSING);
    expect(formatDate(null)).toBe(MISSING);
  });

  it('shows a daily bar by its date and an intraday bar with its time', () => {
    expect(formatBarTime('2024-05-01T00:00:00Z')).toBe('2024-05-01');
    expect(formatBarTime('2024-05-01T13:35:00Z')).toBe('2024-05-01 13:35 UTC');
  });

  it('describes ages coarsely', () => {
    expect(formatAge(4_900)).toBe('4 s ago');
    expect(formatAge(3 * 60_000 + 10)).toBe('3 min ago');
    expect(formatAge(2 * 3_600_000)).toBe('2 h ago');
    expect(formatAge(5 * 86_400_000)).toBe('5 d ago');
    expect(formatAge(-1)).toBe(MISSING);
  });

  it('names stages for people', () => {
    expect(formatStage('ml_confidence')).toBe('ML confidence');
    expect(formatStage('base_signal')).toBe('Base signal');
    expect(formatStage('threshold')).toBe('Threshold');
  });
});
