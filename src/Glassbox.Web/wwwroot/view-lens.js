// Logit or tuned lens grid: layer × position, each cell the top token of that residual stream decoded, coloured by its probability.
import { el, heatmap, percent } from './render.js';

export default {
  id: 'lens',
  title: 'Logit lens',
  async render(section, { prompt, info, api }) {
    const picker = el('select', { id: 'lens-method' }, ...info.lensMethods.map(m => el('option', { value: m, text: m })));
    picker.value = section.querySelector('#lens-method')?.value ?? info.lensMethods[0];
    const body = el('div');
    const draw = async () => {
      const lens = await api('lens', { prompt, method: picker.value });
      body.replaceChildren(heatmap(lens.probabilities, {
        cellText: (r, c) => lens.topTokens[r][c],
        digits: 3,
      }), el('p', { class: 'hint', text: `Cell: the most likely next token read from that layer's residual stream; colour: its probability (output row: the model's own prediction, ${percent(lens.probabilities.values.at(-1).at(-1))} at the last position).` }),
      el('div', { class: 'row lens-extra' }, ...lens.heatmaps.map(h => heatmap(h, { digits: 2 }))));
    };
    picker.addEventListener('change', draw);
    section.replaceChildren(el('div', { class: 'controls' }, el('label', { text: 'method ' }, picker)), body);
    await draw();
  },
};
