// The viewer's shell: model picker, prompt box, tabs. Each view module exports
// {id, title, render(section, context)} and is computed when its tab is shown for a new prompt.
import { api } from './api.js';
import { el } from './render.js';
import tokens from './view-tokens.js';
import attention from './view-attention.js';
import lens from './view-lens.js';
import attribution from './view-attribution.js';
import flow from './view-flow.js';
import neurons from './view-neurons.js';
import patching from './view-patching.js';
import mechanisms from './view-mechanisms.js';

const views = [tokens, attention, lens, attribution, patching, flow, neurons, mechanisms];
const DEFAULT_PROMPT = 'When Mary and John went to the store , John gave a drink to';
const $ = id => document.getElementById(id);
const state = { info: null, prompt: '', active: views[0].id, rendered: new Map() };

function showError(message) {
  $('error').hidden = !message;
  $('error').textContent = message ?? '';
}

async function loadInfo() {
  state.info = await api('info');
  const m = state.info.model;
  $('model-info').textContent = `${m.architecture} · ${m.layers} layers × ${m.heads} heads · d ${m.dModel} · vocab ${m.vocabSize} · up to ${state.info.maxTokens} tokens`;
  const { models, current } = await api('models');
  const picker = $('model-picker');
  picker.replaceChildren(...models.map(x => el('option', { value: x.path, text: x.name })));
  if (!models.some(x => x.path === current)) picker.prepend(el('option', { value: current, text: m.name }));
  picker.value = current;
}

async function show(id) {
  state.active = id;
  for (const button of $('tabs').children) button.classList.toggle('active', button.dataset.view === id);
  for (const section of $('views').children) section.hidden = section.dataset.view !== id;
  if (state.rendered.get(id) === state.prompt) return;
  const view = views.find(v => v.id === id), section = $('view-' + id);
  const started = performance.now();
  $('status').textContent = `computing ${view.title.toLowerCase()}…`;
  try {
    showError(null);
    await view.render(section, { prompt: state.prompt, info: state.info, api });
    state.rendered.set(id, state.prompt);
    section.dataset.ready = 'true';
    $('status').textContent = `${view.title}: ${Math.round(performance.now() - started)} ms`;
  } catch (e) {
    showError(e.message);
    $('status').textContent = '';
  }
}

function run(event) {
  event?.preventDefault();
  state.prompt = $('prompt').value;
  state.rendered.clear();
  for (const section of $('views').children) delete section.dataset.ready;
  return show(state.active);
}

async function start() {
  $('tabs').replaceChildren(...views.map(v => el('button', { type: 'button', 'data-view': v.id, text: v.title, onclick: () => show(v.id) })));
  $('views').replaceChildren(...views.map(v => el('section', { class: 'view', id: 'view-' + v.id, 'data-view': v.id })));
  // ?prompt=…&view=… opens the viewer on a given prompt and tab, so a view can be linked to.
  const query = new URLSearchParams(location.search);
  $('prompt').value = query.get('prompt') ?? DEFAULT_PROMPT;
  if (views.some(v => v.id === query.get('view'))) state.active = query.get('view');
  $('prompt-form').addEventListener('submit', run);
  $('prompt').addEventListener('keydown', e => { if (e.key === 'Enter' && !e.shiftKey) run(e); });
  $('model-picker').addEventListener('change', async e => {
    try {
      showError(null);
      await api('models/load', { path: e.target.value });
      await loadInfo();
      await run();
    } catch (err) { showError(err.message); }
  });
  try {
    await loadInfo();
    await run();
    document.body.dataset.ready = 'true';
  } catch (e) { showError(e.message); }
}

start();
