/**
 * The metadata's logging-policy members (docs/design.md §12) against their
 * recomputation: `logging_policy` equal to the recorded config's (resolved,
 * member for member), `logging_probs` (not adaptive) and `best_creative`
 * equal entry by entry and in index order, `policy_values` and
 * `policy_epochs`' values within VALUE_TOLERANCE relative (sums whose
 * order a writer may choose), epochs, first rows and row counts exact.
 * The two per-id maps are streamed past and compared entry by entry: the
 * file is never whole in memory (1,000,000 creatives).
 */
import {canonicalJson} from '../../canonical-json.js';
import {createReadStream} from 'node:fs';
import {JSONParser} from '@streamparser/json';
import type {Check} from '../verify-files.js';

/** |found - expected| <= VALUE_TOLERANCE * max(|found|, |expected|). */
export const VALUE_TOLERANCE = 1e-12;

export const POLICY_KEYS = [
  'logging_policy',
  'logging_probs',
  'policy_values',
  'best_creative',
  'policy_epochs',
] as const;
export type PolicyKey = (typeof POLICY_KEYS)[number];

/** The entries a map must hold, in order: `at(i)` for i below `length`. */
export interface ExpectedEntries {
  length: number;
  at(i: number): readonly [string, string | number];
}

export function entriesOf(
  entries: ReadonlyArray<readonly [string, string | number]>,
): ExpectedEntries {
  return {length: entries.length, at: i => entries[i]};
}

/** A per-id map compared as it streams: entry i against expected entry i. */
export class StreamedMapComparison {
  entries = 0;
  wrong = 0;
  example = '';

  constructor(private readonly expected: ExpectedEntries) {}

  add(key: string, value: unknown): void {
    const i = this.entries++;
    const want = i < this.expected.length ? this.expected.at(i) : undefined;
    if (want && want[0] === key && Object.is(want[1], value)) return;
    this.wrong++;
    if (!this.example)
      this.example = want
        ? `entry ${i} is ${JSON.stringify(key)}: ${JSON.stringify(value)}, expected ${JSON.stringify(want[0])}: ${JSON.stringify(want[1])}`
        : `entry ${i} ${JSON.stringify(key)} is one too many`;
  }

  /** Wrong entries, missing ones counted. */
  mismatches(): number {
    return this.wrong + Math.max(0, this.expected.length - this.entries);
  }

  describe(): string {
    const missing = this.expected.length - this.entries;
    return this.mismatches() === 0
      ? `${this.entries} entries equal, in order`
      : `${this.mismatches()} of ${this.expected.length} entries wrong or missing${missing > 0 ? ` (${missing} missing)` : ''}${this.example ? `; ${this.example}` : ''}`;
  }
}

/** What the metadata holds of the policy: the small members whole, the maps compared. */
export interface PolicyMetadataRead {
  present: Set<PolicyKey>;
  loggingPolicy: unknown;
  policyValues: unknown;
  policyEpochs: unknown;
  loggingProbs: StreamedMapComparison;
  bestCreative: StreamedMapComparison;
}

/**
 * Reads the policy members of the metadata at `path`, comparing the two
 * maps with the expected entries as they pass (`loggingProbs` empty for an
 * adaptive policy, which has no such member).
 */
export async function readPolicyMetadata(
  path: string,
  expected: {loggingProbs: ExpectedEntries; bestCreative: ExpectedEntries},
): Promise<PolicyMetadataRead> {
  const read: PolicyMetadataRead = {
    present: new Set(),
    loggingPolicy: undefined,
    policyValues: undefined,
    policyEpochs: undefined,
    loggingProbs: new StreamedMapComparison(expected.loggingProbs),
    bestCreative: new StreamedMapComparison(expected.bestCreative),
  };
  const parser = new JSONParser({
    paths: [
      '$.logging_policy',
      '$.policy_values',
      '$.policy_epochs',
      // entries only: a path on the map itself would build it whole
      '$.logging_probs.*',
      '$.best_creative.*',
    ],
    keepStack: false,
  });
  parser.onValue = ({value, key, stack}) => {
    if (stack.length === 1) {
      const member = String(key) as PolicyKey;
      read.present.add(member);
      if (member === 'logging_policy') read.loggingPolicy = value;
      else if (member === 'policy_values') read.policyValues = value;
      else if (member === 'policy_epochs') read.policyEpochs = value;
      return;
    }
    const map = stack[1].key as PolicyKey;
    read.present.add(map); // a map is present once it has an entry
    if (map === 'logging_probs') read.loggingProbs.add(String(key), value);
    else if (map === 'best_creative') read.bestCreative.add(String(key), value);
  };
  for await (const chunk of createReadStream(path, {highWaterMark: 1 << 20}))
    parser.write(chunk as Buffer);
  return read;
}

export function withinTolerance(found: unknown, expected: number): boolean {
  if (typeof found !== 'number') return false;
  if (found === expected) return true;
  return (
    Math.abs(found - expected) <=
    VALUE_TOLERANCE * Math.max(Math.abs(found), Math.abs(expected))
  );
}

/** Equal values, whatever order their members come in (a store may reorder them). */
function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

export interface ExpectedPolicyMetadata {
  /** the recorded config's policy, resolved */
  loggingPolicy: unknown;
  adaptive: boolean;
  values: {logging: number; uniform: number; best: number};
  /** adaptive: the epochs and V(pi_e) recomputed from the rows */
  epochs: Array<{
    epoch: number;
    firstRow: number;
    rows: number;
    value: number;
  }> | null;
}

/** The checks of the metadata's policy members. */
export function policyMetadataChecks(
  read: PolicyMetadataRead,
  expected: ExpectedPolicyMetadata,
): Check[] {
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) =>
    checks.push({name, ok, detail});
  const absent = (key: PolicyKey) => `metadata has no ${key}`;

  check(
    "metadata's logging_policy is the recorded config's",
    read.present.has('logging_policy') &&
      sameJson(read.loggingPolicy, expected.loggingPolicy),
    read.present.has('logging_policy')
      ? `${JSON.stringify(read.loggingPolicy)}, the config's ${JSON.stringify(expected.loggingPolicy)}`
      : absent('logging_policy'),
  );

  if (expected.adaptive) {
    check(
      'metadata has no logging_probs (an adaptive policy has none)',
      !read.present.has('logging_probs'),
      read.present.has('logging_probs')
        ? `logging_probs with ${read.loggingProbs.entries} entries`
        : 'absent',
    );
  } else {
    check(
      "metadata's logging_probs are pi_b(c | m(c)) recomputed",
      read.present.has('logging_probs') && read.loggingProbs.mismatches() === 0,
      read.present.has('logging_probs')
        ? read.loggingProbs.describe()
        : absent('logging_probs'),
    );
  }

  check(
    "metadata's best_creative is argmax q_c per store recomputed",
    read.present.has('best_creative') && read.bestCreative.mismatches() === 0,
    read.present.has('best_creative')
      ? read.bestCreative.describe()
      : absent('best_creative'),
  );

  const values = read.policyValues as Record<string, unknown> | undefined;
  const names = ['logging', 'uniform', 'best'] as const;
  const wrongValues = names.filter(
    n =>
      typeof values !== 'object' ||
      values === null ||
      !withinTolerance(values[n], expected.values[n]),
  );
  const extra =
    typeof values === 'object' && values !== null
      ? Object.keys(values).filter(
          k => !(names as readonly string[]).includes(k),
        )
      : [];
  check(
    "metadata's policy_values are V(logging), V(uniform), V(best) recomputed",
    read.present.has('policy_values') &&
      wrongValues.length === 0 &&
      extra.length === 0,
    !read.present.has('policy_values')
      ? absent('policy_values')
      : wrongValues.length + extra.length === 0
        ? `within ${VALUE_TOLERANCE} relative: ${names.map(n => `${n} ${expected.values[n]}`).join(', ')}`
        : [
            ...wrongValues.map(
              n =>
                `${n} is ${JSON.stringify(typeof values === 'object' && values !== null ? values[n] : undefined)}, recomputed ${expected.values[n]}`,
            ),
            ...extra.map(k => `unknown member ${k}`),
          ].join('; '),
  );

  if (expected.epochs) {
    const found = Array.isArray(read.policyEpochs) ? read.policyEpochs : null;
    const wrong: string[] = [];
    if (found) {
      if (found.length !== expected.epochs.length)
        wrong.push(
          `${found.length} epochs, recomputed ${expected.epochs.length}`,
        );
      expected.epochs.forEach((e, i) => {
        const f = found[i] as Record<string, unknown> | undefined;
        const same =
          typeof f === 'object' &&
          f !== null &&
          f.epoch === e.epoch &&
          f.firstRow === e.firstRow &&
          f.rows === e.rows &&
          withinTolerance(f.value, e.value) &&
          Object.keys(f).length === 4;
        if (!same)
          wrong.push(
            `entry ${i} is ${JSON.stringify(f)}, recomputed ${JSON.stringify(e)}`,
          );
      });
    }
    check(
      "metadata's policy_epochs are the epochs and V(pi_e) recomputed from the rows",
      found !== null && wrong.length === 0,
      !read.present.has('policy_epochs')
        ? absent('policy_epochs')
        : found === null
          ? 'policy_epochs is not an array'
          : wrong.length === 0
            ? `${found.length} epochs, values within ${VALUE_TOLERANCE} relative`
            : `${wrong.length} wrong: ${wrong.slice(0, 2).join('; ')}`,
    );
  } else {
    check(
      'metadata has no policy_epochs (the policy is not adaptive)',
      !read.present.has('policy_epochs'),
      read.present.has('policy_epochs') ? 'policy_epochs present' : 'absent',
    );
  }
  return checks;
}
