/**
 * The error classes of the local stack: something could not be started,
 * reached or stopped. It names what failed and, where there is one, the log
 * file that tells why.
 */
export class LocalStackError extends Error {
  /** The log file of the process concerned, if any. */
  readonly logFile: string | undefined;

  constructor(
    message: string,
    options: {logFile?: string; cause?: unknown} = {},
  ) {
    super(
      options.logFile ? `${message} (log: ${options.logFile})` : message,
      options.cause === undefined ? undefined : {cause: options.cause},
    );
    this.name = 'LocalStackError';
    this.logFile = options.logFile;
  }
}

/** The process exited while it was awaited. */
export class ExitedEarlyError extends LocalStackError {
  constructor(message: string, logFile: string) {
    super(message, {logFile});
    this.name = 'ExitedEarlyError';
  }
}

/** The process could not take its port: start it again on another one. */
export class PortInUseError extends LocalStackError {
  constructor(what: string, port: number, detail: string, logFile: string) {
    super(`${what}: port ${port} is taken by another process (${detail})`, {
      logFile,
    });
    this.name = 'PortInUseError';
  }
}
