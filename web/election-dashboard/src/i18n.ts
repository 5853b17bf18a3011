/**
 * The dashboard's words in Spanish (the seeds' users) and English, one language per page: a
 * `?lang=` link wins and is kept in the `lang` cookie (the vote and result pages read the same
 * one), then that cookie, then the browser's languages. Ballot values (parties, places) are
 * data and never translated.
 */
export type Language = 'es' | 'en';

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
  return 'es';
}

export const language: Language = chooseLanguage();
document.documentElement.lang = language;

const words = {
  es: {
    locale: 'es-GT',
    title: 'Resultados electorales',
    switchTo: 'English',
    ballotType: 'Tipo de papeleta',
    summary: 'Resumen',
    stored: 'Papeletas almacenadas',
    viaGrpc: 'Vía gRPC',
    viaRedis: 'Vía Redis',
    perSecond: 'Papeletas por segundo',
    live: 'En vivo',
    reconnecting: 'Reconectando…',
    loading: 'Cargando…',
    noBallots: 'Aún no hay papeletas.',
    topDepartments: (papeleta: string) => `Top 3 departamentos · ${papeleta}`,
    topSedes: (papeleta: string) => `Top 5 sedes · ${papeleta}`,
    byDepartment: 'Partidos por departamento',
    byMunicipality: 'Partidos por municipio',
    recent: 'Últimas 5 papeletas',
    recentCaption: 'Últimas cinco papeletas almacenadas',
    all: 'Todas las papeletas',
    allCaption: 'Papeletas almacenadas, más recientes primero',
    scrollHint: 'Desliza la tabla para ver todas las columnas →',
    columns: {
      time: 'Hora',
      sede: 'Sede',
      municipio: 'Municipio',
      departamento: 'Departamento',
      papeleta: 'Papeleta',
      partido: 'Partido',
      route: 'Ruta',
    },
    departamento: 'Departamento',
    municipio: 'Municipio',
    papeleta: 'Papeleta',
    partido: 'Partido',
    sede: 'Sede',
    everyF: 'Todas',
    everyM: 'Todos',
    exactName: 'Nombre exacto',
    filters: 'Filtros de papeletas',
    pages: 'Páginas',
    previous: 'Anterior',
    next: 'Siguiente',
    page: (page: string, pages?: string, total?: string) =>
      `Página ${page}${pages === undefined ? '' : ` de ${pages}`}` +
      (total === undefined ? '' : ` · ${total} papeletas`),
    votes: 'Votos',
    votesByDepartment: 'Votos por departamento',
    votesBySede: 'Votos por sede',
    votesByParty: (place: string, total: string) => `Votos por partido en ${place} (${total})`,
  },
  en: {
    locale: 'en-US',
    title: 'Election results',
    switchTo: 'Español',
    ballotType: 'Ballot type',
    summary: 'Summary',
    stored: 'Ballots stored',
    viaGrpc: 'Through gRPC',
    viaRedis: 'Through Redis',
    perSecond: 'Ballots per second',
    live: 'Live',
    reconnecting: 'Reconnecting…',
    loading: 'Loading…',
    noBallots: 'No ballots yet.',
    topDepartments: (papeleta: string) => `Top 3 departments · ${papeleta}`,
    topSedes: (papeleta: string) => `Top 5 polling stations · ${papeleta}`,
    byDepartment: 'Parties by department',
    byMunicipality: 'Parties by municipality',
    recent: 'Last 5 ballots',
    recentCaption: 'The last five ballots stored',
    all: 'All ballots',
    allCaption: 'Ballots stored, newest first',
    scrollHint: 'Swipe the table to see every column →',
    columns: {
      time: 'Time',
      sede: 'Polling station',
      municipio: 'Municipality',
      departamento: 'Department',
      papeleta: 'Ballot',
      partido: 'Party',
      route: 'Route',
    },
    departamento: 'Department',
    municipio: 'Municipality',
    papeleta: 'Ballot',
    partido: 'Party',
    sede: 'Polling station',
    everyF: 'All',
    everyM: 'All',
    exactName: 'Exact name',
    filters: 'Ballot filters',
    pages: 'Pages',
    previous: 'Previous',
    next: 'Next',
    page: (page: string, pages?: string, total?: string) =>
      `Page ${page}${pages === undefined ? '' : ` of ${pages}`}` +
      (total === undefined ? '' : ` · ${total} ballots`),
    votes: 'Votes',
    votesByDepartment: 'Votes by department',
    votesBySede: 'Votes by polling station',
    votesByParty: (place: string, total: string) => `Votes by party in ${place} (${total})`,
  },
};

export const t = words[language];
