/**
 * Property-based: random command sequences on a virtual interrupt and a port, checked step by step
 * against a small model written from spec/zircon.md A.8 (the wait / trigger / ack / bind / unbind /
 * destroy tables) and A.6 (one embedded packet per interrupt). fast-check's model-based `commands`,
 * ≥ 10⁴ sequences per run, shrinking on; a failure prints its seed and the shrunk sequence.
 * Waits use the blocking forms, so every step is synchronous: where the real kernel would block
 * (nothing pending) the blocking zx_interrupt_wait returns BAD_STATE and leaves the object as it was.
 */
import t from 'tap';
import fc from 'fast-check';
import {
  ZX_ERR_ALREADY_BOUND, ZX_ERR_BAD_STATE, ZX_ERR_CANCELED, ZX_ERR_NOT_FOUND, ZX_ERR_TIMED_OUT, ZX_INTERRUPT_BIND,
  ZX_INTERRUPT_UNBIND, ZX_OK, ZX_TIME_INFINITE_PAST, zx_handle_close, zx_interrupt_ack, zx_interrupt_bind,
  zx_interrupt_destroy, zx_interrupt_trigger, type zx_port_packet_t,
} from 'vfio-ddk/zircon';
import { zx_interrupt_wait, zx_port_wait } from 'vfio-ddk/zircon/blocking';
import { interruptPort, virtualInterrupt } from './helpers.ts';

type State = 'IDLE' | 'TRIGGERED' | 'NEEDACK' | 'DESTROYED';

/** The model: A.8's variables for one virtual interrupt and the one port it may be bound to. */
interface Model {
  state: State;
  pending: bigint; // timestamp_ (0n = none)
  bound: boolean; // destroy keeps it (A.8 "structural fact")
  queued: bigint | null; // the embedded packet's timestamp while it sits in the port
}

interface Real {
  irq: number;
  port: number;
}

/** send(): queue the single packet with the pending timestamp unless it is still queued; clear pending. */
function send(m: Model): boolean {
  const ok = m.queued === null;
  if (ok) m.queued = m.pending;
  m.pending = 0n;
  return ok;
}

abstract class Step implements fc.Command<Model, Real> {
  check(): boolean {
    return true;
  }
  abstract expect(m: Model): number;
  abstract act(r: Real): number;
  run(m: Model, r: Real): void {
    const want = this.expect(m);
    const got = this.act(r);
    if (got !== want) throw new Error(`${this.toString()}: status ${got}, model says ${want} (model ${JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))})`);
  }
  abstract toString(): string;
}

class Trigger extends Step {
  constructor(readonly ts: bigint) { super(); }
  expect(m: Model): number {
    if (m.state === 'DESTROYED') return ZX_ERR_CANCELED;
    if (m.pending === 0n) m.pending = this.ts;
    if (m.bound) {
      if (m.state !== 'NEEDACK') {
        send(m);
        m.state = 'NEEDACK';
      }
      return ZX_OK;
    }
    if (m.state !== 'NEEDACK') m.state = 'TRIGGERED';
    return ZX_OK;
  }
  act(r: Real): number { return zx_interrupt_trigger(r.irq, 0, this.ts); }
  toString(): string { return `trigger(${this.ts})`; }
}

class Wait extends Step {
  got = 0n;
  expect(m: Model): number {
    if (m.bound) return ZX_ERR_BAD_STATE;
    if (m.state === 'DESTROYED') return ZX_ERR_CANCELED;
    if (m.state === 'TRIGGERED' || (m.state === 'NEEDACK' && m.pending !== 0n)) {
      m.state = 'NEEDACK';
      m.pending = 0n;
      return ZX_OK;
    }
    return ZX_ERR_BAD_STATE; // would block: nothing on this thread can ever trigger it
  }
  act(r: Real): number { return zx_interrupt_wait(r.irq, null); }
  toString(): string { return 'wait'; }
}

class Ack extends Step {
  expect(m: Model): number {
    if (!m.bound) return ZX_ERR_BAD_STATE;
    if (m.state === 'DESTROYED') return ZX_ERR_CANCELED;
    if (m.state !== 'NEEDACK') return ZX_OK;
    if (m.pending !== 0n) return send(m) ? ZX_OK : ZX_ERR_BAD_STATE;
    m.state = 'IDLE';
    return ZX_OK;
  }
  act(r: Real): number { return zx_interrupt_ack(r.irq); }
  toString(): string { return 'ack'; }
}

class Bind extends Step {
  expect(m: Model): number {
    if (m.state === 'DESTROYED') return ZX_ERR_CANCELED;
    if (m.bound) return ZX_ERR_ALREADY_BOUND;
    m.bound = true;
    if (m.state === 'TRIGGERED') {
      send(m);
      m.state = 'NEEDACK';
    }
    return ZX_OK;
  }
  act(r: Real): number { return zx_interrupt_bind(r.irq, r.port, 1n, ZX_INTERRUPT_BIND); }
  toString(): string { return 'bind'; }
}

class Unbind extends Step {
  expect(m: Model): number {
    if (!m.bound) return ZX_ERR_NOT_FOUND;
    if (m.state === 'DESTROYED') return ZX_ERR_CANCELED;
    const unread = m.queued;
    m.queued = null;
    if (unread !== null && m.state === 'NEEDACK') { // newest kernel: the unread packet follows the unbind
      m.state = 'TRIGGERED';
      m.pending = unread;
    }
    m.bound = false;
    return ZX_OK;
  }
  act(r: Real): number { return zx_interrupt_bind(r.irq, r.port, 0n, ZX_INTERRUPT_UNBIND); }
  toString(): string { return 'unbind'; }
}

class Destroy extends Step {
  expect(m: Model): number {
    if (!m.bound) {
      m.state = 'DESTROYED';
      return ZX_OK;
    }
    if (m.state === 'DESTROYED') return ZX_OK;
    const wasQueued = m.queued !== null;
    m.queued = null;
    const needAck = m.state === 'NEEDACK';
    m.state = 'DESTROYED';
    return needAck && !wasQueued ? ZX_ERR_NOT_FOUND : ZX_OK;
  }
  act(r: Real): number { return zx_interrupt_destroy(r.irq); }
  toString(): string { return 'destroy'; }
}

class PortPoll extends Step {
  want: bigint | null = null;
  expect(m: Model): number {
    this.want = m.queued;
    if (m.queued === null) return ZX_ERR_TIMED_OUT;
    m.queued = null;
    return ZX_OK;
  }
  act(r: Real): number {
    const out: { value: zx_port_packet_t } = { value: { key: 0n, type: 0, status: 0 } };
    const status = zx_port_wait(r.port, ZX_TIME_INFINITE_PAST, out);
    if (status === ZX_OK && out.value.interrupt?.timestamp !== this.want) {
      throw new Error(`port packet timestamp ${String(out.value.interrupt?.timestamp)}, model says ${String(this.want)}`);
    }
    return status;
  }
  toString(): string { return 'port_wait(poll)'; }
}

const commands = [
  fc.bigInt({ min: 1n, max: 1000n }).map((ts) => new Trigger(ts)),
  fc.constant(null).map(() => new Wait()),
  fc.constant(null).map(() => new Ack()),
  fc.constant(null).map(() => new Bind()),
  fc.constant(null).map(() => new Unbind()),
  fc.constant(null).map(() => new Destroy()),
  fc.constant(null).map(() => new PortPoll()),
];

t.test('a virtual interrupt and its port follow A.8 / A.6 over 10⁴ random sequences', async (t) => {
  let runs = 0;
  fc.assert(fc.property(fc.commands(commands, { maxCommands: 24 }), (cmds) => {
    runs++;
    const real: Real = { irq: virtualInterrupt(), port: interruptPort() };
    try {
      fc.modelRun(() => ({ model: { state: 'IDLE', pending: 0n, bound: false, queued: null } as Model, real }), cmds);
    } finally {
      zx_handle_close(real.irq);
      zx_handle_close(real.port);
    }
  }), { numRuns: 10_000, verbose: 1 });
  t.equal(runs >= 10_000, true, `${runs} sequences checked`);
});
