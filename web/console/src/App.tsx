/**
 * The console page: topology coloured by readiness, processes with their figures and
 * actions, queues with sparklines, system views, load runs with their verification, timeline.
 */
import { useState } from 'react';

import type { ReadError } from '../../../src/console/snapshot.js';
import { act, type ProcessRow, type Snapshot, useSnapshot } from './api.js';
import { describeEvent, describeRefusal, describeWait, kindLabel } from './describe.js';
import { clock, dash, duration, fixed, megabytes, percent } from './format.js';
import { t } from './i18n.js';
import { Sparkline } from './Sparkline.js';

/** Sends an action; `done` is what the page says once the console accepted it. */
type Act = (path: string, body: unknown, done: string) => void;

interface Message {
  text: string;
  /** The console's own (English) words, when it gave no reason as data. */
  quoted?: string;
  ok: boolean;
}

function readError(error: ReadError): string {
  if (error.code === 'no-broker') return t.noBroker;
  if (error.code === 'no-database') return t.noDatabase;
  return `${t.unreadable}: ${error.text}`;
}

export function App() {
  const { snapshot, live } = useSnapshot();
  const [token, setToken] = useState(() => sessionStorage.getItem('agora-token') ?? '');
  const [message, setMessage] = useState<Message>();
  const canAct = snapshot?.actions.processes === true && token !== '';
  const run: Act = (path, body, done) => {
    if (token === '') {
      setMessage({ text: t.needsToken, ok: false });
      return;
    }
    void act(path, token, body).then((outcome) => {
      if (outcome.ok) {
        const message = { text: done, ok: true };
        setMessage(message);
        // A confirmation goes after a while; a refusal stays until the next action.
        setTimeout(() => {
          setMessage((shown) => (shown === message ? undefined : shown));
        }, 8_000);
      } else if (outcome.refusal !== undefined) {
        setMessage({ text: describeRefusal(outcome.refusal), ok: false });
      } else setMessage({ text: t.refused, quoted: outcome.message, ok: false });
    });
  };
  const switchHref = `?lang=${t.switchLang}`;
  return (
    <main className="page">
      <header className="page-header">
        <div>
          <h1>{t.title}</h1>
          <p className="subtitle">
            <span className={live ? 'badge live' : 'badge'}>{live ? t.live : t.reconnecting}</span>{' '}
            {snapshot === undefined
              ? ''
              : snapshot.mode === 'embedded'
                ? t.embedded
                : t.distributed}
          </p>
        </div>
        <div className="header-tools">
          <label className="token">
            {t.token}
            <input
              type="password"
              value={token}
              placeholder={t.tokenHint}
              autoComplete="off"
              onChange={(event) => {
                setToken(event.target.value);
                sessionStorage.setItem('agora-token', event.target.value);
              }}
            />
          </label>
          <a className="lang" href={switchHref} hrefLang={t.switchLang}>
            {t.switchTo}
          </a>
        </div>
      </header>
      {snapshot?.actions.reason === undefined ? null : (
        <p className="notice">
          {snapshot.actions.reason === 'needs-distributed'
            ? t.reasonNeedsDistributed
            : t.reasonNeedsFaultProxy}
        </p>
      )}
      {message === undefined ? null : (
        <p
          className={message.ok ? 'notice ok' : 'notice error'}
          role={message.ok ? 'status' : 'alert'}
        >
          {message.text}
          {message.quoted === undefined ? null : (
            <>
              : <q lang="en">{message.quoted}</q>
            </>
          )}
        </p>
      )}
      {snapshot === undefined ? null : (
        <>
          <Topology snapshot={snapshot} canAct={canAct} run={run} />
          <Processes snapshot={snapshot} canAct={canAct} run={run} />
          <div className="grid">
            <Queues snapshot={snapshot} />
            <Loads snapshot={snapshot} run={run} />
          </div>
          <div className="grid">
            <Views snapshot={snapshot} />
            <Timeline snapshot={snapshot} />
          </div>
        </>
      )}
    </main>
  );
}

function Topology({ snapshot, canAct, run }: { snapshot: Snapshot; canAct: boolean; run: Act }) {
  return (
    <section className="card">
      <h2>{t.topology}</h2>
      <div className="systems">
        {snapshot.systems.map((system) => (
          <div className="system" key={system.name}>
            <h3>{system.name}</h3>
            {system.services.map((service) => (
              <div
                className={`service ${service.readiness}`}
                key={service.name}
                data-service={service.name}
              >
                <div className="service-head">
                  <strong>{service.name}</strong>
                  <span className="state">{t[service.readiness]}</span>
                </div>
                <div className="replicas">
                  {service.processes.map((label) => (
                    <span className="replica" key={label}>
                      {label}
                    </span>
                  ))}
                </div>
                <div className="needs">
                  {service.needs.map((need) => (need === 'sql' ? 'Postgres' : 'Redis')).join(' · ')}
                </div>
                {service.waitingFor.length === 0 ? null : (
                  <div className="waits">
                    {t.waitingFor}: {service.waitingFor.map(describeWait).join('; ')}
                  </div>
                )}
                {!canAct ? null : (
                  <div className="buttons">
                    <button
                      type="button"
                      onClick={() => {
                        run(
                          `/api/services/${service.name}/scale`,
                          { delta: 1 },
                          t.didAdd(service.name),
                        );
                      }}
                    >
                      + {t.add}
                    </button>
                    <button
                      type="button"
                      onClick={() => {
                        run(
                          `/api/services/${service.name}/scale`,
                          { delta: -1 },
                          t.didRemove(service.name),
                        );
                      }}
                    >
                      − {t.remove}
                    </button>
                    {snapshot.actions.faults
                      ? service.needs.map((need) => (
                          <button
                            type="button"
                            key={need}
                            onClick={() => {
                              run(
                                '/api/faults',
                                { service: service.name, backend: need, kind: 'cut', seconds: 10 },
                                t.didFault(service.name, need === 'sql' ? 'Postgres' : 'Redis'),
                              );
                            }}
                          >
                            {t.fault} {need === 'sql' ? 'Postgres' : 'Redis'} {t.faultFor}
                          </button>
                        ))
                      : null}
                  </div>
                )}
              </div>
            ))}
          </div>
        ))}
      </div>
      {canAct && snapshot.actions.faults ? <FaultForm snapshot={snapshot} run={run} /> : null}
      <p className="backends">
        {snapshot.backends.map((backend) => `${backend.name}: ${backend.location}`).join(' · ')}
      </p>
    </section>
  );
}

type FaultKind = 'cut' | 'partition' | 'latency';
const faultKinds: readonly FaultKind[] = ['cut', 'partition', 'latency'];

/** Any fault the proxy gives, for N seconds: the buttons above are its one-click 10 s cut. */
function FaultForm({ snapshot, run }: { snapshot: Snapshot; run: Act }) {
  const targets = snapshot.systems.flatMap((system) =>
    system.services.flatMap((service) =>
      service.needs.map((need) => ({ service: service.name, need })),
    ),
  );
  const [target, setTarget] = useState(0);
  const [kind, setKind] = useState<FaultKind>('latency');
  const [latencyMs, setLatencyMs] = useState(200);
  const [seconds, setSeconds] = useState(10);
  const chosen = targets[target] ?? targets[0];
  if (chosen === undefined) return null;
  const store = (need: string) => (need === 'sql' ? 'Postgres' : 'Redis');
  return (
    <form
      className="fault-form"
      aria-label={t.faultForm}
      onSubmit={(event) => {
        event.preventDefault();
        run(
          '/api/faults',
          {
            service: chosen.service,
            backend: chosen.need,
            kind,
            seconds,
            ...(kind === 'latency' ? { latencyMs } : {}),
          },
          t.didFaultKind(chosen.service, store(chosen.need), t.faultKinds[kind], seconds),
        );
      }}
    >
      <strong>{t.faultForm}</strong>
      <select
        aria-label="target"
        value={target}
        onChange={(event) => {
          setTarget(Number(event.target.value));
        }}
      >
        {targets.map((option, index) => (
          <option key={`${option.service} ${option.need}`} value={index}>
            {option.service} · {store(option.need)}
          </option>
        ))}
      </select>
      <select
        aria-label="kind"
        value={kind}
        onChange={(event) => {
          setKind(event.target.value as FaultKind);
        }}
      >
        {faultKinds.map((option) => (
          <option key={option} value={option}>
            {t.faultKinds[option]}
          </option>
        ))}
      </select>
      {kind === 'latency' ? (
        <label>
          <input
            type="number"
            min={1}
            max={60_000}
            aria-label="latency"
            value={latencyMs}
            onChange={(event) => {
              setLatencyMs(Number(event.target.value));
            }}
          />{' '}
          {t.faultLatency}
        </label>
      ) : null}
      <label>
        {t.faultDuring}{' '}
        <input
          type="number"
          min={1}
          max={3_600}
          aria-label="seconds"
          value={seconds}
          onChange={(event) => {
            setSeconds(Number(event.target.value));
          }}
        />{' '}
        s
      </label>
      <button type="submit">{t.faultApply}</button>
    </form>
  );
}

function Processes({ snapshot, canAct, run }: { snapshot: Snapshot; canAct: boolean; run: Act }) {
  // At phone width each row is a block and each figure names itself (data-label, styles.css).
  const figureTitles = [t.pid, t.uptime, t.restarts, t.rss, t.cpu, t.rps, t.errors, t.p99];
  const cell = (row: ProcessRow): (string | { empty: string })[] => {
    const running = row.readiness === 'ready' || row.readiness === 'waiting';
    // A running process without a rate yet has been scraped once; without requests, has no
    // error rate or p99 to show: say so rather than print a dash.
    const rate =
      row.requestsPerSecond === undefined && running
        ? { empty: t.measuring }
        : fixed(row.requestsPerSecond, 1);
    const idle = running && row.requestsPerSecond === 0 ? { empty: t.noRequests } : undefined;
    // A consumer counts what it stores but times no requests: its latency is in the views.
    const untimed = running && row.p99Ms === undefined && row.requestsPerSecond !== undefined;
    return [
      String(row.pid ?? dash),
      duration(row.uptimeSeconds),
      String(row.restarts),
      megabytes(row.rssBytes),
      fixed(row.cpuPercent, 0, '%'),
      rate,
      idle ?? percent(row.errorRate),
      idle ?? (untimed ? { empty: t.notTimed } : fixed(row.p99Ms, 1, ' ms')),
    ];
  };
  return (
    <section className="card">
      <h2>{t.processes}</h2>
      <div className="table-wrap">
        <table className="process-table">
          <thead>
            <tr>
              {[t.process, t.state, ...figureTitles].map((title) => (
                <th key={title}>{title}</th>
              ))}
              {canAct ? <th>{t.actions}</th> : null}
            </tr>
          </thead>
          <tbody>
            {snapshot.processes.map((row) => (
              <tr key={row.label} data-process={row.label}>
                <td className="name">{row.label}</td>
                <td className="state">
                  <span className={`dot ${row.readiness}`} /> {t[row.readiness]}
                </td>
                {cell(row).map((value, index) => (
                  <td className="num" key={index} data-label={figureTitles[index]}>
                    {typeof value === 'string' ? (
                      value
                    ) : (
                      <span className="empty">{value.empty}</span>
                    )}
                  </td>
                ))}
                {!canAct ? null : (
                  <td className="buttons">
                    <button
                      type="button"
                      className="danger"
                      onClick={() => {
                        run(
                          `/api/processes/${encodeURIComponent(row.label)}/kill?signal=SIGKILL`,
                          undefined,
                          t.didKill(row.label),
                        );
                      }}
                    >
                      {t.kill}
                    </button>
                    <button
                      type="button"
                      onClick={() => {
                        run(
                          `/api/processes/${encodeURIComponent(row.label)}/kill?signal=SIGTERM`,
                          undefined,
                          t.didStop(row.label),
                        );
                      }}
                    >
                      {t.stop}
                    </button>
                    <button
                      type="button"
                      onClick={() => {
                        run(
                          `/api/processes/${encodeURIComponent(row.label)}/restart`,
                          undefined,
                          t.didRestart(row.label),
                        );
                      }}
                    >
                      {t.restart}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Queues({ snapshot }: { snapshot: Snapshot }) {
  return (
    <section className="card">
      <h2>{t.queues}</h2>
      {snapshot.queues.length === 0 ? <p className="muted">{t.none}</p> : null}
      {snapshot.queues.map((queue) => (
        <div className="queue" key={queue.stream} data-stream={queue.stream}>
          <h3>
            {queue.stream} <span className="muted">/ {queue.group}</span>
          </h3>
          <div className="figures">
            {(
              [
                [t.length, queue.length, queue.history.length],
                [t.pending, queue.pending, queue.history.pending],
                [t.lag, queue.lag, queue.history.lag],
              ] as const
            ).map(([title, value, history]) => (
              <div className="figure" key={title} data-figure={title}>
                <span className="figure-label">{title}</span>
                <span className="figure-value">{value ?? dash}</span>
                <Sparkline values={history} label={title} />
              </div>
            ))}
            <div className="figure">
              <span className="figure-label">{t.consumers}</span>
              <span className="figure-value">{queue.consumers ?? dash}</span>
            </div>
            <div className="figure">
              <span className="figure-label">{t.deadLetters}</span>
              <span className="figure-value">{queue.deadLetters ?? dash}</span>
            </div>
          </div>
          {queue.error === undefined ? null : <p className="waits">{readError(queue.error)}</p>}
        </div>
      ))}
    </section>
  );
}

function Loads({ snapshot, run }: { snapshot: Snapshot; run: Act }) {
  // The systems shown that have a load profile (`agora load <system>`).
  const systems = snapshot.systems
    .map((system) => system.name)
    .filter((name) => snapshot.actions.loadProfiles.includes(name));
  const [system, setSystem] = useState('');
  const [rate, setRate] = useState(50);
  const [seconds, setSeconds] = useState(20);
  const chosen = system === '' ? (systems[0] ?? '') : system;
  return (
    <section className="card">
      <h2>{t.loads}</h2>
      {systems.length === 0 ? (
        <p className="muted">{t.none}</p>
      ) : (
        <form
          className="load-form"
          onSubmit={(event) => {
            event.preventDefault();
            run(
              '/api/loads',
              { system: chosen, rate, durationSeconds: seconds },
              t.didLoad(chosen),
            );
          }}
        >
          <select
            value={chosen}
            onChange={(event) => {
              setSystem(event.target.value);
            }}
            aria-label="system"
          >
            {systems.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
          <label>
            <input
              type="number"
              min={1}
              value={rate}
              onChange={(event) => {
                setRate(Number(event.target.value));
              }}
            />{' '}
            {t.rate}
          </label>
          <label>
            <input
              type="number"
              min={1}
              value={seconds}
              onChange={(event) => {
                setSeconds(Number(event.target.value));
              }}
            />{' '}
            {t.seconds}
          </label>
          <button type="submit">{t.start}</button>
        </form>
      )}
      {snapshot.loads.length === 0 && systems.length > 0 ? (
        <p className="muted">{t.noLoadYet}</p>
      ) : null}
      <ul className="loads">
        {[...snapshot.loads].reverse().map((load) => (
          <li key={load.id} className={`load ${load.state}`} data-load={load.id}>
            <strong>
              {load.system} #{load.id}:{' '}
              {load.state === 'running' ? t.running : load.state === 'passed' ? t.passed : t.failed}
            </strong>
            {load.state === 'running' ? (
              <div className="muted">
                {load.progress === undefined
                  ? t.planned(load.rate, load.durationSeconds)
                  : load.progress.verifying
                    ? t.verifying
                    : t.progress(
                        load.progress.elapsedSeconds,
                        load.progress.sent,
                        load.progress.acked,
                        load.progress.failed,
                        load.progress.requestsPerSecond,
                      )}
              </div>
            ) : null}
            {load.result === undefined ? null : (
              <div className="verification">
                {load.result.acknowledged} {t.acknowledged}
                {load.result.verification === undefined
                  ? ''
                  : ` · ${load.result.verification.checked} ${t.checked} · ${load.result.verification.differences} ${t.differences}`}
              </div>
            )}
            {load.noReport === true ? (
              <div className="waits">
                {t.noReport}
                {load.lastLine === undefined ? null : (
                  <>
                    : <q lang="en">{load.lastLine}</q>
                  </>
                )}
              </div>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Views({ snapshot }: { snapshot: Snapshot }) {
  const { views } = snapshot;
  return (
    <section className="card">
      <h2>{t.views}</h2>
      {views.tables.map((table) => (
        <div key={table.system} className="view" data-view={table.system}>
          <h3>{table.system === 'news' ? t.newsAreas : table.title}</h3>
          {Object.keys(table.rows).length === 0 ? (
            <p className="muted">{table.error === undefined ? t.none : readError(table.error)}</p>
          ) : null}
          <table>
            <tbody>
              {Object.entries(table.rows).map(([key, values]) => (
                <tr key={key} data-area={key}>
                  <td className="name">{key}</td>
                  <td>{values.join(', ') || dash}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
      {views.tasksShare.length === 0 ? null : (
        <div className="view">
          <h3>{t.tasksShare}</h3>
          {views.tasksShare.every((share) => share.requestsPerSecond === 0) ? (
            <p className="muted">{t.noRequestsNow}</p>
          ) : null}
          {views.tasksShare.map((share) => (
            <div className="bar-row" key={`${share.process} ${share.worker?.pid ?? ''}`}>
              <span className="name">
                {share.process}
                {share.worker === undefined
                  ? ''
                  : ` ${t.worker} ${share.worker.replica} (pid ${share.worker.pid})`}
              </span>
              <span className="bar" style={{ width: `${Math.round(share.share * 100)}%` }} />
              <span className="num">{percent(share.share)}</span>
            </div>
          ))}
        </div>
      )}
      {views.electionRoutes.length === 0 ? null : (
        <div className="view">
          <h3>{t.electionRoutes}</h3>
          <p>
            {views.electionRoutes.every((route) => route.ballotsPerSecond === 0)
              ? t.noBallotsNow
              : views.electionRoutes
                  .map((route) => `${route.route}: ${fixed(route.ballotsPerSecond, 1)}`)
                  .join(' · ')}
          </p>
        </div>
      )}
      {views.entryAge.some((age) =>
        snapshot.systems.some((system) => system.name === age.system),
      ) ? (
        <div className="view">
          <h3>{t.entryAge}</h3>
          <p>
            {views.entryAge
              .filter((age) => snapshot.systems.some((system) => system.name === age.system))
              .map((age) =>
                age.p99Ms === undefined && age.meanMs === undefined
                  ? `${age.system}: ${age.system === 'election' ? t.noBallotsNow : t.noVotesNow}`
                  : `${age.system}: p99 ${fixed(age.p99Ms, 0, ' ms')}, ${t.mean} ${fixed(age.meanMs, 0, ' ms')}`,
              )
              .join(' · ')}
          </p>
        </div>
      ) : null}
    </section>
  );
}

function Timeline({ snapshot }: { snapshot: Snapshot }) {
  return (
    <section className="card">
      <h2>{t.timeline}</h2>
      {snapshot.timeline.length === 0 ? <p className="muted">{t.none}</p> : null}
      <ol className="timeline">
        {[...snapshot.timeline]
          .reverse()
          .slice(0, 60)
          .map((event) => (
            <li key={event.id} className={`event kind-${event.kind}`} data-kind={event.kind}>
              <time>{clock(event.at)}</time>
              <span className="kind">{kindLabel[event.kind]}</span>
              <span className="subject">{event.subject}</span>
              <span className="message">{describeEvent(event)}</span>
            </li>
          ))}
      </ol>
    </section>
  );
}
