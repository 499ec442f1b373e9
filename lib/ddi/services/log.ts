/**
 * cmn_err(9F) and dev_err(9F). The message is formatted as illumos does it (a printf subset: %d %i
 * %u %x %X %o %c %s %p %% with flags, width, precision and h/l/ll modifiers; numbers or bigints), its
 * level prefixed ("NOTICE: ", "WARNING: ", "panic: "; CE_CONT as is) and handed to the logger. A
 * leading '!' (system log only), '^' (console only) or '?' (verbose boot only) is taken off and
 * reported as `destination`. dev_err prefixes "<driver><instance>: " (sunddi.c dev_err, with the
 * binding name as the driver name, see instance.ts).
 *
 * CE_PANIC: illumos stops the machine; here the message is logged and an Error with code
 * 'DDI_PANIC' is thrown, so nothing after the call runs (the one throw of this tier, and deliberate).
 * The default logger writes the text to stderr; setDevErrLogger replaces it (null: the default).
 */
import { CE_CONT, CE_IGNORE, CE_NOTE, CE_PANIC, CE_WARN } from '../constants-services.ts';
import { isDevInfo, type dev_info_t } from '../dev-info.ts';
import { ddi_driver_name, ddi_get_instance } from './instance.ts';

export interface DdiLogRecord {
  /** CE_CONT, CE_NOTE, CE_WARN or CE_PANIC. */
  readonly level: number;
  /** The formatted message without the level prefix. */
  readonly message: string;
  /** The whole line as illumos prints it (level prefix included). */
  readonly text: string;
  readonly destination: 'both' | 'log' | 'console' | 'verbose';
  readonly dip: dev_info_t | null;
}

export type DdiLogger = (record: DdiLogRecord) => void;

const defaultLogger: DdiLogger = (record) => {
  process.stderr.write(record.level === CE_CONT ? record.text : `${record.text}\n`);
};

let logger: DdiLogger = defaultLogger;

/** Replaces the logger of cmn_err and dev_err; null restores the default (stderr). */
export function setDevErrLogger(next: DdiLogger | null): void {
  logger = next ?? defaultLogger;
}

const SPEC = /%([-+ 0#]*)(\d+)?(?:\.(\d+))?(hh|h|ll|l|j|z|t)?([diuxXocsp%])/g;

/** printf-style formatting of the cmn_err subset. */
export function ddi_format(fmt: string, args: readonly unknown[]): string {
  let next = 0;
  return fmt.replace(SPEC, (_m, flags: string, width: string | undefined, precision: string | undefined, len: string | undefined, conv: string) => {
    if (conv === '%') return '%';
    const arg = args[next++];
    let body: string;
    const asBig = (): bigint => {
      if (typeof arg === 'bigint') return arg;
      if (typeof arg === 'number' && Number.isFinite(arg)) return BigInt(Math.trunc(arg));
      return 0n;
    };
    const bits = len === 'll' || len === 'l' || len === 'j' || len === 'z' || len === 't' ? 64 : len === 'h' ? 16 : len === 'hh' ? 8 : 32;
    switch (conv) {
      case 'd': case 'i': body = BigInt.asIntN(bits, asBig()).toString(); break;
      case 'u': body = BigInt.asUintN(bits, asBig()).toString(); break;
      case 'x': body = BigInt.asUintN(bits, asBig()).toString(16); break;
      case 'X': body = BigInt.asUintN(bits, asBig()).toString(16).toUpperCase(); break;
      case 'o': body = BigInt.asUintN(bits, asBig()).toString(8); break;
      case 'p': body = BigInt.asUintN(64, asBig()).toString(16); break;
      case 'c': body = typeof arg === 'string' ? arg.slice(0, 1) : String.fromCharCode(Number(asBig() & 0xffn)); break;
      default: body = arg === undefined ? '(null)' : String(arg); if (precision !== undefined) body = body.slice(0, Number(precision));
    }
    if (flags.includes('#') && (conv === 'x' || conv === 'X') && body !== '0') body = (conv === 'x' ? '0x' : '0X') + body;
    if (flags.includes('+') && (conv === 'd' || conv === 'i') && !body.startsWith('-')) body = `+${body}`;
    const w = width === undefined ? 0 : Number(width);
    if (body.length < w) {
      if (flags.includes('-')) body = body.padEnd(w);
      else if (flags.includes('0') && conv !== 's' && conv !== 'c') {
        const sign = /^[-+]/.test(body) ? body.slice(0, 1) : '';
        body = sign + body.slice(sign.length).padStart(w - sign.length, '0');
      } else body = body.padStart(w);
    }
    return body;
  });
}

const PREFIX: Record<number, string> = { [CE_CONT]: '', [CE_NOTE]: 'NOTICE: ', [CE_WARN]: 'WARNING: ', [CE_PANIC]: 'panic: ' };

function emit(dip: dev_info_t | null, level: number, fmt: string, args: readonly unknown[]): void {
  if (level === CE_IGNORE || !(level in PREFIX)) return;
  let text = typeof fmt === 'string' ? fmt : String(fmt);
  let destination: DdiLogRecord['destination'] = 'both';
  const lead = text[0];
  if (lead === '!' || lead === '^' || lead === '?') {
    destination = lead === '!' ? 'log' : lead === '^' ? 'console' : 'verbose';
    text = text.slice(1);
  }
  const prefix = dip === null ? '' : `${ddi_driver_name(dip)}${ddi_get_instance(dip)}: `;
  const message = prefix + ddi_format(text, args);
  const line = (PREFIX[level] as string) + message;
  logger({ level, message, text: line, destination, dip });
  if (level === CE_PANIC) {
    throw Object.assign(new Error(line), { code: 'DDI_PANIC' });
  }
}

/** cmn_err(9F): CE_CONT, CE_NOTE, CE_WARN, CE_PANIC (throws, see above); CE_IGNORE and others: nothing. */
export function cmn_err(level: number, fmt: string, ...args: unknown[]): void {
  emit(null, level, fmt, args);
}

/** dev_err(9F): cmn_err with "<driver><instance>: " in front. A dip that is not one: no prefix. */
export function dev_err(dip: dev_info_t | null, level: number, fmt: string, ...args: unknown[]): void {
  emit(isDevInfo(dip) ? dip : null, level, fmt, args);
}
