// Bulk reading with COPY TO STDOUT (text format): rows arrive as a stream, so memory stays flat whatever the
// table's size. The caller chooses columns that need no unescaping (numbers, hex).
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

/** Calls `onRow` with each row's cells, in the order COPY sends them; awaits `onChunk` between chunks. */
export async function copyOut(
  client: pg.ClientBase,
  sql: string,
  onRow: (cells: string[]) => void,
  onChunk: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  const stream = client.query(copyTo(sql));
  let rest = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = rest + chunk.toString('latin1');
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      onRow(text.slice(start, nl).split('\t'));
      start = nl + 1;
    }
    rest = text.slice(start);
    await onChunk();
  }
  if (rest !== '') throw new Error(`COPY output ended inside a row: ${rest.slice(0, 40)}`);
}
