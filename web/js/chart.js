// The per-minute chart on the campaign page. uPlot (embedded from npm) is loaded on first use, so
// the overview does not pay for it.

import { h } from './ui.js';

let loading = null;

function loadUPlot() {
  loading ??= new Promise((resolve, reject) => {
    document.head.append(h('link', { rel: 'stylesheet', href: '/assets/vendor/uPlot.min.css' }));
    document.head.append(h('script', {
      src: '/assets/vendor/uPlot.iife.min.js',
      onload: () => resolve(window.uPlot),
      onerror: () => { loading = null; reject(new Error('the chart library failed to load')); },
    }));
  });
  return loading;
}

const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

// Mounts a chart of sent and joined invitations per bucket into `container`.
// Returns {update(series), dispose()}; series is the API's {bucket_seconds, points: [{t, sent, joined}]}.
export async function createChart(container) {
  const uPlot = await loadUPlot();
  const size = () => ({ width: Math.max(240, container.clientWidth), height: 220 });
  const plot = new uPlot({
    ...size(),
    scales: { x: { time: true } },
    axes: [
      { stroke: cssVar('--muted'), grid: { stroke: cssVar('--grid') }, ticks: { stroke: cssVar('--grid') } },
      { stroke: cssVar('--muted'), grid: { stroke: cssVar('--grid') }, ticks: { stroke: cssVar('--grid') } },
    ],
    series: [
      {},
      { label: 'Sent / min', stroke: cssVar('--accent'), width: 2, fill: cssVar('--accent-fill') },
      { label: 'Joined / min', stroke: cssVar('--joined'), width: 2 },
    ],
  }, [[], [], []], container);
  const onResize = () => plot.setSize(size());
  window.addEventListener('resize', onResize);
  return {
    update(series) {
      const points = series.points ?? [];
      plot.setData([
        points.map((p) => p.t / 1000),
        points.map((p) => p.sent ?? 0),
        points.map((p) => p.joined ?? 0),
      ]);
    },
    dispose() {
      window.removeEventListener('resize', onResize);
      plot.destroy();
    },
  };
}
