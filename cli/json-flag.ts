/** A flag whose value is JSON (--policy, --logging-policy). */
import {InvalidArgumentError} from '../shared/errors.js';

/** The flag's JSON value, or a one-line InvalidArgumentError naming the flag. */
export function parseJsonFlag(
  raw: string,
  flag: string,
  field: string,
): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch (error) {
    throw new InvalidArgumentError(
      `${flag} is not valid JSON: ${(error as Error).message}`,
      field,
    );
  }
}
