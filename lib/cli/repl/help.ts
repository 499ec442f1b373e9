/** The REPL's `.help`: what is in scope for this device and the commands. */
import type { ReplScope } from './scope.ts';

export function helpText(scope: ReplScope, commands: readonly string[]): string {
  const { device } = scope;
  const bars = [...scope.bars.entries()].map(([name, b]) => `${name} (${b.size} bytes${b.names().length > 0 ? `, names: ${b.names().join(' ')}` : ''})`);
  return [
    `vfio-ddk repl: ${device.bdf} (${device.backend}${scope.model === null ? '' : `, ${scope.model}`}) — in scope:`,
    '  device                 the PciDevice (identity, config, bar(i), irq, dma, reset(), close())',
    '  cfg                    config space: cfg.read(\'PCI_COMMAND\'), cfg.write(\'PCI_COMMAND\', 0x6),',
    '                         cfg.read8/16/32(off), cfg.write8/16/32(off, v), cfg.dump(off, len), cfg.caps()',
    `  ${'bar0…bar5'.padEnd(22)} ${bars.length === 0 ? 'no BARs implemented' : bars[0]}`,
    ...bars.slice(1).map((b) => `${' '.repeat(25)}${b}`),
    '                         barN.read(\'NAME\'), barN.write(\'NAME\', v), barN.read8…read64(off),',
    '                         barN.write8…write64(off, v), barN.dump(off, len) (reads have side effects',
    '                         where the register does: read-to-clear causes)',
    '  irq                    irq.attach(\'msi\', 0) routes a vector (attach before the device raises it);',
    '                         await irq.wait(\'msi\', 0, { timeoutMs: 1000 }) → { count, bootNs, monoNs };',
    '                         irq.trigger(kind, vector), irq.detach(kind, vector), irq.counts();',
    '                         kinds: intx, msi, msix (MSI and DMA need bus master: cfg.write(\'PCI_COMMAND\', 0x6))',
    '  dma                    const b = dma.alloc(4096); b.iova; b.write(0, [1, 2]); b.read(0, 2); b.dump();',
    '                         b.free(); dma.list(); dma.mask',
    '  zx, ddi                the Zircon kit (vfio-ddk/zircon) and the DDI kit (vfio-ddk/ddi)',
    'Tab completes register names inside read(\'…\') / write(\'…\'). Closing (.exit, Ctrl-D) closes the device.',
    'Commands:',
    ...commands.map((c) => `  ${c}`),
    '',
  ].join('\n');
}
