// The kiosks' clock: instants written as Python's isoformat writes them on a Europe/London clock
// (`2026-02-24T17:18:10.967747+00:00`), and the simulator's choice of a time when the museum is open.
import { MS_PER_HOUR, MS_PER_MINUTE } from '../domain/civil-time';
import { londonWallClockToInstant } from '../domain/london-time';

let offsetFormatter: Intl.DateTimeFormat | undefined;

/** Europe/London's UTC offset at an instant, in ms, from the runtime's time-zone database. */
export function londonOffsetMs(instantMs: number): number {
  offsetFormatter ??= new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London',
    timeZoneName: 'longOffset',
  });
  const name = offsetFormatter.formatToParts(instantMs).find((p) => p.type === 'timeZoneName')?.value ?? '';
  const match = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name);
  // "GMT" alone is zero; London has used whole-minute offsets since 1847, far before any kiosk.
  if (match === null) return 0;
  const magnitude = Number(match[2]) * MS_PER_HOUR + Number(match[3]) * MS_PER_MINUTE;
  return match[1] === '-' ? -magnitude : magnitude;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * ISO-8601 with six fraction digits and London's offset. `microsecond` (0..999) fills the digits below the
 * millisecond that a Date cannot hold.
 */
export function formatKioskAt(instantMs: number, microsecond = 0): string {
  const offset = londonOffsetMs(instantMs);
  const wall = new Date(instantMs + offset);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return (
    `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}` +
    `T${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}` +
    `.${pad(wall.getUTCMilliseconds(), 3)}${pad(microsecond, 3)}` +
    `${sign}${pad(Math.floor(abs / MS_PER_HOUR))}:${pad(Math.floor((abs % MS_PER_HOUR) / MS_PER_MINUTE))}`
  );
}

const OPENS_S = 8 * 3600 + 45 * 60;
const CLOSES_S = 18 * 3600 + 15 * 60;

/** London wall clock of an instant as seconds since local midnight, and the local date. */
function londonDay(instantMs: number): { date: string; second: number } {
  const wall = new Date(instantMs + londonOffsetMs(instantMs));
  const iso = wall.toISOString();
  return {
    date: iso.slice(0, 10),
    second: wall.getUTCHours() * 3600 + wall.getUTCMinutes() * 60 + wall.getUTCSeconds(),
  };
}

/**
 * Where a simulation's clock starts: now while the museum is open (so every valid press is a live one), else
 * 10:00 London time on the most recent day, so a demo at night still produces presses inside opening hours
 * (and none in the future).
 */
export function simulationStart(nowMs: number): number {
  const { date, second } = londonDay(nowMs);
  if (second >= OPENS_S && second <= CLOSES_S) return nowMs;
  const day = second < OPENS_S ? londonDay(nowMs - 12 * MS_PER_HOUR).date : date;
  return londonWallClockToInstant(`${day} 10:00:00`)!.getTime();
}

/** A moment on the same London day before opening, for OUTSIDE_HOURS noise: never later than `instantMs`. */
export function beforeOpening(instantMs: number, fraction: number): number {
  const { second } = londonDay(instantMs);
  // Back to local midnight, then forward by a fraction of the closed morning (00:00..08:44:59).
  const midnight = instantMs - second * 1000 - (instantMs % 1000);
  const shifted = midnight + Math.floor(fraction * (OPENS_S - 1)) * 1000;
  return Math.min(shifted, instantMs);
}
