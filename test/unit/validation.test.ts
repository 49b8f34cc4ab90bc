import assert from 'node:assert/strict';
import {
  REASON_CODES,
  REASON_DESCRIPTIONS,
  isReasonCode,
  validateCsvRecord,
  validateStreamValue,
  type CsvRecord,
  type Interaction,
  type ReasonCode,
  type RuleContext,
  type Verdict,
} from '../../domain/validation';

const NOW = new Date('2026-11-27T12:00:00Z');
const ctx: RuleContext = { knownSites: new Set([0, 1, 2, 3, 4, 5]), now: NOW };

const encoder = new TextEncoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);

// A good moment, as the producer writes it.
const AT = '2026-02-24T17:18:10.967747+00:00';

/** A message with the given JSON fragments as field values; a field given as undefined is left out. */
function message(fields: Record<string, string | undefined>): string {
  const parts = Object.entries(fields)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, json]) => `${JSON.stringify(key)}: ${json}`);
  return `{${parts.join(', ')}}`;
}

const rating = (overrides: Record<string, string | undefined>): string =>
  message({ at: JSON.stringify(AT), site: '"4"', val: '3', ...overrides });
const request = (overrides: Record<string, string | undefined>): string =>
  message({ at: JSON.stringify(AT), site: '"4"', val: '-1', type: '0', ...overrides });

function reasonsOf(verdict: Verdict): ReasonCode[] {
  return verdict.valid ? [] : verdict.reasons;
}

function interactionOf(verdict: Verdict): Interaction {
  assert.ok(verdict.valid, `expected valid, got ${JSON.stringify(verdict)}`);
  return verdict.interaction;
}

describe('reason codes', () => {
  it('has a one-line description for every code', () => {
    assert.deepEqual(Object.keys(REASON_DESCRIPTIONS).sort(), [...REASON_CODES].sort());
    for (const code of REASON_CODES) {
      const description = REASON_DESCRIPTIONS[code];
      assert.ok(description.length > 10 && !description.includes('\n'), code);
    }
  });

  it('recognises codes and nothing else', () => {
    assert.ok(REASON_CODES.every(isReasonCode));
    for (const other of ['malformed', 'OK', '', null, 3]) assert.equal(isReasonCode(other), false);
  });
});

describe('validateStreamValue', () => {
  describe('valid messages', () => {
    const cases: [string, string, Interaction][] = [
      [
        'request from the spec',
        '{"at": "2026-02-24T17:18:10.967747+00:00", "site": "4", "val": -1, "type": 0}',
        { site: 4, kind: 'request', value: 0, eventAt: new Date('2026-02-24T17:18:10.967Z') },
      ],
      [
        'rating from the spec, summer offset',
        '{"at": "2024-10-21T09:21:24.254719+01:00", "site": "5", "val": 4}',
        { site: 5, kind: 'rating', value: 4, eventAt: new Date('2024-10-21T08:21:24.254Z') },
      ],
      [
        'emergency',
        request({ type: '1' }),
        { site: 4, kind: 'request', value: 1, eventAt: new Date('2026-02-24T17:18:10.967Z') },
      ],
      [
        'rating 0',
        rating({ val: '0' }),
        { site: 4, kind: 'rating', value: 0, eventAt: new Date('2026-02-24T17:18:10.967Z') },
      ],
      [
        'Z offset, no fraction',
        rating({ at: '"2026-02-24T10:00:00Z"' }),
        { site: 4, kind: 'rating', value: 3, eventAt: new Date('2026-02-24T10:00:00Z') },
      ],
      [
        'negative offset',
        rating({ at: '"2026-02-24T10:00:00-05:00"' }),
        { site: 4, kind: 'rating', value: 3, eventAt: new Date('2026-02-24T15:00:00Z') },
      ],
      [
        'one fraction digit is tenths',
        rating({ at: '"2026-02-24T10:00:00.5+00:00"' }),
        { site: 4, kind: 'rating', value: 3, eventAt: new Date('2026-02-24T10:00:00.500Z') },
      ],
      [
        'nine fraction digits are truncated to the millisecond',
        rating({ at: '"2026-02-24T10:00:00.123999999+00:00"' }),
        { site: 4, kind: 'rating', value: 3, eventAt: new Date('2026-02-24T10:00:00.123Z') },
      ],
      [
        'leap day',
        rating({ at: '"2024-02-29T10:00:00+00:00"' }),
        { site: 4, kind: 'rating', value: 3, eventAt: new Date('2024-02-29T10:00:00Z') },
      ],
      [
        'site as a JSON integer',
        rating({ site: '2' }),
        { site: 2, kind: 'rating', value: 3, eventAt: new Date('2026-02-24T17:18:10.967Z') },
      ],
      [
        'site 0 as -0',
        rating({ site: '-0' }),
        { site: 0, kind: 'rating', value: 3, eventAt: new Date('2026-02-24T17:18:10.967Z') },
      ],
      [
        'site with a leading zero',
        rating({ site: '"04"' }),
        { site: 4, kind: 'rating', value: 3, eventAt: new Date('2026-02-24T17:18:10.967Z') },
      ],
      [
        'val -0 is rating 0',
        rating({ val: '-0' }),
        { site: 4, kind: 'rating', value: 0, eventAt: new Date('2026-02-24T17:18:10.967Z') },
      ],
      [
        'val 4.0 is 4 (JSON cannot tell them apart)',
        rating({ val: '4.0' }),
        { site: 4, kind: 'rating', value: 4, eventAt: new Date('2026-02-24T17:18:10.967Z') },
      ],
      [
        'type 1.0 is 1',
        request({ type: '1.0' }),
        { site: 4, kind: 'request', value: 1, eventAt: new Date('2026-02-24T17:18:10.967Z') },
      ],
      [
        'rating with type null',
        rating({ type: 'null' }),
        { site: 4, kind: 'rating', value: 3, eventAt: new Date('2026-02-24T17:18:10.967Z') },
      ],
      [
        'rating with type ""',
        rating({ type: '""' }),
        { site: 4, kind: 'rating', value: 3, eventAt: new Date('2026-02-24T17:18:10.967Z') },
      ],
      [
        'whitespace around the JSON',
        ` \n${rating({})}\t `,
        { site: 4, kind: 'rating', value: 3, eventAt: new Date('2026-02-24T17:18:10.967Z') },
      ],
      [
        'duplicate key: the last one wins',
        '{"at": "2026-02-24T10:00:00Z", "site": "9", "site": "1", "val": 3}',
        { site: 1, kind: 'rating', value: 3, eventAt: new Date('2026-02-24T10:00:00Z') },
      ],
    ];
    for (const [name, raw, expected] of cases) {
      it(name, () => assert.deepEqual(interactionOf(validateStreamValue(bytes(raw), ctx)), expected));
    }
  });

  describe('MALFORMED', () => {
    const cases: [string, Uint8Array][] = [
      ['empty value', new Uint8Array(0)],
      ['not JSON', bytes('site=4,val=3')],
      ['truncated JSON', bytes(rating({}).slice(0, -1))],
      ['JSON array', bytes('[{"site": "4"}]')],
      ['JSON string', bytes('"{\\"site\\": \\"4\\"}"')],
      ['JSON number', bytes('3')],
      ['JSON true', bytes('true')],
      ['JSON null', bytes('null')],
      ['whitespace only', bytes('  ')],
      ['invalid UTF-8 byte', Uint8Array.from([...bytes('{"at": "'), 0xff, ...bytes('"}')])],
      ['overlong UTF-8', Uint8Array.from([...bytes('{"k'), 0xc0, 0xaf, ...bytes('": 1}')])],
      ['UTF-8 encoded surrogate', Uint8Array.from([...bytes('{"k'), 0xed, 0xa0, 0x80, ...bytes('": 1}')])],
      ['truncated multi-byte sequence', Uint8Array.from([...bytes('{"k": "'), 0xe2, 0x82])],
      ['Latin-1 text', Uint8Array.from([...bytes('{"site": "caf'), 0xe9, ...bytes('"}')])],
      ['byte order mark', Uint8Array.from([0xef, 0xbb, 0xbf, ...bytes(rating({}))])],
      ['UTF-16', Uint8Array.from(Buffer.from(rating({}), 'utf16le'))],
      ['Python repr', bytes("{'site': '4', 'val': 3}")],
      ['NaN literal (Python json.dumps writes it)', bytes(rating({ val: 'NaN' }))],
      ['deep nesting', bytes('['.repeat(200_000))],
      ['two objects', bytes(`${rating({})}${rating({})}`)],
    ];
    for (const [name, raw] of cases) {
      it(name, () =>
        assert.deepEqual(validateStreamValue(raw, ctx), { valid: false, reasons: ['MALFORMED'] }),
      );
    }

    it('a null value (Kafka tombstone) despite the type', () => {
      for (const raw of [null, undefined, 'a string', { length: 2 }]) {
        assert.deepEqual(validateStreamValue(raw as unknown as Uint8Array, ctx), {
          valid: false,
          reasons: ['MALFORMED'],
        });
      }
    });

    it('accepts non-ASCII UTF-8 and Buffers', () => {
      const verdict = validateStreamValue(Buffer.from(rating({ 'café ☕': '1' })), ctx);
      assert.deepEqual(reasonsOf(verdict), ['UNKNOWN_KEY']);
    });
  });

  // One row per broken rule (or set of rules): the message and the exact reasons.
  const reasonCases: [string, string, ReasonCode[]][] = [
    // UNKNOWN_KEY
    ['an extra key', rating({ extra: '1' }), ['UNKNOWN_KEY']],
    ['several extra keys give one code', rating({ a: '1', b: '2', AT: '"x"' }), ['UNKNOWN_KEY']],
    ['__proto__ is an unknown key', `{"__proto__": {"at": 1}, ${rating({}).slice(1)}`, ['UNKNOWN_KEY']],
    ['constructor is an unknown key', rating({ constructor: '1' }), ['UNKNOWN_KEY']],
    [
      'keys are case-sensitive',
      message({ At: JSON.stringify(AT), site: '"4"', val: '3' }),
      ['UNKNOWN_KEY', 'MISSING_AT'],
    ],
    ['empty object', '{}', ['MISSING_AT', 'MISSING_SITE', 'MISSING_VAL']],
    // MISSING_AT and BAD_AT
    ['at absent', rating({ at: undefined }), ['MISSING_AT']],
    ['at null', rating({ at: 'null' }), ['MISSING_AT']],
    ['at empty', rating({ at: '""' }), ['MISSING_AT']],
    ['at a number', rating({ at: '1708795090' }), ['BAD_AT']],
    ['at true', rating({ at: 'true' }), ['BAD_AT']],
    ['at an object', rating({ at: '{"date": "2026-02-24"}' }), ['BAD_AT']],
    ['at an array', rating({ at: `[${JSON.stringify(AT)}]` }), ['BAD_AT']],
    ['at whitespace', rating({ at: '" "' }), ['BAD_AT']],
    ['at without offset', rating({ at: '"2026-02-24T10:00:00.123456"' }), ['BAD_AT']],
    ['at date only', rating({ at: '"2026-02-24"' }), ['BAD_AT']],
    ['at with a space for T', rating({ at: '"2026-02-24 10:00:00+00:00"' }), ['BAD_AT']],
    ['at with lower-case t', rating({ at: '"2026-02-24t10:00:00+00:00"' }), ['BAD_AT']],
    ['at with lower-case z', rating({ at: '"2026-02-24T10:00:00z"' }), ['BAD_AT']],
    ['at with offset +0000', rating({ at: '"2026-02-24T10:00:00+0000"' }), ['BAD_AT']],
    ['at with offset +00', rating({ at: '"2026-02-24T10:00:00+00"' }), ['BAD_AT']],
    ['at with offset +24:00', rating({ at: '"2026-02-24T10:00:00+24:00"' }), ['BAD_AT']],
    ['at with offset +01:60', rating({ at: '"2026-02-24T10:00:00+01:60"' }), ['BAD_AT']],
    ['at with seconds in the offset', rating({ at: '"2026-02-24T10:00:00+01:00:00"' }), ['BAD_AT']],
    ['at with offset and Z', rating({ at: '"2026-02-24T10:00:00+00:00Z"' }), ['BAD_AT']],
    ['at with a dot but no fraction', rating({ at: '"2026-02-24T10:00:00.+00:00"' }), ['BAD_AT']],
    ['at with a comma fraction', rating({ at: '"2026-02-24T10:00:00,5+00:00"' }), ['BAD_AT']],
    ['at with a leading space', rating({ at: '" 2026-02-24T10:00:00+00:00"' }), ['BAD_AT']],
    ['at with a trailing space', rating({ at: '"2026-02-24T10:00:00+00:00 "' }), ['BAD_AT']],
    ['at with a one-digit hour', rating({ at: '"2026-02-24T9:00:00+00:00"' }), ['BAD_AT']],
    ['at 30 February', rating({ at: '"2026-02-30T10:00:00+00:00"' }), ['BAD_AT']],
    ['at 29 February in a common year', rating({ at: '"2023-02-29T10:00:00+00:00"' }), ['BAD_AT']],
    ['at 29 February 1900', rating({ at: '"1900-02-29T10:00:00+00:00"' }), ['BAD_AT']],
    ['at 31 April', rating({ at: '"2026-04-31T10:00:00+00:00"' }), ['BAD_AT']],
    ['at month 13', rating({ at: '"2026-13-01T10:00:00+00:00"' }), ['BAD_AT']],
    ['at month 00', rating({ at: '"2026-00-01T10:00:00+00:00"' }), ['BAD_AT']],
    ['at day 00', rating({ at: '"2026-02-00T10:00:00+00:00"' }), ['BAD_AT']],
    ['at year 0000', rating({ at: '"0000-02-01T10:00:00+00:00"' }), ['BAD_AT']],
    ['at hour 24', rating({ at: '"2026-02-24T24:00:00+00:00"' }), ['BAD_AT']],
    ['at minute 60', rating({ at: '"2026-02-24T10:60:00+00:00"' }), ['BAD_AT']],
    ['at leap second', rating({ at: '"2026-02-24T10:00:60+00:00"' }), ['BAD_AT']],
    ['at with Arabic-Indic digits', rating({ at: '"٢٠٢٦-02-24T10:00:00+00:00"' }), ['BAD_AT']],
    ['at "ERR"', rating({ at: '"ERR"' }), ['BAD_AT']],
    // FUTURE_AT: now is 2026-11-27T12:00:00Z
    ['at exactly 5 minutes ahead', rating({ at: '"2026-11-27T12:05:00.000000+00:00"' }), []],
    ['at exactly 5 minutes ahead, +01:00', rating({ at: '"2026-11-27T13:05:00+01:00"' }), []],
    [
      'at 1 microsecond past 5 minutes ahead',
      rating({ at: '"2026-11-27T12:05:00.000001+00:00"' }),
      ['FUTURE_AT'],
    ],
    [
      'at 1 millisecond past 5 minutes ahead',
      rating({ at: '"2026-11-27T13:05:00.001+01:00"' }),
      ['FUTURE_AT'],
    ],
    ['at a second past 5 minutes ahead, Z', rating({ at: '"2026-11-27T12:05:01Z"' }), ['FUTURE_AT']],
    ['at next year', rating({ at: '"2027-01-01T12:00:00+00:00"' }), ['FUTURE_AT']],
    [
      'at far future, outside hours',
      rating({ at: '"9999-12-31T23:59:59+00:00"' }),
      ['OUTSIDE_HOURS', 'FUTURE_AT'],
    ],
    ['at in the past is fine', rating({ at: '"1999-01-01T12:00:00+00:00"' }), []],
    // AT_OUT_OF_RANGE: the instant in UTC must fall in years 1..9999
    ['at year 1 in UTC is stored', rating({ at: '"0001-01-01T09:00:00+00:00"' }), []],
    ['at year 1 east of UTC is year 0', rating({ at: '"0001-01-01T09:00:00+10:00"' }), ['AT_OUT_OF_RANGE']],
    ['at the first storable instant', rating({ at: '"0001-01-01T10:00:00+10:00"' }), []],
    ['at a millisecond before it', rating({ at: '"0001-01-01T09:59:59.999+10:00"' }), ['AT_OUT_OF_RANGE']],
    [
      'at year 9999 west of UTC is year 10000',
      rating({ at: '"9999-12-31T17:00:00-08:00"' }),
      ['FUTURE_AT', 'AT_OUT_OF_RANGE'],
    ],
    // MISSING_SITE, BAD_SITE, UNKNOWN_SITE
    ['site absent', rating({ site: undefined }), ['MISSING_SITE']],
    ['site null', rating({ site: 'null' }), ['MISSING_SITE']],
    ['site empty', rating({ site: '""' }), ['MISSING_SITE']],
    ['site -1', rating({ site: '-1' }), ['BAD_SITE']],
    ['site "-1"', rating({ site: '"-1"' }), ['BAD_SITE']],
    ['site 1.5', rating({ site: '1.5' }), ['BAD_SITE']],
    ['site true', rating({ site: 'true' }), ['BAD_SITE']],
    ['site false', rating({ site: 'false' }), ['BAD_SITE']],
    ['site "4a"', rating({ site: '"4a"' }), ['BAD_SITE']],
    ['site " 4"', rating({ site: '" 4"' }), ['BAD_SITE']],
    ['site "4 "', rating({ site: '"4 "' }), ['BAD_SITE']],
    ['site "+4"', rating({ site: '"+4"' }), ['BAD_SITE']],
    ['site "4.0"', rating({ site: '"4.0"' }), ['BAD_SITE']],
    ['site "ERR"', rating({ site: '"ERR"' }), ['BAD_SITE']],
    ['site "INF"', rating({ site: '"INF"' }), ['BAD_SITE']],
    ['site "None"', rating({ site: '"None"' }), ['BAD_SITE']],
    ['site "٤" (Arabic-Indic four)', rating({ site: '"٤"' }), ['BAD_SITE']],
    ['site 1e309', rating({ site: '1e309' }), ['BAD_SITE']],
    ['site beyond 2^53 as text', rating({ site: '"99999999999999999999"' }), ['BAD_SITE']],
    ['site beyond 2^53 as a number', rating({ site: '99999999999999999999' }), ['BAD_SITE']],
    ['site an object', rating({ site: '{"id": 4}' }), ['BAD_SITE']],
    ['site an array', rating({ site: '[4]' }), ['BAD_SITE']],
    ['site "6" is not known', rating({ site: '"6"' }), ['UNKNOWN_SITE']],
    ['site 12 is not known', rating({ site: '12' }), ['UNKNOWN_SITE']],
    ['site far beyond the known ones', rating({ site: '"9007199254740991"' }), ['UNKNOWN_SITE']],
    // MISSING_VAL and BAD_VAL
    ['val absent', rating({ val: undefined }), ['MISSING_VAL']],
    ['val null', rating({ val: 'null' }), ['MISSING_VAL']],
    ['val empty', rating({ val: '""' }), ['MISSING_VAL']],
    ['val "ERR"', rating({ val: '"ERR"' }), ['BAD_VAL']],
    ['val "INF"', rating({ val: '"INF"' }), ['BAD_VAL']],
    ['val "3"', rating({ val: '"3"' }), ['BAD_VAL']],
    ['val "-1"', request({ val: '"-1"' }), ['BAD_VAL']],
    ['val true', rating({ val: 'true' }), ['BAD_VAL']],
    ['val false', rating({ val: 'false' }), ['BAD_VAL']],
    ['val 4.5', rating({ val: '4.5' }), ['BAD_VAL']],
    ['val 0.5', rating({ val: '0.5' }), ['BAD_VAL']],
    ['val -1.5', rating({ val: '-1.5' }), ['BAD_VAL']],
    ['val 5', rating({ val: '5' }), ['BAD_VAL']],
    ['val -2', rating({ val: '-2' }), ['BAD_VAL']],
    ['val 1e309 (Infinity)', rating({ val: '1e309' }), ['BAD_VAL']],
    ['val -1e309 (-Infinity)', rating({ val: '-1e309' }), ['BAD_VAL']],
    ['val an object', rating({ val: '{"v": 3}' }), ['BAD_VAL']],
    ['val an array', rating({ val: '[3]' }), ['BAD_VAL']],
    ['val " "', rating({ val: '" "' }), ['BAD_VAL']],
    // MISSING_TYPE, BAD_TYPE, UNEXPECTED_TYPE
    ['request without type', request({ type: undefined }), ['MISSING_TYPE']],
    ['request with type null', request({ type: 'null' }), ['MISSING_TYPE']],
    ['request with type ""', request({ type: '""' }), ['MISSING_TYPE']],
    ['request with type "0"', request({ type: '"0"' }), ['BAD_TYPE']],
    ['request with type 2', request({ type: '2' }), ['BAD_TYPE']],
    ['request with type -1', request({ type: '-1' }), ['BAD_TYPE']],
    ['request with type 0.5', request({ type: '0.5' }), ['BAD_TYPE']],
    ['request with type true', request({ type: 'true' }), ['BAD_TYPE']],
    ['request with type "ERR"', request({ type: '"ERR"' }), ['BAD_TYPE']],
    ['request with type "INF"', request({ type: '"INF"' }), ['BAD_TYPE']],
    ['request with type 1e309', request({ type: '1e309' }), ['BAD_TYPE']],
    ['request with type an object', request({ type: '{"t": 0}' }), ['BAD_TYPE']],
    ['rating with type 0', rating({ type: '0' }), ['UNEXPECTED_TYPE']],
    ['rating with type 1', rating({ val: '0', type: '1' }), ['UNEXPECTED_TYPE']],
    ['rating with type "ERR"', rating({ type: '"ERR"' }), ['UNEXPECTED_TYPE']],
    ['rating with type false', rating({ type: 'false' }), ['UNEXPECTED_TYPE']],
    ['rating with type " "', rating({ type: '" "' }), ['UNEXPECTED_TYPE']],
    ['type is not judged when val is bad', rating({ val: '"ERR"', type: '"ERR"' }), ['BAD_VAL']],
    ['type is not judged when val is missing', rating({ val: undefined, type: '7' }), ['MISSING_VAL']],
    [
      'type alone is not judged',
      message({ at: JSON.stringify(AT), site: '"4"', type: '0' }),
      ['MISSING_VAL'],
    ],
    // Several reasons at once, reported in REASON_CODES order.
    [
      'every field wrong',
      message({ at: '"2026-02-24T07:00:00+00:00"', site: '"9"', val: '-1', type: '7', x: '1' }),
      ['UNKNOWN_KEY', 'OUTSIDE_HOURS', 'UNKNOWN_SITE', 'BAD_TYPE'],
    ],
    [
      'missing and bad together',
      message({ type: '0', site: '"ERR"', at: 'null', val: '9', junk: 'null' }),
      ['UNKNOWN_KEY', 'MISSING_AT', 'BAD_SITE', 'BAD_VAL'],
    ],
    [
      'night, future, unknown site, unexpected type',
      message({ val: '2', type: '1', site: '7', at: '"2030-06-01T23:00:00+01:00"' }),
      ['OUTSIDE_HOURS', 'FUTURE_AT', 'UNKNOWN_SITE', 'UNEXPECTED_TYPE'],
    ],
    [
      'bad at, missing site, missing type',
      message({ at: '"yesterday"', val: '-1' }),
      ['MISSING_SITE', 'BAD_AT', 'MISSING_TYPE'],
    ],
  ];

  describe('reasons', () => {
    for (const [name, raw, expected] of reasonCases) {
      it(`${name}: ${expected.join(', ') || 'valid'}`, () =>
        assert.deepEqual(reasonsOf(validateStreamValue(bytes(raw), ctx)), expected));
    }
  });

  describe('OUTSIDE_HOURS on the record’s own clock', () => {
    const times: [string, boolean][] = [
      ['00:00:00', false],
      ['08:44:00', false],
      ['08:44:59', false],
      ['08:44:59.999999', false],
      ['08:45:00', true],
      ['08:45:00.000000', true],
      ['08:46:00', true],
      ['12:00:00', true],
      ['18:14:00', true],
      ['18:14:59.999999', true],
      ['18:15:00', true],
      ['18:15:00.000000', true],
      ['18:15:00.000001', false],
      ['18:15:00.1', false],
      ['18:15:01', false],
      ['18:16:00', false],
      ['23:59:59.999999', false],
    ];
    // A day in the past, so FUTURE_AT stays out of it whatever the offset.
    for (const offset of ['+00:00', '+01:00', 'Z', '-05:00', '+14:00']) {
      for (const [time, open] of times) {
        const at = `2026-02-24T${time}${offset}`;
        it(`${at} is ${open ? 'open' : 'outside hours'}`, () =>
          assert.deepEqual(
            reasonsOf(validateStreamValue(bytes(rating({ at: JSON.stringify(at) })), ctx)),
            open ? [] : ['OUTSIDE_HOURS'],
          ));
      }
    }
  });

  it('never produces DUPLICATE', () => {
    for (const [, raw] of reasonCases) {
      assert.ok(!reasonsOf(validateStreamValue(bytes(raw), ctx)).includes('DUPLICATE'));
    }
  });

  it('judges site membership against the context, not a fixed range', () => {
    const only7: RuleContext = { knownSites: new Set([7]), now: NOW };
    assert.deepEqual(reasonsOf(validateStreamValue(bytes(rating({ site: '"4"' })), only7)), ['UNKNOWN_SITE']);
    assert.equal(interactionOf(validateStreamValue(bytes(rating({ site: '"7"' })), only7)).site, 7);
  });

  it('returns a fresh reasons array each time', () => {
    const first = validateStreamValue(new Uint8Array(0), ctx);
    assert.ok(!first.valid);
    first.reasons.push('BAD_AT');
    assert.deepEqual(validateStreamValue(new Uint8Array(0), ctx), { valid: false, reasons: ['MALFORMED'] });
  });
});

describe('validateCsvRecord', () => {
  const row = (overrides: Partial<CsvRecord>): CsvRecord => ({
    at: '2023-03-06 15:09:21',
    site: '4',
    val: '3',
    type: '',
    ...overrides,
  });
  const requestRow = (overrides: Partial<CsvRecord>): CsvRecord =>
    row({ val: '-1', type: '0.0', ...overrides });

  describe('valid rows', () => {
    const cases: [string, CsvRecord, Interaction][] = [
      [
        'rating from the real files (GMT)',
        row({ val: '0' }),
        { site: 4, kind: 'rating', value: 0, eventAt: new Date('2023-03-06T15:09:21Z') },
      ],
      [
        'assistance as pandas writes it',
        requestRow({ site: '1' }),
        { site: 1, kind: 'request', value: 0, eventAt: new Date('2023-03-06T15:09:21Z') },
      ],
      [
        'emergency as 1.0',
        requestRow({ type: '1.0' }),
        { site: 4, kind: 'request', value: 1, eventAt: new Date('2023-03-06T15:09:21Z') },
      ],
      [
        'request as plain integers',
        requestRow({ val: '-1', type: '1' }),
        { site: 4, kind: 'request', value: 1, eventAt: new Date('2023-03-06T15:09:21Z') },
      ],
      [
        'val -1.0 and type 0',
        requestRow({ val: '-1.0', type: '0' }),
        { site: 4, kind: 'request', value: 0, eventAt: new Date('2023-03-06T15:09:21Z') },
      ],
      [
        'val 3.0',
        row({ val: '3.0' }),
        { site: 4, kind: 'rating', value: 3, eventAt: new Date('2023-03-06T15:09:21Z') },
      ],
      [
        'val 4.00',
        row({ val: '4.00' }),
        { site: 4, kind: 'rating', value: 4, eventAt: new Date('2023-03-06T15:09:21Z') },
      ],
      [
        'val -0 is 0',
        row({ val: '-0' }),
        { site: 4, kind: 'rating', value: 0, eventAt: new Date('2023-03-06T15:09:21Z') },
      ],
      [
        'site 0',
        row({ site: '0' }),
        { site: 0, kind: 'rating', value: 3, eventAt: new Date('2023-03-06T15:09:21Z') },
      ],
      [
        'summer time is one hour ahead of UTC',
        row({ at: '2023-07-01 12:00:00' }),
        { site: 4, kind: 'rating', value: 3, eventAt: new Date('2023-07-01T11:00:00Z') },
      ],
    ];
    for (const [name, rec, expected] of cases) {
      it(name, () => assert.deepEqual(interactionOf(validateCsvRecord(rec, ctx)), expected));
    }
  });

  const reasonCases: [string, CsvRecord, ReasonCode[]][] = [
    [
      'all fields empty',
      { at: '', site: '', val: '', type: '' },
      ['MISSING_AT', 'MISSING_SITE', 'MISSING_VAL'],
    ],
    ['at empty', row({ at: '' }), ['MISSING_AT']],
    ['at ISO with T', row({ at: '2023-03-06T15:09:21' }), ['BAD_AT']],
    ['at with an offset', row({ at: '2023-03-06 15:09:21+00:00' }), ['BAD_AT']],
    ['at with a fraction', row({ at: '2023-03-06 15:09:21.5' }), ['BAD_AT']],
    ['at without seconds', row({ at: '2023-03-06 15:09' }), ['BAD_AT']],
    ['at with a leading space', row({ at: ' 2023-03-06 15:09:21' }), ['BAD_AT']],
    ['at with a trailing space', row({ at: '2023-03-06 15:09:21 ' }), ['BAD_AT']],
    ['at day first', row({ at: '06/03/2023 15:09:21' }), ['BAD_AT']],
    ['at 29 February 2023', row({ at: '2023-02-29 12:00:00' }), ['BAD_AT']],
    ['at hour 24', row({ at: '2023-03-06 24:00:00' }), ['BAD_AT']],
    ['at "ERR"', row({ at: 'ERR' }), ['BAD_AT']],
    ['site empty', row({ site: '' }), ['MISSING_SITE']],
    ['site "4a"', row({ site: '4a' }), ['BAD_SITE']],
    ['site " 4"', row({ site: ' 4' }), ['BAD_SITE']],
    ['site "-1"', row({ site: '-1' }), ['BAD_SITE']],
    ['site "+4"', row({ site: '+4' }), ['BAD_SITE']],
    ['site "4.0"', row({ site: '4.0' }), ['BAD_SITE']],
    ['site "ERR"', row({ site: 'ERR' }), ['BAD_SITE']],
    ['site "6"', row({ site: '6' }), ['UNKNOWN_SITE']],
    ['site "04" is site 4', row({ site: '04' }), []],
    ['val empty', row({ val: '' }), ['MISSING_VAL']],
    ['val "ERR"', row({ val: 'ERR' }), ['BAD_VAL']],
    ['val "inf"', row({ val: 'inf' }), ['BAD_VAL']],
    ['val "INF"', row({ val: 'INF' }), ['BAD_VAL']],
    ['val "Infinity"', row({ val: 'Infinity' }), ['BAD_VAL']],
    ['val "nan"', row({ val: 'nan' }), ['BAD_VAL']],
    ['val "1e309"', row({ val: '1e309' }), ['BAD_VAL']],
    ['val "1e0"', row({ val: '1e0' }), ['BAD_VAL']],
    ['val "0x1"', row({ val: '0x1' }), ['BAD_VAL']],
    ['val "3.5"', row({ val: '3.5' }), ['BAD_VAL']],
    ['val "3."', row({ val: '3.' }), ['BAD_VAL']],
    ['val ".0"', row({ val: '.0' }), ['BAD_VAL']],
    ['val "+3"', row({ val: '+3' }), ['BAD_VAL']],
    ['val " 3"', row({ val: ' 3' }), ['BAD_VAL']],
    ['val "5"', row({ val: '5' }), ['BAD_VAL']],
    ['val "-2"', row({ val: '-2' }), ['BAD_VAL']],
    ['val "-2.0"', row({ val: '-2.0' }), ['BAD_VAL']],
    ['val "true"', row({ val: 'true' }), ['BAD_VAL']],
    ['request without type', requestRow({ type: '' }), ['MISSING_TYPE']],
    ['request with type "2.0"', requestRow({ type: '2.0' }), ['BAD_TYPE']],
    ['request with type "-1"', requestRow({ type: '-1' }), ['BAD_TYPE']],
    ['request with type "0.5"', requestRow({ type: '0.5' }), ['BAD_TYPE']],
    ['request with type " 0"', requestRow({ type: ' 0' }), ['BAD_TYPE']],
    ['request with type "ERR"', requestRow({ type: 'ERR' }), ['BAD_TYPE']],
    ['request with type "1e0"', requestRow({ type: '1e0' }), ['BAD_TYPE']],
    ['rating with type "0.0"', row({ type: '0.0' }), ['UNEXPECTED_TYPE']],
    ['rating with type " "', row({ type: ' ' }), ['UNEXPECTED_TYPE']],
    ['type not judged when val is bad', row({ val: 'ERR', type: 'ERR' }), ['BAD_VAL']],
    ['FUTURE_AT a day ahead', row({ at: '2026-11-28 12:00:00' }), ['FUTURE_AT']],
    [
      'several at once',
      { at: '2023-03-06 07:00:00', site: '9', val: '-1', type: '7' },
      ['OUTSIDE_HOURS', 'UNKNOWN_SITE', 'BAD_TYPE'],
    ],
    [
      'bad at and bad val',
      { at: '2023-03-06', site: 'x', val: '9', type: '' },
      ['BAD_AT', 'BAD_SITE', 'BAD_VAL'],
    ],
  ];

  describe('reasons', () => {
    for (const [name, rec, expected] of reasonCases) {
      it(`${name}: ${expected.join(', ') || 'valid'}`, () =>
        assert.deepEqual(reasonsOf(validateCsvRecord(rec, ctx)), expected));
    }
  });

  describe('OUTSIDE_HOURS and FUTURE_AT on the London clock', () => {
    // Both sides of each change: the wall clock decides opening hours whatever the offset.
    const days = ['2023-03-25', '2023-03-26', '2023-03-27', '2023-10-28', '2023-10-29', '2023-10-30'];
    const days2024 = ['2024-03-30', '2024-03-31', '2024-10-26', '2024-10-27', '2024-10-28'];
    const times: [string, boolean][] = [
      ['01:30:00', false],
      ['08:44:00', false],
      ['08:44:59', false],
      ['08:45:00', true],
      ['08:46:00', true],
      ['18:14:00', true],
      ['18:15:00', true],
      ['18:15:01', false],
      ['18:16:00', false],
    ];
    for (const day of [...days, ...days2024]) {
      for (const [time, open] of times) {
        it(`${day} ${time} is ${open ? 'open' : 'outside hours'}`, () =>
          assert.deepEqual(
            reasonsOf(validateCsvRecord(row({ at: `${day} ${time}` }), ctx)),
            open ? [] : ['OUTSIDE_HOURS'],
          ));
      }
    }

    it('the future is measured on the instant, after the London offset', () => {
      // 12:05 BST is 11:05Z: exactly 5 minutes after now.
      const summerNow: RuleContext = { knownSites: ctx.knownSites, now: new Date('2023-07-01T11:00:00Z') };
      assert.deepEqual(reasonsOf(validateCsvRecord(row({ at: '2023-07-01 12:05:00' }), summerNow)), []);
      assert.deepEqual(reasonsOf(validateCsvRecord(row({ at: '2023-07-01 12:05:01' }), summerNow)), [
        'FUTURE_AT',
      ]);
      const winterNow: RuleContext = { knownSites: ctx.knownSites, now: new Date('2023-12-01T11:00:00Z') };
      assert.deepEqual(reasonsOf(validateCsvRecord(row({ at: '2023-12-01 11:05:00' }), winterNow)), []);
      assert.deepEqual(reasonsOf(validateCsvRecord(row({ at: '2023-12-01 11:05:01' }), winterNow)), [
        'FUTURE_AT',
      ]);
    });
  });

  it('never throws on fields that are not text', () => {
    const odd = [undefined, null, 3, -1, 0n, true, {}, [], Symbol('x'), () => 1];
    for (const value of odd) {
      for (const key of ['at', 'site', 'val', 'type'] as const) {
        const rec: Record<string, unknown> = { ...row({}), [key]: value };
        const verdict = validateCsvRecord(rec as unknown as CsvRecord, ctx);
        assert.ok(typeof verdict.valid === 'boolean');
      }
    }
    const numeric = { at: '2023-03-06 15:09:21', site: 4, val: -1, type: 1 } as unknown as CsvRecord;
    assert.equal(interactionOf(validateCsvRecord(numeric, ctx)).value, 1);
    const nulls = { at: null, site: undefined, val: null, type: null } as unknown as CsvRecord;
    assert.deepEqual(reasonsOf(validateCsvRecord(nulls, ctx)), ['MISSING_AT', 'MISSING_SITE', 'MISSING_VAL']);
  });
});
