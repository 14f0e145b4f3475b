/**
 * Every error class the domain throws. Entry points (HTTP functions, the
 * CLI) map them to status codes and exit codes in one place; no stack trace
 * or internal path ever reaches a client. VersionNotReadyError, a
 * FailedPreconditionError that carries the catalogue's status table, is in
 * catalog/statuses.ts.
 */

export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'FAILED_PRECONDITION',
  'ALREADY_EXISTS',
  'DATA_LOSS',
  'UNAVAILABLE',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Base class: a code for machines, a message for people, an optional field. */
export class DatasetError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: {field?: string; cause?: unknown} = {},
  ) {
    super(message, {cause: options.cause});
    this.name = new.target.name;
    this.code = code;
    this.field = options.field;
  }
}

/** Bad input: unknown field, wrong type, out of bounds. */
export class InvalidArgumentError extends DatasetError {
  constructor(message: string, field?: string) {
    super('INVALID_ARGUMENT', message, {field});
  }
}

/** A version, object or file that does not exist. */
export class NotFoundError extends DatasetError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** The thing exists but is not in a state that allows the request. */
export class FailedPreconditionError extends DatasetError {
  constructor(message: string) {
    super('FAILED_PRECONDITION', message);
  }
}

/** An object that must be created new already exists. */
export class AlreadyExistsError extends DatasetError {
  constructor(message: string, cause?: unknown) {
    super('ALREADY_EXISTS', message, {cause});
  }
}

/** Bytes that do not match what they claim: bad CRC, bad checksum, short file. */
export class DataLossError extends DatasetError {
  constructor(message: string, cause?: unknown) {
    super('DATA_LOSS', message, {cause});
  }
}

/**
 * A dependency (the catalogue, the bucket) cannot take the request now; the
 * caller should retry after `retryAfterSeconds`. Never a 500 (docs/design.md §5).
 */
export class UnavailableError extends DatasetError {
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
    cause?: unknown,
  ) {
    super('UNAVAILABLE', message, {cause});
  }
}

/** A deployment setting (environment) that is missing or out of bounds. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** The bytes are not a metadata object this service could have written. */
export class MalformedMetadataError extends Error {
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, options);
    this.name = 'MalformedMetadataError';
  }
}

/** The object (or the generation asked for) does not exist. */
export class ObjectGoneError extends Error {
  constructor(
    readonly objectName: string,
    options?: {cause?: unknown},
  ) {
    super(`object ${objectName} does not exist`, options);
    this.name = 'ObjectGoneError';
  }
}

/** A task that failed in a worker: its message, and the error's class name. */
export class WorkerTaskError extends Error {
  constructor(
    message: string,
    readonly errorName: string,
  ) {
    super(message);
    this.name = 'WorkerTaskError';
  }
}
