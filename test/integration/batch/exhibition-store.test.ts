import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import { upsertExhibitions } from '../../../catalogue/exhibitions';
import type { ExhibitionMetadata } from '../../../domain/exhibition';
import { createKnex } from '../../../infra/db';
import { createDatabase, dropDatabase, isolatedConfig } from '../../support/isolated-env';
import { catalogueSequences } from '../../support/sequences';

const exhibition = (site: number, floor: string, department: string): ExhibitionMetadata => ({
  site,
  publicId: `EXH_${String(site).padStart(2, '0')}`,
  name: `Exhibition ${site}`,
  description: '',
  floor,
  department,
  startDate: '2023-01-01',
});

describe('exhibition catalogue: repeated upserts', function () {
  const cfg = isolatedConfig('exhibitions');
  let knex: Knex;

  // Creating and dropping a database waits on the shared disk's syncs: minutes when it is busy.
  before(async function () {
    this.timeout(600_000);
    await createDatabase(cfg.databaseUrl);
    knex = createKnex(cfg.databaseUrl, 2);
  });
  after(async function () {
    this.timeout(600_000);
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
  });

  const catalogue = () =>
    knex('exhibition as e')
      .join('floor as f', 'f.floor_id', 'e.floor_id')
      .join('department as d', 'd.department_id', 'e.department_id')
      .orderBy('e.site')
      .select('e.exhibition_id', 'e.site', 'e.name', 'f.name as floor', 'd.name as department');

  it('use no identity values when nothing changed, update in place, and number only new rows', async () => {
    const first = [
      exhibition(0, '1', 'Zoology'),
      exhibition(1, 'Vault', 'Zoology'),
      exhibition(2, '1', 'Geology'),
    ];
    await upsertExhibitions(knex, first);
    const sequences = await catalogueSequences(knex);
    assert.deepEqual(sequences, {
      department_department_id_seq: 2,
      exhibition_exhibition_id_seq: 3,
      floor_floor_id_seq: 2,
    });
    const loaded = await catalogue();
    for (let run = 0; run < 5; run++) await upsertExhibitions(knex, first);
    assert.deepEqual(await catalogueSequences(knex), sequences);
    assert.deepEqual(await catalogue(), loaded);

    // A renamed exhibition keeps its id; a new one takes the next value, and so does its new floor.
    await upsertExhibitions(knex, [{ ...first[1]!, name: 'Renamed' }, exhibition(3, '2', 'Zoology')]);
    assert.deepEqual(await catalogue(), [
      loaded[0],
      { ...loaded[1], name: 'Renamed' },
      loaded[2],
      { exhibition_id: 4, site: 3, name: 'Exhibition 3', floor: '2', department: 'Zoology' },
    ]);
    assert.deepEqual(await catalogueSequences(knex), {
      department_department_id_seq: 2,
      exhibition_exhibition_id_seq: 4,
      floor_floor_id_seq: 3,
    });
  });
});
