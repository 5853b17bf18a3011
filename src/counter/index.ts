/** The counter system (seeds 000 and 001, part 1): a web hit counter backed by Redis. */
import { defineSystem } from '../platform/system.js';
import { counterService } from './service.js';

export const counter = defineSystem({
  name: 'counter',
  description: 'Web hit counter backed by Redis',
  services: [counterService],
});
