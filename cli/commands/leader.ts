/**
 * `mezz leader`: which master leads, and how each master of the group
 * answers. Every master, leader or standby, answers GetLeader.
 */
import type { Command } from 'commander';
import { describeGrpcError } from '../../lib/grpc';
import type { OperatorConnection } from '../client';
import { print, withMaster } from '../context';
import { formatTable } from '../table';

export interface MasterRow {
  address: string;
  role: 'leader' | 'standby' | 'unreachable';
  detail: string;
}

/** Asks every master in `addresses` (and every candidate they name) for its view. */
export async function masterGroup(conn: OperatorConnection, addresses: string[]): Promise<{ leader: string; masters: MasterRow[] }> {
  const seen = new Set<string>();
  const queue = [...addresses];
  const rows: MasterRow[] = [];
  let leader = '';
  while (queue.length) {
    const address = queue.shift()!;
    if (seen.has(address)) continue;
    seen.add(address);
    try {
      const info = await conn.callAt(address, 'getLeader', {});
      if (info.leader) leader ||= info.leader;
      rows.push({ address, role: info.isLeader ? 'leader' : 'standby', detail: info.isLeader ? info.masterId : `follows ${info.leader || 'no leader yet'}` });
      for (const c of info.candidates) if (!seen.has(c)) queue.push(c);
    } catch (err) {
      rows.push({ address, role: 'unreachable', detail: describeGrpcError(err) });
    }
  }
  return { leader, masters: rows.sort((a, b) => a.address.localeCompare(b.address)) };
}

export function masterTable(rows: MasterRow[]): string {
  return formatTable(['MASTER', 'ROLE', 'DETAIL'], rows.map((r) => [r.address, r.role, r.detail]));
}

export function registerLeader(program: Command): void {
  program
    .command('leader')
    .description('print the leading master, and the role of every master in the group')
    .action((_opts, cmd: Command) => withMaster(cmd, async (conn, g) => {
      const group = await masterGroup(conn, g.masters);
      if (!group.leader && group.masters.every((m) => m.role === 'unreachable')) {
        // Let the connection's own error say why no master answered.
        await conn.call('getLeader', {});
      }
      print(g, group, () => `${group.leader ? `leader: ${group.leader}` : 'no leader elected'}\n\n${masterTable(group.masters)}`);
    }));
}
