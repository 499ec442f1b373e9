/**
 * The Power Management and PCI Express capabilities of an emulated PCI Express endpoint, with the
 * values and write masks QEMU 7.2 gives them (a model lists them in `EmuDeviceSpec.capabilities`):
 *
 * * PM (hw/nvme/ctrl.c nvme_add_pm_capability): PMC = version 1.2 (0x0003), PMCSR = No_Soft_Reset
 *   (0x0008), PowerState bits 1:0 writable; 8 bytes.
 * * PCI Express v2 (hw/pci/pcie.c pcie_cap_init via pcie_endpoint_cap_init, port 0): Flags = version 2,
 *   type Endpoint; DEVCAP = RBER, plus FLR with `flr` (pcie_cap_flr_init); LNKCAP = port 0, L0s, x1,
 *   2.5 GT/s; LNKSTA = x1, 2.5 GT/s; DEVCAP2 = EFF | EETLPP, DEVCTL2.EETLPPB writable; 0x3c bytes.
 *   QEMU reports type Root Complex Integrated Endpoint instead when the function sits on the root bus
 *   itself (pcie_endpoint_cap_init), which depends on the machine, not on the device.
 *   Initiate FLR (DEVCTL bit 15) is not writable here: an FLR goes through `reset()`, which is what
 *   VFIO_DEVICE_RESET does for a function whose DEVCAP advertises FLR.
 */
import type { EmuConfigSpace } from './config-space.ts';
import type { CapabilitySpec } from './device-spec.ts';
import {
  PCI_CAP_ID_EXP, PCI_CAP_ID_PM, PCI_EXP_DEVCAP, PCI_EXP_DEVCAP2, PCI_EXP_DEVCAP2_EETLPP, PCI_EXP_DEVCAP2_EFF,
  PCI_EXP_DEVCAP_FLR, PCI_EXP_DEVCAP_RBER, PCI_EXP_DEVCTL2, PCI_EXP_DEVCTL2_EETLPPB, PCI_EXP_FLAGS,
  PCI_EXP_FLAGS_TYPE_SHIFT, PCI_EXP_FLAGS_VER2, PCI_EXP_LNKCAP, PCI_EXP_LNKCAP_ASPMS_0S, PCI_EXP_LNKCAP_MLW_SHIFT,
  PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_NLW_SHIFT, PCI_EXP_LNK_2_5GT, PCI_EXP_LNK_X1, PCI_EXP_TYPE_ENDPOINT,
  PCI_EXP_VER2_SIZEOF, PCI_PM_CAP_VER_1_2, PCI_PM_CTRL, PCI_PM_CTRL_NO_SOFT_RESET, PCI_PM_CTRL_STATE_MASK, PCI_PM_PMC,
  PCI_PM_SIZEOF,
} from '../pci/regs.ts';

/** QEMU's PM capability at `offset` (nvme_add_pm_capability). */
export function pmCapability(offset: number): CapabilitySpec {
  return {
    id: PCI_CAP_ID_PM,
    size: PCI_PM_SIZEOF,
    offset,
    init(config: EmuConfigSpace, at: number): void {
      config.set16(at + PCI_PM_PMC, PCI_PM_CAP_VER_1_2);
      config.set16(at + PCI_PM_CTRL, PCI_PM_CTRL_NO_SOFT_RESET);
      config.setWmask(at + PCI_PM_CTRL, 2, PCI_PM_CTRL_STATE_MASK);
    },
  };
}

/** QEMU's PCI Express v2 endpoint capability at `offset` (pcie_endpoint_cap_init [+ pcie_cap_flr_init]). */
export function pcieEndpointCapability(offset: number, options: { flr: boolean }): CapabilitySpec {
  return {
    id: PCI_CAP_ID_EXP,
    size: PCI_EXP_VER2_SIZEOF,
    offset,
    init(config: EmuConfigSpace, at: number): void {
      config.set16(at + PCI_EXP_FLAGS, (PCI_EXP_TYPE_ENDPOINT << PCI_EXP_FLAGS_TYPE_SHIFT) | PCI_EXP_FLAGS_VER2);
      config.set32(at + PCI_EXP_DEVCAP, (PCI_EXP_DEVCAP_RBER | (options.flr ? PCI_EXP_DEVCAP_FLR : 0)) >>> 0);
      config.set32(at + PCI_EXP_LNKCAP, PCI_EXP_LNKCAP_ASPMS_0S | (PCI_EXP_LNK_X1 << PCI_EXP_LNKCAP_MLW_SHIFT) | PCI_EXP_LNK_2_5GT);
      config.set16(at + PCI_EXP_LNKSTA, (PCI_EXP_LNK_X1 << PCI_EXP_LNKSTA_NLW_SHIFT) | PCI_EXP_LNK_2_5GT);
      config.set32(at + PCI_EXP_DEVCAP2, PCI_EXP_DEVCAP2_EFF | PCI_EXP_DEVCAP2_EETLPP);
      config.setWmask(at + PCI_EXP_DEVCTL2, 2, PCI_EXP_DEVCTL2_EETLPPB);
    },
  };
}
