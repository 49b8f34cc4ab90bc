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
});
