/** The reconciler's errors. Expected outcomes (an instance that cannot be placed) are values, never throws. */

/** The desired state is inconsistent (a group asked for twice, a negative count): the caller validated too little. */
export class ReconcileInputError extends Error {
  override name = 'ReconcileInputError';
}
