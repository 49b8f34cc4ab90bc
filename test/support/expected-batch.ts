// The rows a clean batch run must leave, computed in the test from the input files with a plain reading of
// SPEC 3 (the validation rules are unit-tested on their own): the database is compared with this.
import type { Knex } from 'knex';
import { validateCsvRecord } from '../../domain/validation';

export interface ExpectedRow {
  uri: string;
  line: number;
  site: number;
  value: number;
  eventAt: string;
}
export interface ExpectedReject {
  uri: string;
  line: number;
  reasons: string[];
  raw: string;
}
export interface Expected {
  ratings: ExpectedRow[];
  requests: ExpectedRow[];
  rejects: ExpectedReject[];
}

/** `files` in key order: the batch loads objects in that order, so the first of two duplicates wins. */
export function expectedFromFiles(
  files: { uri: string; text: string }[],
  knownSites: ReadonlySet<number>,
  now = new Date(),
): Expected {
  const out: Expected = { ratings: [], requests: [], rejects: [] };
  const seen = new Set<string>();
  for (const { uri, text } of files) {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const headerOk = lines[0]?.replace(/\r$/, '') === 'at,site,val,type';
    lines.forEach((rawLine, index) => {
      const raw = rawLine.replace(/\r$/, '');
      const line = index + 1;
      if (line === 1 && headerOk) return;
      const fields = raw.split(',');
      if (!headerOk || fields.length !== 4) {
        out.rejects.push({ uri, line, reasons: ['MALFORMED'], raw });
        return;
      }
      const [at, site, val, type] = fields as [string, string, string, string];
      const verdict = validateCsvRecord({ at, site, val, type }, { knownSites, now });
      if (!verdict.valid) {
        out.rejects.push({ uri, line, reasons: verdict.reasons, raw });
        return;
      }
      const i = verdict.interaction;
      const key = `${i.site}|${i.kind}|${i.value}|${i.eventAt.toISOString()}`;
      if (seen.has(key)) {
        out.rejects.push({ uri, line, reasons: ['DUPLICATE'], raw });
        return;
      }
      seen.add(key);
      const row = { uri, line, site: i.site, value: i.value, eventAt: i.eventAt.toISOString() };
      (i.kind === 'rating' ? out.ratings : out.requests).push(row);
    });
  }
  const byKey = (a: { uri: string; line: number }, b: { uri: string; line: number }) =>
    a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : a.line - b.line;
  out.ratings.sort(byKey);
  out.requests.sort(byKey);
  out.rejects.sort(byKey);
  return out;
}

/** What the database holds from batch sources, in the same shape and order. */
export async function actualBatchRows(knex: Knex): Promise<Expected> {
  const rows = (table: string, valueColumn: string) =>
    knex.raw<{ rows: { uri: string; line: number; site: number; value: number; event_at: Date }[] }>(
      `select t.source_object as uri, t.source_line as line, e.site, t.${valueColumn} as value, t.event_at
       from ${table} t join exhibition e using (exhibition_id)
       where t.source_object is not null order by t.source_object collate "C", t.source_line`,
    );
  const toRow = (r: {
    uri: string;
    line: number;
    site: number;
    value: number;
    event_at: Date;
  }): ExpectedRow => ({
    uri: r.uri,
    line: r.line,
    site: r.site,
    value: r.value,
    eventAt: r.event_at.toISOString(),
  });
  const ratings = (await rows('rating_interaction', 'rating_value')).rows.map(toRow);
  const requests = (await rows('request_interaction', 'request_value')).rows.map(toRow);
  const rejects = await knex.raw<{ rows: { uri: string; line: number; reasons: string[]; raw: Buffer }[] }>(
    `select source_object as uri, source_line as line, reasons, raw from rejected_interaction
     where source_object is not null order by source_object collate "C", source_line`,
  );
  return {
    ratings,
    requests,
    rejects: rejects.rows.map((r) => ({
      uri: r.uri,
      line: r.line,
      reasons: r.reasons,
      raw: r.raw.toString('utf8'),
    })),
  };
}
