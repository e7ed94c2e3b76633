/** `mezz version`: the CLI's version and the master's. */
import type { Command } from 'commander';
import { VERSION } from '../../lib/version';
import { globals, print, withMaster } from '../context';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description("print the CLI's version and the master's")
    .option('--client', "only the CLI's version; do not ask the master")
    .action(async (opts: { client?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      if (opts.client) {
        print(g, { client: VERSION }, () => `mezz ${VERSION}`);
        return;
      }
      // Without --json the CLI's own version comes first, even if the master is unreachable.
      if (!g.json) process.stdout.write(`mezz ${VERSION}\n`);
      await withMaster(cmd, async (conn) => {
        const v = await conn.call('getVersion', {});
        if (g.json) print(g, { client: VERSION, master: { version: v.version, masterId: v.masterId } }, () => '');
        else process.stdout.write(`master ${v.version} (${v.masterId || 'unknown id'})\n`);
      });
    });
}
