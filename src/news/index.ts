/** The news system (seed 002): an agent that routes clients to replicated nodes; a console client. */
import { defineSystem } from '../platform/system.js';
import { newsAgentService } from './agent/service.js';
import { addNewsCommands } from './client/command.js';
import { newsNodeService } from './node/service.js';
import { assignmentsByArea } from './routing.js';

export const news = defineSystem({
  name: 'news',
  description: 'News subscriptions: an agent routing clients to replicated nodes',
  services: [newsAgentService, newsNodeService],
  addCommands: addNewsCommands,
  console: {
    view: {
      title: 'Areas and the nodes serving them',
      keyLabel: 'area',
      valuesLabel: 'nodes',
      read: assignmentsByArea,
    },
  },
});
