import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FILTERS,
  filtersToQuery,
  matchesFilters,
  parseFilters,
  serverKey,
  signalsApiParams,
} from '../../src/lib/filters';
import { fromCandidate, fromRow } from '../../src/lib/signals';
import { candidate, row } from './factories';

describe('signal filters in the URL', () => {
  it('round-trips every filter through the query', () => {
    const filters = { status: 'confirmed', setup: 'breakout', symbol: 'AAPL', minScore: 0.65, sort: 'newest', page: 3 } as const;
    expect(parseFilters(filtersToQuery(filters))).toEqual(filters);
  });

  it('leaves defaults out of the query', () => {
    expect(filtersToQuery(DEFAULT_FILTERS)).toEqual({});
  });

  it('falls back to defaults for malformed values', () => {
    const parsed = parseFilters({ status: 'bogus', min_score: '7', page: '-2', sort: 'random' });
    expect(parsed).toEqual(DEFAULT_FILTERS);
  });

  it('upper-cases symbols and reads the first of repeated keys', () => {
    expect(parseFilters({ symbol: [' aapl ', 'msft'] }).symbol).toBe('AAPL');
  });
});

describe('matchesFilters', () => {
  const rejected = fromRow(row('AAPL', '2024-05-01', 0.55, 'rejected', 'breakout'), 0);
  const live = fromCandidate(candidate('MSFT', '2024-05-02', 'squeeze'), 1);

  it('filters by status, setup and symbol', () => {
    expect(matchesFilters(rejected, { ...DEFAULT_FILTERS, status: 'rejected' })).toBe(true);
    expect(matchesFilters(rejected, { ...DEFAULT_FILTERS, status: 'confirmed' })).toBe(false);
    expect(matchesFilters(rejected, { ...DEFAULT_FILTERS, setup: 'squeeze' })).toBe(false);
    expect(matchesFilters(live, { ...DEFAULT_FILTERS, symbol: 'MSFT' })).toBe(true);
  });

  it('keeps scoreless candidates out once a minimum score is asked for', () => {
    expect(matchesFilters(live, { ...DEFAULT_FILTERS, minScore: 0 })).toBe(false);
    expect(matchesFilters(rejected, { ...DEFAULT_FILTERS, minScore: 0.55 })).toBe(true);
    expect(matchesFilters(rejected, { ...DEFAULT_FILTERS, minScore: 0.56 })).toBe(false);
  });
});

describe('server-side part of the filters', () => {
  it('sends only what the API filters on', () => {
    expect(signalsApiParams({ ...DEFAULT_FILTERS, status: 'candidate', setup: 'x', page: 4 })).toEqual({ setup: 'x' });
    expect(signalsApiParams({ ...DEFAULT_FILTERS, status: 'confirmed', minScore: 0.5 })).toEqual({
      status: 'confirmed',
      min_score: '0.5',
    });
  });

  it('does not refetch for a page or sort change', () => {
    const base = serverKey(DEFAULT_FILTERS);
    expect(serverKey({ ...DEFAULT_FILTERS, page: 5, sort: 'newest' })).toBe(base);
    expect(serverKey({ ...DEFAULT_FILTERS, symbol: 'AAPL' })).not.toBe(base);
  });
});
