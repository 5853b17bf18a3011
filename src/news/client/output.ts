/** Human-readable output of the news client, shared by the subcommands and the console menu. */
import { formatTable } from '../../platform/table.js';
import type { AreaView, NewsView } from '../protocol.js';

export function formatAreas(areas: readonly AreaView[]): string {
  if (areas.length === 0) return 'No areas.';
  return formatTable(
    ['area', 'subscribed', 'nodes'],
    areas.map((area) => [area.name, area.subscribed ? 'yes' : 'no', area.nodes.join(', ') || '-']),
  );
}

export function formatNews(items: readonly NewsView[]): string {
  if (items.length === 0) return 'No news.';
  return items
    .map((item) => {
      const when = item.postedAt.replace('T', ' ').slice(0, 19);
      const mark = item.wasRead ? '' : ' (new)';
      return `#${item.id} ${when} ${item.author}${mark}\n  ${item.text.replaceAll('\n', '\n  ')}`;
    })
    .join('\n');
}
