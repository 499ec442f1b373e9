/**
 * Rows through `VfioDevice` (the PciDevice over VFIO): MSI through an `IrqLine`, the MSI storm, INTx
 * with unmask, MMIO through the BAR's typed-array view and through the PciRegion accessors, DMA
 * map + unmap through `PciDma`. Each mirrors a row of hw-tests/baseline/baseline.c (`pair`).
 */
import { EDU_REG, IrqLine, VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX, allocHostMemory } from 'vfio-ddk';
import { BATCH, measureAsync, measureBatched, measureSync } from '../../scripts/bench/measure.mjs';
import { makeRow } from '../../scripts/bench/report.mjs';

/** An IrqLine whose deliveries resolve the promise of `next()` (one shared executor, no closure per wait). */
function probeLine(name) {
  const line = new IrqLine(name);
  let resolve = null;
  let deliveries = 0;
  let fires = 0;
  line.setConsumer({
    fire(count) {
      deliveries++;
      fires += count;
      const r = resolve;
      resolve = null;
      r?.(count);
    },
  });
  const executor = (r) => { resolve = r; };
  return {
    line,
    next: () => new Promise(executor),
    get deliveries() { return deliveries; },
    get fires() { return fires; },
  };
}

/** msi_roundtrip_irqline: raise → eventfd → watcher → IrqLine.deliver → consumer → Promise → ack. */
export async function irqLineRow(dev, step) {
  const bar = dev.bar(0);
  const probe = probeLine('bench msi');
  dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, probe.line);
  try {
    const samples = await measureAsync(() => {
      const p = probe.next();
      bar.write32(EDU_REG.IRQ_RAISE, 1);
      return p;
    }, { ...step('msi_roundtrip_irqline'), after: () => bar.write32(EDU_REG.IRQ_ACK, 1) });
    return makeRow({ name: 'msi_roundtrip_irqline', subject: samples, extra: { pair: 'msi_roundtrip_blocking' } });
  } finally {
    dev.irq.detach(VFIO_PCI_MSI_IRQ_INDEX, 0);
  }
}

/**
 * storm_irqline: `n` raises as fast as the view writes them, yielding to the loop every BATCH raises
 * so deliveries interleave; then waits (≤ 2 s, as C) until the delivered counts sum to n.
 * lost = n − Σ counts; coalesced = Σ counts − deliveries (fires merged into one eventfd read).
 */
export async function stormRow(dev, n, log) {
  const view = dev.bar(0).view;
  if (view === null) throw new Error('BAR0 is not mmapped: no view for the storm');
  const raise = EDU_REG.IRQ_RAISE >>> 2;
  const probe = probeLine('bench storm');
  dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, probe.line);
  const turn = () => new Promise((r) => setImmediate(r));
  try {
    log(`storm_irqline: ${n} raises`);
    const t0 = performance.now();
    for (let i = 0; i < n; i += BATCH) {
      const end = Math.min(n, i + BATCH);
      for (let k = i; k < end; k++) view.u32[raise] = 1;
      await turn();
    }
    const deadline = performance.now() + 2000;
    while (probe.fires < n && performance.now() < deadline) await turn();
    const t1 = performance.now();
    dev.bar(0).write32(EDU_REG.IRQ_ACK, 1);
    const per = ((t1 - t0) * 1e6) / n;
    const summary = { min: per, median: per, p99: per, max: per, n };
    return makeRow({
      name: 'storm_irqline', subject: summary, n, lost: n - probe.fires,
      extra: {
        pair: 'storm', raises: n, delivered: probe.fires, deliveries: probe.deliveries,
        coalesced: probe.fires - probe.deliveries, rate_per_s: Math.round(1e9 / per),
      },
    });
  } finally {
    dev.irq.detach(VFIO_PCI_MSI_IRQ_INDEX, 0);
  }
}

/** intx_roundtrip_irqline: raise → INTx (automasked) → IrqLine → Promise → ack → unmaskIntx. */
export async function intxRow(dev, step) {
  const bar = dev.bar(0);
  const probe = probeLine('bench intx');
  dev.irq.attach(VFIO_PCI_INTX_IRQ_INDEX, 0, probe.line);
  try {
    const samples = await measureAsync(() => {
      const p = probe.next();
      bar.write32(EDU_REG.IRQ_RAISE, 1);
      return p;
    }, { ...step('intx_roundtrip_irqline'), after: () => { bar.write32(EDU_REG.IRQ_ACK, 1); dev.irq.unmaskIntx(); } });
    return makeRow({ name: 'intx_roundtrip_irqline', subject: samples, extra: { pair: 'intx_roundtrip' } });
  } finally {
    dev.irq.disable(VFIO_PCI_INTX_IRQ_INDEX);
  }
}

/** MMIO per access over batches of 64, as baseline.c: read32 of ID (0x00), write32 of LIVENESS (0x04). */
export function mmioRows(dev, step) {
  const bar = dev.bar(0);
  const view = bar.view;
  if (view === null) throw new Error('BAR0 is not mmapped: no view');
  const u32 = view.u32;
  const id = EDU_REG.ID >>> 2;
  const live = EDU_REG.LIVENESS >>> 2;
  // Reads accumulate into a local int32 (a double kept in a closure variable would allocate per read).
  let sink = 0;
  const rows = [];
  const viewRead = measureBatched((k) => { let s = 0; for (let i = 0; i < k; i++) s = (s + u32[id]) | 0; sink ^= s; }, step('mmio_read32_view'));
  rows.push(makeRow({ name: 'mmio_read32_view', subject: viewRead, extra: { pair: 'mmio_read32' } }));
  const viewWrite = measureBatched((k) => { for (let i = 0; i < k; i++) u32[live] = i; }, step('mmio_write32_view'));
  rows.push(makeRow({ name: 'mmio_write32_view', subject: viewWrite, extra: { pair: 'mmio_write32' } }));
  const accRead = measureBatched((k) => { let s = 0; for (let i = 0; i < k; i++) s = (s + bar.read32(EDU_REG.ID)) | 0; sink ^= s; }, step('mmio_read32_accessor'));
  rows.push(makeRow({ name: 'mmio_read32_accessor', subject: accRead, extra: { pair: 'mmio_read32' } }));
  const accWrite = measureBatched((k) => { for (let i = 0; i < k; i++) bar.write32(EDU_REG.LIVENESS, i); }, step('mmio_write32_accessor'));
  rows.push(makeRow({ name: 'mmio_write32_accessor', subject: accWrite, extra: { pair: 'mmio_write32' } }));
  if (sink === 0.5) console.log(sink);
  return rows;
}

/**
 * dma_map_unmap_{4k,2m,2m_hugetlb}: PciDma.map (IOVA allocation + VFIO_IOMMU_MAP_DMA) then unmap, per
 * iteration, on memory allocated as the C side allocates it: 4 KiB pages (transparent huge pages refused
 * on both sides, MADV_NOHUGEPAGE: allocHostMemory({ transparentHugepages: false })), or one 2 MiB hugetlb
 * page (allocHostMemory({ hugepage: true }), MAP_HUGETLB in C). A missing huge page skips the hugetlb
 * row on both sides.
 */
export function dmaRows(dev, iterations, step) {
  const rows = [];
  const tenth = Math.max(1, Math.floor(iterations / 10));
  for (const [name, size, n, hugepage] of [['dma_map_unmap_4k', 4096, iterations, false], ['dma_map_unmap_2m', 2 << 20, tenth, false],
    ['dma_map_unmap_2m_hugetlb', 2 << 20, tenth, true]]) {
    let memory;
    try {
      // 4 KiB pages for certain (the guest's THP mode is `always`): the C side madvises the same.
      memory = allocHostMemory(size, hugepage ? { hugepage } : { transparentHugepages: false });
    } catch (error) {
      if (!hugepage) throw error;
      console.error(`[bench] ${name} skipped: ${error.message}`);
      continue;
    }
    try {
      memory.bytes.fill(0);
      const samples = measureSync(() => dev.dma.map(memory, { size }).unmap(), { ...step(name), iterations: n });
      rows.push(makeRow({ name, subject: samples, extra: { pair: name } }));
    } finally {
      memory.free();
    }
  }
  return rows;
}
