/** GetBti (AcpiPciroot::PcirootGetBti) and SetBusMastering (device.cc Device::SetBusMastering). */
import t from 'tap';
import { createEduDevice } from 'vfio-ddk/emu';
import { EDU_DMA_DIR, EDU_DMA_RUN, EDU_DMA_START, EDU_REG, PCI_COMMAND, PCI_COMMAND_MASTER } from 'vfio-ddk';
import {
  ZX_BTI_PERM_READ, ZX_BTI_PERM_WRITE, ZX_ERR_INVALID_ARGS, ZX_ERR_OUT_OF_RANGE, ZX_OK, ZX_OBJ_TYPE_BTI, ZX_INFO_HANDLE_BASIC,
  zx_bti_pin, zx_object_get_info, zx_pmt_unpin, zx_vmo_create, zx_vmo_read, zx_vmo_write, type zx_info_handle_basic_t,
} from 'vfio-ddk/zircon';
import { mapBar, out, pciFor } from './bus-fixtures.ts';

t.test('GetBti(0) is a BTI into the device\'s IOMMU domain: the edu DMAs from a pinned VMO', async (t) => {
  const device = createEduDevice({ dmaDelayMs: 0 });
  const pci = pciFor(device);
  const { mmio } = mapBar(pci, 0);
  const bti = out(0);
  t.equal(pci.GetBti(0, bti), ZX_OK);
  const basic = out<object>({});
  zx_object_get_info(bti.value, ZX_INFO_HANDLE_BASIC, basic);
  t.equal((basic.value as zx_info_handle_basic_t).type, ZX_OBJ_TYPE_BTI);
  // RAM → edu buffer → RAM (the buffer is not visible over MMIO, spec/edu.md D.5), both through pins.
  const src = out(0);
  const dst = out(0);
  zx_vmo_create(4096n, 0, src);
  zx_vmo_create(4096n, 0, dst);
  zx_vmo_write(src.value, new TextEncoder().encode('fuchsia'), 0n);
  const srcAddr = [0n];
  const dstAddr = [0n];
  const pmts = [out(0), out(0)];
  t.equal(zx_bti_pin(bti.value, ZX_BTI_PERM_READ, src.value, 0n, 4096n, srcAddr, 1, pmts[0] as { value: number }), ZX_OK);
  t.equal(zx_bti_pin(bti.value, ZX_BTI_PERM_WRITE, dst.value, 0n, 4096n, dstAddr, 1, pmts[1] as { value: number }), ZX_OK);
  t.equal(pci.SetBusMastering(true), ZX_OK);
  const transfer = async (from: bigint, to: bigint, cmd: number): Promise<void> => {
    mmio.write64(EDU_REG.DMA_SRC, from);
    mmio.write64(EDU_REG.DMA_DST, to);
    mmio.write64(EDU_REG.DMA_CNT, 7n);
    mmio.write64(EDU_REG.DMA_CMD, BigInt(cmd));
    while ((Number(mmio.read64(EDU_REG.DMA_CMD)) & EDU_DMA_RUN) !== 0) await new Promise((r) => setTimeout(r, 1));
  };
  await transfer(srcAddr[0] as bigint, BigInt(EDU_DMA_START), EDU_DMA_RUN);
  await transfer(BigInt(EDU_DMA_START), dstAddr[0] as bigint, EDU_DMA_RUN | EDU_DMA_DIR);
  const got = new Uint8Array(7);
  zx_vmo_read(dst.value, got, 0n);
  t.equal(new TextDecoder().decode(got), 'fuchsia', 'the round trip through the device\'s IOVAs');
  for (const pmt of pmts) zx_pmt_unpin(pmt.value);
  device.close();
});

t.test('GetBti: index ≠ 0 is OUT_OF_RANGE (one BTI per function on x86); NULL out INVALID_ARGS', async (t) => {
  const device = createEduDevice();
  const pci = pciFor(device);
  t.equal(pci.GetBti(1, out(0)), ZX_ERR_OUT_OF_RANGE);
  t.equal(pci.GetBti(0, null), ZX_ERR_INVALID_ARGS);
  device.close();
});

t.test('SetBusMastering sets and clears Bus Master Enable only', async (t) => {
  const device = createEduDevice();
  const pci = pciFor(device);
  const before = device.config.read16(PCI_COMMAND) & ~PCI_COMMAND_MASTER;
  t.equal(pci.SetBusMastering(true), ZX_OK);
  t.equal(device.config.read16(PCI_COMMAND), before | PCI_COMMAND_MASTER);
  t.equal(pci.SetBusMastering(false), ZX_OK);
  t.equal(device.config.read16(PCI_COMMAND), before);
  t.throws(() => pci.SetBusMastering(1 as never), TypeError, 'a bool in C');
  device.close();
});
