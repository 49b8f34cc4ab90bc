// A service's output is one JSON object per line: Node's own warnings go through the logger too.
import assert from 'node:assert/strict';
import { createJsonLogger, logProcessWarnings } from '../../infra/log';

describe('process warnings', () => {
  const saved = process.listeners('warning');
  after(() => {
    process.removeAllListeners('warning');
    for (const listener of saved) process.on('warning', listener);
  });

  it('become JSON log lines instead of plain text on stderr', async () => {
    const lines: string[] = [];
    logProcessWarnings(createJsonLogger('bridge', { write: (l) => lines.push(l) }));
    process.emitWarning('-5 is a negative number.', 'TimeoutNegativeWarning');
    await new Promise((r) => setImmediate(r));
    assert.equal(process.listenerCount('warning'), 1);
    const line = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    assert.equal(line.level, 'warn');
    assert.equal(line.warning, 'TimeoutNegativeWarning');
    assert.match(String(line.message), /TimeoutNegativeWarning: -5 is a negative number/);
  });
});
