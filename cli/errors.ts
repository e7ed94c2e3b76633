/**
 * The CLI's errors. `main` prints `mezz: <message>` on one line to stderr
 * and exits with `exitCode`; nothing else reaches the user, never a stack.
 */

/** Something went wrong that the user can act on (exit code 1). */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The command line itself is wrong: a bad flag value or argument (exit code 2). */
export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string) {
    super(message, 2);
  }
}
