/** Event-loop helpers shared by the host tests and the hardware suites (no library imports). */

/** Lets the loop run deliveries scheduled with setImmediate (IrqLine, kernel-signalled eventfds) a few times. */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * 'pending' when `promise` has not settled after a few loop turns. Only for places where nothing can
 * arrive (no cause raised, line deasserted), so the answer does not depend on timing.
 */
export async function stateOf<T>(promise: Promise<T>): Promise<T | 'pending'> {
  const marker = Symbol('pending');
  const result = await Promise.race([promise, settle().then(() => marker)]);
  return result === marker ? 'pending' : (result as T);
}
