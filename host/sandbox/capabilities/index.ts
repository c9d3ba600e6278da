// Every host capability by WIT interface name.
import type { Capability } from './capability.ts';
import { clockCapability } from './clock.ts';
import { logCapability } from './log.ts';
import { randomCapability } from './random.ts';
import { sleepCapability } from './sleep.ts';
import { tcpCapability } from './tcp.ts';

export const CAPABILITIES: ReadonlyMap<string, Capability> = new Map(
  [logCapability, clockCapability, randomCapability, sleepCapability, tcpCapability].map((c) => [c.interface, c]),
);
