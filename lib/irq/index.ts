export { IrqLine, type IrqConsumer } from './irq-line.ts';
export { bootNs, monoNs } from './clock.ts';
export { IrqStamps } from './stamps.ts';
