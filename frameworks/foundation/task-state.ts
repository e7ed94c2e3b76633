/**
 * When a task of a shipped framework has ended. The SDK's `isTerminal` leaves out
 * TASK_UNKNOWN, which a partition-aware framework gets for a task the master
 * does not know (asked to kill or reconcile one it forgot): it runs nowhere
 * the master can see, the reconciler replaces it, and so it counts as ended
 * here — listed nowhere, pruned, never reconciled again.
 */
import { isTerminal, type TaskState } from '../sdk';

export function hasEnded(state: TaskState): boolean {
  return isTerminal(state) || state === 'TASK_UNKNOWN';
}
