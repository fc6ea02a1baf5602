// Parley dashboard: reads one view per second from the server-sent event stream
// /v1/dashboard/events and draws it. fetch() is used instead of EventSource because the stream
// needs an Authorization header. Every value goes in with textContent, never as HTML.
'use strict';

const KEY_STORAGE = 'parley.apiKey';
const MAX_RECONNECT_DELAY_MS = 10_000;
const SVG = 'http://www.w3.org/2000/svg';

const $ = (id) => document.getElementById(id);
let reconnectDelayMs = 500;
let stream; // the AbortController of the open stream

function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

function setConnection(on, text) {
  const element = $('connection');
  element.className = `connection ${on ? 'on' : 'off'}`;
  element.textContent = text;
}

function notice(text) {
  const element = $('notice');
  element.textContent = text;
  element.hidden = !text;
}

function askForKey(error) {
  $('key-form').hidden = false;
  $('forget-key').hidden = true;
  $('key-error').hidden = !error;
  $('key-error').textContent = error || '';
  setConnection(false, 'not connected');
  $('api-key').focus();
}

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text === null || text === undefined ? '—' : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function renderNodes(view) {
  const body = $('nodes');
  body.replaceChildren();
  for (const node of view.nodes) {
    const row = document.createElement('tr');
    row.dataset.node = node.id;
    cell(row, node.id);
    const role = document.createElement('span');
    role.className = `role ${node.role}`;
    role.textContent = node.role;
    const roleCell = cell(row, '');
    roleCell.replaceChildren(role);
    cell(row, node.term);
    cell(row, node.commitIndex);
    cell(row, node.appliedIndex);
    cell(row, node.snapshotIndex);
    cell(
      row,
      node.role === 'leader'
        ? 'self'
        : node.lastContactMs === null
          ? null
          : `${Math.round(node.lastContactMs)} ms ago`,
    );
    body.appendChild(row);
  }
}

function renderMembers(view) {
  const list = $('members');
  list.replaceChildren();
  if (!view.members) {
    const item = document.createElement('li');
    item.textContent = 'gossip unreachable';
    list.appendChild(item);
    return;
  }
  for (const member of view.members) {
    const item = document.createElement('li');
    item.className = member.status;
    item.dataset.member = member.id;
    item.textContent = `${member.id} · ${member.status} · inc ${member.incarnation}`;
    list.appendChild(item);
  }
}

function svgElement(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** A chart of the per-second series: bars for counts, lines for latency percentiles. */
function renderChart(svg, series, pick, kind) {
  const width = 600;
  const height = 160;
  const left = 40;
  const bottom = 20;
  const values = series.flatMap((s) => pick(s).filter((v) => v !== null));
  const top = Math.max(1, ...values) * 1.1;
  const x = (i) => left + (i * (width - left - 4)) / Math.max(1, series.length - 1);
  const y = (v) => height - bottom - (v / top) * (height - bottom - 8);
  const children = [
    svgElement('line', {
      class: 'axis',
      x1: left,
      y1: height - bottom,
      x2: width,
      y2: height - bottom,
    }),
    svgElement('text', { x: 2, y: 14 }, top >= 10 ? Math.round(top) : top.toFixed(1)),
    svgElement('text', { x: 2, y: height - bottom }, '0'),
    svgElement('text', { x: left, y: height - 4 }, `-${series.length}s`),
    svgElement('text', { x: width - 30, y: height - 4 }, 'now'),
  ];
  if (kind === 'bars') {
    const barWidth = Math.max(1, (width - left) / series.length - 2);
    series.forEach((second, i) => {
      const [count] = pick(second);
      if (count > 0)
        children.push(
          svgElement('rect', {
            class: 'bar',
            x: x(i) - barWidth / 2,
            y: y(count),
            width: barWidth,
            height: height - bottom - y(count),
          }),
        );
    });
  } else {
    ['p50', 'p99'].forEach((name, line) => {
      const points = series
        .map((second, i) => [i, pick(second)[line]])
        .filter(([, v]) => v !== null)
        .map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
      if (points.length > 0)
        children.push(svgElement('polyline', { class: name, points: points.join(' ') }));
      // A dot per second as well: a single second of data is a point, not a line.
      for (const point of points) {
        const [cx, cy] = point.split(',');
        children.push(svgElement('circle', { class: `dot-${name}`, cx, cy, r: 2.5 }));
      }
    });
  }
  svg.replaceChildren(...children);
}

function renderRecent(view) {
  const body = $('recent');
  body.replaceChildren();
  for (const decision of view.recent) {
    const row = document.createElement('tr');
    cell(row, decision.index);
    cell(row, decision.type);
    cell(row, decision.entity);
    cell(row, decision.outcome);
    cell(row, decision.decidedBy);
    body.appendChild(row);
  }
}

function render(view) {
  $('leader').textContent = view.leader || 'none';
  $('term').textContent = view.term === null ? '—' : String(view.term);
  $('total').textContent = String(view.decisions.total);
  $('outbox').textContent =
    view.outbox.state === 'off' ? 'off' : `${view.outbox.depth} ${view.outbox.state}`;
  document.body.dataset.outbox = view.outbox.state;
  document.body.dataset.leader = view.leader || '';
  renderNodes(view);
  renderMembers(view);
  renderChart($('rate-chart'), view.decisions.series, (s) => [s.decisions], 'bars');
  renderChart($('latency-chart'), view.decisions.series, (s) => [s.p50Ms, s.p99Ms], 'lines');
  renderRecent(view);
  const latest = [...view.decisions.series].reverse().find((s) => s.p50Ms !== null);
  $('p50-now').textContent = latest ? `p50 ${latest.p50Ms.toFixed(1)}` : 'p50';
  $('p99-now').textContent = latest ? `p99 ${latest.p99Ms.toFixed(1)}` : 'p99';
}

/** Reads "event:/data:" blocks from the stream and renders each view. */
async function readStream(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += value;
    let end;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (data) {
        render(JSON.parse(data));
        reconnectDelayMs = 500;
      }
    }
  }
}

async function connect() {
  const key = apiKey();
  if (!key) return askForKey();
  stream?.abort();
  stream = new AbortController();
  setConnection(false, 'connecting…');
  try {
    const response = await fetch('/v1/dashboard/events', {
      headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' },
      signal: stream.signal,
    });
    if (response.status === 401 || response.status === 403) {
      sessionStorage.removeItem(KEY_STORAGE);
      const problem = await response.json().catch(() => ({}));
      return askForKey(problem.detail || `refused (${response.status})`);
    }
    if (!response.ok) throw new Error(`the stream answered ${response.status}`);
    $('key-form').hidden = true;
    $('forget-key').hidden = false;
    $('transfer').disabled = false;
    $('snapshot').disabled = false;
    setConnection(true, 'live');
    await readStream(response);
  } catch (error) {
    if (error.name === 'AbortError') return;
  }
  // The stream ended or failed: try again with a bounded, growing pause.
  setConnection(false, 'reconnecting…');
  setTimeout(connect, reconnectDelayMs);
  reconnectDelayMs = Math.min(MAX_RECONNECT_DELAY_MS, reconnectDelayMs * 2);
}

async function operate(path, body, describe) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey()}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).catch((error) => ({ ok: false, status: 0, json: async () => ({ detail: error.message }) }));
  const answer = await response.json().catch(() => ({}));
  notice(
    response.ok
      ? describe(answer)
      : `${path} refused (${response.status}): ${answer.detail || answer.title || 'no detail'}`,
  );
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY_STORAGE, $('api-key').value.trim());
  $('api-key').value = '';
  void connect();
});
$('forget-key').addEventListener('click', () => {
  sessionStorage.removeItem(KEY_STORAGE);
  stream?.abort();
  askForKey();
});
$('transfer').addEventListener('click', () =>
  operate(
    '/v1/cluster/transfer-leadership',
    {},
    (a) => `leadership transfer to ${a.to ?? 'a follower'} accepted`,
  ),
);
$('snapshot').addEventListener('click', () =>
  operate('/v1/cluster/snapshot', {}, (a) => `snapshot taken at index ${a.index}`),
);

void connect();
