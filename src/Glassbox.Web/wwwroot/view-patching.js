// Direct logit attribution (bars per component, summing to the logit difference) and activation patching of a
// clean/corrupted pair (layer × position and head heatmaps, normalised 0 = corrupted, 1 = clean).
import { bars, el, fmt, heatmap } from './render.js';

// The zoo's IOI prompt with the subject's second mention swapped: the answer flips from Mary to John.
const IOI = 'When Mary and John went to the store , John gave a drink to';
const IOI_CORRUPTED = 'When Mary and John went to the store , Mary gave a drink to';

export default {
  id: 'patching',
  title: 'DLA & patching',
  async render(section, { prompt, info, api }) {
    const previous = (id, fallback) => section.querySelector('#' + id)?.value ?? fallback;
    const ioi = prompt === IOI;
    const answer = el('input', { id: 'patch-answer', size: 8, value: previous('patch-answer', ioi ? 'Mary' : '') });
    const wrong = el('input', { id: 'patch-wrong', size: 8, value: previous('patch-wrong', ioi ? 'John' : '') });
    const corrupted = el('input', { id: 'patch-corrupted', size: 60, value: previous('patch-corrupted', ioi ? IOI_CORRUPTED : '') });
    const site = el('select', { id: 'patch-site' }, ...info.patchSites.map(s => el('option', { value: s, text: s })));
    site.value = previous('patch-site', info.patchSites[0]);
    const dlaBox = el('div', { class: 'dla' }), patchBox = el('div', { class: 'patching' });

    const drawDla = async () => {
      const dla = await api('dla', { prompt, answer: answer.value || undefined, wrong: wrong.value || undefined });
      const parts = [...dla.parts].sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, 16);
      dlaBox.replaceChildren(
        el('h2', { text: `Direct logit attribution: logit(${dla.answer}) − logit(${dla.wrong}) = ${fmt(dla.actual, 4)}` }),
        el('p', { class: 'hint', text: `Every component's direct effect; all ${dla.parts.length} plus the constant ${fmt(dla.constant, 4)} sum to the actual value. The 16 largest:` }),
        bars('direct effect by component', parts.map(p => ({ label: p.component, value: p.value }))),
        el('div', { class: 'row' }, ...dla.heatmaps.map(h => heatmap(h, { digits: 2 }))));
    };
    const drawPatching = async () => {
      if (!corrupted.value.trim() || !answer.value.trim()) {
        patchBox.replaceChildren(el('p', { class: 'hint', text: 'Give a corrupted prompt (same number of tokens) and the answer to patch.' }));
        return;
      }
      const patch = await api('patching', { prompt, corrupted: corrupted.value, answer: answer.value, wrong: wrong.value || undefined, site: site.value });
      patchBox.replaceChildren(
        el('h2', { text: `Activation patching (${patch.site}, denoising)` }),
        el('p', { class: 'hint', text: `${patch.metric}: clean ${fmt(patch.clean, 4)}, corrupted ${fmt(patch.corrupted, 4)}. Each cell: the corrupted run with that one activation taken from the clean run.` }),
        el('div', { class: 'row' }, ...patch.heatmaps.map(h => heatmap(h, { digits: 2 }))));
    };
    const draw = () => Promise.all([drawDla(), drawPatching()]);
    for (const input of [answer, wrong, corrupted, site]) input.addEventListener('change', draw);
    section.replaceChildren(el('div', { class: 'controls' },
      el('label', { text: 'answer ' }, answer), el('label', { text: 'against ' }, wrong),
      el('label', { text: 'corrupted ' }, corrupted), el('label', { text: 'patch ' }, site)), dlaBox, patchBox);
    await draw();
  },
};
