import { validate } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import { AvailabilityDto } from '../../src/availability/availability.dto';
import {
  afterHoursDecision, DEFAULT_AVAILABILITY, isValidTimezone, isWithinSchedule, localTime, mergeAvailability, parseAvailability,
} from '../../src/availability/schedule';

const weekdays = (timezone: string, from = '09:00', to = '18:00') => ({ timezone, days: [1, 2, 3, 4, 5].map((day) => ({ day, from, to })) });

describe('isWithinSchedule', () => {
  it('reads the weekday Monday = 1 … Sunday = 7 in the zone', () => {
    expect(localTime('UTC', Date.parse('2026-03-02T10:00:00Z'))).toEqual({ day: 1, minute: 600 }); // a Monday
    expect(localTime('UTC', Date.parse('2026-03-08T23:59:00Z'))).toEqual({ day: 7, minute: 1439 }); // a Sunday
    // Monday 01:00 UTC is still Sunday evening in New York.
    expect(localTime('America/New_York', Date.parse('2026-03-02T01:00:00Z')).day).toBe(7);
    // …and already Monday morning in Tokyo at Sunday 16:00 UTC.
    expect(localTime('Asia/Tokyo', Date.parse('2026-03-01T16:00:00Z'))).toEqual({ day: 1, minute: 60 });
  });

  it('applies from (inclusive) and to (exclusive) in local time', () => {
    const s = weekdays('Europe/Lisbon');
    // Lisbon is UTC+0 in winter, UTC+1 in summer.
    expect(isWithinSchedule(s, Date.parse('2026-01-05T08:59:00Z'))).toBe(false);
    expect(isWithinSchedule(s, Date.parse('2026-01-05T09:00:00Z'))).toBe(true);
    expect(isWithinSchedule(s, Date.parse('2026-01-05T17:59:00Z'))).toBe(true);
    expect(isWithinSchedule(s, Date.parse('2026-01-05T18:00:00Z'))).toBe(false);
    expect(isWithinSchedule(s, Date.parse('2026-07-06T08:00:00Z'))).toBe(true); // 09:00 WEST
    expect(isWithinSchedule(s, Date.parse('2026-07-06T17:00:00Z'))).toBe(false); // 18:00 WEST
    expect(isWithinSchedule(s, Date.parse('2026-01-10T12:00:00Z'))).toBe(false); // Saturday
  });

  it('judges the same instant differently by time zone', () => {
    const instant = Date.parse('2026-01-07T15:00:00Z'); // Wednesday
    expect(isWithinSchedule(weekdays('UTC'), instant)).toBe(true);
    expect(isWithinSchedule(weekdays('America/New_York'), instant)).toBe(true); // 10:00
    expect(isWithinSchedule(weekdays('America/Los_Angeles'), instant)).toBe(false); // 07:00
    expect(isWithinSchedule(weekdays('Asia/Tokyo'), instant)).toBe(false); // 00:00 Thursday
    expect(isWithinSchedule(weekdays('Asia/Kolkata'), instant)).toBe(false); // 20:30
    expect(isWithinSchedule(weekdays('Asia/Kolkata', '20:30', '21:00'), instant)).toBe(true);
  });

  it('runs a range with from > to into the next day, Sunday into Monday included', () => {
    const night = { timezone: 'UTC', days: [{ day: 5, from: '22:00', to: '02:00' }, { day: 7, from: '23:00', to: '01:00' }] };
    expect(isWithinSchedule(night, Date.parse('2026-01-09T21:59:00Z'))).toBe(false); // Fri
    expect(isWithinSchedule(night, Date.parse('2026-01-09T22:00:00Z'))).toBe(true);
    expect(isWithinSchedule(night, Date.parse('2026-01-09T23:59:59Z'))).toBe(true);
    expect(isWithinSchedule(night, Date.parse('2026-01-10T00:00:00Z'))).toBe(true); // Sat, from Friday's range
    expect(isWithinSchedule(night, Date.parse('2026-01-10T01:59:00Z'))).toBe(true);
    expect(isWithinSchedule(night, Date.parse('2026-01-10T02:00:00Z'))).toBe(false);
    expect(isWithinSchedule(night, Date.parse('2026-01-10T22:30:00Z'))).toBe(false); // Saturday night: no range
    expect(isWithinSchedule(night, Date.parse('2026-01-11T23:30:00Z'))).toBe(true); // Sun
    expect(isWithinSchedule(night, Date.parse('2026-01-12T00:30:00Z'))).toBe(true); // Mon, from Sunday's range
    expect(isWithinSchedule(night, Date.parse('2026-01-12T01:00:00Z'))).toBe(false);
  });

  it('treats 00:00–24:00 as the whole day', () => {
    const allDay = { timezone: 'Europe/Lisbon', days: [{ day: 6, from: '00:00', to: '24:00' }] };
    expect(isWithinSchedule(allDay, Date.parse('2026-01-10T00:00:00Z'))).toBe(true);
    expect(isWithinSchedule(allDay, Date.parse('2026-01-10T23:59:59Z'))).toBe(true);
    expect(isWithinSchedule(allDay, Date.parse('2026-01-11T00:00:00Z'))).toBe(false);
  });

  it('keeps local hours across the DST change days in Lisbon', () => {
    // Sunday 2026-03-29: 01:00 WET → 02:00 WEST. Sunday 2026-10-25: 02:00 WEST → 01:00 WET.
    const sunday = { timezone: 'Europe/Lisbon', days: [{ day: 7, from: '01:30', to: '03:00' }, { day: 7, from: '09:00', to: '18:00' }] };
    expect(isWithinSchedule(sunday, Date.parse('2026-03-29T00:59:00Z'))).toBe(false); // 00:59 WET
    expect(isWithinSchedule(sunday, Date.parse('2026-03-29T01:00:00Z'))).toBe(true); // 02:00 WEST (01:30 never happened)
    expect(isWithinSchedule(sunday, Date.parse('2026-03-29T02:00:00Z'))).toBe(false); // 03:00 WEST
    expect(isWithinSchedule(sunday, Date.parse('2026-03-29T08:00:00Z'))).toBe(true); // 09:00 WEST
    expect(isWithinSchedule(sunday, Date.parse('2026-03-29T16:59:00Z'))).toBe(true);
    expect(isWithinSchedule(sunday, Date.parse('2026-03-29T17:00:00Z'))).toBe(false); // 18:00 WEST
    // 01:30 happens twice on 2026-10-25: both are inside.
    expect(isWithinSchedule(sunday, Date.parse('2026-10-25T00:30:00Z'))).toBe(true); // 01:30 WEST
    expect(isWithinSchedule(sunday, Date.parse('2026-10-25T01:30:00Z'))).toBe(true); // 01:30 WET
    expect(isWithinSchedule(sunday, Date.parse('2026-10-25T02:00:00Z'))).toBe(true); // 02:00 WET
    expect(isWithinSchedule(sunday, Date.parse('2026-10-25T03:00:00Z'))).toBe(false); // 03:00 WET
    expect(isWithinSchedule(sunday, Date.parse('2026-10-25T09:00:00Z'))).toBe(true); // 09:00 WET
    expect(isWithinSchedule(sunday, Date.parse('2026-10-25T18:00:00Z'))).toBe(false);
  });

  it('keeps local hours across the DST change days in New York', () => {
    const s = { timezone: 'America/New_York', days: [{ day: 7, from: '09:00', to: '18:00' }, { day: 1, from: '09:00', to: '18:00' }] };
    // 2026-03-08 (Sunday): EST → EDT at 02:00. 09:00 EDT = 13:00Z.
    expect(isWithinSchedule(s, Date.parse('2026-03-08T12:59:00Z'))).toBe(false);
    expect(isWithinSchedule(s, Date.parse('2026-03-08T13:00:00Z'))).toBe(true);
    expect(isWithinSchedule(s, Date.parse('2026-03-08T21:59:00Z'))).toBe(true);
    expect(isWithinSchedule(s, Date.parse('2026-03-08T22:00:00Z'))).toBe(false);
    // 2026-11-01 (Sunday): EDT → EST at 02:00. 09:00 EST = 14:00Z.
    expect(isWithinSchedule(s, Date.parse('2026-11-01T13:30:00Z'))).toBe(false);
    expect(isWithinSchedule(s, Date.parse('2026-11-01T14:00:00Z'))).toBe(true);
    expect(isWithinSchedule(s, Date.parse('2026-11-01T23:00:00Z'))).toBe(false);
    expect(isWithinSchedule(s, Date.parse('2026-11-02T14:00:00Z'))).toBe(true); // Monday
  });
});

describe('availability settings', () => {
  it('defaults to off, UTC, Monday to Friday 09:00–18:00, forward, 12 h', () => {
    expect(parseAvailability(null)).toEqual({
      enabled: false, timezone: 'UTC', days: [1, 2, 3, 4, 5].map((day) => ({ day, from: '09:00', to: '18:00' })),
      afterHoursMessage: '', forwardAfterHours: true, afterHoursIntervalHours: 12,
    });
    expect(DEFAULT_AVAILABILITY.enabled).toBe(false);
  });

  it('merges a partial change over the stored settings', () => {
    const stored = mergeAvailability(null, { enabled: true, timezone: 'Europe/Lisbon' });
    const next = parseAvailability(mergeAvailability(stored, { afterHoursMessage: '  Back at 9.  ', days: [{ day: 3, from: '10:00', to: '12:00' }, { day: 1, from: '09:00', to: '13:00' }] }));
    expect(next).toMatchObject({ enabled: true, timezone: 'Europe/Lisbon', afterHoursMessage: 'Back at 9.', forwardAfterHours: true });
    expect(next.days.map((d) => d.day)).toEqual([1, 3]);
  });

  it('validates IANA zones', () => {
    expect(isValidTimezone('Europe/Lisbon')).toBe(true);
    expect(isValidTimezone('UTC')).toBe(true);
    expect(isValidTimezone('Mars/Olympus')).toBe(false);
    expect(isValidTimezone('')).toBe(false);
  });

  it('refuses bad input with plain messages', async () => {
    const errors = async (plain: object) => {
      const found = await validate(plainToInstance(AvailabilityDto, plain));
      const flat = (list: typeof found): string[] => list.flatMap((e) => [...Object.values(e.constraints ?? {}), ...flat(e.children ?? [])]);
      return flat(found);
    };
    expect(await errors({ timezone: 'Mars/Olympus' })).toEqual([expect.stringContaining('not a known IANA time zone')]);
    expect(await errors({ days: [{ day: 8, from: '09:00', to: '18:00' }] })).toEqual([expect.stringContaining('day must be from 1 (Monday) to 7 (Sunday)')]);
    expect(await errors({ days: [{ day: 1, from: '9:00', to: '18:00' }] })).toEqual([expect.stringContaining('from must be a time like 09:00')]);
    expect(await errors({ days: [{ day: 1, from: '09:00', to: '09:00' }] })).toEqual([expect.stringContaining('must not start and end at the same time')]);
    expect(await errors({ afterHoursMessage: 'x'.repeat(1001) })).toEqual([expect.stringContaining('1000 characters or fewer')]);
    expect(await errors({ afterHoursIntervalHours: 0 })).toEqual([expect.stringContaining('between 1 and 720')]);
    expect(await errors({ enabled: true, timezone: 'America/New_York', days: [{ day: 7, from: '22:00', to: '06:00' }], afterHoursIntervalHours: 1.5 })).toEqual([]);
  });

  it('decides after hours only for customer Messenger messages while the schedule is on', () => {
    const saturday = Date.parse('2026-01-10T12:00:00Z');
    const monday = Date.parse('2026-01-12T12:00:00Z');
    const on = { availability: mergeAvailability(null, { enabled: true, forwardAfterHours: false }) };
    const message = { channel: 'messenger', role: 'customer', event: 'message', occurredAt: saturday };
    expect(afterHoursDecision(on, message)).toEqual({ forward: false });
    expect(afterHoursDecision(on, { ...message, occurredAt: monday })).toBeNull();
    expect(afterHoursDecision(on, { ...message, channel: 'wall' })).toBeNull();
    expect(afterHoursDecision(on, { ...message, role: 'page_echo' })).toBeNull();
    expect(afterHoursDecision({ availability: mergeAvailability(null, { enabled: false }) }, message)).toBeNull();
    expect(afterHoursDecision({ availability: null }, message)).toBeNull();
  });
});
