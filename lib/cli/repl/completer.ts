/**
 * Tab completion of register names inside a quoted name argument — `cfg.read('PCI_CO<Tab>`,
 * `bar0.write("LIV<Tab>` — from the tables the scope's windows hold; any other line goes to node:repl's
 * own JavaScript completer.
 */
import type { ReplScope } from './scope.ts';

export type Completer = (line: string, callback: (err: Error | null, result?: [string[], string]) => void) => void;

/** `<window>.read(` or `.write(` then an open quote and the name typed so far, at the end of the line. */
const NAME_ARGUMENT = /\b(cfg|bar[0-5])\s*\.\s*(?:read|write)\s*\(\s*['"`]([A-Za-z0-9_]*)$/;

/** The register names completing `line`, or null when the line is not at a register-name argument. */
export function completeRegisterName(scope: ReplScope, line: string): [string[], string] | null {
  const m = NAME_ARGUMENT.exec(line);
  if (m === null) return null;
  const [, windowName, prefix = ''] = m;
  const window = windowName === 'cfg' ? scope.cfg : scope.bars.get(windowName ?? '');
  if (window === undefined) return [[], prefix];
  return [window.names().filter((n) => n.startsWith(prefix)), prefix];
}

/** Register names first, then `fallback` (the REPL's default completer). */
export function registerCompleter(scope: ReplScope, fallback: Completer): Completer {
  return (line, callback) => {
    const names = completeRegisterName(scope, line);
    if (names !== null) callback(null, names);
    else fallback(line, callback);
  };
}
