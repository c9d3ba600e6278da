// Dapr's topic scoping, read from a pubsub component's metadata: `allowedTopics` and
// `protectedTopics` (comma-separated), `publishingScopes` and `subscriptionScopes`
// (`app1=topic1,topic2;app2=topic3`). The decision mirrors daprd's IsOperationAllowed.

function list(value: string | undefined): string[] {
  if (value === undefined || value === '') return [];
  return value.replaceAll(' ', '').split(',');
}

/** The topics `scope` grants `appId`; empty when the app is not named (no restriction). */
function scopedTopics(config: ReadonlyMap<string, string>, scope: string, appId: string): string[] {
  const value = config.get(scope)?.replaceAll(' ', '');
  if (!value) return [];
  const topics = new Set<string>();
  for (const entry of value.split(';')) {
    const [app, granted] = entry.split('=', 2);
    if (app !== appId) continue;
    for (const topic of (granted ?? '').split(',')) topics.add(topic);
  }
  return [...topics];
}

export type TopicOperation = 'publish' | 'subscribe';

/** Whether `appId` may publish to (or subscribe to) `topic` on a component with `config`. */
export function isTopicAllowed(config: ReadonlyMap<string, string>, appId: string, topic: string, operation: TopicOperation): boolean {
  const allowed = list(config.get('allowedTopics'));
  if (allowed.length > 0 && !allowed.includes(topic)) return false;
  const scoped = scopedTopics(config, operation === 'publish' ? 'publishingScopes' : 'subscriptionScopes', appId);
  const isProtected = list(config.get('protectedTopics')).includes(topic);
  if (!isProtected && scoped.length === 0) return true;
  return scoped.includes(topic);
}
