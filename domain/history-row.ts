// Judges each line of a history CSV: the header, then one verdict per data line. A file whose first line is
// not the exact header has no trustworthy columns, so every one of its lines is MALFORMED (and kept).
import { HISTORY_HEADER, splitCsvLine, type SourceLine } from './csv-lines';
import type { RuleContext, Verdict } from './interaction';
import { validateCsvRecord } from './csv-record';

export type LineOutcome = { header: true } | ({ header: false } & Verdict);

const BOM = '\uFEFF';
const MALFORMED: LineOutcome = { header: false, valid: false, reasons: ['MALFORMED'] };

export class HistoryFileJudge {
  private headerOk = false;

  constructor(private readonly ctx: RuleContext) {}

  judge(src: SourceLine): LineOutcome {
    return this.judgeLine(src.line, src.raw, 0, src.raw.length, src.fullLength);
  }

  /**
   * The same for a line given as `buf[start, end)` (see LineSplitter), without copying its bytes. A line kept
   * only in part (`fullLength` set: longer than any row of this format) is MALFORMED.
   */
  judgeLine(line: number, buf: Buffer, start: number, end: number, fullLength?: number): LineOutcome {
    if (fullLength !== undefined) {
      if (line === 1) this.headerOk = false;
      return MALFORMED;
    }
    const text = buf.toString('utf8', start, end);
    if (line === 1) {
      this.headerOk = (text.startsWith(BOM) ? text.slice(1) : text) === HISTORY_HEADER;
      if (this.headerOk) return { header: true };
    }
    if (!this.headerOk) return MALFORMED;
    const fields = splitCsvLine(text);
    if (fields === null || fields.length !== 4) return MALFORMED;
    const [at, site, val, type] = fields as [string, string, string, string];
    return { header: false, ...validateCsvRecord({ at, site, val, type }, this.ctx) };
  }
}
