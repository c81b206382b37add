import { ApiError, patch } from '../../lib/api.js';
import { h, replace, uid } from '../../lib/dom.js';
import { notice } from '../../components/banner.js';
import { checkbox, field, form } from '../../components/form.js';

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MESSAGE_LIMIT = 1000;

/** Availability tab: opening hours per weekday in a time zone, and what customers get outside them. */
export function availability({ integration, path }) {
  if (!integration.availability) {
    return notice('Opening hours and the after-hours message are not available on this relay yet.', 'info');
  }
  // The relay answers the settings complete, its defaults filled in (src/availability/schedule.ts).
  const current = integration.availability;
  const saved = h('div', { 'aria-live': 'polite' });

  const enabled = checkbox({ name: 'enabled', label: 'Answer outside opening hours', checked: current.enabled,
    hint: 'Customers who write on Messenger outside the hours below get the after-hours message.' });
  const timezone = timezoneField(current.timezone);
  const days = scheduleField(current.days);
  const message = field({ name: 'afterHoursMessage', label: 'After-hours message', rows: 4, value: current.afterHoursMessage, required: false, maxlength: MESSAGE_LIMIT,
    hint: 'Sent by Messenger, for example: "Thanks for your message! We are open Monday to Friday, 9:00 to 18:00, and will answer then."' });
  const counter = h('p', { class: 'hint char-count', id: uid('count') });
  const count = () => {
    const length = message.input.value.length;
    counter.textContent = `${length} / ${MESSAGE_LIMIT} characters`;
    counter.classList.toggle('over', length > MESSAGE_LIMIT);
  };
  message.input.addEventListener('input', count);
  message.input.setAttribute('aria-describedby', [message.input.getAttribute('aria-describedby'), counter.id].filter(Boolean).join(' '));
  message.element.append(counter);
  count();
  const forward = checkbox({ name: 'forwardAfterHours', label: 'Still forward after-hours messages to the contact center', checked: current.forwardAfterHours,
    hint: 'Off: they are kept in the history (as skipped) but agents do not get them.' });
  const interval = field({ name: 'afterHoursIntervalHours', label: 'Send the after-hours message at most every (hours)', type: 'number', inputmode: 'numeric',
    value: String(current.afterHoursIntervalHours), hint: 'Per conversation: a customer who writes several times gets it once in this time.' });
  interval.input.min = '1';
  interval.input.max = '720';

  const settingsForm = form({
    fields: [enabled, timezone, days, message, forward, interval],
    submitLabel: 'Save availability',
    busyLabel: 'Saving…',
    async onSubmit(values) {
      replace(saved);
      const problem = days.check();
      if (problem) return;
      if (values.enabled && !values.days.length) {
        days.setError('Choose at least one open day, or switch the after-hours answer off.');
        return;
      }
      if (values.enabled && !values.afterHoursMessage.trim()) {
        message.setError('Write the message customers get outside opening hours.');
        message.input.focus();
        return;
      }
      const hours = Number(values.afterHoursIntervalHours);
      if (!Number.isInteger(hours) || hours < 1 || hours > 720) {
        interval.setError('Enter a whole number of hours from 1 to 720.');
        interval.input.focus();
        return;
      }
      const body = { ...values, afterHoursIntervalHours: hours };
      try {
        await patch(path, { availability: body });
      } catch (error) {
        // "availability.days.0.from must be …" → under the field it names.
        if (error instanceof ApiError && error.code === 'validation_failed') {
          error.message = error.message.replace(/availability\./g, '')
            .replace(/days\.(\d+)\.(\w+)/g, (_, index, name) => `days — ${DAYS[(values.days[Number(index)]?.day ?? 1) - 1]}: ${name}`);
        }
        throw error;
      }
      replace(saved, notice(values.enabled ? 'Saved: customers get the after-hours message outside these hours.' : 'Saved: the after-hours answer is off.'));
    },
  });

  return h('section', { class: 'section', 'aria-labelledby': 'availability-title' },
    h('h2', { id: 'availability-title' }, 'Opening hours and after-hours message'),
    settingsForm.element,
    saved);
}

function timezoneField(value) {
  const id = uid('timezone');
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const all = ['UTC', ...zones.filter((zone) => zone !== 'UTC')];
  if (value && !all.includes(value)) all.unshift(value);
  const select = h('select', { id, name: 'timezone' }, all.map((zone) => h('option', { value: zone, selected: zone === value }, zone.replace(/_/g, ' '))));
  const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const error = h('p', { class: 'field-error', hidden: true });
  const useLocal = local && local !== value && all.includes(local)
    ? h('button', { type: 'button', class: 'link-button', onclick: () => { select.value = local; } }, `Use this browser's time zone (${local})`)
    : null;
  return {
    name: 'timezone', input: select, value: () => select.value,
    element: h('div', { class: 'field' }, h('label', { for: id }, 'Time zone'), select, useLocal ? h('p', { class: 'hint' }, useLocal) : null, error),
    setError(text) {
      error.textContent = text ?? '';
      error.hidden = !text;
    },
  };
}

/** One row per weekday: open or not, from and to. */
function scheduleField(days) {
  const byDay = new Map(days.map((d) => [d.day, d]));
  const error = h('p', { class: 'field-error', hidden: true, id: uid('schedule-error') });
  const rows = DAYS.map((name, index) => {
    const day = index + 1;
    const set = byDay.get(day);
    const open = h('input', { type: 'checkbox', id: uid('open'), checked: Boolean(set) });
    const from = h('input', { type: 'time', value: set?.from ?? '09:00', 'aria-label': `${name} from`, disabled: !set });
    const to = h('input', { type: 'time', value: set?.to ?? '18:00', 'aria-label': `${name} to`, disabled: !set });
    open.addEventListener('change', () => {
      from.disabled = !open.checked;
      to.disabled = !open.checked;
    });
    const element = h('div', { class: 'schedule-row' },
      h('span', { class: 'schedule-day' }, open, h('label', { for: open.id }, name)),
      h('span', { class: 'schedule-times' }, from, h('span', { 'aria-hidden': 'true' }, '–'), to));
    return { day, name, open, from, to, element };
  });
  const element = h('fieldset', { class: 'field schedule', 'aria-describedby': error.id },
    h('legend', {}, 'Open days and hours'),
    h('p', { class: 'hint' }, 'Tick the days you are open and set the hours in the chosen time zone. A closing time earlier than the opening time runs past midnight.'),
    rows.map((row) => row.element),
    error);
  const setError = (text) => {
    error.textContent = text ?? '';
    error.hidden = !text;
  };
  return {
    name: 'days', element, input: rows[0].open, setError,
    value: () => rows.filter((row) => row.open.checked).map((row) => ({ day: row.day, from: row.from.value, to: row.to.value })),
    /** A problem in words, shown under the schedule, or null. */
    check() {
      for (const row of rows) {
        if (!row.open.checked) continue;
        if (!row.from.value || !row.to.value) {
          setError(`${row.name}: enter both the opening and the closing time.`);
          row.from.focus();
          return true;
        }
        if (row.from.value === row.to.value) {
          setError(`${row.name}: the opening and closing times are the same. A closing time earlier than the opening time runs into the next day.`);
          row.to.focus();
          return true;
        }
      }
      return false;
    },
  };
}
