/** The tasks system (seed 003 and its sequel): a task API that concurrent clients hammer. */
import { defineSystem } from '../platform/system.js';
import { tasksService } from './service.js';

export const tasks = defineSystem({
  name: 'tasks',
  description: 'Task REST API; no acknowledged task is ever lost',
  services: [tasksService],
  loadProfile: async () => (await import('./load-profile.js')).tasksLoadProfile,
  async addCommands(program) {
    const { addTasksCommands } = await import('./commands.js');
    addTasksCommands(program);
  },
});
