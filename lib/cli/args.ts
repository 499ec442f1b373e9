/**
 * The one argument parser every verb uses: node:util parseArgs in strict mode plus a generated
 * `--help`. A verb declares its options once (with their help text) and its positional arguments.
 */
import { parseArgs } from 'node:util';
import { EXIT_CODES_HELP, UsageError } from './exit-codes.ts';

export interface OptionSpec {
  readonly type: 'boolean' | 'string';
  readonly short?: string;
  readonly description: string;
  /** Shown in help as the value's name, e.g. "SECONDS". */
  readonly valueName?: string;
}

export interface VerbSpec {
  readonly name: string;
  /** One line for the verb list. */
  readonly summary: string;
  /** Positional argument names: "<bdf>" required, "[bdf]" optional; a last "[command…]" takes the rest. */
  readonly positionals: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Paragraphs after the option list (what it reads/writes, examples). */
  readonly details?: string;
}

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/** Help text of a verb. */
export function verbHelp(spec: VerbSpec): string {
  const lines = [`Usage: vfio-ddk ${spec.name}${spec.positionals.map((p) => ` ${p}`).join('')} [options]`, '', spec.summary, '', 'Options:'];
  const all: [string, OptionSpec][] = [...Object.entries(spec.options), ['help', { type: 'boolean', short: 'h', description: 'show this help' }]];
  const left = all.map(([name, o]) => `${o.short === undefined ? '    ' : `-${o.short}, `}--${name}${o.type === 'string' ? ` ${o.valueName ?? 'VALUE'}` : ''}`);
  const width = Math.max(...left.map((l) => l.length));
  all.forEach(([, o], i) => lines.push(`  ${(left[i] ?? '').padEnd(width)}  ${o.description}`));
  if (spec.details !== undefined) lines.push('', spec.details);
  lines.push('', EXIT_CODES_HELP);
  return lines.join('\n') + '\n';
}

/** Parses `argv` for `spec`; returns null when --help was asked. Throws UsageError on any mistake. */
export function parseVerbArgs(spec: VerbSpec, argv: readonly string[]): ParsedArgs | null {
  const options: Record<string, { type: 'boolean' | 'string'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(spec.options)) options[name] = o.short === undefined ? { type: o.type } : { type: o.type, short: o.short };
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.split('\n')[0] ?? 'bad arguments' : 'bad arguments');
  }
  if (parsed.values['help'] === true) return null;
  const required = spec.positionals.filter((p) => p.startsWith('<')).length;
  if (parsed.positionals.length < required) throw new UsageError(`missing ${spec.positionals.slice(parsed.positionals.length).join(' ')}`);
  // A last positional named with "…" ("[command…]") takes every remaining argument.
  const variadic = spec.positionals.at(-1)?.includes('…') === true;
  if (!variadic && parsed.positionals.length > spec.positionals.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[spec.positionals.length])}`);
  }
  return parsed;
}

/** A numeric option within [min, max], or `fallback` when absent. UsageError otherwise. */
export function numberOption(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  const raw = args.values[name];
  if (raw === undefined) return fallback;
  const value = typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

export const JSON_OPTION: OptionSpec = { type: 'boolean', description: 'print JSON instead of a table' };
