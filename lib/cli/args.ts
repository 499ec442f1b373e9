/**
 * The one argument parser every verb uses: node:util parseArgs in strict mode plus a generated
 * `--help`. A verb declares its options once (with their help text) and its positional arguments.
 */
import { parseArgs } from 'node:util';
import { EXIT_CODES_HELP, UsageError } from './exit-codes.ts';
import { didYouMean } from './suggest.ts';

export interface OptionSpec {
  readonly type: 'boolean' | 'string';
  readonly short?: string;
  readonly description: string;
  /** Shown in help as the value's name, e.g. "SECONDS". */
  readonly valueName?: string;
  /** A string option that may be given more than once: its values are in ParsedArgs.lists, in order. */
  readonly multiple?: boolean;
  /** The next word is the value even when it starts with "-" (--qemu-arg -object). */
  readonly rawValue?: boolean;
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
  /** The values of `multiple` options (absent when not given). */
  readonly lists?: Readonly<Record<string, readonly string[]>>;
}

/** The usage line: options go before a "[-- command…]" positional (after it they would be the command's). */
export function usageLine(spec: VerbSpec): string {
  const words = spec.positionals.filter((p) => !p.startsWith('[--'));
  const after = spec.positionals.filter((p) => p.startsWith('[--'));
  return `Usage: vfio-ddk ${[spec.name, ...words, '[options]', ...after].join(' ')}`;
}

/** Help text of a verb. */
export function verbHelp(spec: VerbSpec): string {
  const lines = [usageLine(spec), '', spec.summary, '', 'Options:'];
  const all: [string, OptionSpec][] = [...Object.entries(spec.options), ['help', { type: 'boolean', short: 'h', description: 'show this help' }]];
  const left = all.map(([name, o]) => `${o.short === undefined ? '    ' : `-${o.short}, `}--${name}${o.type === 'string' ? ` ${o.valueName ?? 'VALUE'}` : ''}`);
  const width = Math.max(...left.map((l) => l.length));
  all.forEach(([, o], i) => lines.push(`  ${(left[i] ?? '').padEnd(width)}  ${o.description}`));
  if (spec.details !== undefined) lines.push('', spec.details);
  lines.push('', EXIT_CODES_HELP);
  return lines.join('\n') + '\n';
}

/** A number as the CLI reads one: decimal, optionally signed, with a fraction and/or an exponent ("1e3"). */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * "--count -5" → "--count=-5" for string options, so a negative number reaches the range check
 * instead of node:util's "argument is ambiguous" (which takes "-5" for an option).
 */
function joinNegativeValues(spec: VerbSpec, argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? '';
    if (word === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    const name = word.startsWith('--') ? word.slice(2)
      : /^-[A-Za-z]$/.test(word) ? Object.entries(spec.options).find(([, o]) => o.short === word.slice(1))?.[0] : undefined;
    const option = name === undefined ? undefined : spec.options[name];
    if (option?.type === 'string' && next !== undefined && next.startsWith('-') && (NUMBER.test(next) || option.rawValue === true)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(word);
    }
  }
  return out;
}

/** A parseArgs error as one line; an unknown option gets the closest known one. */
function usageErrorOf(spec: VerbSpec, err: unknown): UsageError {
  const message = err instanceof Error ? err.message.split('\n')[0] ?? 'bad arguments' : 'bad arguments';
  const unknown = /^Unknown option '(-{1,2}[^']*)'/.exec(message);
  if (unknown?.[1] !== undefined) {
    const known = ['--help', ...Object.keys(spec.options).map((n) => `--${n}`)];
    const typed = unknown[1].split('=')[0] ?? unknown[1];
    // Only long names are compared: any one-letter option is one edit from any other.
    const hint = (typed.startsWith('--') ? didYouMean(typed, known.filter((k) => k.startsWith('--'))) : '')
      || (spec.positionals.some((p) => p.startsWith('[--')) ? ` (a command's own options go after "--": ${usageLine(spec).slice('Usage: '.length)})` : '');
    return new UsageError(`unknown option ${typed}${hint}`);
  }
  return new UsageError(message);
}

/** Parses `argv` for `spec`; returns null when --help was asked. Throws UsageError on any mistake. */
export function parseVerbArgs(spec: VerbSpec, argv: readonly string[]): ParsedArgs | null {
  const options: Record<string, { type: 'boolean' | 'string'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = { type: o.type, ...(o.short === undefined ? {} : { short: o.short }), ...(o.multiple === true ? { multiple: true } : {}) };
  }
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[]; lists?: Record<string, string[]> };
  try {
    parsed = parseArgs({ args: joinNegativeValues(spec, argv), options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    throw usageErrorOf(spec, err);
  }
  if (parsed.values['help'] === true) return null;
  const lists: Record<string, string[]> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    if (o.multiple !== true) continue;
    const value = parsed.values[name] as unknown;
    if (Array.isArray(value)) lists[name] = value.map(String);
    delete parsed.values[name];
  }
  if (Object.keys(lists).length > 0) parsed.lists = lists;
  const required = spec.positionals.filter((p) => p.startsWith('<')).length;
  if (parsed.positionals.length < required) throw new UsageError(`missing ${spec.positionals.slice(parsed.positionals.length).join(' ')}`);
  // A last positional named with "…" ("[command…]") takes every remaining argument.
  const variadic = spec.positionals.at(-1)?.includes('…') === true;
  if (!variadic && parsed.positionals.length > spec.positionals.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[spec.positionals.length])}`);
  }
  return parsed;
}

/** True when `argv` asks for --json before any "--" (so even a usage error is answered in JSON). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

function readNumber(args: ParsedArgs, name: string, min: number, max: number, integer: boolean): number | undefined {
  const raw = args.values[name];
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' && NUMBER.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!(value >= min && value <= max) || (integer && !Number.isInteger(value))) {
    const shown = (n: number): string => (n === Number.MAX_SAFE_INTEGER ? `${n} (2^53 - 1)` : String(n));
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${shown(min)} to ${shown(max)}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/**
 * A numeric option within [min, max], or `fallback` when absent; UsageError (the range message)
 * otherwise. Every verb reads numbers this way: decimal, fraction and exponent ("0.5", "1e3");
 * a negative or out-of-range value gets the same message as a word.
 */
export function numberOption(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  return readNumber(args, name, min, max, false) ?? fallback;
}

/** An integer option within [min, max]: as numberOption ("1e3" is 1000), but "1.5" gets the range message. */
export function integerOption(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  return readNumber(args, name, min, max, true) ?? fallback;
}

export const JSON_OPTION: OptionSpec = { type: 'boolean', description: 'print JSON instead of a table' };
