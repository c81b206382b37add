/**
 * The uContact "Schedule" of a Messenger campaign: weekly ranges in a time zone, and what happens
 * when a customer writes outside them (the "After Hours" message). Pure code, no I/O.
 */

export interface ScheduleRange {
  /** ISO weekday: Monday = 1 … Sunday = 7. */
  day: number;
  /** 'HH:MM', 24-hour clock, local time in the schedule's time zone. */
  from: string;
  /** 'HH:MM' ('24:00' = end of the day). Earlier than `from`: the range runs on into the next day. */
  to: string;
}

export interface Availability {
  enabled: boolean;
  timezone: string;
  days: ScheduleRange[];
  afterHoursMessage: string;
  forwardAfterHours: boolean;
  afterHoursIntervalHours: number;
}

export const DEFAULT_AVAILABILITY: Readonly<Availability> = Object.freeze({
  enabled: false,
  timezone: 'UTC',
  days: [1, 2, 3, 4, 5].map((day) => ({ day, from: '09:00', to: '18:00' })),
  afterHoursMessage: '',
  forwardAfterHours: true,
  afterHoursIntervalHours: 12,
});

export const TIME_PATTERN = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Throws RangeError for a zone the runtime does not know. */
function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

export function isValidTimezone(timezone: string): boolean {
  if (typeof timezone !== 'string' || !timezone || timezone.length > 64) return false;
  try {
    formatterFor(timezone);
    return true;
  } catch {
    return false;
  }
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** The wall-clock weekday (Mon = 1) and minute of the day at `instant` in `timezone`. */
export function localTime(timezone: string, instant: Date | number): { day: number; minute: number } {
  const parts = formatterFor(timezone).formatToParts(new Date(instant));
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of parts) {
    if (part.type === 'weekday') day = WEEKDAYS[part.value];
    else if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minute: hour * 60 + minute };
}

function minutes(time: string): number {
  const [h, m] = time.split(':').map(Number);
  return h * 60 + m;
}

/**
 * Whether `instant` falls inside one of the ranges, judged by the local clock (so a DST change day
 * simply has an hour more or less of wall-clock time; 09:00–18:00 stays 09:00–18:00 local).
 * A range with from > to runs from `from` on its day until `to` on the next day (Sunday → Monday).
 */
export function isWithinSchedule(schedule: Pick<Availability, 'timezone' | 'days'>, instant: Date | number): boolean {
  const { day, minute } = localTime(schedule.timezone, instant);
  const previous = day === 1 ? 7 : day - 1;
  for (const range of schedule.days) {
    const from = minutes(range.from);
    const to = minutes(range.to);
    if (from < to) {
      if (range.day === day && minute >= from && minute < to) return true;
    } else if (from > to) {
      if (range.day === day && minute >= from) return true;
      if (range.day === previous && minute < to) return true;
    }
  }
  return false;
}

/** The stored settings (JSON text on the integration), completed with the defaults. */
export function parseAvailability(stored: string | null | undefined): Availability {
  if (!stored) return cloneDefault();
  try {
    const value = JSON.parse(stored) as Partial<Availability>;
    return { ...cloneDefault(), ...value };
  } catch {
    return cloneDefault();
  }
}

function cloneDefault(): Availability {
  return { ...DEFAULT_AVAILABILITY, days: DEFAULT_AVAILABILITY.days.map((d) => ({ ...d })) };
}

/** Ranges sorted by day then start, exact duplicates dropped. */
export function normalizeDays(days: ScheduleRange[]): ScheduleRange[] {
  const seen = new Set<string>();
  return days
    .map((d) => ({ day: d.day, from: d.from, to: d.to }))
    .filter((d) => {
      const key = `${d.day}|${d.from}|${d.to}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.day - b.day || a.from.localeCompare(b.from));
}

const parsed = new WeakMap<object, Availability | null>();

/**
 * For the webhook hot path: the integration row's settings parsed once per row object (the page
 * cache hands the same object for a few seconds), null when the schedule is off.
 */
export function activeScheduleOf(integration: { availability?: string | null }): Availability | null {
  if (!integration.availability) return null;
  if (parsed.has(integration)) return parsed.get(integration)!;
  const availability = parseAvailability(integration.availability);
  const active = availability.enabled && isValidTimezone(availability.timezone) ? availability : null;
  parsed.set(integration, active);
  return active;
}

/**
 * What to do with a customer's Messenger message: null inside hours (or no schedule); otherwise
 * whether to still forward it. Only customer-written Messenger messages count.
 */
export function afterHoursDecision(
  integration: { availability?: string | null },
  event: { channel: string; role: string; event: string; occurredAt: number },
): { forward: boolean } | null {
  if (event.channel !== 'messenger' || event.role !== 'customer') return null;
  const schedule = activeScheduleOf(integration);
  if (!schedule) return null;
  if (isWithinSchedule(schedule, event.occurredAt)) return null;
  return { forward: schedule.forwardAfterHours };
}

/** A PATCH of the settings: the fields given replace the stored ones; JSON for the integration row. */
export function mergeAvailability(stored: string | null | undefined, patch: Partial<Availability>): string {
  const current = parseAvailability(stored);
  const next: Availability = {
    enabled: patch.enabled ?? current.enabled,
    timezone: patch.timezone ?? current.timezone,
    days: normalizeDays(patch.days ?? current.days),
    afterHoursMessage: (patch.afterHoursMessage ?? current.afterHoursMessage).trim(),
    forwardAfterHours: patch.forwardAfterHours ?? current.forwardAfterHours,
    afterHoursIntervalHours: patch.afterHoursIntervalHours ?? current.afterHoursIntervalHours,
  };
  return JSON.stringify(next);
}
