/**
 * The console's words in English and Spanish: a `?lang=` link wins and is kept in the `lang`
 * cookie (the other pages read the same one), then that cookie, then the browser's languages.
 */
export type Language = 'en' | 'es';

function chooseLanguage(): Language {
  const asked = new URLSearchParams(window.location.search).get('lang');
  if (asked === 'es' || asked === 'en') {
    document.cookie = `lang=${asked}; path=/; max-age=31536000; samesite=lax`;
    return asked;
  }
  const cookie = /(?:^|;\s*)lang=(es|en)(?:;|$)/.exec(document.cookie)?.[1];
  if (cookie === 'es' || cookie === 'en') return cookie;
  for (const tag of navigator.languages) {
    const primary = tag.toLowerCase().split('-')[0];
    if (primary === 'es' || primary === 'en') return primary;
  }
  return 'en';
}

export const language: Language = chooseLanguage();
document.documentElement.lang = language;

const words = {
  en: {
    title: 'Agora console',
    switchTo: 'Español',
    switchLang: 'es',
    live: 'Live',
    reconnecting: 'Reconnecting…',
    embedded: 'embedded: one process',
    distributed: 'distributed: one process per replica',
    token: 'Action token',
    tokenHint: 'printed by agora up',
    topology: 'Topology',
    processes: 'Processes',
    queues: 'Queues',
    views: 'System views',
    timeline: 'Timeline',
    loads: 'Load',
    process: 'process',
    state: 'state',
    pid: 'pid',
    uptime: 'uptime',
    restarts: 'restarts',
    rss: 'RSS',
    cpu: 'CPU',
    rps: 'req/s',
    errors: 'errors',
    p99: 'p99',
    actions: 'actions',
    kill: 'Kill',
    stop: 'Stop',
    restart: 'Restart',
    add: 'Add replica',
    remove: 'Remove replica',
    length: 'length',
    pending: 'pending',
    lag: 'lag',
    consumers: 'consumers',
    deadLetters: 'dead letters',
    start: 'Start load',
    rate: 'per second',
    seconds: 'seconds',
    acknowledged: 'acknowledged',
    checked: 'checked against the store',
    differences: 'differences',
    passed: 'PASSED',
    failed: 'FAILED',
    running: 'running',
    tasksShare: 'Tasks: share of requests',
    electionRoutes: 'Election: ballots per second by route',
    entryAge: 'Append to commit (vote to result)',
    none: 'nothing yet',
    waitingFor: 'waits for',
    fault: 'Cut off',
    faultFor: 'for 10 s',
    needsToken: 'Enter the token to act.',
    ready: 'ready',
    waiting: 'waiting',
    down: 'down',
    stopped: 'stopped',
  },
  es: {
    title: 'Consola de Agora',
    switchTo: 'English',
    switchLang: 'en',
    live: 'En vivo',
    reconnecting: 'Reconectando…',
    embedded: 'embebido: un proceso',
    distributed: 'distribuido: un proceso por réplica',
    token: 'Token de acciones',
    tokenHint: 'lo imprime agora up',
    topology: 'Topología',
    processes: 'Procesos',
    queues: 'Colas',
    views: 'Vistas de los sistemas',
    timeline: 'Línea de tiempo',
    loads: 'Carga',
    process: 'proceso',
    state: 'estado',
    pid: 'pid',
    uptime: 'activo',
    restarts: 'reinicios',
    rss: 'RSS',
    cpu: 'CPU',
    rps: 'pet/s',
    errors: 'errores',
    p99: 'p99',
    actions: 'acciones',
    kill: 'Matar',
    stop: 'Parar',
    restart: 'Reiniciar',
    add: 'Añadir réplica',
    remove: 'Quitar réplica',
    length: 'longitud',
    pending: 'pendientes',
    lag: 'retraso',
    consumers: 'consumidores',
    deadLetters: 'cartas muertas',
    start: 'Iniciar carga',
    rate: 'por segundo',
    seconds: 'segundos',
    acknowledged: 'confirmados',
    checked: 'comprobados contra el almacén',
    differences: 'diferencias',
    passed: 'CORRECTO',
    failed: 'FALLÓ',
    running: 'en curso',
    tasksShare: 'Tareas: reparto de peticiones',
    electionRoutes: 'Elección: papeletas por segundo por ruta',
    entryAge: 'De la cola al commit (voto a resultado)',
    none: 'nada aún',
    waitingFor: 'espera',
    fault: 'Aislar',
    faultFor: 'durante 10 s',
    needsToken: 'Escribe el token para actuar.',
    ready: 'listo',
    waiting: 'esperando',
    down: 'caído',
    stopped: 'parado',
  },
} as const;

export const t = words[language];
