// Reads a replay file for the simulator: either the shared sample (`{"messages": [{"raw": "…"}, …]}`) or one
// JSON string per line, each the exact value to publish.
export function parseReplayFile(text: string): string[] {
  if (text.trimStart().startsWith('{')) {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      document = undefined;
    }
    const messages = (document as { messages?: unknown } | undefined)?.messages;
    if (Array.isArray(messages)) {
      return messages.map((m: unknown, i) => {
        const raw = (m as { raw?: unknown } | null)?.raw;
        if (typeof raw !== 'string') throw new Error(`messages[${i}].raw is not a string`);
        return raw;
      });
    }
  }
  const values: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    if (typeof value !== 'string') {
      throw new Error(`line ${i + 1}: expected a JSON string (the value to publish, quoted)`);
    }
    values.push(value);
  });
  return values;
}
