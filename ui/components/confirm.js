import { h } from '../lib/dom.js';

/**
 * An in-page modal question (a <dialog>, no browser pop-up). Resolves true when confirmed.
 * confirmDialog({ title, text, confirmLabel: 'Delete', danger: true })
 */
export function confirmDialog({ title, text, confirmLabel = 'Confirm', cancelLabel = 'Cancel', danger = false }) {
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', class: 'secondary', value: 'cancel' }, cancelLabel);
    const confirm = h('button', { type: 'button', class: danger ? 'danger' : 'primary', value: 'confirm' }, confirmLabel);
    const titleId = `dialog-title-${Date.now()}`;
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, title),
      text ? h('p', {}, text) : null,
      h('div', { class: 'form-actions' }, confirm, cancel));
    const close = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    cancel.addEventListener('click', () => close(false));
    confirm.addEventListener('click', () => close(true));
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      close(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
