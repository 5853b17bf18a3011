/**
 * The result page: counts, percentages and the total, kept live by an EventSource on
 * `/api/stream` (it reconnects by itself; the first event after a reconnect is the full tally).
 */
import { escapeHtml } from './labels.js';
import type { Results } from './results.js';

export function renderResultPage(results: Results): string {
  const rows = results.options
    .map(
      ({ option, label, votes, percent }) =>
        `<div class="option" data-option="${option}"><h2>${escapeHtml(label)}</h2>` +
        `<p class="percent">${percent}%</p><p class="votes">${votes}</p></div>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Results</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; text-align: center; }
  .options { display: flex; gap: 2rem; justify-content: center; }
  .percent { font-size: 3rem; margin: .5rem 0; }
  #total { font-size: 1.25rem; }
  #live { color: #666; font-size: .9rem; }
</style>
</head>
<body>
<h1>Results</h1>
<div class="options">${rows}</div>
<p id="total">${escapeHtml(results.totalText)}</p>
<p id="live">connecting…</p>
<script>
  const live = document.getElementById('live');
  const stream = new EventSource('/api/stream');
  stream.addEventListener('results', (event) => {
    const results = JSON.parse(event.data);
    for (const { option, votes, percent } of results.options) {
      const box = document.querySelector('[data-option="' + option + '"]');
      box.querySelector('.percent').textContent = percent + '%';
      box.querySelector('.votes').textContent = votes;
    }
    document.getElementById('total').textContent = results.totalText;
    live.textContent = 'live';
  });
  stream.onerror = () => { live.textContent = 'reconnecting…'; };
</script>
</body>
</html>
`;
}
