/**
 * The one parser of integers given as text (CLI flags, environment settings,
 * query parameters): digits only, within [min, max], or an error that names
 * the input, the bound and the value, e.g.
 *
 *   --samples must be an integer in 1..100000000, got "-1"
 */
import {InvalidArgumentError} from '../errors.js';

export interface IntegerBounds {
  min: number;
  max: number;
  /** how to print max when its digits say less than a name (e.g. "2^53-1") */
  maxLabel?: string;
}

export interface IntegerOptions {
  /** the field the error names for machines (default: `name`) */
  field?: string;
  /** accept `_` between digits, as in 10_000_000 (for people typing flags) */
  separators?: boolean;
  /** the error to throw (default: InvalidArgumentError) */
  error?: (message: string, field: string) => Error;
}

const DIGITS = /^[0-9]+$/;
const DIGITS_WITH_SEPARATORS = /^[0-9](_?[0-9])*$/;

export function describeBounds(bounds: IntegerBounds): string {
  return `${bounds.min}..${bounds.maxLabel ?? bounds.max}`;
}

/** `raw` as an integer in bounds; `name` is what the user typed or set. */
export function parseIntegerInRange(
  raw: string,
  name: string,
  bounds: IntegerBounds,
  options: IntegerOptions = {},
): number {
  if (!Number.isSafeInteger(bounds.min) || !Number.isSafeInteger(bounds.max)) {
    throw new RangeError(`bounds of ${name} must be safe integers`);
  }
  const pattern = options.separators ? DIGITS_WITH_SEPARATORS : DIGITS;
  const value = pattern.test(raw) ? Number(raw.replaceAll('_', '')) : NaN;
  // Past 2^53 digits round; such values are above every max allowed here.
  if (!(value >= bounds.min && value <= bounds.max)) {
    const message = `${name} must be an integer in ${describeBounds(bounds)}, got ${JSON.stringify(raw)}`;
    const field = options.field ?? name;
    throw options.error
      ? options.error(message, field)
      : new InvalidArgumentError(message, field);
  }
  return value;
}

/** The same, with `undefined` (the input was not given) passed through. */
export function parseOptionalIntegerInRange(
  raw: string | undefined,
  name: string,
  bounds: IntegerBounds,
  options: IntegerOptions = {},
): number | undefined {
  return raw === undefined
    ? undefined
    : parseIntegerInRange(raw, name, bounds, options);
}
