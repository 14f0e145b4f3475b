/**
 * terraform/ held to the code, by HashiCorp's own HCL parser (@cdktf/hcl2json):
 * every function Terraform deploys is one the code registers, under the right
 * signature, with its name as entry point; every setting the code reads is
 * set; nobody public may invoke; the trigger listens to the right event on the
 * right bucket. Then fmt, validate and checkov (scripts/check-terraform.sh).
 */
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {before, describe, it} from 'node:test';
import {parse} from '@cdktf/hcl2json';
import {getFunction} from '@google-cloud/functions-framework/testing';
import {FUNCTION_NAMES} from '../../functions/index.js';
import {MESSAGE_PUBLISHED} from '../../shared/messaging/shard-messages.js';
import {SETTING_DEFAULTS} from '../../shared/settings.js';
import {REPO_ROOT} from '../support/python.js';

type Hcl = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed HCL is untyped JSON

const TERRAFORM = join(REPO_ROOT, 'terraform');
let hcl: {resource: Hcl; locals: Hcl; variable: Hcl; output: Hcl};

function merge(into: Hcl, from: Hcl): void {
  for (const [key, value] of Object.entries(from)) {
    if (into[key] && typeof value === 'object' && !Array.isArray(value))
      merge(into[key], value);
    else if (Array.isArray(into[key]) && Array.isArray(value))
      into[key].push(...value);
    else into[key] = value;
  }
}

before(async () => {
  const all: Hcl = {resource: {}, locals: [], variable: {}, output: {}};
  for (const file of readdirSync(TERRAFORM).filter(f => f.endsWith('.tf'))) {
    merge(all, await parse(file, readFileSync(join(TERRAFORM, file), 'utf8')));
  }
  const locals: Hcl = {};
  for (const block of all.locals) Object.assign(locals, block);
  hcl = {
    resource: all.resource,
    locals,
    variable: all.variable,
    output: all.output,
  };
});

function fn(): Hcl {
  return hcl.resource.google_cloudfunctions2_function.fn[0];
}

describe('terraform/ against the code', () => {
  it('deploys exactly the functions the code registers, each under its signature', () => {
    const deployed = hcl.locals.functions as Record<string, {kind: string}>;
    assert.deepEqual(Object.keys(deployed).sort(), [...FUNCTION_NAMES].sort());
    const sources = readdirSync(join(REPO_ROOT, 'functions'))
      .filter(f => f.endsWith('.ts'))
      .map(f => readFileSync(join(REPO_ROOT, 'functions', f), 'utf8'))
      .join('\n');
    // functions.http('name', ...), functions.cloudEvent('name', ...), or
    // retryingCloudEvent('name', ...) (functions/event-not-acknowledged.ts).
    const signatures = new Map(
      [
        ...sources.matchAll(
          /(?:functions\.(http|cloudEvent)(?:<[^>]*>)?|retryingCloudEvent)\(\s*'(\w+)'/g,
        ),
      ].map(m => [m[2], m[1] ?? 'cloudEvent']),
    );
    for (const [name, {kind}] of Object.entries(deployed)) {
      assert.ok(
        getFunction(name),
        `${name} is not registered by build/functions/index.js`,
      );
      assert.equal(
        signatures.get(name),
        kind === 'event' ? 'cloudEvent' : 'http',
        `${name} is registered as ${signatures.get(name)}, deployed as ${kind}`,
      );
    }
    assert.equal(fn().for_each, '${local.functions}');
    assert.equal(fn().name, '${each.key}');
    assert.equal(fn().build_config[0].entry_point, '${each.key}');
  });

  it('runs the Node.js major of package.json engines', () => {
    const engines = JSON.parse(
      readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'),
    ).engines.node as string;
    const major = /(\d+)/.exec(engines)?.[1];
    assert.equal(fn().build_config[0].runtime, `nodejs${major}`);
  });

  it('sets every environment variable the code reads', () => {
    const source = ['shared/settings.ts', 'functions/instance-context.ts']
      .map(f => readFileSync(join(REPO_ROOT, f), 'utf8'))
      .join('\n');
    const read = new Set(
      [...source.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)].map(m => m[1]),
    );
    for (const name of Object.keys(SETTING_DEFAULTS)) read.add(name);
    read.delete('GCLOUD_PROJECT'); // a fallback for GOOGLE_CLOUD_PROJECT, which is set
    assert.ok(read.size >= 7, `found only ${[...read].join(', ')}`);
    const env = hcl.locals.function_env as Record<string, string>;
    for (const name of read)
      assert.ok(
        name in env,
        `${name} is read by the code but not set by Terraform`,
      );
    assert.equal(
      fn().service_config[0].environment_variables,
      '${local.function_env}',
    );
  });

  it('lets no public principal invoke anything', () => {
    const members: string[] = [];
    for (const [type, resources] of Object.entries(hcl.resource)) {
      if (!/iam_(member|binding)$/.test(type)) continue;
      for (const blocks of Object.values(resources as Hcl)) {
        for (const block of blocks as Hcl[])
          members.push(
            String(block.member ?? ''),
            ...((block.members as string[]) ?? []),
          );
      }
    }
    assert.ok(members.length > 5);
    for (const member of members)
      assert.doesNotMatch(member, /allUsers|allAuthenticatedUsers/);
    // callers come from a variable whose validation refuses public principals
    const validation = JSON.stringify(
      hcl.variable.invoker_members[0].validation,
    );
    assert.match(validation, /allusers/i);
    assert.match(validation, /allauthenticatedusers/i);
    const invoker = hcl.resource.google_cloud_run_v2_service_iam_member;
    assert.ok(invoker, 'no invoker grant found');
    // run.invoker goes to var.invoker_members on the HTTP functions, and to the Eventarc identity on the trigger
    assert.equal(invoker.invoker[0].for_each, '${local.invoker_grants}');
    assert.match(
      hcl.locals.invoker_grants,
      /setproduct\(keys\(local\.http_functions\), var\.invoker_members\)/,
    );
    assert.equal(
      invoker.events_invoker[0].member,
      '${google_service_account.events.member}',
    );
    // the Eventarc identity invokes the event functions only
    assert.equal(
      invoker.events_invoker[0].for_each,
      '${local.event_functions}',
    );
    assert.match(hcl.locals.event_functions, /if f\.kind == "event"/);
    assert.deepEqual(Object.keys(invoker).sort(), [
      'events_invoker',
      'invoker',
    ]);
  });

  it('triggers recordDatasetMetadata on finalized objects of the datasets bucket, generateShard on the shard topic, both with retries', () => {
    const dynamic = fn().dynamic.event_trigger[0];
    const trigger = dynamic.content[0];
    assert.match(dynamic.for_each, /each\.value\.kind == "event"/);
    assert.match(dynamic.for_each, /\[each\.value\.trigger\]/);
    assert.equal(
      trigger.event_type,
      '${local.event_types[event_trigger.value]}',
    );
    assert.deepEqual(hcl.locals.event_types, {
      storage: 'google.cloud.storage.object.v1.finalized',
      shards: MESSAGE_PUBLISHED,
    });
    assert.equal(trigger.retry_policy, 'RETRY_POLICY_RETRY');
    assert.equal(
      trigger.service_account_email,
      '${google_service_account.events.email}',
    );
    // the bucket filter only on the storage trigger, the topic only on the shard one
    const filters = trigger.dynamic.event_filters[0];
    assert.match(filters.for_each, /event_trigger\.value == "storage"/);
    assert.deepEqual(filters.content, [
      {attribute: 'bucket', value: '${google_storage_bucket.datasets.name}'},
    ]);
    assert.match(
      trigger.pubsub_topic,
      /event_trigger\.value == "shards" \? google_pubsub_topic\.shards\.id : null/,
    );
    const functions = hcl.locals.functions as Hcl;
    assert.deepEqual(
      {
        kind: functions.recordDatasetMetadata.kind,
        trigger: functions.recordDatasetMetadata.trigger,
      },
      {kind: 'event', trigger: 'storage'},
    );
    assert.deepEqual(
      {
        kind: functions.generateShard.kind,
        trigger: functions.generateShard.trigger,
      },
      {kind: 'event', trigger: 'shards'},
    );
  });

  it('has the shard topic the code publishes to, retention bounded, publishable by generateDataset only', () => {
    const topic = hcl.resource.google_pubsub_topic.shards[0];
    assert.equal(topic.name, SETTING_DEFAULTS.SHARD_TOPIC);
    const retention = /^(\d+)s$/.exec(topic.message_retention_duration);
    assert.ok(retention, topic.message_retention_duration);
    const seconds = Number(retention[1]);
    assert.ok(seconds >= 600 && seconds <= 7 * 86_400, `${seconds} s`);
    const env = hcl.locals.function_env as Record<string, string>;
    assert.equal(env.SHARD_TOPIC, '${google_pubsub_topic.shards.name}');
    // every Pub/Sub grant is on the topic, to generateDataset's identity
    assert.equal(hcl.resource.google_pubsub_topic_iam_binding, undefined);
    const grants = hcl.resource.google_pubsub_topic_iam_member as Hcl;
    assert.deepEqual(Object.keys(grants), ['shards_publisher']);
    const publisher = grants.shards_publisher[0];
    assert.equal(publisher.topic, '${google_pubsub_topic.shards.name}');
    assert.equal(publisher.role, 'roles/pubsub.publisher');
    assert.equal(
      publisher.member,
      '${google_service_account.fn["generateDataset"].member}',
    );
    // at project level only Cloud Storage's agent publishes (Eventarc's transport)
    const projectPublishers = Object.entries(
      hcl.resource.google_project_iam_member as Hcl,
    )
      .filter(([, blocks]) =>
        (blocks as Hcl[]).some(b => /pubsub/.test(String(b.role))),
      )
      .map(([name]) => name);
    assert.deepEqual(projectPublishers, ['gcs_pubsub_publisher']);
  });

  it("gives generateShard's identity object create and read on the bucket, Firestore user, nothing to sign", () => {
    const functions = hcl.locals.functions as Hcl;
    assert.equal(functions.generateShard.role, 'shard-writer');
    const bucketRoles = hcl.locals.bucket_roles as string;
    assert.match(
      bucketRoles,
      /"\$\{name\}\/objectCreator"[\s\S]*if contains\(\["generator", "shard-writer"\], f\.role\)/,
    );
    assert.match(bucketRoles, /objectViewer[\s\S]*if f\.role != "lister"/);
    assert.match(
      hcl.locals.firestore_roles,
      /contains\(\["loader", "lister"\], f\.role\) \? "roles\/datastore\.viewer" : "roles\/datastore\.user"/,
    );
    assert.match(hcl.locals.signers, /f\.role == "loader"/);
  });

  it('sizes generateShard for a 16,777,216-row shard within the event-function limit, 64 instances, MAX_SAMPLES a billion', () => {
    const settings = hcl.variable.function_settings[0].default.generateShard;
    assert.deepEqual(settings, {
      memory: '1Gi',
      cpu: '2',
      timeout_seconds: 540,
      max_instances: 64,
      concurrency: 1,
    });
    assert.equal(hcl.variable.max_samples[0].default, 1_000_000_000);
  });

  it('keeps the datasets bucket private', () => {
    const bucket = hcl.resource.google_storage_bucket.datasets[0];
    assert.equal(bucket.uniform_bucket_level_access, true);
    assert.equal(bucket.public_access_prevention, 'enforced');
  });

  it('outputs every function URL, the bucket and curl commands', () => {
    const outputs = Object.keys(hcl.output);
    assert.ok(
      outputs.some(o => /url/i.test(o)),
      outputs.join(', '),
    );
    assert.ok(
      outputs.some(o => /bucket/i.test(o)),
      outputs.join(', '),
    );
    assert.ok(
      outputs.some(o => /curl/i.test(o)),
      outputs.join(', '),
    );
  });
});

describe(
  'tofu fmt, tofu validate (provider schemas), checkov',
  {timeout: 30 * 60_000},
  () => {
    it('all pass', () => {
      const result = spawnSync(
        'bash',
        [join(REPO_ROOT, 'scripts/check-terraform.sh'), '--build'],
        {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']},
      );
      assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
      assert.match(
        result.stdout,
        /checkov\s+ok\s+Passed checks: \d+, Failed checks: 0/,
      );
      assert.match(result.stdout, /fmt\s+ok/);
      assert.match(result.stdout, /validate\s+ok\s+Success!/);
    });
  },
);
