/** A ServiceContext over the in-memory fakes, with a clock the test moves and a log it reads. */
import type {LogFields, Logger, Severity} from '../../shared/logger.js';
import type {ServiceContext} from '../../shared/service/service-context.js';
import {settingsFromEnv, type Settings} from '../../shared/settings.js';
import {MemoryCatalog} from './memory-catalog.js';
import {MemoryObjectStore} from './memory-object-store.js';

export interface LogLine extends LogFields {
  severity: Severity;
  message: string;
}

export function memoryLogger(lines: LogLine[], base: LogFields = {}): Logger {
  return {
    log(severity, message, fields = {}) {
      lines.push({...base, ...fields, severity, message});
    },
    with(fields) {
      return memoryLogger(lines, {...base, ...fields});
    },
  };
}

export interface MemoryContext extends ServiceContext {
  store: MemoryObjectStore;
  catalog: MemoryCatalog;
  lines: LogLine[];
  /** moves the clock */
  advance(ms: number): void;
}

export const START = new Date('2026-03-04T05:06:07.000Z');

export function memoryContext(
  env: Record<string, string> = {},
  settings: Settings = settingsFromEnv({
    DATASETS_BUCKET: 'test-bucket',
    ...env,
  }),
): MemoryContext {
  let now = START.getTime();
  const lines: LogLine[] = [];
  return {
    settings,
    store: new MemoryObjectStore('test-bucket'),
    catalog: new MemoryCatalog(),
    log: memoryLogger(lines),
    lines,
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}
