/**
 * `vfio-ddk/trace`: recording what a driver does to its devices — every config and BAR access, DMA
 * mapping, interrupt fire, delivery and mask, and kit call — into a Chrome / Perfetto trace-event
 * file (format.ts), and reading one back: a summary (accesses per register, interrupt rates and
 * latencies, kit calls), a replay against the emulated model of the device, an SVG timeline.
 * `vfio-ddk trace` is the command-line face of this module.
 */
export { startTrace, stopTrace, TRACE_ENV } from './session.ts';
export { TraceRecorder, type RecorderOptions } from './recorder.ts';
export { forEachTraceEvent, readTrace, TraceMetadata, type TraceContent } from './reader.ts';
export { repairTraceFile } from './writer.ts';
export {
  latencyStats, summarizeTrace, type DeviceSummary, type InterruptStats, type KitCallStats, type LatencyStats, type RegisterCount, type TraceSummary,
} from './summary.ts';
export {
  DEFAULT_REPLAY_SLACK_MS, replayTrace, type ReplayDifference, type ReplayedDevice, type ReplayOptions, type ReplayResult,
} from './replay.ts';
export { renderTraceSvg } from './plot.ts';
export {
  CAT, DEVICE_META, KITS_PID, TID, TRACE_FORMAT, TRACE_FORMAT_VERSION, TRACE_META, type DeviceInfo, type TraceEvent, type TraceInfo,
} from './format.ts';
