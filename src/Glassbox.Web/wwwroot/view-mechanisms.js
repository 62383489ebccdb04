// The known-mechanism detectors (docs/mechanisms.md) on the loaded model: each mechanism's flagged heads with the score
// that flagged them, their ablation evidence and verdict, the ablation of the whole group, and every per-head score as a
// layer × head heatmap (click a cell for that head's scores). The report depends on the model, not on the prompt: the
// server computes it once per model with the detector's own probe (repeated random tokens, IOI prompts).
import { el, fmt, heatmap } from './render.js';

const cell = (text, attrs = {}) => el('td', { text, ...attrs });

function mechanism(label, findings, group) {
  const evidence = findings.find(f => f.evidenceMetric)?.evidenceMetric;
  const table = el('table', { class: 'findings', 'data-label': label },
    el('tr', {}, ...['head', findings[0].metric, evidence ?? 'evidence', 'verdict', 'detail'].map(t => el('th', { text: t }))),
    ...findings.map(f => el('tr', { 'data-head': f.name },
      cell(f.name), cell(fmt(f.score), { class: 'num' }), cell(f.evidenceValue == null ? '—' : fmt(f.evidenceValue), { class: 'num' }),
      cell(f.verdict ?? ''), cell(f.detail ?? ''))));
  return el('div', { class: 'mechanism' }, el('h3', { text: `${label} (${findings.length})` }), table,
    group && el('p', { class: 'hint group', text: `all of ${group.heads.join(', ')} ablated together: ${group.metric} ${fmt(group.clean)} → ${fmt(group.ablated)} (Δ ${fmt(group.change)})` }));
}

export default {
  id: 'mechanisms',
  title: 'Mechanisms',
  async render(section, { api }) {
    const r = await api('mechanisms');
    const labels = [...new Set(r.findings.map(f => f.label))];
    const headCard = el('div', { class: 'head-scores' }, el('p', { class: 'hint', text: 'Click a heatmap cell for that head\'s scores.' }));
    const showHead = (l, h) => headCard.replaceChildren(el('h3', { text: `L${l}H${h}` }),
      el('table', { class: 'findings' }, ...r.heatmaps.map(m => el('tr', {}, cell(m.title), cell(fmt(m.values[l][h]), { class: 'num' })))));
    const ioi = r.ioiAccuracy == null ? '' : r.ioiLogitDiff == null ? ` IOI accuracy ${fmt(r.ioiAccuracy)}: too low for the IOI detectors.`
      : ` IOI accuracy ${fmt(r.ioiAccuracy)}, mean logit(IO) − logit(S) ${fmt(r.ioiLogitDiff)}.`;
    section.replaceChildren(
      el('p', { class: 'hint', text: `${r.model}: ${r.layers} layers × ${r.heads} heads. Probe: ${r.sequences} repeated random sequences of 2 × ${r.halfLength} tokens; `
        + `loss ${fmt(r.inductionLoss.firstHalf)} on the first half, ${fmt(r.inductionLoss.secondHalf)} on the repeat.${ioi} This view does not depend on the prompt.` }),
      el('h2', { text: 'Detected heads' }),
      labels.length ? el('div', { class: 'row' }, ...labels.map(label => mechanism(label, r.findings.filter(f => f.label === label), r.groups.find(g => g.label === label))))
        : el('p', { class: 'hint', text: 'No head passes a detector\'s threshold.' }),
      el('h2', { text: 'Head scores' }),
      el('div', { class: 'row' }, el('div', { class: 'row' }, ...r.heatmaps.map(m => heatmap(m, { digits: 2, onCell: showHead }))), headCard));
  },
};
