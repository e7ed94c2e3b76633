/**
 * The one way the binaries declare a duration flag (commander): it takes
 * what `parseDuration` reads (`90`, `500ms`, `5m`; a bare number is
 * seconds), hands the program the value in the unit it computes in, and
 * shows its default in `--help` as a duration that reads back as that
 * default (`--kill-grace <duration> … (default: 3s)`), so a default copied
 * from the help means what it says. (It once showed milliseconds,
 * `(default: 3000)`, which read back as 50 minutes.) A flag without a
 * default (`mezz app deploy --deadline`: absent, the app's own) shows none.
 */
import { InvalidArgumentError, Option } from 'commander';
import { formatDuration, parseDuration } from './duration';

export interface DurationOptionSpec {
  /** The unit the program receives: seconds or milliseconds. */
  unit: 's' | 'ms';
  /** The default, in `unit`; left out for a flag whose absence means something else (say so in its description). */
  default?: number;
  /** Refuse 0 (an interval or a deadline of nothing). */
  positive?: boolean;
}

const PER_SECOND = { s: 1, ms: 1000 } as const;

/** A `--flag <duration>` option as described above; a bad value is commander's one-line error naming the flag. */
export function durationOption(flags: string, description: string, spec: DurationOptionSpec): Option {
  const scale = PER_SECOND[spec.unit];
  const option = new Option(flags, description)
    .argParser((text: string) => {
      let seconds: number;
      try {
        seconds = parseDuration(text);
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
      if (spec.positive && !(seconds > 0)) throw new InvalidArgumentError('must be longer than 0');
      return seconds * scale;
    });
  return spec.default === undefined ? option : option.default(spec.default, formatDuration(spec.default / scale));
}
