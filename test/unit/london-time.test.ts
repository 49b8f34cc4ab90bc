import assert from 'node:assert/strict';
import { londonWallClockToInstant } from '../../domain/validation';

const iso = (wallClock: string): string | undefined => londonWallClockToInstant(wallClock)?.toISOString();

// London's wall clock as Intl prints it, in the CSV form: the inverse of the function under test.
const londonFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/London',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
function toLondonWallClock(instant: Date): string {
  const parts = londonFormat.formatToParts(instant);
  const part = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}:${part('second')}`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** The EU rule London has followed since 1996: BST from 01:00 UTC on the last Sunday of March to the last of October. */
function lastSundayAt1Utc(year: number, monthIndex: number): number {
  const lastDay = new Date(Date.UTC(year, monthIndex + 1, 0));
  return Date.UTC(year, monthIndex, lastDay.getUTCDate() - lastDay.getUTCDay(), 1);
}

describe('londonWallClockToInstant', () => {
  const cases: [string, string][] = [
    ['2023-03-06 15:09:21', '2023-03-06T15:09:21.000Z'],
    ['2023-01-01 00:00:00', '2023-01-01T00:00:00.000Z'],
    ['2023-07-01 12:00:00', '2023-07-01T11:00:00.000Z'],
    ['2023-12-31 23:59:59', '2023-12-31T23:59:59.000Z'],
    ['2024-02-29 08:45:00', '2024-02-29T08:45:00.000Z'],
    // Spring 2023: clocks go from 01:00 GMT to 02:00 BST on 26 March.
    ['2023-03-25 18:15:00', '2023-03-25T18:15:00.000Z'],
    ['2023-03-26 00:59:59', '2023-03-26T00:59:59.000Z'],
    ['2023-03-26 01:00:00', '2023-03-26T01:00:00.000Z'], // never shown on a London clock: read as GMT, 02:00 BST
    ['2023-03-26 01:30:00', '2023-03-26T01:30:00.000Z'],
    ['2023-03-26 01:59:59', '2023-03-26T01:59:59.000Z'],
    ['2023-03-26 02:00:00', '2023-03-26T01:00:00.000Z'],
    ['2023-03-26 08:45:00', '2023-03-26T07:45:00.000Z'],
    ['2023-03-26 18:15:00', '2023-03-26T17:15:00.000Z'],
    ['2023-03-27 08:45:00', '2023-03-27T07:45:00.000Z'],
    // Autumn 2023: clocks go from 02:00 BST back to 01:00 GMT on 29 October.
    ['2023-10-28 18:15:00', '2023-10-28T17:15:00.000Z'],
    ['2023-10-29 00:59:59', '2023-10-28T23:59:59.000Z'],
    ['2023-10-29 01:00:00', '2023-10-29T00:00:00.000Z'], // shown twice: the earlier, BST, instant
    ['2023-10-29 01:30:00', '2023-10-29T00:30:00.000Z'],
    ['2023-10-29 01:59:59', '2023-10-29T00:59:59.000Z'],
    ['2023-10-29 02:00:00', '2023-10-29T02:00:00.000Z'],
    ['2023-10-29 08:45:00', '2023-10-29T08:45:00.000Z'],
    ['2023-10-30 08:45:00', '2023-10-30T08:45:00.000Z'],
    // 2024 changes: 31 March and 27 October.
    ['2024-03-30 12:00:00', '2024-03-30T12:00:00.000Z'],
    ['2024-03-31 00:30:00', '2024-03-31T00:30:00.000Z'],
    ['2024-03-31 01:30:00', '2024-03-31T01:30:00.000Z'],
    ['2024-03-31 02:30:00', '2024-03-31T01:30:00.000Z'],
    ['2024-03-31 12:00:00', '2024-03-31T11:00:00.000Z'],
    ['2024-10-26 12:00:00', '2024-10-26T11:00:00.000Z'],
    ['2024-10-27 01:30:00', '2024-10-27T00:30:00.000Z'],
    ['2024-10-27 02:30:00', '2024-10-27T02:30:00.000Z'],
    ['2024-10-27 12:00:00', '2024-10-27T12:00:00.000Z'],
    // From the time-zone database, not a hard-coded rule: British Standard Time kept BST all winter.
    ['1970-01-15 12:00:00', '1970-01-15T11:00:00.000Z'],
  ];
  for (const [wallClock, expected] of cases) {
    it(`${wallClock} London is ${expected}`, () => assert.equal(iso(wallClock), expected));
  }

  const notWallClocks = [
    '',
    '2023-03-06',
    '2023-03-06T15:09:21',
    '2023-03-06 15:09:21Z',
    '2023-03-06 15:09:21.000',
    '2023-03-06 15:09',
    '2023-3-6 15:09:21',
    '2023-02-29 12:00:00',
    '2023-04-31 12:00:00',
    '2023-03-06 24:00:00',
    '2023-03-06 12:60:00',
    '2023-03-06 12:00:60',
    '0000-01-01 12:00:00',
    '2023/03/06 15:09:21',
    ' 2023-03-06 15:09:2',
    'yyyy-mm-dd hh:mm:ss',
  ];
  for (const text of notWallClocks) {
    it(`${JSON.stringify(text)} is not a wall-clock time`, () =>
      assert.equal(londonWallClockToInstant(text), null));
  }

  it('never throws on non-text input', () => {
    const inputs: unknown[] = [null, undefined, 20230306, {}];
    for (const value of inputs) {
      assert.equal(londonWallClockToInstant(value as string), null);
    }
  });

  it('round-trips every minute of the change days through Intl, and maps the skipped hour forward', () => {
    for (const day of ['2023-03-26', '2023-10-29', '2024-03-31', '2024-10-27']) {
      const spring = day.endsWith('-03-26') || day.endsWith('-03-31');
      for (let minute = 0; minute < 24 * 60; minute++) {
        const wallClock = `${day} ${pad(Math.floor(minute / 60))}:${pad(minute % 60)}:00`;
        const instant = londonWallClockToInstant(wallClock);
        assert.ok(instant !== null, wallClock);
        const back = toLondonWallClock(instant);
        if (spring && minute >= 60 && minute < 120) {
          assert.equal(back, `${day} ${pad(Math.floor(minute / 60) + 1)}:${pad(minute % 60)}:00`, wallClock);
        } else {
          assert.equal(back, wallClock, wallClock);
        }
        if (!spring && minute >= 60 && minute < 120) {
          // Of the two instants showing this time, the earlier: one hour later shows it again.
          assert.equal(toLondonWallClock(new Date(instant.getTime() + 3_600_000)), wallClock);
        }
      }
    }
  });

  it('agrees with the EU summer-time rule at opening and closing on every day of 2000-2040', () => {
    for (let year = 2000; year <= 2040; year++) {
      const bstStart = lastSundayAt1Utc(year, 2);
      const bstEnd = lastSundayAt1Utc(year, 9);
      for (let day = Date.UTC(year, 0, 1); day < Date.UTC(year + 1, 0, 1); day += 86_400_000) {
        const date = new Date(day).toISOString().slice(0, 10);
        for (const [time, seconds] of [
          ['08:45:00', 31_500],
          ['18:15:00', 65_700],
        ] as const) {
          const asUtc = day + seconds * 1000;
          const offset = asUtc - 3_600_000 >= bstStart && asUtc - 3_600_000 < bstEnd ? 3_600_000 : 0;
          assert.equal(
            londonWallClockToInstant(`${date} ${time}`)?.getTime(),
            asUtc - offset,
            `${date} ${time}`,
          );
        }
      }
    }
  });
});
