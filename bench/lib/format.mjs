// How times, sizes and ratios are written in the tables and the log.
const MiB = 2 ** 20;
const GiB = 2 ** 30;

export function formatMs(ms) {
  if (ms === undefined) return '–';
  const sign = ms < 0 ? '−' : '';
  const abs = Math.abs(ms);
  if (abs < 10) return `${sign}${abs.toFixed(1)} ms`;
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  return `${sign}${(abs / 1000).toFixed(2)} s`;
}

export function formatBytes(n) {
  if (n === undefined) return '–';
  const abs = Math.abs(n);
  if (abs >= GiB) return `${(n / GiB).toFixed(2)} GiB`;
  if (abs >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${Math.round(n / 1024)} KiB`;
}

/** A ratio with two decimals below 10 (where 0.95 against 1.05 matters), whole numbers above. */
export const ratio = (x) => (x === undefined ? '–' : x >= 10 ? `${Math.round(x)}×` : `${x.toFixed(2)}×`);

/** A ratio's median and its spread over the rounds: `1.14× (0.92 – 1.30)`. */
export const ratioSpread = (s) => (s ? `${ratio(s.median)} (${s.min.toFixed(s.min >= 10 ? 0 : 2)} – ${s.max.toFixed(s.max >= 10 ? 0 : 2)})` : '–');
