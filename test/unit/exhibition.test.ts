import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseExhibitionMetadata, parseMuseumDate, siteOfExhibitionId } from '../../domain/exhibition';
import { SHARED_DATA } from '../support/isolated-env';

describe('exhibition metadata', () => {
  it('reads the real files: site from the id digits, dd/mm/yy start dates, text floors', () => {
    const text = fs.readFileSync(path.join(SHARED_DATA, 'lmnh_exhibition_bugs.json'), 'utf8');
    assert.deepEqual(parseExhibitionMetadata(text), {
      ok: true,
      exhibition: {
        site: 1,
        publicId: 'EXH_01',
        name: 'Adaptation',
        description: 'How insect evolution has kept pace with an industrialised world',
        floor: 'Vault',
        department: 'Entomology',
        startDate: '2019-07-01',
      },
    });
  });

  it('turns dd/mm/yy into ISO dates and refuses impossible ones', () => {
    assert.equal(parseMuseumDate('23/08/21'), '2021-08-23');
    assert.equal(parseMuseumDate('29/02/24'), '2024-02-29');
    assert.equal(parseMuseumDate('29/02/23'), null);
    assert.equal(parseMuseumDate('2021-08-23'), null);
    assert.equal(siteOfExhibitionId('EXH_04'), 4);
    assert.equal(siteOfExhibitionId('EXH_112'), 112);
    assert.equal(siteOfExhibitionId('EXH-04'), null);
  });

  it('names every problem of a broken file instead of throwing', () => {
    assert.deepEqual(parseExhibitionMetadata('{"EXHIBITION_ID": "X", "START_DATE": "31/02/21"}'), {
      ok: false,
      problems: [
        'EXHIBITION_NAME is missing or empty',
        'FLOOR is missing or empty',
        'DEPARTMENT is missing or empty',
        "EXHIBITION_ID 'X' is not EXH_<digits>",
        "START_DATE '31/02/21' is not a dd/mm/yy date",
      ],
    });
    assert.equal(parseExhibitionMetadata('[1]').ok, false);
    assert.equal(parseExhibitionMetadata('not json').ok, false);
  });

  it('refuses an id whose number does not fit the catalogue, and accepts the largest that does', () => {
    const doc = (id: string) =>
      JSON.stringify({
        EXHIBITION_NAME: 'Big',
        EXHIBITION_ID: id,
        FLOOR: '1',
        DEPARTMENT: 'Zoology',
        START_DATE: '01/02/23',
      });
    assert.deepEqual(parseExhibitionMetadata(doc('EXH_2147483648')), {
      ok: false,
      problems: ["EXHIBITION_ID 'EXH_2147483648' does not fit the catalogue: its number is above 2147483647"],
    });
    assert.equal(parseExhibitionMetadata(doc('EXH_99999999999999999999999')).ok, false);
    const largest = parseExhibitionMetadata(doc('EXH_2147483647'));
    assert.equal(largest.ok && largest.exhibition.site, 2147483647);
  });
});
