// Loaded by mocha before any test: the SDK's INFO lines (bundle stats, worker state) drown test output.
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({
  logger: new DefaultLogger((process.env.TEST_LOG_LEVEL as 'WARN' | 'ERROR' | undefined) ?? 'ERROR'),
});
