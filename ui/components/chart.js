import { h } from '../lib/dom.js';
import { duration } from '../lib/format.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 720;
const HEIGHT = 260;
const PAD = { top: 16, right: 76, bottom: 40, left: 44 };
const SERIES = [
  { key: 'in', label: 'Messages in (from Facebook)' },
  { key: 'out', label: 'Messages out (agent replies)' },
  { key: 'failed', label: 'Failed deliveries' },
];

/** An SVG element (h() makes HTML elements; SVG needs its namespace). */
function s(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined && value !== false) element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/**
 * More than 48 hourly buckets (7 days) are shown as 6-hour buckets: counts add up; the median
 * latency is averaged (weighted by messages in) and the 95th percentile is the slowest hour's.
 */
export function groupBuckets(buckets) {
  if (buckets.length <= 48) return buckets;
  const grouped = [];
  for (let i = 0; i < buckets.length; i += 6) {
    const part = buckets.slice(i, i + 6);
    const timed = part.filter((b) => b.latencyP50Ms !== null && b.latencyP50Ms !== undefined);
    const weight = timed.reduce((sum, b) => sum + Math.max(1, b.in), 0);
    const p95s = part.map((b) => b.latencyP95Ms).filter((v) => v !== null && v !== undefined);
    grouped.push({
      start: part[0].start,
      hours: part.length,
      in: part.reduce((sum, b) => sum + b.in, 0),
      out: part.reduce((sum, b) => sum + b.out, 0),
      failed: part.reduce((sum, b) => sum + b.failed, 0),
      latencyP50Ms: timed.length ? timed.reduce((sum, b) => sum + b.latencyP50Ms * Math.max(1, b.in), 0) / weight : null,
      latencyP95Ms: p95s.length ? Math.max(...p95s) : null,
    });
  }
  return grouped;
}

/** 0, a round step …: the top of an axis and its ticks. */
function niceScale(max, ticks = 4) {
  if (max <= 0) return { top: ticks, step: 1 };
  const rough = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= rough);
  return { top: step * ticks, step };
}

function bucketLabel(bucket, window, long = false) {
  const date = new Date(bucket.start);
  if (window === '24h' && !long) return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (!long) return date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return date.toLocaleString(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

/**
 * Messages in, out and failed per bucket (bars, left axis) and the delivery latency (lines, right
 * axis), drawn as inline SVG, with the same figures as a table for screen readers and printing.
 */
export function trafficChart({ buckets: raw, window }) {
  const buckets = groupBuckets(raw);
  const hoursPerBucket = buckets[0]?.hours
    ?? (buckets.length > 1 ? Math.max(1, Math.round((Date.parse(buckets[1].start) - Date.parse(buckets[0].start)) / 3_600_000)) : 1);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const count = Math.max(buckets.length, 1);
  const slot = plotW / count;
  const barW = Math.max(1, (slot * 0.8) / 3);
  const counts = niceScale(Math.max(0, ...buckets.flatMap((b) => [b.in, b.out, b.failed])));
  const latencies = buckets.flatMap((b) => [b.latencyP50Ms, b.latencyP95Ms]).filter((v) => v !== null && v !== undefined);
  const latency = niceScale(Math.max(0, ...latencies));
  const y = (value) => PAD.top + plotH - (value / counts.top) * plotH;
  const yLatency = (value) => PAD.top + plotH - (value / latency.top) * plotH;
  const x = (index) => PAD.left + index * slot;

  const totals = { in: 0, out: 0, failed: 0 };
  for (const b of buckets) for (const key of Object.keys(totals)) totals[key] += b[key];
  const span = window === '7d' ? 'the last 7 days' : 'the last 24 hours';
  const summary = `${totals.in} in, ${totals.out} out, ${totals.failed} failed over ${span}.` + (latencies.length
    ? ` Median delivery time at most ${duration(Math.max(...buckets.map((b) => b.latencyP50Ms ?? 0)))}.`
    : ' No delivery times recorded.');

  const grid = [];
  for (let value = 0; value <= counts.top; value += counts.step) {
    grid.push(s('line', { class: 'chart-grid', x1: PAD.left, x2: WIDTH - PAD.right, y1: y(value), y2: y(value) }));
    grid.push(s('text', { class: 'chart-tick', x: PAD.left - 6, y: y(value) + 4, 'text-anchor': 'end' }, String(value)));
  }
  if (latencies.length) {
    for (let value = 0; value <= latency.top; value += latency.step) {
      grid.push(s('text', { class: 'chart-tick chart-tick-latency', x: WIDTH - PAD.right + 6, y: yLatency(value) + 4 }, duration(value)));
    }
  }

  const labelEvery = window === '24h' ? 3 : Math.max(1, Math.round(24 / hoursPerBucket));
  const xLabels = buckets.map((bucket, index) => (index % labelEvery === 0
    ? s('text', { class: 'chart-tick', x: x(index) + slot / 2, y: HEIGHT - PAD.bottom + 16, 'text-anchor': 'middle' }, bucketLabel(bucket, window))
    : null));

  const bars = buckets.flatMap((bucket, index) => SERIES.map((serie, n) => {
    const value = bucket[serie.key];
    const height = (value / counts.top) * plotH;
    return s('rect', {
      class: `bar bar-${serie.key}`, x: x(index) + slot * 0.1 + n * barW, y: y(value), width: barW, height,
      'data-count': value,
    }, s('title', {}, `${bucketLabel(bucket, window, true)}: ${value} ${serie.label.toLowerCase()}`));
  }));

  const line = (key, cls) => {
    const points = buckets.map((bucket, index) => (bucket[key] === null || bucket[key] === undefined ? null : `${x(index) + slot / 2},${yLatency(bucket[key])}`));
    const segments = [];
    let current = [];
    for (const point of points) {
      if (point) current.push(point);
      else if (current.length) { segments.push(current); current = []; }
    }
    if (current.length) segments.push(current);
    return segments.map((segment) => (segment.length === 1
      ? s('circle', { class: cls, cx: segment[0].split(',')[0], cy: segment[0].split(',')[1], r: 3 })
      : s('polyline', { class: cls, points: segment.join(' ') })));
  };

  const titleId = `chart-title-${Math.random().toString(36).slice(2)}`;
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-labelledby': titleId, preserveAspectRatio: 'xMidYMid meet' },
    s('title', { id: titleId }, `Messages and delivery time over ${span}. ${summary}`),
    grid,
    s('line', { class: 'chart-axis', x1: PAD.left, x2: WIDTH - PAD.right, y1: y(0), y2: y(0) }),
    s('text', { class: 'chart-axis-label', x: 12, y: PAD.top + plotH / 2, transform: `rotate(-90 12 ${PAD.top + plotH / 2})`, 'text-anchor': 'middle' }, 'messages'),
    latencies.length ? s('text', { class: 'chart-axis-label', x: WIDTH - 6, y: PAD.top + plotH / 2, transform: `rotate(90 ${WIDTH - 6} ${PAD.top + plotH / 2})`, 'text-anchor': 'middle' }, 'delivery time') : null,
    bars,
    line('latencyP95Ms', 'latency latency-p95'),
    line('latencyP50Ms', 'latency latency-p50'),
    xLabels);

  const legend = h('ul', { class: 'chart-legend' },
    SERIES.map((serie) => h('li', {}, h('span', { class: `swatch swatch-${serie.key}`, 'aria-hidden': 'true' }), serie.label)),
    h('li', {}, h('span', { class: 'swatch swatch-p50', 'aria-hidden': 'true' }), 'Delivery time, median'),
    h('li', {}, h('span', { class: 'swatch swatch-p95', 'aria-hidden': 'true' }), 'Delivery time, 95th percentile'));

  const table = h('details', { class: 'chart-table' },
    h('summary', {}, 'Show the figures as a table'),
    h('div', { class: 'table-scroll' }, h('table', { class: 'table' },
      h('caption', {}, `Messages and delivery time per ${hoursPerBucket === 1 ? 'hour' : `${hoursPerBucket} hours`}, ${span}`),
      h('thead', {}, h('tr', {}, ['Starting', 'In', 'Out', 'Failed', 'Median delivery time', '95th percentile'].map((head) => h('th', { scope: 'col' }, head)))),
      h('tbody', {}, buckets.map((bucket) => h('tr', {},
        h('th', { scope: 'row' }, bucketLabel(bucket, window, true)),
        h('td', {}, String(bucket.in)), h('td', {}, String(bucket.out)), h('td', {}, String(bucket.failed)),
        h('td', {}, duration(bucket.latencyP50Ms)), h('td', {}, duration(bucket.latencyP95Ms))))))));

  return h('figure', { class: 'chart-figure' },
    h('div', { class: 'chart-box' }, svg),
    legend,
    h('figcaption', { class: 'muted' }, summary),
    table);
}
