/**
 * Starts node:repl over an opened device: the scope as globals, register-name completion, `.help`,
 * history in a file, errors shown as "Uncaught CODE: message" (the REPL stays up), and the device closed when
 * the REPL closes (.exit, Ctrl-D, end of input). Resolves once the device is closed.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import repl from 'node:repl';
import { inspect, types } from 'node:util';
import type { PciDevice } from '../../pci/device.ts';
import { registerCompleter } from './completer.ts';
import type { Completer } from './completer.ts';
import { helpText } from './help.ts';
import { buildScope } from './scope.ts';

export interface ReplOptions {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  /** Line editing, colours and tab completion (default: whether output is a TTY, as node:repl). */
  readonly terminal?: boolean;
  /** History file, or null for none. */
  readonly historyPath: string | null;
  /** Said on a failure to set up history (the REPL runs without it). */
  readonly warn: (message: string) => void;
}

/** An error thrown by a REPL line as one line: "ECLOSED: message" (its code), else "RangeError: …". */
export function describeError(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return `${typeof code === 'string' ? code : err.name}: ${err.message}`;
}

/**
 * node:repl shows a thrown error through its writer (repl.js debugDomainError: errStack =
 * self.writer(e), then "Uncaught " in front), so a writer that prints errors as one line is what
 * replaces the stack dump. SyntaxErrors keep node's own form (it points at the column).
 */
function writerFor(colors: boolean): (value: unknown) => string {
  return (value) => (value instanceof Error || types.isNativeError(value)) && (value as Error).name !== 'SyntaxError'
    ? describeError(value as Error)
    : inspect(value, { ...repl.writer.options, colors });
}

export function runRepl(device: PciDevice, options: ReplOptions): Promise<void> {
  const scope = buildScope(device);
  const terminal = options.terminal ?? (options.output as { isTTY?: boolean }).isTTY === true;
  const server = repl.start({
    input: options.input, output: options.output, terminal, prompt: `${scope.model ?? device.backend}> `,
    ignoreUndefined: true, useGlobal: false, preview: false, writer: writerFor(terminal),
  });
  const define = (context: object): void => {
    for (const [name, value] of Object.entries(scope.globals)) {
      Object.defineProperty(context, name, { value, enumerable: true, configurable: true, writable: false });
    }
  };
  define(server.context);
  // `.clear` gives the REPL a fresh context ('reset'): the device stays open, so its names come back.
  server.on('reset', define);
  const defaultCompleter = server.completer as unknown as Completer;
  (server as unknown as { completer: Completer }).completer = registerCompleter(scope, (line, cb) => defaultCompleter.call(server, line, cb));
  server.defineCommand('help', {
    help: 'Show what is in scope (cfg, bar0…bar5, irq, dma, zx, ddi, device) and the commands',
    action() {
      const commands = Object.entries(server.commands).map(([name, c]) => `.${name.padEnd(8)} ${c?.help ?? ''}`);
      this.output.write(helpText(scope, commands));
      this.displayPrompt();
    },
  });
  if (options.historyPath !== null) {
    const path = options.historyPath;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      server.setupHistory(path, (err) => { if (err) options.warn(`history disabled: ${err.message} (${path})`); });
    } catch (err) {
      options.warn(`history disabled: ${(err as Error).message} (${path})`);
    }
  }
  return new Promise((resolve) => {
    server.on('exit', () => {
      device.close();
      resolve();
    });
  });
}
