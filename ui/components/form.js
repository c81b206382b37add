import { ApiError } from '../lib/api.js';
import { h, replace, uid } from '../lib/dom.js';
import { errorBanner } from './banner.js';

/**
 * A labelled input with its hint and its own error line. `setError(message)` shows the message
 * under the input, marks it aria-invalid and links it with aria-describedby.
 */
export function field({ name, label, type = 'text', value = '', hint, autocomplete, required = true, inputmode, pattern, maxlength, autofocus, rows }) {
  const id = uid(name);
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const control = rows
    ? h('textarea', { id, name, rows, required, autofocus, 'aria-describedby': hintId }, value)
    : h('input', { id, name, type, value, autocomplete, required, inputmode, pattern, maxlength, autofocus, 'aria-describedby': hintId });
  const error = h('p', { class: 'field-error', id: errorId, hidden: true });
  const element = h('div', { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    control,
    error);
  return {
    name,
    element,
    input: control,
    value: () => (type === 'checkbox' ? control.checked : control.value),
    setError(message) {
      if (message) {
        error.textContent = message;
        error.hidden = false;
        control.setAttribute('aria-invalid', 'true');
        control.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
      } else {
        error.hidden = true;
        control.removeAttribute('aria-invalid');
        if (hintId) control.setAttribute('aria-describedby', hintId);
        else control.removeAttribute('aria-describedby');
      }
    },
  };
}

/** A checkbox with label (and optional hint), for settings forms. */
export function checkbox({ name, label, checked = false, hint }) {
  const id = uid(name);
  const control = h('input', { id, name, type: 'checkbox', checked });
  const error = h('p', { class: 'field-error', hidden: true });
  const element = h('div', { class: 'field field-check' },
    control, h('label', { for: id }, label), hint ? h('p', { class: 'hint' }, hint) : null, error);
  return {
    name, element, input: control, value: () => control.checked,
    setError(message) {
      error.textContent = message ?? '';
      error.hidden = !message;
    },
  };
}

/**
 * A form that sends its values to the API and shows every error next to what caused it:
 * - `errorFields` maps API error codes to a field name (e.g. { weak_password: 'password' });
 * - validation errors ("email must be an e-mail address") go to the field they name;
 * - anything else appears in a banner above the submit button.
 * `onSubmit(values)` does the API call; `extra(error)` may add e.g. a link to the banner.
 */
export function form({ fields, submitLabel, busyLabel = 'Working…', onSubmit, errorFields = {}, extra, secondary, danger = false }) {
  const banner = h('div', { class: 'form-banner' });
  const submit = h('button', { type: 'submit', class: danger ? 'danger' : 'primary' }, submitLabel);
  const element = h('form', { class: 'form', novalidate: true },
    fields.map((f) => f.element),
    banner,
    h('div', { class: 'form-actions' }, submit, secondary ?? null));
  const byName = new Map(fields.map((f) => [f.name, f]));

  const clearErrors = () => {
    fields.forEach((f) => f.setError(null));
    replace(banner);
  };

  const showError = (error) => {
    const message = error instanceof ApiError || error instanceof Error ? error.message : String(error);
    const code = error instanceof ApiError ? error.code : undefined;
    const target = code && byName.get(errorFields[code]);
    if (target) {
      target.setError(message);
      target.input.focus();
      return;
    }
    if (code === 'validation_failed') {
      const unplaced = [];
      for (const part of message.split('; ')) {
        const named = byName.get(part.split(/[\s.:]/)[0]);
        if (named) named.setError(sentence(part));
        else unplaced.push(part);
      }
      fields.find((f) => f.input.getAttribute('aria-invalid'))?.input.focus();
      if (!unplaced.length) return;
      replace(banner, errorBanner(unplaced.map(sentence).join(' ')));
      return;
    }
    replace(banner, errorBanner(message, extra?.(error) ?? null));
    banner.querySelector('[role=alert]')?.setAttribute('tabindex', '-1');
  };

  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    const missing = fields.filter((f) => f.input.required && f.input.type !== 'checkbox' && !String(f.value()).trim());
    if (missing.length) {
      missing.forEach((f) => f.setError(`Enter ${f.element.querySelector('label').textContent.toLowerCase()}.`));
      missing[0].input.focus();
      return;
    }
    const values = Object.fromEntries(fields.map((f) => [f.name, f.value()]));
    submit.disabled = true;
    const label = submit.textContent;
    submit.textContent = busyLabel;
    element.setAttribute('aria-busy', 'true');
    try {
      await onSubmit(values);
    } catch (error) {
      showError(error);
    } finally {
      submit.disabled = false;
      submit.textContent = label;
      element.removeAttribute('aria-busy');
    }
  });

  return { element, fields: byName, showError, clearErrors };
}

/** "email must be an e-mail address" → "Email must be an e-mail address." */
function sentence(text) {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
