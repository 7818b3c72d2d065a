#include "services/case/handoff_worker.h"

#include <future>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"
#include "services/common/auth.h"
#include "services/common/grpc_status.h"
#include "services/common/logging.h"
#include "services/common/text.h"

namespace reception {
namespace {

std::string Describe(const grpc::Status& s) {
  return absl::StrCat("code ", static_cast<int>(s.error_code()), ": ",
                      TruncateUtf8(s.error_message(), 300));
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
    peer.stub = federation::v1::CaseFederationService::NewStub(
        credentials->NewChannelTo(p.address(), p.unit_code(), args));
  }
}

void HandoffWorker::Deliver(const Outbox::Item& item,
                            absl::AnyInvocable<void(Outbox::Answer)> answer) {
  const std::string& unit = item.peer;
  const std::string& id = item.payload;
  federation::v1::CaseFederationService::Stub* stub;
  std::string key;
  {
    absl::MutexLock lock(&mu_);
    auto it = peers_.find(unit);
    if (it == peers_.end()) {
      // Not a peer any more: stays queued, visible to operators.
      return answer(
          {Outbox::Verdict::kRetry, absl::StrCat("unit ", unit, " is not a configured peer"), ""});
    }
    stub = it->second.stub.get();
    key = it->second.public_key;
  }
  auto timeout = absl::Milliseconds(config_.call_timeout_millis());
  if (key.empty()) {
    grpc::ClientContext ctx;
    AddNodeIdentity(unit_code_, "", &ctx, timeout);
    federation::v1::NodeKey nk;
    grpc::Status s = stub->GetNodeKey(&ctx, federation::v1::GetNodeKeyRequest(), &nk);
    if (!s.ok()) {
      Log()->warn("event=handoff_node_key_failed peer={} error={}", unit,
                  LogValue(TruncateUtf8(s.error_message(), 200)));
      return answer({DeliveryVerdict(s), Describe(s), ""});
    }
    if (nk.unit_code() != unit) {
      return answer(
          {Outbox::Verdict::kRetry,
           absl::StrCat("the node at this address is unit ", nk.unit_code().substr(0, 32)), ""});
    }
    key = nk.public_key();
    absl::MutexLock lock(&mu_);
    peers_[unit].public_key = key;
  }
  auto offer = registry_->BuildOffer(id, key);
  if (!offer.ok()) {
    // Cannot even be built (e.g. the identity does not unseal): a dead
    // letter for an operator, not a loop.
    Log()->error("event=handoff_offer_failed handoff={} error={}", id,
                 LogValue(offer.status().message()));
    return answer({Outbox::Verdict::kRefused,
                   absl::StrCat("handoff ", id, " cannot be offered: ", offer.status().message()),
                   ""});
  }
  struct Flight {
    grpc::ClientContext ctx;
    federation::v1::OfferHandoffRequest offer;
    federation::v1::OfferHandoffResponse ack;
    absl::AnyInvocable<void(Outbox::Answer)> answer;
  };
  auto f = std::make_shared<Flight>();
  AddNodeIdentity(unit_code_, "", &f->ctx, timeout);
  f->offer = *std::move(offer);
  f->answer = std::move(answer);
  stub->async()->OfferHandoff(&f->ctx, &f->offer, &f->ack, [this, f, unit, id](grpc::Status s) {
    if (s.ok()) {
      Log()->info("event=handoff_delivered handoff={} peer={} retry={}", id, unit,
                  f->ack.already_imported());
      return f->answer({Outbox::Verdict::kDelivered, "", ""});
    }
    Log()->warn("event=handoff_delivery_failed handoff={} peer={} error={}", id, unit,
                LogValue(TruncateUtf8(s.error_message(), 200)));
    if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
        absl::StrContains(s.error_message(), "node key")) {
      absl::MutexLock lock(&mu_);
      peers_[unit].public_key.clear();  // the peer's key changed: fetch it again
      return f->answer({Outbox::Verdict::kRetry, Describe(s), ""});
    }
    f->answer({DeliveryVerdict(s), Describe(s), ""});
  });
}

namespace {

// One queued question for the ancestor's node, asked with `call` (an
// async unary method of the federation stub).
template <typename Request, typename Response, typename Call>
void Ask(const Outbox::Item& item, const std::string& unit, absl::Duration timeout, Call call,
         absl::AnyInvocable<void(Outbox::Answer)> answer) {
  struct Flight {
    grpc::ClientContext ctx;
    Request request;
    Response response;
    absl::AnyInvocable<void(Outbox::Answer)> answer;
  };
  auto f = std::make_shared<Flight>();
  if (!f->request.ParseFromString(item.payload)) {
    return answer({Outbox::Verdict::kRefused, "the queued question does not parse", ""});
  }
  AddNodeIdentity(unit, "", &f->ctx, timeout);
  f->answer = std::move(answer);
  call(&f->ctx, &f->request, &f->response,
       std::function<void(grpc::Status)>([f, peer = item.peer, key = item.key](grpc::Status s) {
         if (s.ok()) {
           return f->answer({Outbox::Verdict::kDelivered, "", f->response.SerializeAsString()});
         }
         Log()->warn("event=ancestor_question_failed key={} peer={} error={}", key, peer,
                     LogValue(TruncateUtf8(s.error_message(), 200)));
         f->answer({DeliveryVerdict(s), Describe(s), ""});
       }));
}

}  // namespace

void HandoffWorker::DeliverSubtreeCheck(const Outbox::Item& item,
                                        absl::AnyInvocable<void(Outbox::Answer)> answer) {
  federation::v1::CaseFederationService::Stub* stub;
  {
    absl::MutexLock lock(&mu_);
    auto it = peers_.find(item.peer);
    if (it == peers_.end()) {
      return answer({Outbox::Verdict::kRetry,
                     absl::StrCat("unit ", item.peer, " is not a configured peer"), ""});
    }
    stub = it->second.stub.get();
  }
  const absl::Duration timeout = absl::Milliseconds(config_.call_timeout_millis());
  auto* async = stub->async();
  if (absl::StartsWith(item.key, OwnershipCheck::kKeyPrefix)) {
    return Ask<federation::v1::CheckCaseOwnersRequest, federation::v1::CheckCaseOwnersResponse>(
        item, unit_code_, timeout,
        [async](auto* ctx, auto* request, auto* response, auto done) {
          async->CheckCaseOwners(ctx, request, response, std::move(done));
        },
        std::move(answer));
  }
  if (absl::StartsWith(item.key, FirstComplaintLinks::kKeyPrefix)) {
    return Ask<federation::v1::CheckFirstComplaintRequest,
               federation::v1::CheckFirstComplaintResponse>(
        item, unit_code_, timeout,
        [async](auto* ctx, auto* request, auto* response, auto done) {
          async->CheckFirstComplaint(ctx, request, response, std::move(done));
        },
        std::move(answer));
  }
  Ask<federation::v1::FindRelatedCasesRequest, federation::v1::FindRelatedCasesResponse>(
      item, unit_code_, timeout,
      [async](auto* ctx, auto* request, auto* response, auto done) {
        async->FindRelatedCases(ctx, request, response, std::move(done));
      },
      std::move(answer));
}

cases::v1::FederationStatus HandoffWorker::Status() const {
  cases::v1::FederationStatus out;
  out.set_unit_code(unit_code_);
  const auto known = registry_->handoff_outbox()->Peers();
  absl::MutexLock lock(&mu_);
  for (const auto& [unit, peer] : peers_) {
    auto* s = out.add_peers();
    s->set_unit_code(unit);
    s->set_address(peer.address);
    auto it = known.find(unit);
    if (it == known.end()) continue;
    const Outbox::PeerState& p = it->second;
    s->set_reachable(p.reachable);
    if (p.last_contact != absl::InfinitePast()) {
      s->mutable_last_contact_time()->set_seconds(absl::ToUnixSeconds(p.last_contact));
    }
    s->set_last_error(p.last_error);
    s->set_outbox_depth(p.depth + p.dead);
    s->set_oldest_pending_seconds(absl::ToInt64Seconds(p.oldest));
  }
  return out;
}

}  // namespace reception
