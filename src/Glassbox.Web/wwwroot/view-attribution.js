// Input attribution: one method's score for every prompt token, explaining a target token at the last position
// (the model's own prediction unless one is given), with the method's per-layer grid where it has one.
import { el, fmt, heatmap } from './render.js';

export default {
  id: 'attribution',
  title: 'Attribution',
  async render(section, { prompt, info, api }) {
    const previous = id => section.querySelector('#' + id)?.value;
    const method = el('select', { id: 'attribution-method' }, ...info.attributionMethods.map(m => el('option', { value: m, text: m })));
    method.value = previous('attribution-method') ?? info.attributionMethods[0];
    const target = el('input', { id: 'attribution-target', placeholder: 'the model’s prediction', value: previous('attribution-target') ?? '' });
    const words = el('input', { id: 'attribution-words', type: 'checkbox' });
    words.checked = section.querySelector('#attribution-words')?.checked ?? false;
    const body = el('div');
    const draw = async () => {
      const result = await api('attribution', { prompt, method: method.value, target: target.value.trim() || undefined, words: words.checked });
      const facts = [`target “${result.target}”`];
      if (result.targetValue != null) facts.push(`T = ${fmt(result.targetValue, 4)}`);
      if (result.completenessError != null) facts.push(`completeness error ${fmt(100 * result.completenessError, 2)}%`);
      body.replaceChildren(
        el('p', { class: 'hint', text: `${result.method}: ${result.description}. ${facts.join(' · ')}` }),
        el('div', { class: 'row' }, ...result.heatmaps.map(h => heatmap(h, { digits: 3 }))));
    };
    method.addEventListener('change', draw);
    target.addEventListener('change', draw);
    words.addEventListener('change', draw);
    section.replaceChildren(el('div', { class: 'controls' }, el('label', { text: 'method ' }, method), el('label', { text: 'target ' }, target),
      el('label', { text: 'by word ' }, words)), body);
    await draw();
  },
};
