// Everything the report needs from the database, fetched in one go: the raw figures, before any answer is
// derived from them (answers.ts) or presented (sections.ts).
import type { Knex } from 'knex';
import {
  exhibitionFigures,
  groupFigures,
  hourFigures,
  overview,
  type ExhibitionFigures,
  type GroupFigures,
  type HourFigures,
  type Overview,
} from './queries';
import type { DateRange } from './range';

export interface ReportData {
  range: DateRange;
  /** When the figures were read, ISO-8601 UTC. */
  generatedAt: string;
  overview: Overview;
  exhibitions: ExhibitionFigures[];
  floors: GroupFigures[];
  departments: GroupFigures[];
  hours: HourFigures[];
}

export async function loadReportData(knex: Knex, range: DateRange, now = new Date()): Promise<ReportData> {
  // One snapshot: a repeatable-read transaction, so a stream row arriving mid-report cannot make one table
  // disagree with another. Read-only, so it never blocks the loaders.
  return knex.transaction(
    async (trx) => {
      const [ov, exhibitions, floors, departments, hours] = [
        await overview(trx, range),
        await exhibitionFigures(trx, range),
        await groupFigures(trx, range, 'floor'),
        await groupFigures(trx, range, 'department'),
        await hourFigures(trx, range),
      ];
      return {
        range,
        generatedAt: now.toISOString(),
        overview: ov,
        exhibitions,
        floors,
        departments,
        hours,
      };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}
