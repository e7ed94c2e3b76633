/**
 * gRPC glue for Scheduler.Subscribe: one bidirectional stream per framework
 * connection. The first call must be SUBSCRIBE; calls are handled in order.
 */
import { errorMessage } from '../lib/errors';
import type { SchedulerHandlers } from '../lib/proto/generated/mezzanine/v1/Scheduler';
import { streamCaller, streamMaster, type LeaderSource } from './leader-source';
import { streamLink, type FrameworkRecord, type SchedulerStream } from './state';

export function schedulerHandlers(node: LeaderSource): SchedulerHandlers {
  return {
    Subscribe(stream: SchedulerStream) {
      const caller = streamCaller(node, stream);
      if (!caller) return;
      const master = streamMaster(node, stream);
      if (!master) return;
      const link = streamLink(stream);
      let fw: FrameworkRecord | undefined;
      let chain: Promise<void> = Promise.resolve();
      let first = true;
      stream.on('data', (call) => {
        const isFirst = first;
        first = false;
        chain = chain.then(async () => {
          try {
            if (isFirst) {
              if (call.call !== 'subscribe') {
                stream.write({ error: { message: `the first call on a stream must be SUBSCRIBE, got ${String(call.call)}`, fatal: true, call: 'SUBSCRIBE', kind: 'FAILED_PRECONDITION' } });
                stream.end();
                return;
              }
              fw = await master.subscribe(link, call.subscribe?.framework ?? null, caller);
              return;
            }
            if (fw && master.isCurrent(fw, link)) await master.call(fw, call);
          } catch (err) {
            // A stream whose SUBSCRIBE failed has no framework to serve: say so fatally and end it, never leave it ignoring calls.
            const fatal = isFirst;
            stream.write({ error: { message: `internal error handling ${String(call.call).slice(0, 40)}: ${errorMessage(err)}`, fatal, call: String(call.call ?? '').slice(0, 40), kind: 'INTERNAL' } });
            if (fatal) stream.end();
          }
        });
      });
      const gone = () => {
        void chain.then(() => {
          if (fw) master.frameworkDisconnected(fw, link);
        });
      };
      stream.on('end', () => {
        gone();
        stream.end();
      });
      stream.on('error', gone);
      stream.on('cancelled', gone);
    },
  };
}
