/**
 * Structured logs that Cloud Logging understands: one JSON object per line on
 * stdout with `severity` and `message`. Callers pass ids and numbers, never
 * signed URLs or credentials.
 */
export const SEVERITIES = ['DEBUG', 'INFO', 'WARNING', 'ERROR'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type LogFields = Record<
  string,
  string | number | boolean | null | undefined
>;

export interface Logger {
  log(severity: Severity, message: string, fields?: LogFields): void;
  with(fields: LogFields): Logger;
}

export function jsonLogger(
  base: LogFields = {},
  write: (line: string) => void = line => process.stdout.write(line),
): Logger {
  return {
    log(severity, message, fields = {}) {
      write(JSON.stringify({severity, message, ...base, ...fields}) + '\n');
    },
    with(fields) {
      return jsonLogger({...base, ...fields}, write);
    },
  };
}
