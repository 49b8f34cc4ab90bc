// The batch's retry policy: infrastructure faults are retried with backoff; a missing source is final.
export const batchRetry = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 12,
  nonRetryableErrorTypes: ['SourceMissing'],
};
