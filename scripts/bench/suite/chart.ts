/**
 * An SVG chart of throughput, p99 latency and server CPU per request against concurrent clients,
 * one line per system,
 * clients on a log scale (1, 16, 64, 256). Written by hand: two small line plots need no library.
 */
export interface ChartSeries {
  name: string;
  colour: string;
  points: { clients: number; perSecond: number; p99Ms: number; cpuUsPerRequest: number }[];
}

const WIDTH = 1330;
const HEIGHT = 390;
const PANEL = { width: 380, height: 250, top: 85 };

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function panel(
  left: number,
  title: string,
  series: ChartSeries[],
  pick: (p: ChartSeries['points'][number]) => number,
  unit: string,
): string {
  const clients = [...new Set(series.flatMap((s) => s.points.map((p) => p.clients)))].sort(
    (a, b) => a - b,
  );
  const maxValue = Math.max(
    1,
    ...series.flatMap((s) => s.points.map(pick)).filter(Number.isFinite),
  );
  const top = maxValue * 1.1;
  const logMin = Math.log2(clients[0] ?? 1);
  const logMax = Math.log2(clients[clients.length - 1] ?? 2);
  const x = (c: number) =>
    left + ((Math.log2(c) - logMin) / Math.max(1, logMax - logMin)) * PANEL.width;
  const y = (v: number) => PANEL.top + PANEL.height - (v / top) * PANEL.height;
  const parts = [
    `<text x="${left}" y="${PANEL.top - 15}" class="title">${escapeXml(title)}</text>`,
    `<line x1="${left}" y1="${PANEL.top + PANEL.height}" x2="${left + PANEL.width}" y2="${PANEL.top + PANEL.height}" class="axis"/>`,
    `<line x1="${left}" y1="${PANEL.top}" x2="${left}" y2="${PANEL.top + PANEL.height}" class="axis"/>`,
  ];
  for (let tick = 0; tick <= 4; tick += 1) {
    const value = (top * tick) / 4;
    parts.push(
      `<text x="${left - 6}" y="${y(value) + 4}" class="tick" text-anchor="end">${value >= 100 ? Math.round(value) : value.toFixed(1)}</text>`,
      `<line x1="${left}" y1="${y(value)}" x2="${left + PANEL.width}" y2="${y(value)}" class="grid"/>`,
    );
  }
  for (const c of clients)
    parts.push(
      `<text x="${x(c)}" y="${PANEL.top + PANEL.height + 16}" class="tick" text-anchor="middle">${c}</text>`,
    );
  parts.push(
    `<text x="${left + PANEL.width / 2}" y="${PANEL.top + PANEL.height + 34}" class="tick" text-anchor="middle">concurrent clients (${escapeXml(unit)})</text>`,
  );
  for (const s of series) {
    const points = s.points.filter((p) => Number.isFinite(pick(p)));
    parts.push(
      `<polyline fill="none" stroke="${s.colour}" stroke-width="2.5" points="${points.map((p) => `${x(p.clients).toFixed(1)},${y(pick(p)).toFixed(1)}`).join(' ')}"/>`,
      ...points.map(
        (p) =>
          `<circle cx="${x(p.clients).toFixed(1)}" cy="${y(pick(p)).toFixed(1)}" r="3.5" fill="${s.colour}"/>`,
      ),
    );
  }
  return parts.join('\n');
}

export function throughputAndLatencyChart(title: string, series: ChartSeries[]): string {
  const legend = series
    .map(
      (s, i) =>
        `<rect x="${1070 + i * 120}" y="14" width="14" height="14" fill="${s.colour}"/><text x="${1090 + i * 120}" y="26" class="legend">${escapeXml(s.name)}</text>`,
    )
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">
<style>
  text { font-family: sans-serif; fill: #222; }
  .title { font-size: 15px; font-weight: bold; }
  .tick { font-size: 11px; fill: #555; }
  .legend { font-size: 13px; }
  .axis { stroke: #333; }
  .grid { stroke: #ddd; }
</style>
<rect width="100%" height="100%" fill="white"/>
<text x="20" y="26" class="title">${escapeXml(title)}</text>
${legend}
${panel(70, 'throughput (requests/s, higher is better)', series, (p) => p.perSecond, 'log scale')}
${panel(500, 'p99 latency (ms, lower is better)', series, (p) => p.p99Ms, 'log scale')}
${panel(930, 'server CPU per request (µs, lower is better)', series, (p) => p.cpuUsPerRequest, 'log scale')}
</svg>
`;
}
