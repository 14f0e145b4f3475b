import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {InvalidArgumentError} from '../../shared/errors.js';
import {
  parseIntegerInRange,
  parseOptionalIntegerInRange,
} from '../../shared/dataset/integer.js';

describe('parseIntegerInRange', () => {
  const bounds = {min: 1, max: 1000};
  const accepted: Array<[string, number, boolean]> = [
    ['1', 1, false],
    ['1000', 1000, false],
    ['0042', 42, false],
    ['1_000', 1000, true],
  ];
  for (const [raw, value, separators] of accepted) {
    it(`accepts ${JSON.stringify(raw)}${separators ? ' with separators' : ''}`, () => {
      assert.equal(
        parseIntegerInRange(raw, '--n', bounds, {separators}),
        value,
      );
    });
  }

  const refused: Array<[string, boolean]> = [
    ['0', false],
    ['1001', false],
    ['-1', false],
    ['1.5', false],
    ['1e3', false],
    [' 5', false],
    ['', false],
    ['0x10', false],
    ['1_000', false],
    ['1__0', true],
    ['_1', true],
    ['99999999999999999999999', false],
  ];
  for (const [raw, separators] of refused) {
    it(`refuses ${JSON.stringify(raw)}, naming the input, the bound and the value`, () => {
      assert.throws(
        () => parseIntegerInRange(raw, '--n', bounds, {separators}),
        (error: unknown) =>
          error instanceof InvalidArgumentError &&
          error.field === '--n' &&
          error.message ===
            `--n must be an integer in 1..1000, got ${JSON.stringify(raw)}`,
      );
    });
  }

  it('prints a label for a max, and keeps the field and error class asked for', () => {
    class SettingError extends Error {}
    assert.throws(
      () =>
        parseIntegerInRange(
          '9007199254740992',
          'SEED',
          {min: 0, max: Number.MAX_SAFE_INTEGER, maxLabel: '2^53-1'},
          {field: 'seed', error: message => new SettingError(message)},
        ),
      (error: unknown) =>
        error instanceof SettingError &&
        error.message ===
          'SEED must be an integer in 0..2^53-1, got "9007199254740992"',
    );
    assert.equal(
      parseIntegerInRange('9007199254740991', 'SEED', {
        min: 0,
        max: Number.MAX_SAFE_INTEGER,
      }),
      Number.MAX_SAFE_INTEGER,
    );
  });

  it('passes undefined through when optional', () => {
    assert.equal(
      parseOptionalIntegerInRange(undefined, '--n', bounds),
      undefined,
    );
    assert.equal(parseOptionalIntegerInRange('7', '--n', bounds), 7);
  });
});
