/**
 * The two VFIO IOMMU paths on the real edu (lib/vfio/vfio-iommu-choice.ts, spec/pci-vfio.md C.5):
 * the automatic choice matches what this guest kernel offers (test-hw sets VFIO_DDK_HW_IOMMU per
 * kernel: type1 on Debian 6.1, iommufd + cdev on the 6.12 built with IOMMUFD), either path can be
 * forced by the open option or VFIO_DDK_IOMMU and then really moves data, and the IOVA ranges the
 * kernel reports (VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE / IOMMU_IOAS_IOVA_RANGES) are honoured: they
 * leave out the interrupt window the Intel IOMMU reserves (0xfee00000–0xfeefffff,
 * drivers/iommu/intel/iommu.c intel_iommu_get_resv_regions) and every DMA buffer lands inside them.
 */
import t from 'tap';
import type { Test } from 'tap';
import {
  EDU_DEFAULT_DMA_MASK, EDU_DMA_DIR, EDU_DMA_IRQ_ENABLE, EDU_DMA_RUN, EDU_DMA_START, EDU_REG, VFIO_PCI_MSI_IRQ_INDEX,
} from 'vfio-ddk';
import { openVfioDevice } from 'vfio-ddk/vfio';
import type { VfioDevice } from 'vfio-ddk/vfio';
import { LineProbe, expectedIommu, guestBdf, guestKernel, skipReason } from './helpers.ts';

/** IOAPIC_RANGE_START / IOAPIC_RANGE_END of drivers/iommu/intel/iommu.c: never a DMA address. */
const MSI_WINDOW = { start: 0xfee0_0000n, end: 0xfeef_ffffn };

const bdf = guestBdf('edu');
const want = expectedIommu();
if (bdf === null) {
  t.plan(0, skipReason('edu'));
} else if (want === null) {
  t.plan(0, 'VFIO_DDK_HW_IOMMU unset (a user kernel or a run by hand): nothing to compare the path with');
} else {
  /** An edu DMA round trip (spec/edu.md D.5) through whatever path `dev` uses: the bytes come back. */
  const roundTrip = async (t: Test, dev: VfioDevice): Promise<void> => {
    const bar = dev.bar(0);
    dev.dma.setMask(EDU_DEFAULT_DMA_MASK);
    const probe = new LineProbe('edu dma', () => {
      const status = bar.read32(EDU_REG.IRQ_STATUS);
      if (status !== 0) bar.write32(EDU_REG.IRQ_ACK, status);
    });
    dev.irq.attach(VFIO_PCI_MSI_IRQ_INDEX, 0, probe.line);
    const buffer = dev.dma.alloc(8192);
    const length = 1024;
    for (let i = 0; i < length; i++) buffer.bytes[i] = (i * 13 + 1) & 0xff;
    for (const [src, dst, dir] of [[buffer.iova, BigInt(EDU_DMA_START), 0], [BigInt(EDU_DMA_START), buffer.iova + 4096n, EDU_DMA_DIR]] as const) {
      bar.write64(EDU_REG.DMA_SRC, src);
      bar.write64(EDU_REG.DMA_DST, dst);
      bar.write64(EDU_REG.DMA_CNT, BigInt(length));
      const done = probe.next();
      bar.write32(EDU_REG.DMA_CMD, EDU_DMA_RUN | dir | EDU_DMA_IRQ_ENABLE);
      await done;
    }
    t.same(buffer.bytes.subarray(4096, 4096 + length), buffer.bytes.subarray(0, length), `DMA round trip on the ${dev.iommuKind} path`);
    buffer.free();
  };

  t.test(`the automatic choice on the ${guestKernel()} kernel is ${want}`, async (t) => {
    using dev = openVfioDevice(bdf);
    t.equal(dev.iommuKind, want, dev.iommuReason);
    t.match(dev.iommuReason, want === 'iommufd' ? /has the VFIO cdev \/dev\/vfio\/devices\/vfio\d+ and \/dev\/iommu exists/ : /^no iommufd path: /);
  });

  t.test('the IOVA ranges the kernel reports leave out the MSI window and hold every buffer', async (t) => {
    using dev = openVfioDevice(bdf);
    const ranges = dev.dma.iovaRanges;
    t.ok(ranges.length >= 2, `${ranges.length} ranges from ${want === 'iommufd' ? 'IOMMU_IOAS_IOVA_RANGES' : 'VFIO_IOMMU_GET_INFO'}: ` +
      ranges.map((r) => `0x${r.start.toString(16)}–0x${r.end.toString(16)}`).join(', '));
    t.notOk(ranges.some((r) => r.start <= MSI_WINDOW.end && r.end >= MSI_WINDOW.start), 'no range overlaps 0xfee00000–0xfeefffff');
    const buffers = [dev.dma.alloc(4096), dev.dma.alloc(2 << 20), dev.dma.alloc(4096)];
    for (const b of buffers) {
      const last = b.iova + BigInt(b.size) - 1n;
      t.ok(ranges.some((r) => r.start <= b.iova && last <= r.end), `0x${b.iova.toString(16)}+${b.size} inside a reported range`);
      b.free();
    }
  });

  t.test('forcing the path: the open option and VFIO_DDK_IOMMU', async (t) => {
    if (want === 'iommufd') {
      // 6.12 has both: the group/container path must still work when asked for.
      {
        using dev = openVfioDevice(bdf, { iommu: 'type1' });
        t.equal(dev.iommuKind, 'type1');
        await roundTrip(t, dev);
      }
      {
        using dev = openVfioDevice(bdf, { iommu: 'iommufd' });
        t.equal(dev.iommuKind, 'iommufd');
        await roundTrip(t, dev);
      }
      const before = process.env['VFIO_DDK_IOMMU'];
      process.env['VFIO_DDK_IOMMU'] = 'type1';
      try {
        using dev = openVfioDevice(bdf);
        t.equal(dev.iommuKind, 'type1', 'VFIO_DDK_IOMMU=type1 forces the container');
        t.equal(dev.iommuReason, 'forced by VFIO_DDK_IOMMU=type1');
      } finally {
        if (before === undefined) delete process.env['VFIO_DDK_IOMMU'];
        else process.env['VFIO_DDK_IOMMU'] = before;
      }
    } else {
      t.throws(() => openVfioDevice(bdf, { iommu: 'iommufd' }), { code: 'ENOTSUP', message: /no VFIO device cdev.*use the type1 path/ },
        'Debian 6.1 has no device cdev: forcing iommufd says so');
      using dev = openVfioDevice(bdf, { iommu: 'type1' });
      t.equal(dev.iommuKind, 'type1');
      await roundTrip(t, dev);
    }
  });
}
