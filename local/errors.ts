/**
 * The one error class of the local stack: something could not be started,
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
