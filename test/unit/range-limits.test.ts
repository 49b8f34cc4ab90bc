import assert from 'node:assert/strict';
import { checkRangeLimits, DASHBOARD_RANGE_LIMITS, DateRangeError } from '../../report/range';

describe('date range limits of the HTTP listeners', () => {
  const check = (from?: string, to?: string) => () => checkRangeLimits({ from, to }, DASHBOARD_RANGE_LIMITS);

  it('accepts open ends, single days and spans up to the limit, both ends included', () => {
    check()();
    check('2023-03-06')();
    check(undefined, '2099-12-31')();
    check('2000-01-01', '2010-01-07')(); // 3,660 days
  });

  it('refuses dates outside the accepted years and spans one day too long', () => {
    assert.throws(check('1999-12-31'), DateRangeError);
    assert.throws(check(undefined, '2100-01-01'), /between 2000-01-01 and 2099-12-31/);
    assert.throws(check('2000-01-01', '2010-01-08'), /at most 3660 days, got 3661/);
  });
});
