/**
 * Property-based: random sequences of alloc / add_handler / remove_handler / enable / disable / free on
 * the MSI-X vectors of an emulated device, checked against the handle lifecycle of spec/ddi.md B.3
 * (ALLOC → ADDED → ENABLE and back; every call in the wrong state DDI_EINVAL; a freed handle EINVAL
 * everywhere; a vector can be allocated again once freed). After each step the device's routing must
 * match the model: exactly the ENABLE handles' vectors are attached. fast-check `commands`, ≥ 10⁴
 * sequences, shrinking on; a failure prints its seed.
 */
import t from 'tap';
import fc from 'fast-check';
import { createTestDevice } from 'vfio-ddk/emu';
import { PCI_COMMAND, PCI_COMMAND_MASTER, VFIO_PCI_MSIX_IRQ_INDEX } from 'vfio-ddk';
import type { PciDevice } from 'vfio-ddk';
import {
  DDI_EINVAL, DDI_INTR_ALLOC_STRICT, DDI_INTR_CLAIMED, DDI_INTR_TYPE_MSIX, DDI_SUCCESS, ddi_dev_info, ddi_intr_add_handler,
  ddi_intr_alloc, ddi_intr_disable, ddi_intr_enable, ddi_intr_free, ddi_intr_remove_handler, type ddi_intr_handle_t,
} from 'vfio-ddk/ddi';

const VECTORS = 4;
type HState = 'ALLOC' | 'ADDED' | 'ENABLE' | 'FREED';

interface Model { states: HState[] }
interface Real { device: PciDevice; handles: (ddi_intr_handle_t | null)[] }

const handler = (): number => DDI_INTR_CLAIMED;


abstract class Step implements fc.Command<Model, Real> {
  constructor(readonly v: number) {}
  check(): boolean { return true; }
  abstract expect(m: Model): number;
  abstract act(r: Real): number;
  run(m: Model, r: Real): void {
    const want = this.expect(m);
    const got = this.act(r);
    if (got !== want) throw new Error(`${this.toString()}: status ${got}, model says ${want} (states ${m.states.join(',')})`);
    const enabled = m.states.filter((s) => s === 'ENABLE').length;
    const active = r.device.irq.activeIndex === VFIO_PCI_MSIX_IRQ_INDEX; // the last disable disables the index
    if (active !== (enabled > 0)) throw new Error(`after ${this.toString()}: MSI-X ${active ? 'active' : 'inactive'} with ${enabled} handle(s) enabled`);
  }
  abstract toString(): string;
}

/** A transition `from` → `to` that every other state answers with DDI_EINVAL. */
function transition(name: string, from: HState, to: HState, call: (h: ddi_intr_handle_t | null) => number) {
  return class extends Step {
    expect(m: Model): number {
      if (m.states[this.v] !== from) return DDI_EINVAL;
      m.states[this.v] = to;
      return DDI_SUCCESS;
    }
    act(r: Real): number { return call(r.handles[this.v] ?? null); }
    toString(): string { return `${name}(${this.v})`; }
  };
}

const AddHandler = transition('add_handler', 'ALLOC', 'ADDED', (h) => ddi_intr_add_handler(h, handler, null, null));
const RemoveHandler = transition('remove_handler', 'ADDED', 'ALLOC', (h) => ddi_intr_remove_handler(h));
const Enable = transition('enable', 'ADDED', 'ENABLE', (h) => ddi_intr_enable(h));
const Disable = transition('disable', 'ENABLE', 'ADDED', (h) => ddi_intr_disable(h));
const Free = transition('free', 'ALLOC', 'FREED', (h) => ddi_intr_free(h));

class Alloc extends Step {
  expect(m: Model): number {
    if (m.states[this.v] !== 'FREED') return DDI_EINVAL; // the vector is in use (rule 6′)
    m.states[this.v] = 'ALLOC';
    return DDI_SUCCESS;
  }
  act(r: Real): number {
    const out: (ddi_intr_handle_t | null)[] = [];
    const status = ddi_intr_alloc(ddi_dev_info(r.device), out, DDI_INTR_TYPE_MSIX, this.v, 1, { value: 0 }, DDI_INTR_ALLOC_STRICT);
    if (status === DDI_SUCCESS) r.handles[this.v] = out[0] ?? null;
    return status;
  }
  toString(): string { return `alloc(${this.v})`; }
}

const vector = fc.integer({ min: 0, max: VECTORS - 1 });
const commands = [AddHandler, RemoveHandler, Enable, Disable, Free, Alloc].map((C) => vector.map((v) => new C(v)));

t.test('DDI handle states follow B.3 over 10⁴ random sequences, and the routing follows the states', async (t) => {
  let runs = 0;
  fc.assert(fc.property(fc.commands(commands, { maxCommands: 30 }), (cmds) => {
    runs++;
    const device = createTestDevice({ msix: { vectors: VECTORS } });
    device.config.write16(PCI_COMMAND, device.config.read16(PCI_COMMAND) | PCI_COMMAND_MASTER);
    const handles: (ddi_intr_handle_t | null)[] = [];
    try {
      if (ddi_intr_alloc(ddi_dev_info(device), handles, DDI_INTR_TYPE_MSIX, 0, VECTORS, { value: 0 }, DDI_INTR_ALLOC_STRICT) !== DDI_SUCCESS) {
        throw new Error('initial alloc failed');
      }
      fc.modelRun(() => ({ model: { states: new Array<HState>(VECTORS).fill('ALLOC') }, real: { device, handles } }), cmds);
    } finally {
      device.close();
    }
  }), { numRuns: 10_000 });
  t.equal(runs >= 10_000, true, `${runs} sequences checked`);
});
