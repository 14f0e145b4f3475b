/**
 * test/support/tier-summary-reporter.ts: the per-tier table scripts/test.sh
 * prints at the end, from the runner's per-file summaries.
 */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import type {TestEvent} from 'node:test/reporters';
import {
  formatSeconds,
  TIERS,
  TierSummary,
  tierOf,
} from '../support/tier-summary-reporter.js';

function started(file: string): TestEvent {
  return {
    type: 'test:start',
    data: {file, name: 't', nesting: 0, line: 1, column: 1},
  } as TestEvent;
}

function summary(
  file: string,
  counts: Partial<
    Record<
      'tests' | 'passed' | 'failed' | 'skipped' | 'todo' | 'cancelled',
      number
    >
  >,
): TestEvent {
  const all = {
    tests: 0,
    passed: 0,
    failed: 0,
    skipped: 0,
    todo: 0,
    cancelled: 0,
    ...counts,
  };
  return {
    type: 'test:summary',
    data: {
      file,
      success: all.failed + all.cancelled === 0,
      duration_ms: 1,
      counts: {...all, suites: 0, topLevel: all.tests},
    },
  } as TestEvent;
}

describe('the per-tier summary of npm test', () => {
  it('names a file by the folder under test/', () => {
    assert.equal(tierOf('/r/build/test/unit/cli.test.js'), 'unit');
    assert.equal(
      tierOf('/r/build/test/integration/a/b.test.js'),
      'integration',
    );
    assert.equal(tierOf('/elsewhere/x.test.js'), 'other');
  });

  it('formats seconds', () => {
    assert.equal(formatSeconds(0.04), '0.0 s');
    assert.equal(formatSeconds(59.94), '59.9 s');
    assert.equal(formatSeconds(192.4), '3 min 12 s');
  });

  it('adds up each tier and spans its wall time from first start to last end', () => {
    const t = new TierSummary();
    const unitA = '/r/build/test/unit/a.test.js';
    const unitB = '/r/build/test/unit/b.test.js';
    const integration = '/r/build/test/integration/c.test.js';
    t.add(started(unitA), 1_000);
    t.add(started(integration), 1_500);
    t.add(started(unitB), 2_000);
    t.add(started(unitA), 2_500); // a later event of a file already started
    t.add(summary(unitA, {tests: 10, passed: 9, skipped: 1}), 3_000);
    t.add(
      summary(unitB, {tests: 4, passed: 2, failed: 1, cancelled: 1}),
      4_000,
    );
    t.add(summary(integration, {tests: 7, passed: 6, todo: 1}), 200_000);
    // the run's own summary has no file: not a tier
    t.add(
      {
        type: 'test:summary',
        data: {
          file: undefined,
          success: true,
          duration_ms: 9,
          counts: {
            tests: 21,
            passed: 17,
            failed: 1,
            skipped: 1,
            todo: 1,
            cancelled: 1,
            suites: 0,
            topLevel: 21,
          },
        },
      } as TestEvent,
      200_001,
    );
    assert.equal(
      t.render(TIERS),
      [
        'tests by tier (wall time: first file started to last file ended; tiers run in parallel):',
        '  tier         files  tests  passed  failed  skipped   wall time',
        '  unit             2     14      11       2        1       3.0 s',
        '  integration      1      7       6       0        1  3 min 19 s',
        '',
      ].join('\n'),
    );
  });
});
