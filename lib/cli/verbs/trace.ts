/**
 * `vfio-ddk trace`: record what a driver does to its devices, replay it, draw it (lib/trace).
 *
 *   vfio-ddk trace -o FILE.json [--plot FILE.svg] [--json] -- command…   record, then summarize
 *   vfio-ddk trace -i FILE.json [--plot FILE.svg] [--json]                 summarize a recording
 *   vfio-ddk trace --replay FILE.json [--slack MS] [--json]                replay against the emulation
 *
 * Recording runs the command (trace-child.ts) and afterwards ends the file if the command was killed
 * before it could (repairTraceFile), prints the summary and exits with the command's status (128 + the
 * signal's number when a signal ended it: 130 for Ctrl-C). Replay exits 0 when the model did what the
 * device did, 1 at the first difference. Every mistake in the command line — no mode, a missing
 * command or -o, an output that cannot be written (checked before anything runs), a file that is not
 * a trace — is one line and exit 2.
 */
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { DdkError } from '../../errors.ts';
import { DEFAULT_REPLAY_SLACK_MS, renderTraceSvg, replayTrace, repairTraceFile, summarizeTrace, TRACE_ENV } from '../../trace/index.ts';
import { JSON_OPTION, numberOption } from '../args.ts';
import type { ParsedArgs } from '../args.ts';
import type { CliContext } from '../context.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../exit-codes.ts';
import { printJson } from '../output.ts';
import { outputPathProblem, svgPlotName } from '../output-path.ts';
import { runTracedCommand, traceNodeOptions } from '../trace-child.ts';
import { formatReplay, formatTraceSummary } from '../trace-report.ts';
import type { Verb } from '../verb.ts';

const MAX_SLACK_MS = 3_600_000;

function stringOption(args: ParsedArgs, name: string): string | null {
  const raw = args.values[name];
  if (raw === undefined) return null;
  if (typeof raw !== 'string' || raw.trim() === '') throw new UsageError(`--${name} needs a file name`);
  return raw;
}

/** A file this verb will write: its folder must exist and be writable, checked before anything runs. */
function writable(option: string, path: string): string {
  const problem = outputPathProblem(path);
  if (problem !== null) throw new UsageError(`${option} ${path}: ${problem.message}`);
  return path;
}

/** A recording to read: the reader's "not a trace" is a usage mistake (exit 2); a missing file exit 3. */
function asUsage(err: unknown): unknown {
  if (err instanceof DdkError && err.code === 'ERR_NOT_A_TRACE') return new UsageError(err.message);
  return err;
}

function plotInto(plot: string | null, trace: string, ctx: CliContext): void {
  if (plot === null) return;
  writeFileSync(plot, renderTraceSvg(trace));
  ctx.stderr(`vfio-ddk trace: timeline → ${plot}\n`);
}

function report(trace: string, plot: string | null, json: boolean, ctx: CliContext): void {
  const summary = summarizeTrace(trace);
  if (json) printJson(ctx, { ok: true, file: trace, summary });
  else ctx.stdout(formatTraceSummary(trace, summary));
  plotInto(plot, trace, ctx);
}

async function record(output: string, command: readonly string[], plot: string | null, json: boolean, ctx: CliContext): Promise<number> {
  const file = resolve(writable('-o', output));
  // The command's recorder claims the file by creating it (recorder.ts): an old one goes first.
  if (existsSync(file)) unlinkSync(file);
  const outcome = await runTracedCommand(command, { [TRACE_ENV]: file, NODE_OPTIONS: traceNodeOptions(process.env['NODE_OPTIONS']) });
  const status = outcome.signal !== null ? 128 + (constants.signals[outcome.signal] ?? 0) : outcome.code ?? EXIT_FAILURE;
  const how = outcome.signal !== null ? `was ended by ${outcome.signal}` : `exited with status ${String(outcome.code)}`;
  if (!existsSync(file)) {
    ctx.stderr(`vfio-ddk trace: nothing was recorded — the command ${how} without a node process of it opening a device or calling a kit`
      + ' (the recording happens in the node processes the command starts, through vfio-ddk)\n');
    return status === EXIT_OK ? EXIT_FAILURE : status;
  }
  if (repairTraceFile(file)) ctx.stderr(`vfio-ddk trace: the command ${how} before it closed ${output}; its last events were kept and the file ended\n`);
  else if (status !== EXIT_OK) ctx.stderr(`vfio-ddk trace: the command ${how}\n`);
  report(file, plot, json, ctx);
  return status;
}

async function replay(trace: string, args: ParsedArgs, json: boolean, ctx: CliContext): Promise<number> {
  const slackMs = numberOption(args, 'slack', DEFAULT_REPLAY_SLACK_MS, 0, MAX_SLACK_MS);
  let result;
  try {
    result = await replayTrace(trace, { slackMs });
  } catch (err) {
    throw asUsage(err);
  }
  if (json) printJson(ctx, { ok: result.equal, file: trace, ...result });
  else ctx.stdout(formatReplay(trace, result));
  return result.equal ? EXIT_OK : EXIT_FAILURE;
}

export const traceVerb: Verb = {
  spec: {
    name: 'trace',
    summary: 'Record device accesses, interrupts and kit calls of a command; replay or draw a recording.',
    positionals: ['[-- command…]'],
    options: {
      output: { type: 'string', short: 'o', valueName: 'FILE.json', description: 'run the command after -- and record it into FILE (Chrome / Perfetto trace-event JSON)' },
      input: { type: 'string', short: 'i', valueName: 'FILE.json', description: 'summarize a recording (with --plot: draw it)' },
      replay: { type: 'string', valueName: 'FILE.json', description: 'replay a recording against the emulated model of its device: exit 0 equal, 1 different' },
      plot: { type: 'string', valueName: 'FILE.svg', description: 'draw the recording as a timeline (with -o or -i)' },
      slack: { type: 'string', valueName: 'MS', description: `replay: how long past an event's recorded time to wait for the model (default ${DEFAULT_REPLAY_SLACK_MS})` },
      json: JSON_OPTION,
    },
    details: [
      'Recording: every config and BAR access, DMA map/unmap (with the host memory the device could read),',
      'interrupt attach, fire, delivery and mask, and zx_* / ddi_* call of the node processes the command',
      'starts (VFIO_DDK_TRACE and NODE_OPTIONS are set for them), one track per device, BAR, vector and kit.',
      'Open the file in ui.perfetto.dev or chrome://tracing. The summary lists accesses per register,',
      'interrupt rates and raise → delivery latencies, and kit calls. Exit status: the command\'s (130 after Ctrl-C).',
      'Replay: the recorded writes against lib/emu\'s model of the device (edu, NVMe, test device); the first',
      'read or interrupt that differs is reported with its event, time, register and both values.',
      'Examples: vfio-ddk trace -o edu.json --plot edu.svg -- vfio-ddk demo',
      '          vfio-ddk trace --replay edu.json',
    ].join('\n'),
  },
  async run(args: ParsedArgs, ctx: CliContext): Promise<number> {
    const output = stringOption(args, 'output');
    const input = stringOption(args, 'input');
    const replayFile = stringOption(args, 'replay');
    const json = args.values['json'] === true;
    const modes = [output, input, replayFile].filter((m) => m !== null).length;
    const command = args.positionals;
    if (modes === 0) {
      if (command.length > 0) throw new UsageError('missing -o FILE: vfio-ddk trace -o FILE.json -- command… records the command into FILE');
      throw new UsageError('nothing to do: -o FILE.json -- command… records, -i FILE.json summarizes, --replay FILE.json replays');
    }
    if (modes > 1) throw new UsageError('-o, -i and --replay are separate things to do: give one of them');
    if (output === null && command.length > 0) throw new UsageError(`a command is only run with -o (got ${JSON.stringify(command.join(' '))})`);
    if (args.values['slack'] !== undefined && replayFile === null) throw new UsageError('--slack only applies to --replay');
    const plotRaw = stringOption(args, 'plot');
    if (plotRaw !== null) svgPlotName(plotRaw);
    if (plotRaw !== null && replayFile !== null) throw new UsageError('--plot draws a recording: use it with -o or -i, not --replay');
    const plot = plotRaw === null ? null : writable('--plot', plotRaw);
    if (replayFile !== null) return replay(replayFile, args, json, ctx);
    if (input !== null) {
      try {
        report(input, plot, json, ctx);
      } catch (err) {
        throw asUsage(err);
      }
      return EXIT_OK;
    }
    if (command.length === 0 || (command[0] ?? '') === '') throw new UsageError('-o needs the command to record after --: vfio-ddk trace -o FILE.json -- node driver.mjs');
    return record(output as string, command, plot, json, ctx);
  },
};
