// The case service's module: opens its store, wires the registry, the
// handoff worker, the feed follower and the compaction loop, and registers
// the gRPC services (case_service.cc) with the node.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "services/case/case_service.h"
#include "services/common/backup.h"
#include "services/common/grpc_status.h"
#include "services/common/key_file.h"
#include "services/common/logging.h"
#include "services/common/status.h"

namespace reception {
namespace {

// The unit whose node checks this node's new cases against its subtree:
// the topmost ancestor among the configured peers ("" when none is above).
std::string SubtreeCheckUnit(const Topology& topology, const config::v1::NodeConfig& config) {
  std::string top;
  for (const auto& peer : config.federation().peers()) {
    const std::string& u = peer.unit_code();
    if (u == config.unit_code() || !topology.IsWithin(config.unit_code(), u)) continue;
    if (top.empty() || topology.IsWithin(top, u)) top = u;
  }
  return top;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceModule>> CaseModule::Create(const NodeContext& context) {
  std::unique_ptr<CaseModule> m(new CaseModule());
  m->context_ = &context;
  const auto& config = context.config;
  Store::Options options = context.StoreOptions("case", CaseRegistry::ColumnFamilies());
  options.prefix_lengths = CaseRegistry::PrefixLengths();
  auto store = Store::Open(options);
  if (!store.ok()) return store.status();
  m->store_ = *std::move(store);
  auto vault = IdentityVault::ForNode(config.identity_key_file(), config.data_dir());
  if (!vault.ok()) return vault.status();
  m->vault_ = *std::move(vault);
  CaseRegistry::Deps deps;
  deps.store = m->store_.get();
  deps.vault = m->vault_.get();
  deps.topology = &context.topology;
  deps.rules = &context.rules;
  m->deadlines_ = std::make_unique<DeadlineEngine>(&context.calendar, &context.rules);
  deps.deadlines = m->deadlines_.get();
  deps.clock = context.clock;
  deps.metrics = context.metrics.get();
  deps.unit_code = config.unit_code();
  deps.duplicate_window_days = config.duplicates().window_days();
  deps.duplicate_min_similarity_percent = config.duplicates().min_similarity_percent();
  if (!config.duplicates().matching_key_file().empty()) {
    auto key = LoadSharedSecret(config.duplicates().matching_key_file(), 32);
    if (!key.ok()) {
      return absl::Status(key.status().code(),
                          absl::StrCat("duplicates.matching_key_file: ", key.status().message()));
    }
    deps.matching_key = *std::move(key);
    deps.subtree_check_unit = SubtreeCheckUnit(context.topology, config);
  }
  deps.ancestor_unit = SubtreeCheckUnit(context.topology, config);
  auto node_key = NodeKey::Open((std::filesystem::path(config.data_dir()) / "node.box").string());
  if (!node_key.ok()) return node_key.status();
  m->node_key_ = *std::move(node_key);
  deps.node_key = m->node_key_.get();
  if (!config.documents().forms_file().empty()) {
    auto forms = documents::FormBook::LoadFile(config.documents().forms_file());
    if (!forms.ok()) {
      return absl::Status(forms.status().code(),
                          absl::StrCat("documents.forms_file: ", forms.status().message()));
    }
    m->forms_ = std::make_unique<documents::FormBook>(*std::move(forms));
    deps.forms = m->forms_.get();
    Log()->info("event=forms_loaded file={} forms={}", LogValue(config.documents().forms_file()),
                m->forms_->proto().forms_size());
  } else {
    Log()->warn(
        "event=no_forms note=\"documents.forms_file is unset: GetCaseDocument issues no papers\"");
  }
  deps.lookup_url = config.documents().lookup_url();
  // The defaults as the configuration loader sets them (a config built in
  // code may leave them zero).
  const int per_address = config.documents().lookups_per_minute_per_address() > 0
                              ? config.documents().lookups_per_minute_per_address()
                              : 6;
  const int per_node =
      config.documents().lookups_per_minute() > 0 ? config.documents().lookups_per_minute() : 600;
  m->lookups_ = std::make_unique<RateLimiter>(context.clock, per_address, per_node);
  for (const auto& peer : config.federation().peers()) deps.peer_units.push_back(peer.unit_code());
  if (config.federation().retry_initial_millis() > 0) {
    deps.retry_initial = absl::Milliseconds(config.federation().retry_initial_millis());
  }
  if (config.federation().retry_max_millis() > 0) {
    deps.retry_max = absl::Milliseconds(config.federation().retry_max_millis());
  }
  // The worker is created after the registry; the outbox reaches it through
  // the module, which outlives both (the outbox starts once it exists).
  // The feed's durable head, for the watches of the node above.
  m->feed_watch_ = std::make_unique<SequenceWatch>(0);
  deps.feed_watch = m->feed_watch_.get();
  CaseModule* module = m.get();
  deps.deliver_handoff = [module](const Outbox::Item& item,
                                  absl::AnyInvocable<void(Outbox::Answer)> answer) {
    module->worker_->Deliver(item, std::move(answer));
  };
  deps.deliver_subtree_check = [module](const Outbox::Item& item,
                                        absl::AnyInvocable<void(Outbox::Answer)> answer) {
    module->worker_->DeliverSubtreeCheck(item, std::move(answer));
  };
  const std::string deps_check_unit = deps.subtree_check_unit;
  m->registry_ = std::make_unique<CaseRegistry>(std::move(deps));
  if (!m->registry_->status().ok()) return m->registry_->status();
  // Restored from a backup: numbers and feed positions issued after it are
  // held by peers and followers, so they are never issued again.
  if (const auto marker = std::filesystem::path(config.data_dir()) / kRestoredMarker;
      std::filesystem::exists(marker)) {
    std::ifstream in(marker);
    std::string backup;
    std::getline(in, backup);
    auto moved = m->registry_->SkipCountersAfterRestore(kRestoreCounterGap);
    if (!moved.ok()) return moved.status();
    // Cases handed away after the backup are still owned here as far as
    // the backup knows: writes to them wait until the peers have said.
    auto marked = m->registry_->BeginOwnershipCheck(backup);
    if (!marked.ok()) return marked.status();
    std::error_code ec;
    std::filesystem::remove(marker, ec);
    Log()->warn(
        "event=restored_from_backup backup={} counters_moved={} gap={} cases_to_confirm={} "
        "note=\"case numbers and feed positions issued after the backup are skipped; the cases "
        "held as owner wait until every peer says it holds none of them newer\"",
        LogValue(backup), *moved, kRestoreCounterGap, *marked);
  }
  // A calendar published (or changed) since the last start moves the due
  // dates counted on the old one, before anyone reads them.
  auto recounted = m->registry_->RecomputeClocksForCalendar();
  if (!recounted.ok()) return recounted.status();
  if (*recounted > 0) {
    Log()->warn(
        "event=deadlines_recomputed cases={} calendar={} note=\"each case's history names the old "
        "and new due dates\"",
        *recounted, LogValue(context.calendar.name()));
  }
  {
    auto head = m->registry_->FeedHead();
    if (!head.ok()) return head.status();
    m->feed_watch_->Advance(*head);
  }
  m->scans_ = std::make_unique<WorkPool>(2, "case-scan");
  m->worker_ = std::make_shared<HandoffWorker>(m->registry_.get(), config.unit_code(),
                                               config.federation(), context.credentials);
  m->registry_->handoff_outbox()->Start();
  m->registry_->check_outbox()->Start();
  if (!deps_check_unit.empty()) {
    Log()->info("event=subtree_checks_to unit={}", deps_check_unit);
  }
  // Oversight: follow the nodes below (config federation.follow).
  auto children =
      FeedFollower::ChildrenToFollow(context.topology, config.unit_code(), config.federation());
  if (!children.empty()) {
    for (const auto& c : children) {
      Log()->info("event=follow_child unit={} address={}", c.unit_code, c.address);
    }
    m->follower_ = std::make_unique<FeedFollower>(&m->registry_->replicas(), config.unit_code(),
                                                  std::move(children), config.federation(),
                                                  context.credentials, context.metrics.get());
  }
  m->handoff_service_ =
      std::make_unique<HandoffGrpcService>(m->registry_.get(), context.authenticator,
                                           m->scans_.get(), m->worker_.get(), m->follower_.get());
  CaseFederationGrpcService::Deps fed;
  fed.registry = m->registry_.get();
  fed.auth = context.authenticator;
  fed.node_key = m->node_key_.get();
  fed.unit_code = config.unit_code();
  fed.in_process_secret = context.in_process_secret;
  fed.crash_after_import = context.test_fault == "crash_after_import";
  fed.feed_watch = m->feed_watch_.get();
  fed.scans = m->scans_.get();
  fed.feed_heartbeat = absl::Milliseconds(config.federation().follow().heartbeat_millis());
  fed.feed_batch = absl::Milliseconds(std::max(0, config.federation().follow().batch_millis()));
  // The media service is this process's (receptiond) or the one at
  // media_service_address (reception-case beside reception-media).
  if (!config.media_service_address().empty()) {
    fed.media_channel = [address = config.media_service_address(), unit = config.unit_code(),
                         creds = context.credentials] {
      return creds->NewChannelTo(address, unit);
    };
  } else {
    fed.media_channel = context.local_channel;
  }
  m->federation_service_ = std::make_unique<CaseFederationGrpcService>(std::move(fed));
  std::map<std::string, std::unique_ptr<cases::v1::CaseService::Stub>> peers;
  for (const auto& peer : config.federation().peers()) {
    peers[peer.unit_code()] = cases::v1::CaseService::NewStub(
        context.credentials->NewChannelTo(peer.address(), peer.unit_code()));
  }
  m->service_ = std::make_unique<CaseGrpcService>(m->registry_.get(), context.authenticator,
                                                  m->scans_.get(), config.unit_code(),
                                                  std::move(peers), absl::Milliseconds(1000));
  m->service_->set_follower(m->follower_.get());
  m->service_->set_lookup_limiter(m->lookups_.get());
  const int compact_s = config.federation().follow().feed_compact_seconds();
  if (compact_s >= 0) {
    CaseModule* self = m.get();
    const absl::Duration every = absl::Seconds(compact_s == 0 ? 600 : compact_s);
    m->compactor_ = std::thread([self, every] { self->CompactLoop(every); });
  }
  Log()->info("event=case_service_ready store={} identity_key={}", options.path,
              m->vault_->active_key_id());
  return std::unique_ptr<ServiceModule>(std::move(m));
}

void CaseModule::CompactLoop(absl::Duration every) {
  absl::MutexLock lock(&compact_mu_);
  for (;;) {
    compact_mu_.AwaitWithTimeout(absl::Condition(&stopping_), every);
    if (stopping_) return;
    compact_mu_.Unlock();
    int removed = 0;
    uint64_t after = 0;
    for (;;) {
      auto step = registry_->replicas().CompactFeed(after, 1000);
      if (!step.ok()) {
        Log()->warn("event=feed_compaction_failed error={}", LogValue(step.status().message()));
        break;
      }
      removed += step->removed;
      if (step->last == after) break;
      after = step->last;
    }
    if (removed > 0) Log()->info("event=feed_compacted removed={} through={}", removed, after);
    compact_mu_.Lock();
  }
}

CaseModule::~CaseModule() {
  if (compactor_.joinable()) {
    {
      absl::MutexLock lock(&compact_mu_);
      stopping_ = true;
    }
    compactor_.join();
  }
  // The server has stopped. Stop following (its applies use the store),
  // finish scans, then the store (it completes queued mutations, whose
  // callbacks still use the registry).
  follower_.reset();
  if (registry_ && registry_->handoff_outbox() != nullptr) {
    // No new offers; the answers in flight are recorded while the store is
    // still there.
    registry_->handoff_outbox()->Stop();
    registry_->handoff_outbox()->Drain();
  }
  if (registry_ && registry_->check_outbox() != nullptr) {
    registry_->check_outbox()->Stop();
    registry_->check_outbox()->Drain();
  }
  scans_.reset();
  store_.reset();
}

}  // namespace reception
