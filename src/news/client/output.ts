/** Human-readable output of the news client, shared by the subcommands and the console menu. */
import { formatTable } from '../../platform/table.js';
import type { AreaView, NewsView } from '../protocol.js';

export function formatAreas(areas: readonly AreaView[]): string {
  if (areas.length === 0) return 'No areas.';
  return formatTable(
    ['area', 'subscribed', 'news', 'nodes'],
    areas.map((area) => [
      area.name,
      area.subscribed ? 'yes' : 'no',
      String(area.news),
      area.nodes.join(', ') || '-',
    ]),
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

/** "1 news item", "3 news items". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
