// Subscriptions as Dapr declares them: the app's /dapr/subscribe shapes, Subscription YAML
// v2alpha1 and v1alpha1 with scopes, CEL match rules compiled once, and what is refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseResourceFile } from '../../../../host/components/component-yaml.ts';
import { declarativeSubscriptions } from '../../../../host/building-blocks/pubsub/declarative-subscriptions.ts';
import { parseAppSubscriptions } from '../../../../host/building-blocks/pubsub/programmatic-subscriptions.ts';
import { RouteRule, routeFor } from '../../../../host/building-blocks/pubsub/route-rules.ts';
import { MAX_ROUTE_RULES, MAX_SUBSCRIPTIONS } from '../../../../host/building-blocks/pubsub/subscription.ts';

const paths = (s: { rules: RouteRule[] }): Array<{ match?: string; path: string }> => s.rules.map((r) => r.toJSON());

function yamlSubscriptions(yaml: string, appId = 'orders') {
  const others = parseResourceFile(yaml, '/res/subs.yaml').others.map((o) => ({ ...o, source: '/res/subs.yaml' }));
  return declarativeSubscriptions(others, appId);
}

describe('CEL route rules', () => {
  const event = { id: '1', type: 'widget', source: 'factory', data: { price: 150, name: 'gizmo', tags: ['a', 'b'], count: 3 } };

  it('evaluates the expressions Dapr documents against `event`', () => {
    const holds = (match: string): boolean => new RouteRule(match, '/x').holdsFor(event);
    assert.equal(holds('event.type == "widget"'), true);
    assert.equal(holds('event.type == "gadget"'), false);
    assert.equal(holds('event.data.price > 100'), true);
    assert.equal(holds('event.data.count == 3'), true);
    assert.equal(holds('has(event.data.name)'), true);
    assert.equal(holds('has(event.data.missing)'), false);
    assert.equal(holds('event.data.name.startsWith("giz") && event.data.name.endsWith("mo")'), true);
    assert.equal(holds('event.data.name.contains("zm") && event.data.name.matches("^g.*o$")'), true);
    assert.equal(holds('size(event.data.tags) == 2 && "b" in event.data.tags'), true);
    assert.equal(holds('event.data.tags.exists(t, t == "a")'), true);
  });

  it('takes the first rule that holds, then the default', () => {
    const rules = [new RouteRule('event.type == "widget"', '/widgets'), new RouteRule('event.data.price > 100', '/expensive'), new RouteRule('', '/other')];
    assert.equal(routeFor(rules, event), '/widgets');
    assert.equal(routeFor(rules, { ...event, type: 'gadget' }), '/expensive');
    assert.equal(routeFor(rules, { ...event, type: 'gadget', data: { price: 1 } }), '/other');
    assert.equal(routeFor(rules.slice(0, 2), { ...event, type: 'gadget', data: { price: 1 } }), undefined);
  });

  it('refuses invalid CEL when compiled, and fails an expression that errors or is not a boolean', () => {
    assert.throws(() => new RouteRule('event.type ==', '/x'), { code: 'ERR_COMPONENT_CONFIG', message: /invalid match expression "event.type =="/ });
    assert.throws(() => new RouteRule('event.data.nothere == 1', '/x').holdsFor(event), /No such key/);
    assert.throws(() => new RouteRule('event.type', '/x').holdsFor(event), /was not a boolean/);
  });

  it('evaluates a compiled rule quickly', () => {
    const rule = new RouteRule('event.type == "widget" && event.data.price > 100 && has(event.data.name)', '/x');
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) rule.holdsFor(event);
    const perCallUs = ((performance.now() - started) * 1000) / 10_000;
    assert.ok(perCallUs < 50, `${perCallUs.toFixed(1)} µs per evaluation`);
  });
});

describe('programmatic subscriptions (GET /dapr/subscribe)', () => {
  it('reads route, routes with rules and default, metadata and deadLetterTopic', () => {
    const { subscriptions, problems } = parseAppSubscriptions(
      JSON.stringify([
        { pubsubname: 'pubsub', topic: 'orders', route: '/orders' },
        {
          pubsubname: 'pubsub',
          topic: 'widgets',
          routes: { rules: [{ match: 'event.type == "widget"', path: '/widgets' }], default: '/products' },
          metadata: { rawPayload: 'true' },
          deadLetterTopic: 'poison',
          bulkSubscribe: { enabled: false },
        },
        { pubsubname: 'pubsub', topic: 'both', route: '/ignored', routes: { default: '/wins' } },
      ]),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(subscriptions.map((s) => [s.pubsubName, s.topic, paths(s), s.deadLetterTopic, s.rawPayload, s.type]), [
      ['pubsub', 'orders', [{ path: '/orders' }], '', false, 'PROGRAMMATIC'],
      ['pubsub', 'widgets', [{ match: 'event.type == "widget"', path: '/widgets' }, { path: '/products' }], 'poison', true, 'PROGRAMMATIC'],
      ['pubsub', 'both', [{ path: '/wins' }], '', false, 'PROGRAMMATIC'],
    ]);
  });

  it('reports each entry it cannot use and keeps the others', () => {
    const { subscriptions, problems } = parseAppSubscriptions(
      JSON.stringify([
        { pubsubname: 'pubsub', topic: 'good', route: '/good' },
        { pubsubname: 'pubsub', topic: 'bad-cel', routes: { rules: [{ match: 'event.type ==', path: '/x' }] } },
        { pubsubname: 'pubsub', route: '/no-topic' },
        { pubsubname: 'pubsub', topic: 'no-route' },
        { pubsubname: 'pubsub', topic: 'raw', route: '/raw', metadata: { rawPayload: 'maybe' } },
      ]),
    );
    assert.deepEqual(subscriptions.map((s) => s.topic), ['good']);
    assert.equal(problems.length, 4);
    assert.match(problems[0]!.error, /\[1\] \(pubsub pubsub, topic bad-cel\): routes.rules\[0\]: invalid match expression/);
    assert.match(problems[1]!.error, /"topic" is required/);
    assert.match(problems[2]!.error, /no route/);
    assert.match(problems[3]!.error, /rawPayload value must be a valid boolean: actual is 'maybe'/);
    assert.deepEqual(parseAppSubscriptions('{"not":"a list"}').problems.length, 1);
    assert.deepEqual(parseAppSubscriptions('null'), { subscriptions: [], problems: [] });
  });

  it(`reads ${MAX_SUBSCRIPTIONS} entries at most, and ${MAX_ROUTE_RULES} rules a subscription, saying so`, () => {
    const many = Array.from({ length: MAX_SUBSCRIPTIONS + 4 }, (_, i) => ({ pubsubname: 'pubsub', topic: `t${i}`, route: '/t' }));
    const { subscriptions, problems } = parseAppSubscriptions(JSON.stringify(many));
    assert.equal(subscriptions.length, MAX_SUBSCRIPTIONS);
    assert.deepEqual(
      problems.map((p) => p.error),
      [`the app's GET /dapr/subscribe: entries from [${MAX_SUBSCRIPTIONS}] on not read: ${MAX_SUBSCRIPTIONS + 4} subscriptions, over the ${MAX_SUBSCRIPTIONS} one sidecar delivers`],
    );
    const rules = (n: number) => Array.from({ length: n }, (_, i) => ({ match: `event.data.n == ${i}`, path: `/r${i}` }));
    const ruled = parseAppSubscriptions(JSON.stringify([{ pubsubname: 'p', topic: 'ok', routes: { rules: rules(MAX_ROUTE_RULES) } }, { pubsubname: 'p', topic: 'over', routes: { rules: rules(MAX_ROUTE_RULES + 1) } }]));
    assert.deepEqual(ruled.subscriptions.map((s) => s.rules.length), [MAX_ROUTE_RULES]);
    assert.match(ruled.problems[0]!.error, new RegExp(`topic over\\): "routes.rules" has ${MAX_ROUTE_RULES + 1} rules, over the ${MAX_ROUTE_RULES} a subscription may give`));
  });
});

describe('declarative subscriptions (kind: Subscription)', () => {
  it('reads v2alpha1 routes and v1alpha1 route, with scopes naming the apps they apply to', () => {
    const { subscriptions, problems } = yamlSubscriptions(`apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: widgets
spec:
  pubsubname: pubsub
  topic: widgets
  routes:
    rules:
      - match: event.data.price > 100
        path: /expensive
    default: /widgets
  deadLetterTopic: widgets-dead
  metadata:
    rawPayload: "false"
scopes:
  - orders
---
apiVersion: dapr.io/v1alpha1
kind: Subscription
metadata:
  name: legacy
spec:
  pubsubname: pubsub
  topic: legacy
  route: /legacy
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: elsewhere
spec:
  pubsubname: pubsub
  topic: other-app
  routes:
    default: /x
scopes: [billing]
`);
    assert.deepEqual(problems, []);
    assert.deepEqual(subscriptions.map((s) => [s.topic, paths(s), s.deadLetterTopic, s.metadata, s.type, s.source]), [
      ['widgets', [{ match: 'event.data.price > 100', path: '/expensive' }, { path: '/widgets' }], 'widgets-dead', { rawPayload: 'false' }, 'DECLARATIVE', '/res/subs.yaml (Subscription "widgets")'],
      ['legacy', [{ path: '/legacy' }], '', {}, 'DECLARATIVE', '/res/subs.yaml (Subscription "legacy")'],
    ]);
    assert.deepEqual(yamlSubscriptions('apiVersion: dapr.io/v2alpha1\nkind: Subscription\nspec: {pubsubname: p, topic: t, routes: {default: /x}}\nscopes: [billing]\n', 'billing').subscriptions.length, 1);
  });

  it('reports a Subscription it cannot use, naming the file and the field', () => {
    const { subscriptions, problems } = yamlSubscriptions(`apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: broken
spec:
  pubsubname: pubsub
  topic: t
  routes:
    rules:
      - match: 'event.type == '
        path: /x
---
apiVersion: dapr.io/v1alpha1
kind: Subscription
metadata:
  name: nothing
spec:
  pubsubname: pubsub
`);
    assert.equal(subscriptions.length, 0);
    assert.match(problems[0]!.error, /^\/res\/subs.yaml \(Subscription "broken"\) \(pubsub pubsub, topic t\): routes.rules\[0\]: invalid match expression/);
    assert.match(problems[1]!.error, /Subscription "nothing"\): "topic" is required/);
  });
});
