/**
 * The interrupt object's states and flags, with the kernel's enum values (spec/zircon.md A.8,
 * `interrupt_dispatcher.h`).
 */
export const InterruptState = {
  WAITING: 0,
  DESTROYED: 1,
  TRIGGERED: 2,
  NEEDACK: 3,
  IDLE: 4,
} as const;
export type InterruptState = (typeof InterruptState)[keyof typeof InterruptState];

export const InterruptFlag = {
  VIRTUAL: 1 << 0,
  UNMASK_PREWAIT: 1 << 1,
  UNMASK_PREWAIT_UNLOCKED: 1 << 2,
  MASK_POSTWAIT: 1 << 4,
  WAKE_VECTOR: 1 << 5,
  ALLOW_ACK_WITHOUT_PORT_FOR_TEST: 1 << 6,
  TIMESTAMP_MONO: 1 << 7,
} as const;

/** Level physical interrupts and every MSI/MSI-X vector (A.8, A.10 step 9). */
export const LEVEL_FLAGS = InterruptFlag.UNMASK_PREWAIT | InterruptFlag.MASK_POSTWAIT;

/**
 * What lies behind a physical or MSI interrupt object: the one place that touches the device.
 * `mask`/`unmask` run from the state machine (MASK_POSTWAIT / UNMASK_PREWAIT); `teardown` runs first
 * in destroy (mask, deactivate, unregister); `release` when the object is freed (last handle).
 */
export interface InterruptHardware {
  mask(): void;
  unmask(): void;
  teardown(): void;
  release(): void;
}
