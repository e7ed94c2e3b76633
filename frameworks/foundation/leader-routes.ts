/**
 * Where the leader is, and a way to make it step down: Marathon's
 * `/v2/leader` and Metronome's `/leader`, the same for every shipped
 * framework (GET answers `{leader}`, DELETE abdicates; 404 without a leader).
 */
import { Type } from 'typebox';
import { NotFoundError } from '../../lib/errors';
import type { Api } from './http';
import type { Leadership } from './server';

const Any = Type.Any();

/** Routes GET and DELETE at each of `urls` (e.g. `['/v1/leader', '/leader']`). */
export function addLeaderRoutes(api: Api, leadership: Leadership, urls: readonly string[]): void {
  for (const url of urls) {
    api.route({
      method: 'GET', url, schema: { response: { 200: Any } },
      authz: { action: 'framework_read' },
      handler: async () => {
        const leader = leadership.leaderAddress();
        if (!leader) throw new NotFoundError('There is no leader');
        return { leader };
      },
    });
    api.route({
      method: 'DELETE', url, schema: { response: { 200: Any } },
      authz: { action: 'framework_write', object: () => 'leader' },
      handler: async () => {
        if (!(await leadership.abdicate())) throw new NotFoundError('There is no leader');
        return { message: 'Leadership abdicated' };
      },
    });
  }
}
