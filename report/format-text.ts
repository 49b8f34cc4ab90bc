// The report as plain text for a terminal or an e-mail: each question, its answer, aligned tables.
import { DEFINITIONS } from './definitions';
import type { ReportHeader } from './render';
import type { Section, Table } from './sections';

export function formatTable(table: Table, indent = '  '): string {
  const widths = table.columns.map((c, i) =>
    Math.max([...c.label].length, ...table.rows.map((r) => [...(r[i] ?? '')].length)),
  );
  const cell = (text: string, i: number) => {
    const pad = ' '.repeat(Math.max(0, (widths[i] ?? 0) - [...text].length));
    return table.columns[i]?.numeric ? pad + text : text + pad;
  };
  const line = (cells: string[]) => indent + cells.map(cell).join('  ').trimEnd();
  return [
    line(table.columns.map((c) => c.label)),
    line(widths.map((w) => '-'.repeat(w))),
    ...table.rows.map(line),
  ].join('\n');
}

export function formatText(header: ReportHeader, sections: Section[]): string {
  const out: string[] = [`${header.title}`, `${header.subtitle}`, `${header.dataLine}`, ''];
  sections.forEach((s, n) => {
    out.push(`${n + 1}. ${s.title}`, `  ${s.answer}`, '');
    for (const block of s.blocks) {
      if (block.caption) out.push(`  ${block.caption}:`);
      out.push(formatTable(block.table), '');
    }
  });
  out.push('Definitions:', ...DEFINITIONS.map((d) => `  - ${d}`), '');
  return out.join('\n');
}
