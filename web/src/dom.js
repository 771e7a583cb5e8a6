// Building the page. Everything shown comes from the API, and much of it from whoever
// started an order (business keys, variables, error messages): it is only ever set as text,
// never parsed as HTML.

// h('a', {href: '#/x', class: 'link'}, 'text', child, ...): an element with attributes
// (on* attributes are refused: handlers go through `on`) and children (strings become text).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'on') {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (name.startsWith('on')) {
      throw new Error(`h(): event attributes are not set as text (${name})`);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// Replaces what `el` shows.
export function show(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

// A hash route's link: #/processes/order%20acceptance
export function link(...parts) {
  return '#/' + parts.map((p) => encodeURIComponent(String(p))).join('/');
}

export function number(n) {
  return new Intl.NumberFormat('en').format(n);
}

// 850 ms, 12.5 s, 3.2 min, 5.0 h; '' when not known.
export function duration(ms) {
  if (ms === null || ms === undefined) return '';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7200000) return `${(ms / 60000).toFixed(1)} min`;
  return `${(ms / 3600000).toFixed(1)} h`;
}

export function when(ms) {
  return ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '';
}

// An action that asks first: `label` shows a button; clicking it shows `question` with a
// button that does `act` (its result, or the error, is shown in place) and one that backs out.
export function confirmed(label, question, yes, act, attrs = {}) {
  const box = h('span', { class: 'action', ...attrs });
  const ask = () => show(box,
    h('span', { class: 'question' }, question, ' '),
    h('button', { class: 'danger', 'data-confirm': 'yes', on: { click: async (e) => {
      e.target.disabled = true;
      try {
        await act();
      } catch (err) {
        show(box, h('span', { class: 'error', role: 'alert' }, err.message));
      }
    } } }, yes),
    ' ',
    h('button', { 'data-confirm': 'no', on: { click: idle } }, 'No'));
  const idle = () => show(box, h('button', { on: { click: ask } }, label));
  idle();
  return box;
}

// Shows the current page again (after an action changed what it shows).
export function refresh() {
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

// An action on a JSON object the user writes: `label` shows a button; clicking it shows a
// text area (with `initial`) and `yes`, which parses the text and does `act(object)`, or says
// what is wrong with it; No backs out.
export function edited(label, initial, yes, act, attrs = {}) {
  const box = h('div', { class: 'action edit', ...attrs });
  const open = () => {
    const area = h('textarea', { rows: 8, cols: 60, spellcheck: 'false', 'aria-label': label });
    area.value = initial;
    const problem = h('p', { class: 'error', role: 'alert', hidden: true });
    show(box, area, problem,
      h('button', { class: 'danger', 'data-confirm': 'yes', on: { click: async (e) => {
        let value;
        try {
          value = JSON.parse(area.value);
          if (value === null || typeof value !== 'object' || Array.isArray(value)) {
            throw new Error('write a JSON object: {"name": value, ...}');
          }
        } catch (err) {
          problem.hidden = false;
          show(problem, `Not saved: ${err.message}`);
          return;
        }
        e.target.disabled = true;
        try {
          await act(value);
        } catch (err) {
          e.target.disabled = false;
          problem.hidden = false;
          show(problem, err.message);
        }
      } } }, yes),
      ' ',
      h('button', { 'data-confirm': 'no', on: { click: closed } }, 'No'));
  };
  const closed = () => show(box, h('button', { on: { click: open } }, label));
  closed();
  return box;
}
