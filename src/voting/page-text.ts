/**
 * Every word the vote and result pages show, in English and Spanish; a page speaks one of
 * them (chosen by platform/http/language.ts). Option names come from OPTION_A / OPTION_B and
 * are never translated.
 */
import type { Language } from '../platform/http/language.js';

export interface PageText {
  voteTitle: string;
  resultsTitle: string;
  question: string;
  notVoted: string;
  voted: (label: string) => string;
  yourVote: string;
  oneVotePerBrowser: string;
  seeResults: string;
  goVote: string;
  servedBy: (instance: string) => string;
  noVotesYet: string;
  votes: (count: number) => string;
  connecting: string;
  live: string;
  reconnecting: string;
  malformed: string;
  unknownOption: (vote: string, a: string, b: string) => string;
  forgedCookie: string;
  queueDown: string;
}

export const pageText: Record<Language, PageText> = {
  en: {
    voteTitle: 'Vote',
    resultsTitle: 'Results',
    question: 'Which do you prefer?',
    notVoted: 'You have not voted yet. You can change your vote at any time.',
    voted: (label) => `You voted for ${label}. Vote again to change it.`,
    yourVote: 'your vote',
    oneVotePerBrowser: 'One vote per browser: voting again changes your vote.',
    seeResults: 'See the live results',
    goVote: 'Cast your vote',
    servedBy: (instance) => `Processed by instance ${instance}`,
    noVotesYet: 'No votes yet',
    votes: (count) => `${count.toLocaleString('en')} ${count === 1 ? 'vote' : 'votes'}`,
    connecting: 'connecting…',
    live: 'live',
    reconnecting: 'reconnecting…',
    malformed: 'The vote is malformed.',
    unknownOption: (vote, a, b) => `"${vote}" is not an option: vote "a" for ${a} or "b" for ${b}.`,
    forgedCookie:
      'Your voter_id cookie was not issued by this site. Clear the cookie and vote again.',
    queueDown:
      'Your vote was not recorded: the vote queue is unreachable. Please try again in a moment.',
  },
  es: {
    voteTitle: 'Votar',
    resultsTitle: 'Resultados',
    question: '¿Cuál prefieres?',
    notVoted: 'Aún no has votado. Puedes cambiar tu voto cuando quieras.',
    voted: (label) => `Votaste por ${label}. Vota de nuevo para cambiarlo.`,
    yourVote: 'tu voto',
    oneVotePerBrowser: 'Un voto por navegador: si votas de nuevo, cambias tu voto.',
    seeResults: 'Ver los resultados en directo',
    goVote: 'Ir a votar',
    servedBy: (instance) => `Atendido por la instancia ${instance}`,
    noVotesYet: 'Aún no hay votos',
    votes: (count) => `${count.toLocaleString('es')} ${count === 1 ? 'voto' : 'votos'}`,
    connecting: 'conectando…',
    live: 'en directo',
    reconnecting: 'reconectando…',
    malformed: 'El voto no es válido.',
    unknownOption: (vote, a, b) => `"${vote}" no es una opción: vota "a" por ${a} o "b" por ${b}.`,
    forgedCookie: 'Tu cookie voter_id no la emitió este sitio. Bórrala y vuelve a votar.',
    queueDown:
      'Tu voto no se registró: la cola de votos no responde. Inténtalo de nuevo en un momento.',
  },
};
