/**
 * The console server sends facts (timeline events, what a process waits for, why an action
 * was refused, a load run's figures); this file says them in the page's language.
 */
import type { Refusal } from '../../../src/console/refusals.js';
import type { TimelineEvent } from '../../../src/console/timeline.js';
import type { Wait } from '../../../src/console/waits.js';
import { language } from './i18n.js';

const es = language === 'es';
const listed = (values: readonly string[]) => values.join(', ') || (es ? 'ninguno' : 'none');

const checks: Record<string, string> = {
  schema: 'esquema',
  'consumer group': 'grupo de consumidores',
  secret: 'secreto',
  'secret and announcement': 'secreto y anuncio',
  process: 'proceso',
};

/** A `/readyz` check's name; `broker (redis)` and `sql (pg)` read the same in both. */
export function checkName(check: string): string {
  return es ? (checks[check] ?? check) : check;
}

export function describeWait(wait: Wait): string {
  const { reason } = wait;
  const check = checkName(wait.check);
  switch (reason.code) {
    case 'waiting-for': {
      const what = {
        broker: es ? 'al broker' : 'the broker',
        database: es ? 'a la base de datos' : 'the database',
        schema: es ? 'al esquema' : 'the schema',
      }[reason.what];
      return es ? `${check}: espera ${what}` : `${check}: waiting for ${what}`;
    }
    case 'no-answer':
      return es
        ? `${check}: sin respuesta en ${reason.ms} ms`
        : `${check}: no answer within ${reason.ms} ms`;
    case 'unreachable':
      return es ? `no responde (${reason.error})` : `not answering (${reason.error})`;
    case 'waiting':
      return es ? `${check}: esperando` : `${check}: waiting`;
    case 'other':
      // A service's own words (a driver's error): quoted as it said them.
      return `${check}: ${reason.text}`;
  }
}

const waitsOf = (waits: readonly Wait[]) => waits.map(describeWait).join('; ');

export function describeEvent(event: TimelineEvent): string {
  switch (event.kind) {
    case 'started':
      return es
        ? `pid ${event.detail.pid} en el puerto ${event.detail.port}`
        : `pid ${event.detail.pid} on port ${event.detail.port}`;
    case 'ready':
      return es ? 'listo' : 'ready';
    case 'not-ready': {
      const waits = waitsOf(event.detail.waits);
      if (waits === '') return es ? 'espera a sus comprobaciones' : 'waiting for its checks';
      return es ? `espera: ${waits}` : `waiting for ${waits}`;
    }
    case 'down':
      return waitsOf(event.detail.waits) || (es ? 'no responde' : 'not answering');
    case 'killed':
    case 'stopped':
      return es
        ? `${event.detail.signal} al pid ${event.detail.pid}`
        : `${event.detail.signal} to pid ${event.detail.pid}`;
    case 'exited': {
      const { code, signal, expected } = event.detail;
      const how = signal ?? (es ? `código de salida ${code}` : `exit code ${code}`);
      if (expected) return es ? `terminó (${how})` : `exited (${how})`;
      return es ? `murió (${how}); no se reinicia` : `died (${how}); not restarted`;
    }
    case 'restarted':
      return es
        ? `pid ${event.detail.pid}, reinicio ${event.detail.restarts}`
        : `pid ${event.detail.pid}, restart ${event.detail.restarts}`;
    case 'scaled': {
      const { service, change, count } = event.detail;
      if (change === 'workers') {
        return es
          ? `${service}: ${count} workers del clúster`
          : `${service}: ${count} cluster workers`;
      }
      if (change === 'added') {
        return es ? `${service}: réplica ${count} añadida` : `${service}: replica ${count} added`;
      }
      return es ? `${service}: réplica ${count} quitada` : `${service}: replica ${count} removed`;
    }
    case 'reclaimed': {
      const { count } = event.detail;
      if (es) {
        return count === 1
          ? 'recuperó 1 entrada que un consumidor muerto dejó pendiente'
          : `recuperó ${count} entradas que un consumidor muerto dejó pendientes`;
      }
      return `reclaimed ${count} ${count === 1 ? 'entry' : 'entries'} a dead consumer left pending`;
    }
    case 'dead-lettered': {
      const { count } = event.detail;
      if (es) {
        return count === 1
          ? '1 entrada ilegible pasada a cartas muertas'
          : `${count} entradas ilegibles pasadas a cartas muertas`;
      }
      return `${count} unparseable ${count === 1 ? 'entry' : 'entries'} moved to dead letters`;
    }
    case 'reassigned':
      return `${event.subject}: ${listed(event.detail.from)} → ${listed(event.detail.to)}`;
    case 'fault': {
      const { backend, fault, latencyMs, seconds, lifted } = event.detail;
      const store = backend === 'sql' ? 'Postgres' : 'Redis';
      const what = {
        cut: es ? 'corte' : 'cut',
        partition: es ? 'partición' : 'partition',
        latency: es ? `latencia de ${latencyMs} ms` : `latency ${latencyMs} ms`,
      }[fault];
      if (lifted) return es ? `${store}: ${what} retirado` : `${store} ${what} lifted`;
      return es ? `${store}: ${what} durante ${seconds} s` : `${store} ${what} for ${seconds} s`;
    }
    case 'load': {
      const { detail } = event;
      if (detail.phase === 'started') {
        return es
          ? `carga ${detail.id} iniciada: ${detail.rate}/s durante ${detail.durationSeconds} s`
          : `load ${detail.id} started: ${detail.rate}/s for ${detail.durationSeconds} s`;
      }
      const state =
        detail.phase === 'passed' ? (es ? 'CORRECTA' : 'PASSED') : es ? 'FALLÓ' : 'FAILED';
      if (detail.acknowledged === undefined) {
        return es
          ? `carga ${detail.id} ${state}: sin informe (código de salida ${detail.exitCode})`
          : `load ${detail.id} ${state}: no report (exit code ${detail.exitCode})`;
      }
      const checked =
        detail.checked === undefined
          ? ''
          : es
            ? `, ${detail.checked} comprobados contra el almacén, ${detail.differences} diferencias`
            : `, ${detail.checked} checked against the store, ${detail.differences} differences`;
      return es
        ? `carga ${detail.id} ${state}: ${detail.acknowledged} confirmados${checked}`
        : `load ${detail.id} ${state}: ${detail.acknowledged} acknowledged${checked}`;
    }
  }
}

/** The timeline's kind labels. */
export const kindLabel: Record<TimelineEvent['kind'], string> = es
  ? {
      started: 'iniciado',
      ready: 'listo',
      'not-ready': 'no listo',
      down: 'caído',
      killed: 'matado',
      stopped: 'parado',
      exited: 'terminó',
      restarted: 'reiniciado',
      scaled: 'escalado',
      reclaimed: 'recuperado',
      'dead-lettered': 'carta muerta',
      reassigned: 'reasignado',
      fault: 'fallo',
      load: 'carga',
    }
  : {
      started: 'started',
      ready: 'ready',
      'not-ready': 'not ready',
      down: 'down',
      killed: 'killed',
      stopped: 'stopped',
      exited: 'exited',
      restarted: 'restarted',
      scaled: 'scaled',
      reclaimed: 'reclaimed',
      'dead-lettered': 'dead-lettered',
      reassigned: 'reassigned',
      fault: 'fault',
      load: 'load',
    };

const actions = {
  kill: es ? 'Matar un proceso' : 'Killing a process',
  restart: es ? 'Reiniciar un proceso' : 'Restarting a process',
  scale: es ? 'Escalar un servicio' : 'Scaling a service',
  fault: es ? 'Un fallo de backend' : 'A backend fault',
  logs: es ? 'Un log por proceso' : 'A log per process',
};

export function describeRefusal(refusal: Refusal): string {
  switch (refusal.code) {
    case 'unauthorized':
      return es
        ? 'El token no es válido: escribe el que imprimió agora up.'
        : 'The token is wrong: enter the one agora up printed.';
    case 'needs-distributed':
      return es
        ? `${actions[refusal.action]} necesita agora up --distributed, donde el supervisor tiene un proceso por réplica.`
        : `${actions[refusal.action]} needs agora up --distributed, where the supervisor owns one process per replica.`;
    case 'needs-fault-proxy':
      return es
        ? 'Los fallos de backend necesitan el proxy de fallos: arranca con agora up --distributed --faults.'
        : 'Backend faults need the fault proxy: start with agora up --distributed --faults.';
    case 'no-process':
      return es
        ? `No hay ningún proceso "${refusal.label}"; en marcha: ${listed(refusal.known)}.`
        : `No process labelled "${refusal.label}"; running: ${listed(refusal.known)}.`;
    case 'not-running':
      return es ? `${refusal.label} no está en marcha.` : `${refusal.label} is not running.`;
    case 'no-service':
      return es
        ? `Aquí no corre ningún servicio "${refusal.service}".`
        : `No service named "${refusal.service}" runs here.`;
    case 'one-worker-left':
      return es
        ? `A ${refusal.service} le queda un worker; páralo en su lugar.`
        : `${refusal.service} has one worker left; stop it instead.`;
    case 'one-replica-left':
      return es
        ? `A ${refusal.service} le queda una réplica; párala en su lugar.`
        : `${refusal.service} has one replica left; stop it instead.`;
    case 'no-load-profile':
      return es
        ? `No hay perfil de carga "${refusal.system}"; hay: ${listed(refusal.known)}.`
        : `No load profile "${refusal.system}"; known: ${listed(refusal.known)}.`;
    case 'load-running':
      return es
        ? 'Ya hay una carga en curso; espera a que acabe o párala.'
        : 'A load run is already going; wait for it or stop it first.';
    case 'load-not-running':
      return es ? `La carga ${refusal.id} no está en curso.` : `Load ${refusal.id} is not running.`;
  }
}
