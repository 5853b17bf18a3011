/** What a chart shows before its data arrives, or when there are no votes to draw. */
export function EmptyChart({ loading }: { loading: boolean }) {
  return (
    <p className="empty" data-testid="empty">
      {loading ? 'Cargando…' : 'Aún no hay votos.'}
    </p>
  );
}
