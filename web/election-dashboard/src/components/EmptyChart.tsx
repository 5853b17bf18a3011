/** What a chart shows before its data arrives, or when there are no ballots to draw. */
import { t } from '../i18n.js';

export function EmptyChart({ loading }: { loading: boolean }) {
  return (
    <p className="empty" data-testid="empty">
      {loading ? t.loading : t.noBallots}
    </p>
  );
}
