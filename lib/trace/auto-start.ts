/**
 * Imported first into the node processes of `vfio-ddk trace -o FILE -- command` (the verb puts
 * `--import` of this file in NODE_OPTIONS and FILE in VFIO_DDK_TRACE): starts a lazy recorder in the
 * main thread, so of all the node processes the command starts, the one that opens a device or calls
 * a kit writes FILE (recorder.ts). Nothing happens without the variable, or in a Worker.
 */
import { isMainThread } from 'node:worker_threads';
import { currentTracer } from '../pci/trace-hook.ts';
import { startTrace, TRACE_ENV } from './session.ts';

const path = process.env[TRACE_ENV];
if (path !== undefined && path !== '' && isMainThread && currentTracer() === null) startTrace(path, { lazy: true });
