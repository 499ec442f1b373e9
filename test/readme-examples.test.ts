/**
 * The README's JavaScript examples run as written: every ```js block that imports the package is
 * saved inside the package (so `import … from 'vfio-ddk/…'` resolves by self-reference, to the sources
 * under tap) and imported; it must finish without throwing. What an example prints is checked where
 * the README states the result.
 */
import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)]
  .map((m) => m[1] ?? '')
  // Examples that open a real device (import openVfioDevice) need the guest; the rest run here.
  .filter((code) => /from 'vfio-ddk(\/\w+)?'/.test(code) && !/import \{[^}]*openVfioDevice/.test(code));
const dir = join(root, '.cache', 'readme-examples');
mkdirSync(dir, { recursive: true });

t.ok(blocks.length >= 4, `the README has runnable examples (found ${blocks.length})`);

blocks.forEach((code, i) => {
  const first = code.split('\n').find((line) => line.startsWith('import')) ?? '';
  t.test(`README example ${i + 1} (${first.slice(0, 60)}…) runs`, async (t) => {
    const file = join(dir, `example-${i + 1}.mjs`);
    writeFileSync(file, code);
    const printed: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => { printed.push(args.map(String).join(' ')); };
    try {
      await import(pathToFileURL(file).href);
      // Handlers and deliveries the example scheduled on the loop run before it is judged.
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      console.log = log;
    }
    const output = printed.join('\n');
    if (code.includes('edu.factorial(10)')) t.match(output, /10! = 3628800/);
    if (code.includes('new PortPacketBuffer()')) t.match(output, /timestamps 100 200 300 key 7/);
    if (code.includes("encode('hello through the IOMMU')")) t.match(output, /hello through the IOMMU/);
    if (code.includes('timeoutMs: 50')) t.match(output, /ETIMEDOUT: [\s\S]*ABORT_ERR \(AbortError\)/);
    if (code.includes('new Pci(device)')) t.match(output, /zx_interrupt_wait → ZX_OK 10! = 3628800[\s\S]*ZX_ERR_BAD_STATE[\s\S]*ZX_ERR_ACCESS_DENIED/);
    if (code.includes('zx_port_wait →')) t.match(output, /zx_interrupt_wait → 0[\s\S]*zx_port_wait → 0 key 42 type 7/);
    if (code.includes("console.log(`vector ${i}")) t.match(output, /vector 2: my-softc 2/);
    if (code.includes('await irq.wait()')) t.match(output, /ZX_ERR_BAD_STATE/);
    if (code.includes('replayTrace(file)')) t.match(output, /0000:\d\d:\d\d\.\d edu: FACTORIAL read 1×, written 1×\nreplay equal: true null/);
    if (code.includes('nic.requestRemoval()')) {
      t.match(output, /removal requested; device still open: true\ninterrupt wait: ZX_ERR_CANCELED\nport wait: ZX_OK key 2 peer closed: true/);
    }
  });
});
