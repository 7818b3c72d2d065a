// An integrator's Node.js client against a real receptiond: @grpc/grpc-js
// and @grpc/proto-loader from npm (installed into .cache/npm by
// tools/dev/setup.sh) loading the published protos. It creates a case,
// retries with the same request_id (the same case comes back), pages
// through the cases, and reads the google.rpc.Status details of an invalid
// field and of a refused transition.
//
//   node tests/e2e/node_client_test.js RECEPTIOND SOURCE_DIR
'use strict';

const assert = require('node:assert/strict');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const [receptiond, source] = process.argv.slice(2);
const modules = path.join(source, '.cache/npm/node_modules');
const grpc = require(path.join(modules, '@grpc/grpc-js'));
const protoLoader = require(path.join(modules, '@grpc/proto-loader'));

const loadOptions = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [path.join(source, 'proto'), path.join(source, 'third_party/googleapis')],
};
const api = grpc.loadPackageDefinition(
    protoLoader.loadSync(['reception/cases/v1/case_service.proto',
                          'reception/media/v1/media_service.proto'], loadOptions));
// protobufjs (proto-loader's own dependency) decodes the details.
const protobuf = require(path.join(modules, 'protobufjs'));
const root = new protobuf.Root();
root.resolvePath = (_, target) => {
  for (const dir of loadOptions.includeDirs) {
    const candidate = path.join(dir, target);
    if (fs.existsSync(candidate)) return candidate;
  }
  return target;
};
root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], {keepCase: true});
const Status = root.lookupType('google.rpc.Status');

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

async function waitFor(condition, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(50);
  }
  return condition();
}

function call(client, method, request, role = 'officer') {
  const md = new grpc.Metadata();
  md.set('x-reception-subject', 'node-client');
  md.set('x-reception-role', role);
  md.set('x-reception-unit', '48');
  return new Promise((resolve, reject) => {
    client[method](request, md, {deadline: Date.now() + 10000}, (err, resp) => {
      if (err) reject(err); else resolve(resp);
    });
  });
}

// The google.rpc.Status of a failed call, and its details unpacked by type.
function detailsOf(err) {
  const raw = err.metadata.get('grpc-status-details-bin')[0];
  assert.ok(raw, `no grpc-status-details-bin on ${err.details}`);
  const status = Status.decode(raw);
  const out = {status, byType: {}};
  for (const any of status.details) {
    const name = any.type_url.split('/').pop();
    out.byType[name] = root.lookupType(name).decode(any.value);
  }
  return out;
}

function today() {
  const d = new Date(Date.now() + 7 * 3600 * 1000);  // Vietnam
  return {year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate()};
}

function newCase(requestId, citizenId = '049201007777') {
  return {
    request_id: requestId,
    case: {
      kind: 'CASE_KIND_COMPLAINT',
      complaint_round: 'COMPLAINT_ROUND_FIRST',
      channel: 'CHANNEL_IN_PERSON',
      petitioners: [{full_name: 'Lê Văn Node', citizen_id: citizenId, address: 'Hải Châu'}],
      respondent: {unit_code: '48-1'},
      content: 'Khiếu nại quyết định xử phạt hành chính',
      received_date: today(),
    },
  };
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reception-node-'));
  const config = path.join(tmp, 'node.yaml');
  fs.writeFileSync(config, [
    'unit_code: "48"',
    'listen_address: 127.0.0.1:0',
    'admin_address: 127.0.0.1:0',
    `data_dir: ${tmp}/data`,
    `topology_file: ${source}/deploy/topology/da-nang-2025.yaml`,
    `rules_file: ${source}/deploy/rules/vn.yaml`,
    `calendar_file: ${source}/deploy/calendars/vn-2025-2026.yaml`,
    // A media server that is down: OpenRoom is UNAVAILABLE, with RetryInfo.
    'media: {backend: janus, janus_url: "http://127.0.0.1:9/janus"}',
    '',
  ].join('\n'));
  const ready = path.join(tmp, 'ready');
  const log = fs.openSync(path.join(tmp, 'node.log'), 'w');
  const node = childProcess.spawn(receptiond, ['--config', config, '--ready_file', ready],
                                  {stdio: ['ignore', log, log]});
  try {
    assert.ok(await waitFor(() => fs.existsSync(ready), 30000), 'receptiond did not start');
    const values = Object.fromEntries(
        fs.readFileSync(ready, 'utf8').split(/\s+/).filter(Boolean).map((l) => l.split('=')));
    const client = new api.reception.cases.v1.CaseService(
        `127.0.0.1:${values.grpc_port}`, grpc.credentials.createInsecure());

    // Create, and retry with the same request_id: the same case.
    const created = await call(client, 'CreateCase', newCase('node-1'));
    assert.match(created.name, /^cases\/48-\d{4}-\d{6}$/);
    assert.equal(created.state, 'CASE_STATE_RECEIVED');
    const again = await call(client, 'CreateCase', newCase('node-1'));
    assert.equal(again.name, created.name);
    for (let i = 2; i <= 5; i++) await call(client, 'CreateCase', newCase(`node-${i}`));

    // Page through every case, two at a time.
    const seen = [];
    let token = '';
    do {
      const page = await call(client, 'ListCases', {page_size: 2, page_token: token}, 'viewer');
      assert.ok(page.cases.length <= 2);
      seen.push(...page.cases.map((c) => c.name));
      token = page.next_page_token;
    } while (token);
    assert.equal(new Set(seen).size, 5);

    // An invalid field: the details name it and the rule.
    await assert.rejects(call(client, 'CreateCase', newCase('node-bad', '123')), (err) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      const d = detailsOf(err);
      assert.equal(d.status.message, 'case.petitioners[0].citizen_id must be 12 digits');
      assert.equal(d.byType['google.rpc.ErrorInfo'].reason, 'INVALID_FIELD');
      assert.equal(d.byType['google.rpc.ErrorInfo'].domain, 'reception.gov.vn');
      const v = d.byType['google.rpc.BadRequest'].field_violations[0];
      assert.equal(v.field, 'case.petitioners[0].citizen_id');
      assert.equal(v.description, 'must be 12 digits');
      return true;
    });
    // A transition the state does not allow: the reason and the state.
    await assert.rejects(
        call(client, 'AcceptCase', {name: created.name, notice_reference: 'TL-NODE-1'}), (err) => {
          assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
          const d = detailsOf(err);
          assert.equal(d.byType['google.rpc.ErrorInfo'].reason, 'TRANSITION_NOT_ALLOWED');
          const v = d.byType['google.rpc.PreconditionFailure'].violations[0];
          assert.equal(v.type, 'STATE');
          assert.equal(v.subject, 'RECEIVED');
          return true;
        });
    // A stale etag: ABORTED, ETAG_MISMATCH.
    await call(client, 'ClassifyCase', {name: created.name, within_competence: true});
    await assert.rejects(
        call(client, 'AcceptCase',
             {name: created.name, etag: created.etag, notice_reference: 'TL-NODE-2'}),
        (err) => {
          assert.equal(err.code, grpc.status.ABORTED);
          assert.equal(detailsOf(err).byType['google.rpc.ErrorInfo'].reason, 'ETAG_MISMATCH');
          return true;
        });
    // Every other error class a client meets, each with its reason.
    await assert.rejects(call(client, 'GetCase', {name: 'cases/48-2026-999999'}), (err) => {
      assert.equal(err.code, grpc.status.NOT_FOUND);
      const d = detailsOf(err);
      assert.equal(d.byType['google.rpc.ErrorInfo'].reason, 'CASE_NOT_FOUND');
      assert.equal(d.byType['google.rpc.ResourceInfo'].resource_name, 'cases/48-2026-999999');
      return true;
    });
    await assert.rejects(call(client, 'CreateCase', newCase('node-1', '049201008888')), (err) => {
      assert.equal(err.code, grpc.status.ALREADY_EXISTS);
      const d = detailsOf(err);
      assert.equal(d.byType['google.rpc.ErrorInfo'].reason, 'ALREADY_EXISTS');
      assert.ok(d.byType['google.rpc.ResourceInfo'], 'ResourceInfo on ALREADY_EXISTS');
      return true;
    });
    await assert.rejects(
        call(client, 'ClassifyCase', {name: created.name, within_competence: true}, 'viewer'),
        (err) => {
          assert.equal(err.code, grpc.status.PERMISSION_DENIED);
          assert.equal(detailsOf(err).byType['google.rpc.ErrorInfo'].reason, 'ROLE_NOT_ALLOWED');
          return true;
        });
    await assert.rejects(new Promise((resolve, reject) => {
      client.GetCase({name: created.name}, new grpc.Metadata(), (err, r) => err ? reject(err) : resolve(r));
    }), (err) => {
      assert.equal(err.code, grpc.status.UNAUTHENTICATED);
      assert.equal(detailsOf(err).byType['google.rpc.ErrorInfo'].reason, 'MISSING_METADATA');
      return true;
    });
    // Unavailable: this node's media server is down; when to retry.
    const rooms = new api.reception.media.v1.MediaService(
        `127.0.0.1:${values.grpc_port}`, grpc.credentials.createInsecure());
    const room = await call(rooms, 'CreateRoom', {room_id: 'node-room'});
    await assert.rejects(call(rooms, 'OpenRoom', {name: room.name}), (err) => {
      assert.equal(err.code, grpc.status.UNAVAILABLE);
      const d = detailsOf(err);
      assert.equal(d.byType['google.rpc.ErrorInfo'].reason, 'UNAVAILABLE');
      assert.ok(Number(d.byType['google.rpc.RetryInfo'].retry_delay.seconds) >= 1);
      return true;
    });
    rooms.close();
    // A correction through a field mask: only the masked field changes.
    const second = await call(client, 'GetCase', {name: seen[1]});
    const corrected = await call(client, 'UpdateCase', {
      case: {name: second.name, etag: second.etag, content: 'Khiếu nại quyết định số 12/QĐ-XP',
             petitioners: []},
      update_mask: {paths: ['content']},
      reason: 'Số quyết định theo bản gốc',
    });
    assert.equal(corrected.content, 'Khiếu nại quyết định số 12/QĐ-XP');
    assert.equal(corrected.petitioners[0].full_name, 'Lê Văn Node');
    await assert.rejects(call(client, 'UpdateCase', {
      case: {name: second.name, kind: 'CASE_KIND_PETITION'},
      update_mask: {paths: ['kind']},
      reason: 'x',
    }), (err) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      const d = detailsOf(err);
      assert.equal(d.byType['google.rpc.BadRequest'].field_violations[0].field, 'update_mask');
      assert.match(d.status.message, /ClassifyCase/);
      return true;
    });
    client.close();
    console.log('node client: create, retry, page, correct, and every error class: OK');
  } finally {
    node.kill('SIGTERM');
    await new Promise((r) => node.once('exit', r));
    fs.rmSync(tmp, {recursive: true, force: true});
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
