// Generic renderers shared by every view: a heatmap for any Heatmap JSON ({title, rowAxis, columnAxis,
// rowLabels, columnLabels, values}), horizontal bars for signed or positive scores, and small DOM helpers.
// Text from the model always goes in through textContent, never as HTML.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}

export const fmt = (v, digits = 3) => (typeof v === 'number' ? v.toFixed(digits) : String(v));
export const percent = p => (100 * p).toFixed(1) + '%';

// Viridis-like ramp for non-negative data; blue-white-red around zero for signed data.
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
function ramp(stops, t) {
  t = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(t)), f = t - i;
  return stops[i].map((a, k) => Math.round(a + f * (stops[i + 1][k] - a)));
}
export function colourScale(values) {
  let min = Infinity, max = -Infinity;
  for (const row of values) for (const v of row) if (Number.isFinite(v)) { min = Math.min(min, v); max = Math.max(max, v); }
  if (min < 0 && max > 0) {
    const m = Math.max(-min, max);
    return v => {
      const t = Math.max(-1, Math.min(1, v / m)), a = Math.round(255 - 200 * Math.abs(t));
      return t >= 0 ? [255, a, a] : [a, a, 255];
    };
  }
  const lo = Math.min(0, min), span = (max - lo) || 1;
  return v => ramp(VIRIDIS, (v - lo) / span);
}
const css = ([r, g, b]) => `rgb(${r},${g},${b})`;
const ink = ([r, g, b]) => (0.299 * r + 0.587 * g + 0.114 * b > 150 ? '#111' : '#fff');

let tip;
export function tooltip(text, event) {
  tip ??= document.body.appendChild(el('div', { class: 'tooltip' }));
  tip.hidden = text == null;
  if (text == null) return;
  tip.textContent = text;
  tip.style.left = event.clientX + 12 + 'px';
  tip.style.top = event.clientY + 12 + 'px';
}

// Small grids become a table (readable labels, one element per cell); large ones a canvas with a hover
// tooltip, so a 512-token prompt costs one bitmap rather than thousands of DOM nodes.
export const MAX_TABLE_CELLS = 1600;

export function heatmap(map, { cellText, onCell, digits = 3 } = {}) {
  const { values, rowLabels, columnLabels } = map;
  const colour = colourScale(values);
  const describe = (r, c) => `${rowLabels[r]} · ${columnLabels[c]}\n${cellText ? cellText(r, c) + '  ' : ''}${fmt(values[r][c], digits)}`;
  const root = el('div', { class: 'heatmap', 'data-title': map.title },
    el('div', { class: 'title', text: map.title }),
    el('div', { class: 'axis', text: `rows: ${map.rowAxis} · columns: ${map.columnAxis}` }));
  if (values.length * (values[0]?.length ?? 0) <= MAX_TABLE_CELLS) {
    const head = el('tr', {}, el('th'));
    for (const label of columnLabels) head.append(el('th', { class: 'col', text: label }));
    const table = el('table', {}, head);
    values.forEach((row, r) => {
      const tr = el('tr', {}, el('th', { class: 'row', text: rowLabels[r] }));
      row.forEach((v, c) => {
        const rgb = colour(v);
        const td = el('td', { 'data-row': r, 'data-col': c, 'data-value': v, text: cellText ? cellText(r, c) : fmt(v, Math.min(2, digits)) });
        td.style.background = css(rgb);
        td.style.color = ink(rgb);
        td.addEventListener('mousemove', e => tooltip(describe(r, c), e));
        td.addEventListener('mouseleave', () => tooltip(null));
        if (onCell) { td.style.cursor = 'pointer'; td.addEventListener('click', () => onCell(r, c)); }
        tr.append(td);
      });
      table.append(tr);
    });
    root.append(table);
    return root;
  }
  root.append(canvasGrid(values, colour, describe, onCell));
  return root;
}

function canvasGrid(values, colour, describe, onCell) {
  const rows = values.length, cols = values[0].length;
  const canvas = el('canvas', { width: cols, height: rows });
  const image = canvas.getContext('2d').createImageData(cols, rows);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
    const [R, G, B] = colour(values[r][c]), i = 4 * (r * cols + c);
    image.data.set([R, G, B, 255], i);
  }
  canvas.getContext('2d').putImageData(image, 0, 0);
  const scale = Math.max(1, Math.min(12, Math.floor(900 / cols)));
  canvas.style.width = cols * scale + 'px';
  canvas.style.height = rows * Math.max(scale, Math.min(24, Math.floor(400 / rows))) + 'px';
  const cellAt = e => {
    const box = canvas.getBoundingClientRect();
    return [Math.floor((e.clientY - box.top) / box.height * rows), Math.floor((e.clientX - box.left) / box.width * cols)];
  };
  canvas.addEventListener('mousemove', e => { const [r, c] = cellAt(e); if (r < rows && c < cols) tooltip(describe(r, c), e); });
  canvas.addEventListener('mouseleave', () => tooltip(null));
  if (onCell) canvas.addEventListener('click', e => onCell(...cellAt(e)));
  return canvas;
}

// Draws a matrix into a small canvas (attention thumbnails); values in [0, 1].
export function matrixCanvas(values, size = 72) {
  const n = values.length, canvas = el('canvas', { width: n, height: n });
  const ctx = canvas.getContext('2d'), image = ctx.createImageData(n, n);
  values.forEach((row, r) => row.forEach((v, c) => image.data.set([...ramp(VIRIDIS, v), 255], 4 * (r * n + c))));
  ctx.putImageData(image, 0, 0);
  canvas.style.width = canvas.style.height = size + 'px';
  return canvas;
}

// items: [{label, value, text?}]; bars scale to the largest magnitude, negative ones drawn leftwards in red.
export function bars(title, items, { digits = 3 } = {}) {
  const max = Math.max(1e-12, ...items.map(i => Math.abs(i.value)));
  const signed = items.some(i => i.value < 0);
  const root = el('div', { class: 'bars', 'data-title': title }, el('h3', { text: title }));
  for (const item of items) {
    const width = 100 * Math.abs(item.value) / max * (signed ? 0.5 : 1);
    const bar = el('div', { class: 'bar' + (item.value < 0 ? ' negative' : '') });
    bar.style.width = width + '%';
    bar.style.left = signed ? (item.value < 0 ? 50 - width : 50) + '%' : '0';
    root.append(el('div', { class: 'bar-row', 'data-label': item.label, 'data-value': item.value },
      el('span', { class: 'bar-label', text: item.label }),
      el('span', { class: 'bar-track' }, bar),
      el('span', { class: 'bar-value', text: item.text ?? fmt(item.value, digits) })));
  }
  return root;
}

// Layered graph as SVG: nodes [{id, column, row, label}], edges [{from, to, weight (0–1), colour, title}].
// Row 0 is drawn at the bottom (the input), so information flows upwards; clicking a node calls onNode(node).
export function graph(title, nodes, edges, { columnLabels = [], rowLabels = [], onNode } = {}) {
  const NS = 'http://www.w3.org/2000/svg';
  const svgEl = (tag, attrs = {}) => {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  };
  const columns = Math.max(columnLabels.length, ...nodes.map(n => n.column + 1));
  const rows = Math.max(rowLabels.length, ...nodes.map(n => Math.ceil(n.row) + 1));
  const dx = Math.max(36, Math.min(80, 1100 / columns)), dy = 56, left = 80, top = 20, bottom = 70;
  const x = c => left + dx * (c + 0.5), y = r => top + dy * (rows - 1 - r);
  const width = left + dx * columns + 20, height = top + dy * (rows - 1) + bottom;
  const svg = svgEl('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'graph' });
  rowLabels.forEach((label, r) => {
    const t = svgEl('text', { x: 4, y: y(r) + 4, class: 'graph-axis' });
    t.textContent = label;
    svg.append(t);
  });
  columnLabels.forEach((label, c) => {
    const t = svgEl('text', { x: x(c), y: height - bottom + 24, class: 'graph-axis', 'text-anchor': 'end', transform: `rotate(-45 ${x(c)} ${height - bottom + 24})` });
    t.textContent = label;
    svg.append(t);
  });
  const byId = new Map(nodes.map(n => [n.id, n]));
  for (const e of edges) {
    const a = byId.get(e.from), b = byId.get(e.to);
    const line = svgEl('line', { x1: x(a.column), y1: y(a.row), x2: x(b.column), y2: y(b.row), stroke: e.colour, 'stroke-width': 0.5 + 6 * e.weight, 'stroke-opacity': 0.7, 'data-from': e.from, 'data-to': e.to });
    const tip = svgEl('title');
    tip.textContent = e.title;
    line.append(tip);
    svg.append(line);
  }
  for (const n of nodes) {
    const circle = svgEl('circle', { cx: x(n.column), cy: y(n.row), r: 7, class: 'graph-node', 'data-id': n.id });
    const tip = svgEl('title');
    tip.textContent = n.label;
    circle.append(tip);
    if (onNode) circle.addEventListener('click', () => {
      for (const c of svg.querySelectorAll('.graph-node')) c.classList.toggle('selected', c === circle);
      onNode(n);
    });
    svg.append(circle);
  }
  return el('div', { class: 'graph-box', 'data-title': title }, el('h3', { text: title }), svg);
}
