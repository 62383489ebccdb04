// Information-flow routes (Ferrando & Voita 2024), as the LM Transparency Tool shows them: the graph of the last
// prediction's important edges (attention blue, MLP red, residual grey); click a node for its vocabulary
// projection, the components (down to single heads) that write into it, and what each head of the block that wrote it
// promotes and suppresses at that position (its write read through the final norm and W_U) — where a suppressing head,
// which the routes' proximity cannot show, becomes visible.
import { bars, el, graph, heatmap, percent } from './render.js';

const COLOURS = { attn: '#2f6feb', mlp: '#d0453b', residual: '#98a2b3' };

// Each head's write at the node's position in logits: a head picker (default: the largest write) and its top promoted
// and suppressed tokens as signed bars.
function headWrites(writes) {
  const largest = writes.heads.reduce((a, b) => (b.norm > a.norm ? b : a));
  const picker = el('select', { id: 'flow-head' }, ...writes.heads.map(h =>
    el('option', { value: h.head, text: `L${writes.layer}H${h.head} (‖write‖ ${h.norm.toFixed(2)})` })));
  picker.value = largest.head;
  const box = el('div');
  const draw = () => {
    const h = writes.heads[Number(picker.value)];
    box.replaceChildren(bars(`L${writes.layer}H${h.head} at position ${writes.position}: tokens promoted (top) and suppressed (logits)`,
      [...h.promoted, ...[...h.suppressed].reverse()].map(t => ({ label: t.token, value: t.value }))));
  };
  picker.addEventListener('change', draw);
  draw();
  return el('div', { class: 'head-writes' }, el('label', { text: 'attention head writes: ' }, picker), box);
}

export default {
  id: 'flow',
  title: 'Information flow',
  async render(section, { prompt, api }) {
    const threshold = el('input', { id: 'flow-threshold', type: 'number', min: '0.005', max: '0.9', step: '0.01', value: section.querySelector('#flow-threshold')?.value ?? '0.04' });
    const body = el('div');
    const draw = async () => {
      const flow = await api('flow', { prompt, threshold: Number(threshold.value) });
      const name = n => `${n.mid ? 'mid ' + n.layer : n.layer === flow.layers ? 'output' : 'x ' + n.layer} · ${n.position}:${n.token}`;
      const nodes = flow.nodes.map(n => ({ id: n.id, column: n.position, row: n.layer + (n.mid ? 0.5 : 0), label: name(n), node: n }));
      // Head sub-edges run beside their attention edge: listed on click, not drawn.
      const edges = flow.edges.filter(e => e.kind !== 'head').map(e => ({
        from: e.from, to: e.to, weight: e.importance, colour: COLOURS[e.kind] ?? '#888',
        title: `${e.kind}${e.head != null ? ` L${e.layer}H${e.head}` : ''}: ${e.importance.toFixed(3)}`,
      }));
      const detail = el('div', { class: 'node-detail' }, el('p', { class: 'hint', text: 'Click a node.' }));
      const showNode = async ({ id, label }) => {
        const embedding = id.startsWith('X') && Number(id.slice(1).split('_')[0]) === 0;
        const [projection, writes] = await Promise.all([api('flow/node', { prompt, node: id, top: 10 }),
          embedding ? null : api('flow/heads', { prompt, node: id, top: 10 })]);
        const incoming = flow.edges.filter(e => e.to === id).sort((a, b) => b.importance - a.importance)
          .map(e => ({ label: `${e.kind}${e.head != null ? ` L${e.layer}H${e.head}` : ''} ← ${flow.tokens[Number(e.from.split('_')[1])]}`, value: e.importance }));
        detail.replaceChildren(
          bars(`${label}: vocabulary projection`, projection.top.map(p => ({ label: p.token, value: p.probability, text: percent(p.probability) }))),
          incoming.length ? bars('top contributing components (importance)', incoming) : el('p', { class: 'hint', text: 'An input node: nothing writes into it.' }),
          writes && headWrites(writes));
      };
      const rowLabels = Array.from({ length: flow.layers + 1 }, (_, l) => l === flow.layers ? 'output' : 'x ' + l);
      body.replaceChildren(
        el('p', { class: 'hint', text: `${flow.nodes.length} nodes, ${flow.edges.length} edges above τ = ${flow.threshold}. Rows: residual stream entering each layer (half rows: after its attention).` }),
        el('div', { class: 'row' },
          graph(`routes to the prediction at position ${flow.tokens.length - 1}`, nodes, edges,
            { columnLabels: flow.tokens.map((t, i) => `${i}:${t}`), rowLabels, onNode: showNode }),
          detail),
        heatmap(flow.headImportance, { digits: 2 }));
      await showNode(nodes[0]);
    };
    threshold.addEventListener('change', draw);
    section.replaceChildren(el('div', { class: 'controls' }, el('label', { text: 'τ ' }, threshold)), body);
    await draw();
  },
};
