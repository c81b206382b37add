import { h, replace, uid } from '../lib/dom.js';

/**
 * Accessible tabs (WAI-ARIA tabs pattern): arrow keys, Home and End move between tabs, each panel
 * is built the first time it is shown (`render()` may be async) and kept afterwards.
 * tabs({ label, tabs: [{ id, label, render }], selected, onSelect(id) })
 */
export function tabs({ label, tabs: items, selected, onSelect }) {
  const base = uid('tabs');
  const list = h('div', { class: 'tablist', role: 'tablist', 'aria-label': label });
  const panels = h('div', { class: 'tab-panels' });
  const entries = items.map((item) => {
    const tabId = `${base}-tab-${item.id}`;
    const panelId = `${base}-panel-${item.id}`;
    const tab = h('button', { type: 'button', role: 'tab', id: tabId, class: 'tab', 'aria-controls': panelId, dataset: { tab: item.id } }, item.label);
    const panel = h('section', { role: 'tabpanel', id: panelId, class: 'tab-panel', 'aria-labelledby': tabId, tabindex: '0', hidden: true });
    list.append(tab);
    panels.append(panel);
    return { item, tab, panel, built: false };
  });

  const build = async (entry) => {
    entry.built = true;
    replace(entry.panel, h('p', { class: 'loading' }, 'Loading…'));
    try {
      replace(entry.panel, await entry.item.render());
    } catch (error) {
      entry.built = false;
      replace(entry.panel, h('div', { class: 'banner banner-error', role: 'alert' }, h('p', {}, error?.message ?? String(error))));
    }
  };

  const select = (id, { focus = false } = {}) => {
    const chosen = entries.find((entry) => entry.item.id === id) ?? entries[0];
    for (const entry of entries) {
      const active = entry === chosen;
      entry.tab.setAttribute('aria-selected', String(active));
      entry.tab.tabIndex = active ? 0 : -1;
      entry.panel.hidden = !active;
    }
    if (focus) chosen.tab.focus();
    if (!chosen.built) void build(chosen);
    onSelect?.(chosen.item.id);
  };

  list.addEventListener('click', (event) => {
    const tab = event.target.closest('[role=tab]');
    if (tab) select(tab.dataset.tab);
  });
  list.addEventListener('keydown', (event) => {
    const index = entries.findIndex((entry) => entry.tab === document.activeElement);
    if (index < 0) return;
    const last = entries.length - 1;
    const next = { ArrowRight: index === last ? 0 : index + 1, ArrowLeft: index === 0 ? last : index - 1, Home: 0, End: last }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    select(entries[next].item.id, { focus: true });
  });

  select(selected);
  return {
    element: h('div', { class: 'tabs' }, list, panels),
    select,
    /** Builds a tab's panel again the next time (or now, when it is shown). */
    reload(id) {
      const entry = entries.find((e) => e.item.id === id);
      if (!entry) return;
      entry.built = false;
      if (!entry.panel.hidden) void build(entry);
    },
  };
}
