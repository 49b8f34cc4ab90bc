// Databases loaded before 20261130000200 registered in batch_press only the presses accepted then, and those
// were judged "the object loaded first wins", not SPEC 3's lowest (object key, line). This registers every
// valid batch line the older releases left as a DUPLICATE reject (its raw bytes and source are in the rejects
// table; its key is read back from the raw line with the shared rules) and judges each key it touches again:
// the lowest line of the key is accepted, the holder it replaces becomes a DUPLICATE reject, and their
// objects' counts follow. A holder moved in by 20261130000200 has no raw bytes, so it cannot become a
// reject here: then the migration refuses, changes nothing, and names the objects to reprocess first (a
// reprocess registers their lines with raw bytes), after which it runs again. Idempotent: a database with
// nothing unregistered is left as it is.
import type { Knex } from 'knex';
import { splitCsvLine } from '../domain/csv-lines';
import { validateCsvRecord } from '../domain/csv-record';

// Frozen here, like every migration: batch/partitions.ts and batch/interaction-kinds.ts hold the same.
const BATCH_WRITE_LOCK = `select pg_advisory_xact_lock(hashtextextended('kiosk-pipeline batch load', 0))`;
const KINDS = [
  { code: 0, parent: 'rating_interaction', value: 'rating_value' },
  { code: 1, parent: 'request_interaction', value: 'request_value' },
];
// Rejects read per query while registering.
const PAGE = 10_000;
const C = 'collate "C"';

interface Unregistered {
  id: number;
  source_object: string;
  raw: Buffer;
}

/** The key of a DUPLICATE reject's line under today's rules, or undefined when they no longer accept it. */
function keyOf(r: Unregistered, sites: Map<number, number>, now: Date) {
  const fields = splitCsvLine(r.raw.toString('utf8'));
  if (fields === null || fields.length !== 4) return undefined;
  const [at, site, val, type] = fields as [string, string, string, string];
  const verdict = validateCsvRecord({ at, site, val, type }, { knownSites: new Set(sites.keys()), now });
  if (!verdict.valid) return undefined;
  const { kind, value, eventAt } = verdict.interaction;
  return {
    id: r.id,
    k: kind === 'rating' ? 0 : 1,
    e: sites.get(verdict.interaction.site)!,
    v: value,
    at: eventAt.toISOString(),
  };
}

/** Registers the unregistered DUPLICATE lines (temp table `upgraded`); returns objects whose lines it could not read. */
async function registerDuplicates(knex: Knex): Promise<Set<string>> {
  const catalogue = await knex.raw<{ rows: { site: number; exhibition_id: number }[] }>(
    'select site, exhibition_id from exhibition',
  );
  const sites = new Map(catalogue.rows.map((r) => [r.site, r.exhibition_id]));
  const now = new Date();
  const unreadable = new Set<string>();
  await knex.raw(`create temp table upgraded (
      kind smallint, exhibition_id smallint, event_at timestamptz, value smallint,
      source_object text, source_line integer, raw bytea) on commit drop`);
  for (let after = 0; ;) {
    const page = await knex.raw<{ rows: Unregistered[] }>(
      `select r.rejected_interaction_id as id, r.source_object, r.raw from rejected_interaction r
       where r.rejected_interaction_id > ? and r.source_object is not null and r.reasons = '{DUPLICATE}'
         and not exists (select 1 from batch_press b
                         where b.source_object = r.source_object and b.source_line = r.source_line)
       order by r.rejected_interaction_id limit ?`,
      [after, PAGE],
    );
    if (page.rows.length === 0) return unreadable;
    after = Number(page.rows[page.rows.length - 1]!.id);
    const keys = page.rows.flatMap((r) => {
      const key = keyOf(r, sites, now);
      if (key === undefined) unreadable.add(r.source_object);
      return key === undefined ? [] : [key];
    });
    await knex.raw(
      `insert into upgraded
       select t.k, t.e, t.at, t.v, r.source_object, r.source_line, r.raw
       from json_to_recordset(?::json) as t(id bigint, k smallint, e smallint, v smallint, at timestamptz)
       join rejected_interaction r on r.rejected_interaction_id = t.id`,
      [JSON.stringify(keys)],
    );
  }
}

export async function up(knex: Knex): Promise<void> {
  // Loads of a release still running wait: the keys are judged against a registry nobody else changes.
  await knex.raw(BATCH_WRITE_LOCK);
  const unreadable = await registerDuplicates(knex);
  await knex.raw(`insert into batch_press (kind, exhibition_id, event_at, value, source_object, source_line, raw)
    select kind, exhibition_id, event_at, value, source_object, source_line, raw from upgraded`);
  // Each key touched: its lowest registered line, and its accepted row now (if any).
  await knex.raw(`create temp table judged on commit drop as
    select k.kind, k.exhibition_id, k.event_at, k.value, w.source_object as winner_object,
      w.source_line as winner_line, null::text as holder_object, null::integer as holder_line
    from (select distinct kind, exhibition_id, event_at, value from upgraded) k
    cross join lateral (
      select b.source_object, b.source_line from batch_press b
      where b.kind = k.kind and b.exhibition_id = k.exhibition_id and b.event_at = k.event_at and b.value = k.value
      order by b.source_object ${C}, b.source_line limit 1) w`);
  for (const { code, parent, value } of KINDS) {
    await knex.raw(`update judged j set holder_object = t.source_object, holder_line = t.source_line
      from ${parent} t
      where j.kind = ${code} and t.exhibition_id = j.exhibition_id and t.event_at = j.event_at
        and t.${value} = j.value and t.source_object is not null`);
  }
  await knex.raw(`delete from judged
    where holder_object is not distinct from winner_object and holder_line is not distinct from winner_line`);
  const rawless = await knex.raw<{ rows: { o: string }[] }>(
    // A holder the registry lacks has no raw bytes either: it too waits for its object's reprocess.
    `select distinct j.holder_object as o from judged j left join batch_press b
       on b.source_object = j.holder_object and b.source_line = j.holder_line
     where j.holder_object is not null and b.raw is null order by 1`,
  );
  const toReprocess = [...new Set([...rawless.rows.map((r) => r.o), ...unreadable])].sort();
  if (toReprocess.length > 0) {
    throw new Error(
      `migration 20261207000100_batch_press_every_line: ${toReprocess.length} objects loaded by a release ` +
        `before 20261130000200 must be judged again with their raw lines (the lowest object key wins a press ` +
        `they hold, or their DUPLICATE lines no longer read as valid). Nothing was changed. Reprocess them ` +
        `with the workers running now, then migrate again: kiosk batch reprocess --wait --key ` +
        toReprocess.join(' '),
    );
  }
  await knex.raw('create temp table flipped (source_object text, delta integer) on commit drop');
  for (const { code, parent, value } of KINDS) {
    // The holder first: the accepted row of a key is unique (batch_natural_key).
    await knex.raw(`
      with lost as (
        delete from ${parent} t using judged j
        where j.kind = ${code} and t.source_object = j.holder_object and t.source_line = j.holder_line
          and t.event_at = j.event_at
        returning t.source_object, t.source_line, t.run_id),
      demoted as (
        insert into rejected_interaction (raw, reasons, run_id, source_object, source_line)
        select b.raw, array['DUPLICATE'], l.run_id, l.source_object, l.source_line
        from lost l join batch_press b using (source_object, source_line))
      insert into flipped select source_object, -1 from lost`);
    await knex.raw(`
      with gone as (
        delete from rejected_interaction r using judged j
        where j.kind = ${code} and r.source_object = j.winner_object and r.source_line = j.winner_line
        returning r.source_object, r.source_line, r.run_id),
      accepted as (
        insert into ${parent} (exhibition_id, ${value}, event_at, run_id, source_object, source_line)
        select j.exhibition_id, j.value, j.event_at, g.run_id, g.source_object, g.source_line
        from gone g join judged j on j.winner_object = g.source_object and j.winner_line = g.source_line)
      insert into flipped select source_object, 1 from gone`);
  }
  const moved = await knex.raw<{ rows: { promoted: number; demoted: number; keys: number; held: number }[] }>(
    `select (select count(*) from flipped where delta = 1)::int as promoted,
            (select count(*) from flipped where delta = -1)::int as demoted,
            (select count(*) from judged)::int as keys,
            (select count(*) from judged where holder_object is not null)::int as held`,
  );
  const m = moved.rows[0]!;
  if (m.promoted !== m.keys || m.demoted !== m.held) {
    // A registered line that is neither accepted nor a reject: the tables disagree, so change nothing.
    throw new Error(
      `migration 20261207000100_batch_press_every_line: ${m.keys} keys to judge again, but ${m.promoted} ` +
        `lines accepted and ${m.demoted} of ${m.held} holders demoted; nothing was changed`,
    );
  }
  await knex.raw(`update source_object s
    set loaded_count = s.loaded_count + d.n, rejected_count = s.rejected_count - d.n
    from (select source_object, sum(delta)::int as n from flipped group by 1) d
    where s.source_object = d.source_object`);
}

// The registrations and the rows judged again are what a load of the releases since 20261130000200 writes
// too, and the schema is unchanged: the way down keeps them as they are.
export function down(): Promise<void> {
  return Promise.resolve();
}
