// Heartbeats on a timer for long activities. A timer, not every N records: a slow source or a long wait on
// PostgreSQL still beats, so a dead worker is noticed in seconds; and the server delivers a cancel only in a
// heartbeat's answer, so beating is also how an activity learns it must stop.
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';

/**
 * Beats every `everyMs` with `details()` until the returned function is called. `onCancel` runs once when
 * the activity is cancelled, with a CancelledFailure to stop the work with (e.g. destroy the stream read).
 */
export function beatEvery(
  ctx: Context,
  details: () => unknown,
  onCancel?: (failure: CancelledFailure) => void,
  everyMs = 1000,
): () => void {
  const timer = setInterval(() => ctx.heartbeat(details()), everyMs);
  const signal = ctx.cancellationSignal;
  const abort = () => onCancel?.(new CancelledFailure('activity cancelled'));
  if (signal.aborted) abort();
  else signal.addEventListener('abort', abort, { once: true });
  return () => {
    clearInterval(timer);
    signal.removeEventListener('abort', abort);
  };
}

/** Runs `fn` while beating with fixed `details` (for long SQL statements, which send no progress). */
export async function whileBeating<T>(ctx: Context, details: unknown, fn: () => Promise<T>): Promise<T> {
  const stop = beatEvery(ctx, () => details, undefined, 2000);
  try {
    return await fn();
  } finally {
    stop();
  }
}
