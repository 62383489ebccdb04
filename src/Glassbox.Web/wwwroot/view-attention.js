// Attention: every head as a thumbnail (layer × head grid), head scores as heatmaps, one head at full
// resolution, and a CircuitsVis-style token view — hover a token to see where each head attends from it.
import { el, fmt, heatmap, matrixCanvas } from './render.js';

const PALETTE = [[47, 111, 235], [208, 69, 59], [46, 160, 67], [191, 135, 0], [137, 87, 229], [0, 150, 170], [219, 97, 162], [110, 110, 110]];
const headColour = h => PALETTE[h % PALETTE.length];

export default {
  id: 'attention',
  title: 'Attention',
  async render(section, { prompt, api }) {
    const overview = await api('attention', { prompt });
    const { tokens, layers, heads } = overview;
    const layerCache = new Map();
    const layer = async l => {
      if (!layerCache.has(l)) layerCache.set(l, await api('attention', { prompt, layer: l }));
      return layerCache.get(l);
    };
    const labels = tokens.map((t, i) => `${i}:${t}`);

    const detail = el('div', { class: 'head-detail' });
    const grid = el('div', { class: 'head-grid' });
    grid.style.gridTemplateColumns = `3rem repeat(${heads}, 76px)`;
    grid.append(el('span'), ...Array.from({ length: heads }, (_, h) => el('span', { class: 'head-cell', text: 'H' + h })));
    const selectHead = async (l, h) => {
      for (const cell of grid.querySelectorAll('[data-head]')) cell.classList.toggle('selected', cell.dataset.layer == l && cell.dataset.head == h);
      const full = (await layer(l)).patterns[h];
      detail.replaceChildren(heatmap({ title: `L${l}H${h} attention pattern`, rowAxis: 'query (from)', columnAxis: 'key (to)', rowLabels: labels, columnLabels: labels, values: full.values }, { digits: 3 }));
    };
    for (let l = 0; l < layers; l++) {
      grid.append(el('span', { class: 'head-cell', text: 'L' + l }));
      for (let h = 0; h < heads; h++) {
        const p = overview.patterns.find(x => x.layer === l && x.head === h);
        grid.append(el('div', { class: 'head-cell', 'data-layer': l, 'data-head': h, title: `L${l}H${h}` + (p.size < tokens.length ? ` (maximum of each block, ${p.size}×${p.size})` : ''), onclick: () => selectHead(l, h) },
          matrixCanvas(p.values), el('span', { text: `L${l}H${h}` })));
      }
    }

    const tokenView = el('div', { class: 'token-view' });
    section.replaceChildren(
      el('h2', { text: 'Every head' }),
      el('p', { class: 'hint', text: 'Rows: the token attending (query); columns: the token attended to (key). Click a head for its full pattern.' }),
      el('div', { class: 'row' }, grid, detail),
      el('h2', { text: 'Head scores on this prompt' }),
      el('div', { class: 'row' }, ...overview.scores.map(s => heatmap(s, { digits: 2 }))),
      el('h2', { text: 'Where each head attends from a token' }),
      tokenView);
    await renderTokenView(tokenView, tokens, heads, layer);
    await selectHead(layers - 1, 0);
  },
};

// CircuitsVis-style: pick a layer and a head (or all heads); hovering token q shades every token k by A[q, k].
async function renderTokenView(root, tokens, heads, layer) {
  const state = { layer: 0, head: 'all', query: tokens.length - 1, patterns: null };
  const layerPicker = el('select', { id: 'attn-layer' });
  const layers = (await layer(0)).layers;
  for (let l = 0; l < layers; l++) layerPicker.append(el('option', { value: l, text: 'layer ' + l }));
  const headButtons = el('div', { class: 'controls head-buttons' });
  const chips = el('div', { class: 'tokens attention-tokens' });
  const legend = el('p', { class: 'hint' });

  const paint = () => {
    const q = state.query;
    for (const chip of chips.children) {
      const k = Number(chip.dataset.position);
      let weight = 0, who = 0;
      if (k <= q) {
        if (state.head === 'all') state.patterns.forEach((p, h) => { if (p.values[q][k] > weight) { weight = p.values[q][k]; who = h; } });
        else { weight = state.patterns[state.head].values[q][k]; who = state.head; }
      }
      const [r, g, b] = headColour(who);
      chip.style.background = k === q ? '#fff' : `rgba(${r}, ${g}, ${b}, ${weight})`;
      chip.style.color = weight > 0.6 ? 'white' : '';
      chip.classList.toggle('selected', k === q);
      chip.dataset.weight = fmt(weight, 4);
      chip.title = k === q ? 'query token' : `attention from ${q} to ${k}: ${fmt(weight, 3)}` + (state.head === 'all' ? ` (strongest: H${who})` : '');
    }
    legend.textContent = `from “${tokens[q]}” (position ${q}), layer ${state.layer}, ${state.head === 'all' ? 'all heads: each token in the colour of the head attending to it most' : 'head ' + state.head}`;
  };
  const setLayer = async l => {
    state.layer = l;
    state.patterns = (await layer(l)).patterns;
    paint();
  };
  const setHead = h => {
    state.head = h;
    for (const b of headButtons.children) b.classList.toggle('active', b.dataset.head === String(h));
    paint();
  };
  headButtons.append(el('button', { type: 'button', 'data-head': 'all', text: 'all heads', onclick: () => setHead('all') }));
  for (let h = 0; h < heads; h++) {
    const swatch = el('span', { class: 'head-swatch' });
    swatch.style.background = `rgb(${headColour(h).join(',')})`;
    headButtons.append(el('button', { type: 'button', 'data-head': h, onclick: () => setHead(h) }, swatch, ' H' + h));
  }
  chips.append(...tokens.map((t, i) => {
    const chip = el('span', { class: 'tok', 'data-position': i, text: t });
    chip.addEventListener('mouseenter', () => { state.query = i; paint(); });
    return chip;
  }));
  layerPicker.addEventListener('change', () => setLayer(Number(layerPicker.value)));
  root.replaceChildren(el('div', { class: 'controls' }, el('label', { text: 'layer ' }, layerPicker), headButtons), chips, legend);
  await setLayer(0);
  setHead('all');
}
