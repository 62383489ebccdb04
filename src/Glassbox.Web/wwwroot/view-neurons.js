// Neuron page (Neuronpedia-style): the layer's most active neurons at the prompt's last token; for the chosen one,
// its activation on every prompt token, the tokens its weights read and write, its top contexts and its density.
// With an SAE (`serve --sae`), the same page shows SAE features instead: the source switch picks neurons or features.
import { bars, el, fmt, heatmap } from './render.js';

export default {
  id: 'neurons',
  title: 'Neurons',
  async render(section, { prompt, info, api }) {
    if (!info.model.dMlp && !info.sae) {
      section.replaceChildren(el('p', { class: 'hint', text: 'This model has no MLP neurons (attention only).' }));
      return;
    }
    const sources = [...(info.model.dMlp ? [['neurons', 'neurons']] : []), ...(info.sae ? [['sae', 'SAE features']] : [])];
    const source = el('select', { id: 'neuron-source' }, ...sources.map(([value, text]) => el('option', { value, text })));
    source.value = section.querySelector('#neuron-source')?.value ?? sources[0][0];
    const layer = el('select', { id: 'neuron-layer' }, ...Array.from({ length: info.model.layers }, (_, l) => el('option', { value: l, text: 'layer ' + l })));
    layer.value = section.querySelector('#neuron-layer')?.value ?? '0';
    const neuron = el('input', { id: 'neuron-index', type: 'number', min: 0, placeholder: 'most active', size: 6 });
    const layerLabel = el('label', { text: 'layer ' }, layer), indexLabel = el('label', {}, el('span'), neuron);
    const sae = () => source.value === 'sae';
    const name = (page, unit) => page.source === 'sae' ? `F${unit}` : `N${unit}`;
    const setSource = () => {
      layerLabel.hidden = sae();
      indexLabel.firstChild.textContent = sae() ? 'feature ' : 'neuron ';
      neuron.max = (sae() ? info.sae.features : info.model.dMlp) - 1;
    };
    const body = el('div');
    const projection = (title, p) => bars(title, [...p.top, ...[...p.bottom].reverse()].map(t => ({ label: t.token, value: t.value })));
    const draw = async () => {
      const index = neuron.value === '' ? undefined : Number(neuron.value);
      const page = sae() ? await api('features', { prompt, feature: index }) : await api('neurons', { prompt, layer: Number(layer.value), neuron: index });
      neuron.value = page.neuron;
      const view = page.views.units[0];
      const max = Math.max(1e-9, ...page.activations.map(Math.abs));
      const strip = el('div', { class: 'tokens neuron-tokens' }, ...page.tokens.map((t, i) => {
        const chip = el('span', { class: 'tok', 'data-activation': page.activations[i], title: `activation ${fmt(page.activations[i], 4)}` }, t,
          el('span', { class: 'sub', text: fmt(page.activations[i], 2) }));
        chip.style.background = page.activations[i] > 0 ? `rgba(47, 111, 235, ${page.activations[i] / max * 0.6})` : '';
        return chip;
      }));
      const topList = el('div', { class: 'top-neurons' }, el('h3', { text: 'most active at the last token' }), ...page.topAtLastToken.map(n =>
        el('button', { type: 'button', 'data-neuron': n.neuron, class: n.neuron === page.neuron ? 'active' : '', text: `${name(page, n.neuron)}  ${fmt(n.activation, 2)}`,
          onclick: () => { neuron.value = n.neuron; draw(); } })));
      const chips = tokens => tokens.map(t => el('span', { class: 'tok', text: t }));
      const examples = el('table', { class: 'examples' }, ...page.contexts.map(e => el('tr', {},
        el('td', { class: 'num', text: fmt(e.activation, 3) }),
        el('td', {}, el('div', { class: 'tokens' }, ...chips(e.before), el('span', { class: 'tok peak', text: e.token }), ...chips(e.after))))));
      body.replaceChildren(
        el('h2', { text: (page.source === 'sae' ? `SAE ${name(page, page.neuron)} · ${info.sae.hookName}` : `L${page.layer} N${page.neuron}`) + (view.density != null ? ` · fires on ${fmt(100 * view.density, 2)}% of tokens` : '') }),
        el('div', { class: 'row' }, topList, el('div', {}, el('h3', { text: 'activation on the prompt' }), strip)),
        el('div', { class: 'row' }, projection(`${page.source === 'sae' ? 'decoder direction' : 'output weights'}: tokens promoted (top) and suppressed`, view.output),
          view.input ? projection('input weights: tokens that excite it', view.input) : el('span')),
        el('h3', { text: `top-activating contexts (${page.corpus})` }), examples,
        ...(page.views.histogram ? [heatmap(histogram(page.views.histogram, page.source === 'sae' ? 'SAE: features' : `layer ${page.layer}: neurons`), { digits: 0 })] : []));
    };
    layer.addEventListener('change', () => { neuron.value = ''; draw(); });
    source.addEventListener('change', () => { neuron.value = ''; setSource(); draw(); });
    neuron.addEventListener('change', draw);
    setSource();
    section.replaceChildren(el('div', { class: 'controls' }, ...(sources.length > 1 ? [el('label', { text: 'source ' }, source)] : []), layerLabel, indexLabel), body);
    await draw();
  },
};

const histogram = (h, units) => ({
  title: `${units} per log10 density bin`, rowAxis: '', columnAxis: 'log10 density',
  rowLabels: [units.split(' ').pop()], columnLabels: ['dead', ...h.binLowerEdges.map(e => e.toFixed(1))], values: [[h.dead, ...h.counts]],
});
