// From figures to a finished document in the chosen format. JSON carries the figures and the derived answers
// (numbers, not display strings) for other programs; text and HTML lay out the same sections.
import { deriveAnswers } from './answers';
import type { ReportData } from './data';
import { DEFINITIONS } from './definitions';
import { formatHtml } from './format-html';
import { formatText } from './format-text';
import { describeRange } from './range';
import { buildSections } from './sections';

export const REPORT_FORMATS = ['text', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportHeader {
  title: string;
  subtitle: string;
  dataLine: string;
}

export function reportHeader(data: ReportData): ReportHeader {
  const o = data.overview;
  const span =
    o.firstLocal === null || o.lastLocal === null
      ? 'no interactions'
      : `from ${o.firstLocal} to ${o.lastLocal} (Europe/London)`;
  return {
    title: 'LMNH kiosk report',
    subtitle: `Period: ${describeRange(data.range)}. Generated ${data.generatedAt}.`,
    dataLine: `Data: ${o.ratings} ratings and ${o.requests} requests over ${o.days} day(s), ${span}.`,
  };
}

export function renderReport(data: ReportData, format: ReportFormat): string {
  const answers = deriveAnswers(data);
  if (format === 'json') {
    const doc = {
      range: { from: data.range.from ?? null, to: data.range.to ?? null },
      generatedAt: data.generatedAt,
      definitions: DEFINITIONS,
      overview: data.overview,
      answers,
      figures: {
        exhibitions: data.exhibitions,
        floors: data.floors,
        departments: data.departments,
        hours: data.hours,
      },
    };
    return `${JSON.stringify(doc, null, 2)}\n`;
  }
  const header = reportHeader(data);
  const sections = buildSections(answers);
  return format === 'html' ? formatHtml(header, sections) : formatText(header, sections);
}
