#include "services/case/handoff_worker.h"

#include <future>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"
#include "services/common/auth.h"
#include "services/common/logging.h"
#include "services/common/text.h"

namespace reception {
namespace {

std::string Describe(const grpc::Status& s) {
  return absl::StrCat("code ", static_cast<int>(s.error_code()), ": ", TruncateUtf8(s.error_message(), 300));
}

template <typename T>
absl::StatusOr<T> Await(const std::function<void(CaseRegistry::Callback<T>)>& call) {
  std::promise<absl::StatusOr<T>> p;
  auto f = p.get_future();
  call([&p](absl::StatusOr<T> r) { p.set_value(std::move(r)); });
  return f.get();
}

}  // namespace

HandoffWorker::HandoffWorker(CaseRegistry* registry, std::string unit_code,
                             config::v1::FederationConfig config,
                             std::shared_ptr<const Credentials> credentials)
    : registry_(registry), unit_code_(std::move(unit_code)), config_(std::move(config)) {
  if (credentials == nullptr) credentials = Credentials::FromConfig(config::v1::AuthConfig());
  absl::MutexLock lock(&mu_);
  for (const auto& p : config_.peers()) {
    Peer& peer = peers_[p.unit_code()];
    peer.address = p.address();
    grpc::ChannelArguments args;
    // Reconnect promptly once a peer comes back (default backoff grows to 2 min).
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, config_.retry_max_millis());
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, config_.retry_initial_millis());
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, config_.retry_initial_millis());
    peer.stub = federation::v1::CaseFederationService::NewStub(credentials->NewChannelTo(p.address(), p.unit_code(), args));
    peer.backoff = absl::Milliseconds(config_.retry_initial_millis());
  }
}

HandoffWorker::~HandoffWorker() { Stop(); }

void HandoffWorker::Start() { thread_ = std::thread([this] { Loop(); }); }

void HandoffWorker::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void HandoffWorker::Kick() {
  absl::MutexLock lock(&mu_);
  kicked_ = true;
}

void HandoffWorker::Prepare(grpc::ClientContext* ctx) const {
  AddNodeIdentity(unit_code_, "", ctx, absl::Milliseconds(config_.call_timeout_millis()));
}

void HandoffWorker::MarkFailure(const std::string& unit, const std::string& error) {
  absl::MutexLock lock(&mu_);
  Peer& peer = peers_[unit];
  peer.reachable = false;
  peer.last_error = error;
  peer.next_attempt = absl::Now() + peer.backoff;
  peer.backoff = std::min(peer.backoff * 2, absl::Milliseconds(config_.retry_max_millis()));
}

void HandoffWorker::DeliverTo(const std::string& unit, const std::vector<cases::v1::Handoff>& pending) {
  federation::v1::CaseFederationService::Stub* stub;
  std::string key;
  {
    absl::MutexLock lock(&mu_);
    auto it = peers_.find(unit);
    if (it == peers_.end()) return;  // not a peer any more: stays queued, visible in status
    stub = it->second.stub.get();
    key = it->second.public_key;
  }
  if (key.empty()) {
    grpc::ClientContext ctx;
    Prepare(&ctx);
    federation::v1::NodeKey nk;
    grpc::Status s = stub->GetNodeKey(&ctx, federation::v1::GetNodeKeyRequest(), &nk);
    if (!s.ok()) {
      // Counted on the oldest handoff waiting for this peer, for operators.
      const std::string id(absl::StripPrefix(pending.front().name(), "handoffs/"));
      (void)Await<cases::v1::Handoff>(
          [&](auto cb) { registry_->RecordHandoffAttempt(id, Describe(s), std::move(cb)); });
      return MarkFailure(unit, Describe(s));
    }
    if (nk.unit_code() != unit) {
      return MarkFailure(unit, absl::StrCat("the node at this address is unit ", nk.unit_code()));
    }
    key = nk.public_key();
    absl::MutexLock lock(&mu_);
    peers_[unit].public_key = key;
  }
  // Up to kWindow offers in flight: the destination's writer commits their
  // imports together, and the acknowledgements are recorded as they come.
  // The first failure stops new offers; the failed ones stay queued.
  struct Window {
    absl::Mutex mu;
    int in_flight ABSL_GUARDED_BY(mu) = 0;
    bool failed ABSL_GUARDED_BY(mu) = false;
    std::string failure ABSL_GUARDED_BY(mu);
    void Done(const std::string& error = "") {
      absl::MutexLock lock(&mu);
      if (!error.empty() && !failed) {
        failed = true;
        failure = error;
      }
      --in_flight;
    }
  };
  struct Flight {
    grpc::ClientContext ctx;
    federation::v1::OfferHandoffRequest offer;
    federation::v1::OfferHandoffResponse ack;
    std::string id;
  };
  constexpr int kWindow = 16;
  auto window = std::make_shared<Window>();
  for (const auto& h : pending) {
    {
      absl::MutexLock lock(&window->mu);
      auto room = [w = window.get()]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu) {
        return w->in_flight < kWindow || w->failed;
      };
      window->mu.Await(absl::Condition(&room));
      if (window->failed) break;
      ++window->in_flight;
    }
    const std::string id(absl::StripPrefix(h.name(), "handoffs/"));
    auto offer = registry_->BuildOffer(id, key);
    if (!offer.ok()) {
      // Cannot even be built (e.g. the identity does not unseal): keep it
      // first in line, visible to operators, and back off instead of
      // retrying in a loop.
      Log()->error("event=handoff_offer_failed handoff={} error={}", id,
                   LogValue(offer.status().message()));
      (void)Await<cases::v1::Handoff>([&](auto cb) {
        registry_->RecordHandoffAttempt(id, std::string(offer.status().message()), std::move(cb));
      });
      window->Done(absl::StrCat("handoff ", id, " cannot be offered: ", offer.status().message()));
      break;
    }
    auto f = std::make_shared<Flight>();
    Prepare(&f->ctx);
    f->offer = *std::move(offer);
    f->id = id;
    stub->async()->OfferHandoff(&f->ctx, &f->offer, &f->ack, [this, f, window, unit](grpc::Status s) {
      if (!s.ok()) {
        if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
            absl::StrContains(s.error_message(), "node key")) {
          absl::MutexLock lock(&mu_);
          peers_[unit].public_key.clear();  // the peer's key changed: fetch it again
        }
        Log()->warn("event=handoff_delivery_failed handoff={} peer={} error={}", f->id, unit,
                    LogValue(TruncateUtf8(s.error_message(), 200)));
        const std::string error = Describe(s);
        registry_->RecordHandoffAttempt(f->id, error, [window, error](auto) { window->Done(error); });
        return;
      }
      registry_->CompleteHandoff(f->id, [this, f, window, unit](absl::StatusOr<cases::v1::Handoff> done) {
        if (!done.ok()) {
          Log()->error("event=handoff_complete_failed handoff={} error={}", f->id,
                       LogValue(done.status().message()));
          return window->Done(std::string(done.status().message()));
        }
        Log()->info("event=handoff_delivered handoff={} peer={} retry={}", f->id, unit, f->ack.already_imported());
        {
          absl::MutexLock lock(&mu_);
          Peer& peer = peers_[unit];
          peer.reachable = true;
          peer.last_contact = absl::Now();
          peer.last_error.clear();
          peer.backoff = absl::Milliseconds(config_.retry_initial_millis());
          peer.next_attempt = absl::InfinitePast();
          ++peer.delivered;
        }
        window->Done();
      });
    });
  }
  std::string failure;
  {
    absl::MutexLock lock(&window->mu);
    auto drained = [w = window.get()]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu) { return w->in_flight == 0; };
    window->mu.Await(absl::Condition(&drained));
    if (window->failed) failure = window->failure;
  }
  if (!failure.empty()) MarkFailure(unit, failure);
}

void HandoffWorker::Loop() {
  for (;;) {
    auto pending = registry_->PendingHandoffs();
    std::map<std::string, std::vector<cases::v1::Handoff>> by_peer;
    if (pending.ok()) {
      for (auto& h : *pending) by_peer[h.destination_unit()].push_back(h);
    } else {
      Log()->error("event=outbox_read_failed error={}", LogValue(pending.status().message()));
    }
    {
      absl::MutexLock lock(&mu_);
      pending_ = pending.ok() ? *pending : std::vector<cases::v1::Handoff>{};
      if (stop_) return;
    }
    absl::Time wake = absl::Now() + absl::Seconds(1);
    for (const auto& [unit, list] : by_peer) {
      absl::Time next;
      {
        absl::MutexLock lock(&mu_);
        next = peers_.count(unit) ? peers_[unit].next_attempt : absl::InfiniteFuture();
        if (stop_) return;
      }
      if (next <= absl::Now()) {
        DeliverTo(unit, list);
        absl::MutexLock lock(&mu_);
        if (peers_.count(unit)) next = peers_[unit].next_attempt;
      }
      if (next > absl::Now()) wake = std::min(wake, next);
      else wake = absl::Now();  // delivered: look again for more
    }
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return kicked_ || stop_; };
    mu_.AwaitWithDeadline(absl::Condition(&ready), wake);
    kicked_ = false;
    if (stop_) return;
  }
}

cases::v1::FederationStatus HandoffWorker::Status() const {
  cases::v1::FederationStatus out;
  out.set_unit_code(unit_code_);
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  for (const auto& [unit, peer] : peers_) {
    auto* s = out.add_peers();
    s->set_unit_code(unit);
    s->set_address(peer.address);
    s->set_reachable(peer.reachable);
    if (peer.last_contact != absl::InfinitePast()) {
      s->mutable_last_contact_time()->set_seconds(absl::ToUnixSeconds(peer.last_contact));
    }
    s->set_last_error(peer.last_error);
    for (const auto& h : pending_) {
      if (h.destination_unit() != unit) continue;
      s->set_outbox_depth(s->outbox_depth() + 1);
      const int64_t age = absl::ToUnixSeconds(now) - h.create_time().seconds();
      s->set_oldest_pending_seconds(std::max(s->oldest_pending_seconds(), age));
    }
  }
  return out;
}

std::vector<prometheus::MetricFamily> HandoffWorker::Collect() const {
  prometheus::MetricFamily depth{"reception_federation_outbox_depth",
                                 "Handoffs queued for a peer", prometheus::MetricType::Gauge, {}};
  prometheus::MetricFamily up{"reception_federation_peer_reachable",
                              "1 when the last call to the peer succeeded", prometheus::MetricType::Gauge, {}};
  prometheus::MetricFamily oldest{"reception_federation_oldest_pending_seconds",
                                  "Age of the oldest handoff queued for a peer",
                                  prometheus::MetricType::Gauge, {}};
  prometheus::MetricFamily delivered{"reception_federation_handoffs_delivered_total",
                                     "Handoffs acknowledged by a peer since start",
                                     prometheus::MetricType::Counter, {}};
  const cases::v1::FederationStatus status = Status();
  absl::MutexLock lock(&mu_);
  for (const auto& p : status.peers()) {
    auto add = [&](prometheus::MetricFamily& f, double v) {
      prometheus::ClientMetric m;
      m.label = {{"peer", p.unit_code()}};
      if (f.type == prometheus::MetricType::Counter) m.counter.value = v; else m.gauge.value = v;
      f.metric.push_back(std::move(m));
    };
    add(depth, static_cast<double>(p.outbox_depth()));
    add(up, p.reachable() ? 1 : 0);
    add(oldest, static_cast<double>(p.oldest_pending_seconds()));
    auto it = peers_.find(p.unit_code());
    add(delivered, it == peers_.end() ? 0 : static_cast<double>(it->second.delivered));
  }
  return {std::move(depth), std::move(up), std::move(oldest), std::move(delivered)};
}

}  // namespace reception
