// `log`: a component's log lines go into the sidecar's log, scoped to the component and
// truncated so a chatty or hostile module cannot flood it with one call.
import type { Capability } from './capability.ts';

const MAX_MESSAGE = 8192;

export const logCapability: Capability = {
  interface: 'log',
  async: new Set(),
  build({ logger }) {
    return {
      log(level: string, message: string) {
        const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}… (truncated)` : message;
        switch (level) {
          case 'trace':
          case 'debug':
            return logger.debug(text);
          case 'info':
            return logger.info(text);
          case 'warn':
            return logger.warn(text);
          default:
            return logger.error(text);
        }
      },
    };
  },
};
