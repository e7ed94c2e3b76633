/**
 * A followed operation's progress on stderr (a deployment, a job run): a
 * line per change, or, on a terminal, one line redrawn in place and cut to
 * its width, so stdout keeps only the result.
 */
export class ProgressLine {
  #last = '';
  #drawn = false;
  readonly #tty = Boolean(process.stderr.isTTY);

  show(line: string): void {
    if (line === this.#last) return;
    this.#last = line;
    if (!this.#tty) return void process.stderr.write(`${line}\n`);
    const width = Math.max(20, (process.stderr.columns || 80) - 1);
    process.stderr.write(`\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
    this.#drawn = true;
  }

  /** A line of its own (what is followed, a new deployment), kept above the progress. */
  note(text: string): void {
    this.end();
    process.stderr.write(`${text}\n`);
    this.#last = '';
  }

  end(): void {
    if (this.#drawn) process.stderr.write('\n');
    this.#drawn = false;
  }
}
