// The report as one self-contained HTML file: inline CSS, charts as inline SVG, no script and no external
// reference, so it opens offline, prints, and survives being e-mailed.
import { renderSvg } from './charts';
import { DEFINITIONS } from './definitions';
import { escapeHtml } from './html';
import type { ReportHeader } from './render';
import type { Block, Section, Table } from './sections';

export const REPORT_CSS = `
  :root { color-scheme: light; --ink: #222; --muted: #666; --rule: #ddd; --accent: #17375e; }
  * { box-sizing: border-box; }
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: var(--ink);
         margin: 0 auto; max-width: 1240px; padding: 24px; }
  h1 { color: var(--accent); margin: 0 0 4px; }
  h2 { border-top: 2px solid var(--rule); padding-top: 18px; margin-top: 32px; }
  h3 { margin: 16px 0 8px; font-size: 16px; }
  .meta { color: var(--muted); margin: 2px 0; }
  .answer { font-size: 17px; background: #f3f6fa; border-left: 4px solid var(--accent); padding: 8px 12px; }
  .block { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; margin: 12px 0; }
  .block > .table { flex: 1 1 420px; overflow-x: auto; }
  .block > .table.wide { flex-basis: 100%; }
  .block > figure { flex: 1 1 520px; max-width: 760px; margin: 0; }
  figure svg { width: 100%; height: auto; }
  table { border-collapse: collapse; font-variant-numeric: tabular-nums; width: 100%; }
  th, td { padding: 4px 10px; border-bottom: 1px solid var(--rule); text-align: left; white-space: nowrap; }
  th { background: #f6f6f6; font-weight: 600; }
  td.num, th.num { text-align: right; }
  nav ol { columns: 2; color: var(--accent); }
  nav a { color: inherit; }
  footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
  @media print { .block { break-inside: avoid; } }
`;

const WIDE_TABLE_COLUMNS = 4;

export function htmlTable(table: Table): string {
  const cls = (numeric?: boolean) => (numeric ? ' class="num"' : '');
  const head = table.columns
    .map((c) => `<th scope="col"${cls(c.numeric)}>${escapeHtml(c.label)}</th>`)
    .join('');
  const body = table.rows
    .map(
      (row) =>
        `<tr>${row.map((v, i) => `<td${cls(table.columns[i]?.numeric)}>${escapeHtml(v)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function htmlBlock(block: Block): string {
  const caption = block.caption ? `<h3>${escapeHtml(block.caption)}</h3>` : '';
  const chart = block.chart
    ? `<figure>${renderSvg(block.chart.option, block.chart.description, block.chart.size)}</figure>`
    : '';
  // A table of many columns takes the whole row and its chart goes below, rather than both being squeezed.
  const wide = block.table.columns.length > WIDE_TABLE_COLUMNS ? ' wide' : '';
  return `${caption}<div class="block"><div class="table${wide}">${htmlTable(block.table)}</div>${chart}</div>`;
}

export function formatHtml(header: ReportHeader, sections: Section[]): string {
  const toc = sections.map((s) => `<li><a href="#${s.id}">${escapeHtml(s.title)}</a></li>`).join('');
  const body = sections
    .map(
      (s) =>
        `<section id="${s.id}"><h2>${escapeHtml(s.title)}</h2>` +
        `<p class="answer">${escapeHtml(s.answer)}</p>${s.blocks.map(htmlBlock).join('\n')}</section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(header.title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header><h1>${escapeHtml(header.title)}</h1>
<p class="meta">${escapeHtml(header.subtitle)}</p>
<p class="meta">${escapeHtml(header.dataLine)}</p></header>
<nav><ol>${toc}</ol></nav>
${body}
<footer><h3>Definitions</h3><ul>${DEFINITIONS.map((d) => `<li>${escapeHtml(d)}</li>`).join('')}</ul></footer>
</body>
</html>
`;
}
