#include "services/case/oversight_feed.h"

#include <future>

#include "absl/strings/str_cat.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/common/auth.h"
#include "services/common/grpc_status.h"
#include "services/common/logging.h"
#include "services/common/text.h"

namespace reception {
namespace {

using federation::v1::CaseFeedPage;

class FeedWatchReactor final : public grpc::ServerWriteReactor<CaseFeedPage> {
 public:
  // Pages are read on `pool` (a bounded scan of the store), never on a
  // gRPC thread.
  FeedWatchReactor(const CaseReplicas* replicas, SequenceWatch* watch, WorkPool* pool,
                   uint64_t after, int page_size, absl::Duration heartbeat, absl::Duration batch)
      : replicas_(replicas),
        watch_(watch),
        pool_(pool),
        after_(after),
        page_size_(page_size),
        heartbeat_(heartbeat),
        batch_(batch) {
    absl::MutexLock lock(&mu_);
    ReadLocked(/*heartbeat=*/true);  // the first page goes at once, even empty
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    if (!ok) return FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "stream closed"));
    ReadLocked(false);
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    // Waiting: finished here; reading: the read finishes it.
    if (waiting_ && watch_->Cancel(wait_id_)) {
      waiting_ = false;
      FinishLocked(grpc::Status::CANCELLED);
    }
  }

  void OnDone() override {
    { absl::MutexLock lock(&mu_); }  // a task that finished us has let go
    delete this;
  }

 private:
  void FinishLocked(const grpc::Status& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(s);
  }

  // Reads the next page on the pool; one read, write or wait at a time.
  void ReadLocked(bool heartbeat) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (cancelled_) return FinishLocked(grpc::Status::CANCELLED);
    pool_->Post([this, heartbeat] {
      absl::MutexLock lock(&mu_);
      if (cancelled_) return FinishLocked(grpc::Status::CANCELLED);
      for (;;) {
        auto page = replicas_->ReadPage(after_, page_size_);
        if (!page.ok()) return FinishLocked(ToGrpcStatus(page.status()));
        const bool moved = static_cast<uint64_t>(page->last_sequence()) > after_;
        after_ = static_cast<uint64_t>(page->last_sequence());
        if (page->entries_size() > 0 || heartbeat) {
          page_ = *std::move(page);
          StartWrite(&page_);
          return;
        }
        if (!moved) break;  // caught up; positions left out only: read on
      }
      WaitLocked();
    });
  }

  // Caught up: waits for a change (or the heartbeat), then for a full page
  // (or `batch_`), then reads.
  void WaitLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    waiting_ = true;
    wait_id_ = watch_->Await(after_, absl::Now() + heartbeat_, [this](bool advanced) {
      absl::MutexLock lock(&mu_);
      if (!waiting_) return;
      if (!advanced || batch_ <= absl::ZeroDuration()) {
        waiting_ = false;
        return ReadLocked(!advanced);
      }
      // A change: more usually follow within moments (the next commit
      // groups); one page for them all costs both ends less.
      wait_id_ = watch_->Await(after_ + static_cast<uint64_t>(page_size_) - 1, absl::Now() + batch_,
                               [this](bool) {
                                 absl::MutexLock lock(&mu_);
                                 if (!waiting_) return;
                                 waiting_ = false;
                                 ReadLocked(false);
                               });
    });
  }

  const CaseReplicas* replicas_;
  SequenceWatch* watch_;
  WorkPool* pool_;
  absl::Mutex mu_;
  uint64_t after_ ABSL_GUARDED_BY(mu_);
  const int page_size_;
  const absl::Duration heartbeat_;
  const absl::Duration batch_;
  CaseFeedPage page_ ABSL_GUARDED_BY(mu_);
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  SequenceWatch::Id wait_id_ ABSL_GUARDED_BY(mu_) = 0;
};

void SetTime(absl::Time t, google::protobuf::Timestamp* ts) {
  ts->set_seconds(absl::ToUnixSeconds(t));
  ts->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(absl::ToUnixSeconds(t)))));
}

}  // namespace

grpc::ServerWriteReactor<CaseFeedPage>* NewFeedWatch(const CaseReplicas* replicas,
                                                     SequenceWatch* watch, WorkPool* pool,
                                                     uint64_t after, int page_size,
                                                     absl::Duration heartbeat,
                                                     absl::Duration batch) {
  return new FeedWatchReactor(replicas, watch, pool, after, page_size, heartbeat, batch);
}

std::vector<FeedFollower::Child> FeedFollower::ChildrenToFollow(
    const Topology& topology, const std::string& unit, const config::v1::FederationConfig& config) {
  std::vector<Child> out;
  if (config.follow().disabled()) return out;
  auto strictly_below = [&](const std::string& a, const std::string& b) {
    return a != b && topology.IsWithin(a, b);
  };
  for (const auto& p : config.peers()) {
    if (!strictly_below(p.unit_code(), unit)) continue;
    bool between = false;
    for (const auto& q : config.peers()) {
      between = between || (strictly_below(p.unit_code(), q.unit_code()) &&
                            strictly_below(q.unit_code(), unit));
    }
    if (!between) out.push_back({p.unit_code(), p.address()});
  }
  return out;
}

FeedFollower::FeedFollower(const CaseReplicas* replicas, std::string unit_code,
                           std::vector<Child> children, config::v1::FederationConfig config,
                           std::shared_ptr<const Credentials> credentials,
                           prometheus::Registry* metrics)
    : replicas_(replicas), unit_code_(std::move(unit_code)), config_(std::move(config)) {
  prometheus::Family<prometheus::Gauge>* lag = nullptr;
  prometheus::Family<prometheus::Gauge>* reachable = nullptr;
  if (metrics != nullptr) {
    lag = &prometheus::BuildGauge()
               .Name("reception_follow_lag_entries")
               .Help("Feed positions of a followed node below this one not yet applied here")
               .Register(*metrics);
    reachable = &prometheus::BuildGauge()
                     .Name("reception_follow_reachable")
                     .Help("1 while the feed of a followed node below this one is streaming")
                     .Register(*metrics);
  }
  for (auto& child : children) {
    auto s = std::make_unique<State>();
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, config_.retry_max_millis());
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, config_.retry_initial_millis());
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, config_.retry_initial_millis());
    s->stub = federation::v1::CaseFederationService::NewStub(
        credentials->NewChannelTo(child.address, child.unit_code, args));
    s->status.set_unit_code(child.unit_code);
    s->status.set_address(child.address);
    if (lag != nullptr) {
      s->lag = &lag->Add({{"unit", child.unit_code}});
      s->reachable = &reachable->Add({{"unit", child.unit_code}});
    }
    s->child = std::move(child);
    states_.push_back(std::move(s));
  }
  for (auto& s : states_) threads_.emplace_back([this, st = s.get()] { Follow(st); });
  if (!states_.empty()) threads_.emplace_back([this] { Watchdog(); });
}

FeedFollower::~FeedFollower() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (auto& s : states_) {
      if (s->open != nullptr) s->open->TryCancel();
    }
  }
  for (auto& t : threads_) t.join();
}

std::vector<cases::v1::FollowStatus> FeedFollower::Status() const {
  absl::MutexLock lock(&mu_);
  std::vector<cases::v1::FollowStatus> out;
  for (const auto& s : states_) out.push_back(s->status);
  return out;
}

void FeedFollower::Watchdog() {
  const absl::Duration silence = absl::Milliseconds(3 * config_.follow().heartbeat_millis());
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                         absl::Milliseconds(config_.follow().heartbeat_millis()));
    const absl::Time now = absl::Now();
    for (auto& s : states_) {
      if (s->open != nullptr && now - s->last_contact > silence) {
        Log()->warn("event=follow_stream_silent unit={} seconds={}", s->child.unit_code,
                    absl::ToInt64Seconds(now - s->last_contact));
        s->open->TryCancel();
      }
    }
  }
}

std::string FeedFollower::Stream(State* s) {
  auto cp = replicas_->Checkpoint(s->child.unit_code);
  if (!cp.ok()) return std::string(cp.status().message());
  grpc::ClientContext ctx;
  AddNodeIdentity(unit_code_, "", &ctx, absl::InfiniteDuration());
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return "stopping";
    s->open = &ctx;
    s->last_contact = absl::Now();  // the watchdog's clock starts now
  }
  federation::v1::WatchCaseFeedRequest req;
  req.set_after_sequence(cp->applied_sequence());
  req.set_page_size(500);
  auto reader = s->stub->WatchCaseFeed(&ctx, req);
  CaseFeedPage page;
  std::string error;
  while (reader->Read(&page)) {
    const absl::Time now = absl::Now();
    {
      absl::MutexLock lock(&mu_);
      s->last_contact = now;
      s->status.set_reachable(true);
      s->status.clear_last_error();
      SetTime(now, s->status.mutable_last_contact_time());
      if (s->reachable != nullptr) s->reachable->Set(1);
    }
    const int entries = page.entries_size();
    {
      absl::MutexLock lock(&mu_);
      if (entries == 0 && page.last_sequence() == s->status.applied_sequence() &&
          page.head_sequence() == s->status.head_sequence()) {
        continue;  // a heartbeat: nothing to write
      }
    }
    std::promise<absl::StatusOr<int>> applied;
    auto result = applied.get_future();
    replicas_->Apply(s->child.unit_code, page,
                     [&applied](absl::StatusOr<int> n) { applied.set_value(std::move(n)); });
    auto n = result.get();
    if (!n.ok()) {
      // A page that does not check out is refused whole; the stream is
      // reopened from the checkpoint (and refused again if the peer insists).
      error = absl::StrCat("page refused: ", n.status().message());
      Log()->warn("event=follow_page_refused unit={} error={}", s->child.unit_code,
                  LogValue(TruncateUtf8(n.status().message(), 300)));
      ctx.TryCancel();
      break;
    }
    absl::MutexLock lock(&mu_);
    s->status.set_applied_sequence(page.last_sequence());
    s->status.set_head_sequence(std::max(page.head_sequence(), page.last_sequence()));
    s->status.set_lag_entries(s->status.head_sequence() - s->status.applied_sequence());
    if (entries > 0) SetTime(now, s->status.mutable_last_entry_time());
    if (s->lag != nullptr) s->lag->Set(static_cast<double>(s->status.lag_entries()));
  }
  grpc::Status st = reader->Finish();
  absl::MutexLock lock(&mu_);
  s->open = nullptr;
  if (error.empty()) {
    error =
        absl::StrCat(GrpcCodeName(st.error_code()), ": ", TruncateUtf8(st.error_message(), 300));
  }
  return error;
}

void FeedFollower::Follow(State* s) {
  {
    // The status starts from what is durable.
    auto cp = replicas_->Checkpoint(s->child.unit_code);
    absl::MutexLock lock(&mu_);
    if (cp.ok()) {
      s->status.set_applied_sequence(cp->applied_sequence());
      s->status.set_head_sequence(cp->head_sequence());
      s->status.set_lag_entries(cp->head_sequence() - cp->applied_sequence());
      if (cp->has_last_entry_time()) *s->status.mutable_last_entry_time() = cp->last_entry_time();
    }
  }
  absl::Duration backoff = absl::Milliseconds(config_.retry_initial_millis());
  for (;;) {
    const absl::Time started = absl::Now();
    std::string error = Stream(s);
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    s->status.set_reachable(false);
    s->status.set_last_error(error);
    if (s->reachable != nullptr) s->reachable->Set(0);
    Log()->info("event=follow_stream_ended unit={} error={}", s->child.unit_code, LogValue(error));
    // A stream that lived a while was a working link: start the backoff over.
    if (absl::Now() - started > absl::Seconds(10)) {
      backoff = absl::Milliseconds(config_.retry_initial_millis());
    }
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
    if (stopping_) return;
    backoff = std::min(backoff * 2, absl::Milliseconds(config_.retry_max_millis()));
  }
}

}  // namespace reception
