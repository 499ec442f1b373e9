/**
 * What the host sees of a running guest through QMP: its run state (query-status) and every PCI
 * function QEMU emulates for it (query-pci, bridges followed). scripts/test-hw.mjs takes this snapshot
 * through runInGuest's `onQmp` once the guest command runs, and checks it against the devices the
 * guest bound to vfio-pci — the host-side QMP handle in every hardware run.
 */

/**
 * The functions of a query-pci answer (qemu qapi/pci.json PciInfo / PciDeviceInfo), bridges followed:
 * { bdf: "01:00.0", vendorDevice: "8086:10d3", qdevId }.
 */
export function pciFunctions(buses) {
  const out = [];
  const hex = (n, width) => n.toString(16).padStart(width, '0');
  const walk = (devices) => {
    for (const d of devices ?? []) {
      out.push({ bdf: `${hex(d.bus, 2)}:${hex(d.slot, 2)}.${d.function}`, vendorDevice: `${hex(d.id.vendor, 4)}:${hex(d.id.device, 4)}`, qdevId: d.qdev_id ?? '' });
      walk(d.pci_bridge?.devices);
    }
  };
  for (const bus of buses ?? []) walk(bus.devices);
  return out;
}

/**
 * An `onQmp` callback: waits for the guest command, then returns { status, functions, error: null };
 * never throws (a guest that does not boot is reported by the run itself): { error: message } then.
 */
export async function qmpSnapshot(qmp, { running }) {
  try {
    await running;
    const { status } = await qmp.execute('query-status');
    return { status, functions: pciFunctions(await qmp.execute('query-pci')), error: null };
  } catch (err) {
    return { status: null, functions: [], error: `${err.code ?? 'Error'}: ${err.message}` };
  }
}

/**
 * The guest-bound devices (runInGuest's `devices`) missing from the snapshot's functions, matched by
 * vendor:device: [] when QEMU emulates every one of them.
 */
export function missingFromSnapshot(snapshot, devices) {
  if (snapshot.error !== null) return devices;
  const seen = snapshot.functions.map((f) => f.vendorDevice);
  return devices.filter((d) => !seen.includes(d.id));
}
