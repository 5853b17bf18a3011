/** One dashboard card: a titled region, its controls, and what went wrong loading it. */
import type { ReactNode } from 'react';

interface PanelProps {
  id: string;
  title: string;
  controls?: ReactNode;
  error?: Error | undefined;
  wide?: boolean;
  children: ReactNode;
}

export function Panel({ id, title, controls, error, wide = false, children }: PanelProps) {
  return (
    <section
      className={wide ? 'panel panel-wide' : 'panel'}
      aria-labelledby={`${id}-title`}
      data-testid={id}
    >
      <header className="panel-header">
        <h2 id={`${id}-title`}>{title}</h2>
        {controls === undefined ? null : <div className="panel-controls">{controls}</div>}
      </header>
      {error === undefined ? null : (
        <p className="panel-error" role="alert">
          {error.message}
        </p>
      )}
      {children}
    </section>
  );
}
