/**
 * The CLI's errors. `main` prints `mezz: <message>` on one line to stderr
 * and exits with `exitCode`; nothing else reaches the user, never a stack.
 */
import * as grpc from '@grpc/grpc-js';

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

/** The gRPC status code behind a CliError, if a master's refusal caused it. */
function grpcCode(err: CliError): number | undefined {
  const code = (err.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * A master's UNAUTHENTICATED or PERMISSION_DENIED, said as what to do about
 * it: where mezz looks for a token, which one it sent (never the token
 * itself), or where permissions are granted. Other errors come back as they are.
 * `tokenSource`: where the token sent came from (`MEZZ_TOKEN`), undefined when none was.
 */
export function explainRefusal(err: unknown, tokenSource: string | undefined): unknown {
  if (!(err instanceof CliError)) return err;
  const code = grpcCode(err);
  if (code === grpc.status.UNAUTHENTICATED && !tokenSource) {
    return new CliError("UNAUTHENTICATED: the master requires a token and mezz found none: pass --token, set MEZZ_TOKEN or MEZZ_TOKEN_FILE, or run mezz in the directory that holds mezz up's .mezz/ (it reads ./.mezz/token)", err.exitCode, { cause: err.cause });
  }
  if (code === grpc.status.UNAUTHENTICATED) {
    return new CliError(`${err.message}; mezz sent the token from ${tokenSource}: use one of the master's --credentials (mezz up: DATA_DIR/token)`, err.exitCode, { cause: err.cause });
  }
  if (code === grpc.status.PERMISSION_DENIED) {
    return new CliError(`${err.message}; use the token of a principal that may, or allow it in the master's --acls file (mezz up: DATA_DIR/acls.json)`, err.exitCode, { cause: err.cause });
  }
  return err;
}
