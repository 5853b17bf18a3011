/** The news system (seed 002): an agent that routes clients to replicated nodes; a console client. */
import { defineSystem } from '../platform/system.js';
import { newsAgentService } from './agent/definition.js';
import { newsNodeService } from './node/definition.js';

export const news = defineSystem({
  name: 'news',
  description: 'News subscriptions: an agent routing clients to replicated nodes',
  services: [newsAgentService, newsNodeService],
  loadProfile: async () => (await import('./load-profile.js')).newsLoadProfile,
  async addCommands(program) {
    const { addNewsCommands } = await import('./client/command.js');
    addNewsCommands(program);
  },
  async firstSteps(sql) {
    const { makeFirstAdmin } = await import('./first-admin.js');
    return makeFirstAdmin(sql);
  },
  console: {
    view: {
      title: 'Areas and the nodes serving them',
      keyLabel: 'area',
      valuesLabel: 'nodes',
      read: async (sql) => (await import('./routing.js')).assignmentsByArea(sql),
    },
  },
});
