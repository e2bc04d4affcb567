/**
 * Runs inputs for the spec fuzzer in a worker thread, so that the runner can bound each input's
 * time (terminating the worker) and memory (the worker's heap limit).
 */
import { parentPort } from 'node:worker_threads';
import type { SpecFormat } from '../../ts/types';
import { checkInput, decode, PropertyViolation } from './property';

export interface Request {
  id: number;
  bytes: Uint8Array;
  format: SpecFormat;
}

export type Response =
  | { id: number; ok: true; result: string; features: string[]; ms: number }
  | { id: number; ok: false; violation: string; ms: number };

function describe(error: unknown): string {
  if (!(error instanceof Error)) return `a thrown ${typeof error}: ${String(error)}`;
  const cause = error.cause instanceof Error ? `\ncaused by: ${error.cause.stack ?? error.cause.message}` : '';
  const head = error instanceof PropertyViolation ? error.message : error.stack ?? error.message;
  return `${head}${cause}`;
}

parentPort!.on('message', (request: Request) => {
  const started = performance.now();
  let response: Response;
  try {
    const outcome = checkInput(decode(request.bytes), request.format);
    response = { id: request.id, ok: true, result: outcome.result, features: outcome.features, ms: performance.now() - started };
  } catch (error) {
    response = { id: request.id, ok: false, violation: describe(error), ms: performance.now() - started };
  }
  parentPort!.postMessage(response);
});
