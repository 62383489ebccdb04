// Tokens with the probability the model gave each one, and (click or hover) its top next-token predictions.
import { bars, el, percent } from './render.js';

export default {
  id: 'tokens',
  title: 'Tokens',
  async render(section, { prompt, api }) {
    const { tokens } = await api('tokens', { prompt, top: 10 });
    const detail = el('div', { class: 'predictions' });
    const select = row => {
      for (const chip of chips.children) chip.classList.toggle('selected', Number(chip.dataset.position) === row.position);
      detail.replaceChildren(bars(`after “${row.token}” (position ${row.position}) the model predicts`,
        row.top.map(p => ({ label: p.token, value: p.probability, text: percent(p.probability) }))));
    };
    const chips = el('div', { class: 'tokens' }, ...tokens.map(row => {
      const chip = el('span', { class: 'tok', 'data-position': row.position, 'data-id': row.id, title: row.probability == null ? 'first token' : `p = ${percent(row.probability)}` },
        row.token, el('span', { class: 'sub', text: row.probability == null ? '—' : percent(row.probability) }));
      // Unlikely tokens glow red: how surprised the model was to see each one.
      if (row.probability != null) chip.style.background = `rgba(208, 69, 59, ${(1 - row.probability) * 0.45})`;
      chip.addEventListener('mouseenter', () => select(row));
      chip.addEventListener('click', () => select(row));
      return chip;
    }));
    section.replaceChildren(
      el('h2', { text: `${tokens.length} tokens` }),
      el('p', { class: 'hint', text: 'Below each token: the probability the model gave it. Hover or click a token for its next-token predictions.' }),
      chips, detail);
    select(tokens[tokens.length - 1]);
  },
};
