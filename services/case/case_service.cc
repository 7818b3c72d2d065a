#include "services/case/case_service.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "services/common/grpc_status.h"
#include "services/common/key_file.h"
#include "services/common/logging.h"
#include "services/common/status.h"

namespace reception {
namespace {

using cases::v1::Case;

// Set on a read forwarded to the owner: answer from the local copy.
constexpr char kForwardedMetadata[] = "x-reception-forwarded";

// Authenticates the call, then runs `body` with the principal; an
// unauthenticated call is finished at once.
template <typename Body>
grpc::ServerUnaryReactor* Authenticated(grpc::CallbackServerContext* ctx, const Authenticator* auth,
                                        Body body) {
  auto* reactor = ctx->DefaultReactor();
  auto principal = auth->Authenticate(*ctx);
  if (!principal.ok()) {
    reactor->Finish(ToGrpcStatus(principal.status()));
  } else {
    body(*principal, reactor);
  }
  return reactor;
}

template <typename Resp>
void Answer(grpc::ServerUnaryReactor* reactor, Resp* response, absl::StatusOr<Resp> result) {
  if (result.ok()) *response = *std::move(result);
  reactor->Finish(ToGrpcStatus(result.status()));
}

// A mutation: the registry completes it from the store's completion thread.
template <typename Resp, typename Call>
grpc::ServerUnaryReactor* Mutate(grpc::CallbackServerContext* ctx, const Authenticator* auth,
                                 Resp* response, Call call) {
  return Authenticated(ctx, auth, [&](const Principal& p, grpc::ServerUnaryReactor* reactor) {
    call(p, [reactor, response](absl::StatusOr<Resp> result) {
      Answer(reactor, response, std::move(result));
    });
  });
}

// A read: point reads and bounded scans answered on the calling thread.
template <typename Resp, typename Call>
grpc::ServerUnaryReactor* Read(grpc::CallbackServerContext* ctx, const Authenticator* auth,
                               Resp* response, Call call) {
  return Authenticated(ctx, auth, [&](const Principal& p, grpc::ServerUnaryReactor* reactor) {
    Answer(reactor, response, call(p));
  });
}

// A scan: bounded, but long enough that it must not hold a reactor thread.
template <typename Resp, typename Call>
grpc::ServerUnaryReactor* Scan(grpc::CallbackServerContext* ctx, const Authenticator* auth,
                               WorkPool* pool, Resp* response, Call call) {
  return Authenticated(ctx, auth, [&](const Principal& p, grpc::ServerUnaryReactor* reactor) {
    pool->Post([p, reactor, response, call = std::move(call)]() mutable {
      Answer(reactor, response, call(p));
    });
  });
}

}  // namespace

grpc::ServerUnaryReactor* CaseGrpcService::CreateCase(Ctx* ctx,
                                                      const cases::v1::CreateCaseRequest* req,
                                                      Case* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->CreateCase(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* CaseGrpcService::ClassifyCase(Ctx* ctx,
                                                        const cases::v1::ClassifyCaseRequest* req,
                                                        Case* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->ClassifyCase(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* CaseGrpcService::AcceptCase(Ctx* ctx,
                                                      const cases::v1::AcceptCaseRequest* req,
                                                      Case* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->AcceptCase(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* CaseGrpcService::RefuseCase(Ctx* ctx,
                                                      const cases::v1::RefuseCaseRequest* req,
                                                      Case* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->RefuseCase(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* CaseGrpcService::GuideCase(Ctx* ctx,
                                                     const cases::v1::GuideCaseRequest* req,
                                                     Case* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->GuideCase(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* CaseGrpcService::ArchiveCase(Ctx* ctx,
                                                       const cases::v1::ArchiveCaseRequest* req,
                                                       Case* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->ArchiveCase(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* CaseGrpcService::StartCaseVerification(
    Ctx* ctx, const cases::v1::StartCaseVerificationRequest* req, Case* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->StartCaseVerification(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* CaseGrpcService::SuspendCase(Ctx* ctx,
                                                       const cases::v1::SuspendCaseRequest* req,
                                                       Case* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->SuspendCase(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* CaseGrpcService::ResumeCase(Ctx* ctx,
                                                      const cases::v1::ResumeCaseRequest* req,
                                                      Case* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->ResumeCase(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* CaseGrpcService::DecideCase(Ctx* ctx,
                                                      const cases::v1::DecideCaseRequest* req,
                                                      Case* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->DecideCase(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* CaseGrpcService::UpdateCase(Ctx* ctx,
                                                      const cases::v1::UpdateCaseRequest* req,
                                                      Case* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->UpdateCase(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* CaseGrpcService::CloseCase(Ctx* ctx,
                                                     const cases::v1::CloseCaseRequest* req,
                                                     Case* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->CloseCase(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* CaseGrpcService::PublishDecision(
    Ctx* ctx, const cases::v1::PublishDecisionRequest* req, Case* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->PublishDecision(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* CaseGrpcService::WithdrawCase(Ctx* ctx,
                                                        const cases::v1::WithdrawCaseRequest* req,
                                                        Case* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->WithdrawCase(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* CaseGrpcService::RevealDenouncerIdentity(
    Ctx* ctx, const cases::v1::RevealDenouncerIdentityRequest* req,
    cases::v1::RevealDenouncerIdentityResponse* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->RevealDenouncerIdentity(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* CaseGrpcService::DeclareCaseComplexity(
    Ctx* ctx, const cases::v1::DeclareCaseComplexityRequest* req, Case* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->DeclareCaseComplexity(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* CaseGrpcService::ExtendCaseDeadline(
    Ctx* ctx, const cases::v1::ExtendCaseDeadlineRequest* req, Case* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->ExtendCaseDeadline(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* CaseGrpcService::GetCase(grpc::CallbackServerContext* ctx,
                                                   const cases::v1::GetCaseRequest* req,
                                                   Case* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto principal = auth_->Authenticate(*ctx);
  if (!principal.ok()) {
    reactor->Finish(ToGrpcStatus(principal.status()));
    return reactor;
  }
  auto local = registry_->GetCase(*principal, *req);
  if (!local.ok()) {
    reactor->Finish(ToGrpcStatus(local.status()));
    return reactor;
  }
  const bool forwarded = ctx->client_metadata().count(kForwardedMetadata) > 0;
  auto peer = peers_.find(local->owner_unit());
  // A replica (oversight) is answered as held: read-only, redacted, with
  // its freshness; the owner's full record is not the parent's to read.
  if (local->owner_unit() == unit_code_ || forwarded || peer == peers_.end() ||
      local->has_replica()) {
    *resp = *std::move(local);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  // Owned elsewhere: the owner's answer when it is reachable, else the local
  // copy (it carries replica_confirm_time). One hop only.
  struct Forward {
    grpc::ClientContext ctx;
    cases::v1::GetCaseRequest req;
    Case answer;
    Case local;
  };
  auto f = std::make_shared<Forward>();
  f->req = *req;
  f->local = *std::move(local);
  f->ctx.AddMetadata("x-reception-subject", absl::StrCat("node:", unit_code_));
  f->ctx.AddMetadata("x-reception-role", "node");
  f->ctx.AddMetadata("x-reception-unit", unit_code_);
  f->ctx.AddMetadata(kForwardedMetadata, "1");
  f->ctx.set_deadline(absl::ToChronoTime(absl::Now() + forward_timeout_));
  peer->second->async()->GetCase(&f->ctx, &f->req, &f->answer, [f, reactor, resp](grpc::Status s) {
    *resp = s.ok() ? std::move(f->answer) : std::move(f->local);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}
grpc::ServerUnaryReactor* CaseGrpcService::PreviewDeadlines(
    Ctx* ctx, const cases::v1::PreviewDeadlinesRequest* req,
    cases::v1::PreviewDeadlinesResponse* resp) {
  return Read(ctx, auth_, resp,
              [&](const Principal& p) { return registry_->PreviewDeadlines(p, *req); });
}

grpc::ServerUnaryReactor* CaseGrpcService::ListCases(Ctx* ctx,
                                                     const cases::v1::ListCasesRequest* req,
                                                     cases::v1::ListCasesResponse* resp) {
  CaseRegistry* registry = registry_;
  return Scan(ctx, auth_, scans_, resp,
              [registry, req](const Principal& p) { return registry->ListCases(p, *req); });
}
grpc::ServerUnaryReactor* CaseGrpcService::GetCaseReport(Ctx* ctx,
                                                         const cases::v1::GetCaseReportRequest* req,
                                                         cases::v1::CaseReport* resp) {
  CaseRegistry* registry = registry_;
  const FeedFollower* follower = follower_;
  return Scan(
      ctx, auth_, scans_, resp,
      [registry, follower, req](const Principal& p) -> absl::StatusOr<cases::v1::CaseReport> {
        // Staleness first: a feed current before the scan is current
        // for the figures.
        std::vector<std::string> stale;
        if (follower != nullptr) {
          for (const auto& f : follower->Status()) {
            if (!f.reachable() || f.lag_entries() > 0) stale.push_back(f.unit_code());
          }
        }
        auto report = registry->GetCaseReport(p, *req);
        if (report.ok()) {
          for (auto& u : stale) report->add_stale_units(std::move(u));
        }
        return report;
      });
}
grpc::ServerUnaryReactor* CaseGrpcService::GetCaseHistory(
    Ctx* ctx, const cases::v1::GetCaseHistoryRequest* req,
    cases::v1::GetCaseHistoryResponse* resp) {
  CaseRegistry* registry = registry_;
  return Scan(ctx, auth_, scans_, resp,
              [registry, req](const Principal& p) { return registry->GetCaseHistory(p, *req); });
}
grpc::ServerUnaryReactor* CaseGrpcService::VerifyCaseHistory(
    Ctx* ctx, const cases::v1::VerifyCaseHistoryRequest* req,
    cases::v1::VerifyCaseHistoryResponse* resp) {
  CaseRegistry* registry = registry_;
  return Scan(ctx, auth_, scans_, resp,
              [registry, req](const Principal& p) { return registry->VerifyCaseHistory(p, *req); });
}
grpc::ServerUnaryReactor* CaseGrpcService::ExportReceptionLog(
    Ctx* ctx, const cases::v1::ExportReceptionLogRequest* req,
    cases::v1::ExportReceptionLogResponse* resp) {
  CaseRegistry* registry = registry_;
  return Scan(ctx, auth_, scans_, resp, [registry, req](const Principal& p) {
    return registry->ExportReceptionLog(p, *req);
  });
}

grpc::ServerUnaryReactor* CaseGrpcService::GetCaseDocument(
    Ctx* ctx, const cases::v1::GetCaseDocumentRequest* req, cases::v1::CaseDocument* resp) {
  CaseRegistry* registry = registry_;
  WorkPool* pool = scans_;
  return Authenticated(ctx, auth_, [&](const Principal& p, grpc::ServerUnaryReactor* reactor) {
    pool->Post([registry, p, req, reactor, resp]() {
      registry->GetCaseDocument(
          p, *req, [reactor, resp](auto result) { Answer(reactor, resp, std::move(result)); });
    });
  });
}

grpc::ServerUnaryReactor* CaseGrpcService::LookupCaseStatus(
    Ctx* ctx, const cases::v1::LookupCaseStatusRequest* req, cases::v1::CaseStatus* resp) {
  auto* reactor = ctx->DefaultReactor();
  // The caller's address without its port: "ipv4:10.0.0.7", "ipv6:[::1]".
  std::string who = ctx->peer();
  if (const size_t colon = who.rfind(':'); colon != std::string::npos && who.find(':') != colon) {
    who.resize(colon);
  }
  const absl::Duration wait = lookups_ == nullptr ? absl::Minutes(1) : lookups_->Take(who);
  if (wait > absl::ZeroDuration()) {
    registry_->documents().CountLimitedLookup();
    reactor->Finish(ToGrpcStatus(WithRetryDelay(
        WithReason(absl::ResourceExhaustedError(
                       "too many status look-ups from this address or on this node; try again "
                       "later"),
                   "LOOKUP_RATE_LIMITED"),
        wait)));
    return reactor;
  }
  Answer(reactor, resp, registry_->LookupCaseStatus(*req));
  return reactor;
}

grpc::ServerUnaryReactor* HandoffGrpcService::TransferCase(
    Ctx* ctx, const cases::v1::TransferCaseRequest* req, cases::v1::Handoff* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->TransferCase(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* HandoffGrpcService::ReturnCase(Ctx* ctx,
                                                         const cases::v1::ReturnCaseRequest* req,
                                                         cases::v1::Handoff* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->ReturnCase(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* HandoffGrpcService::DisputeJurisdiction(
    Ctx* ctx, const cases::v1::DisputeJurisdictionRequest* req,
    cases::v1::JurisdictionResponse* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->DisputeJurisdiction(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* HandoffGrpcService::ResolveJurisdiction(
    Ctx* ctx, const cases::v1::ResolveJurisdictionRequest* req,
    cases::v1::JurisdictionResponse* resp) {
  return Mutate(ctx, auth_, resp, [&](const Principal& p, auto done) {
    registry_->ResolveJurisdiction(p, *req, std::move(done));
  });
}
grpc::ServerUnaryReactor* HandoffGrpcService::GetHandoff(Ctx* ctx,
                                                         const cases::v1::GetHandoffRequest* req,
                                                         cases::v1::Handoff* resp) {
  return Read(ctx, auth_, resp, [&](const Principal& p) { return registry_->GetHandoff(p, *req); });
}
grpc::ServerUnaryReactor* HandoffGrpcService::ListHandoffs(
    Ctx* ctx, const cases::v1::ListHandoffsRequest* req, cases::v1::ListHandoffsResponse* resp) {
  CaseRegistry* registry = registry_;
  return Scan(ctx, auth_, scans_, resp,
              [registry, req](const Principal& p) { return registry->ListHandoffs(p, *req); });
}
grpc::ServerUnaryReactor* HandoffGrpcService::GetFederationStatus(
    Ctx* ctx, const cases::v1::GetFederationStatusRequest*, cases::v1::FederationStatus* resp) {
  // The outbox's depth per peer is counted over its queue: off the reactor.
  const HandoffWorker* worker = worker_;
  const FeedFollower* follower = follower_;
  return Scan(ctx, auth_, scans_, resp,
              [worker, follower](const Principal&) -> absl::StatusOr<cases::v1::FederationStatus> {
                cases::v1::FederationStatus out = worker->Status();
                if (follower != nullptr) {
                  for (auto& f : follower->Status()) *out.add_followed() = std::move(f);
                }
                return out;
              });
}

// --- reception.federation.v1.CaseFederationService ---------------------------------

grpc::ServerUnaryReactor* CaseFederationGrpcService::OfferHandoff(
    Ctx* ctx, const federation::v1::OfferHandoffRequest* req,
    federation::v1::OfferHandoffResponse* resp) {
  const bool crash = d_.crash_after_import;
  return Mutate(ctx, d_.auth, resp, [&](const Principal& p, auto done) {
    d_.registry->ImportHandoff(p, *req, [crash, done = std::move(done)](auto result) mutable {
      // Test seam: die like kill -9 once the import is durable, before the
      // source hears of it.
      if (crash && result.ok() && !result->already_imported()) _exit(137);
      done(std::move(result));
    });
  });
}

grpc::ServerUnaryReactor* CaseFederationGrpcService::GetNodeKey(
    Ctx* ctx, const federation::v1::GetNodeKeyRequest*, federation::v1::NodeKey* resp) {
  return Read(ctx, d_.auth, resp,
              [&](const Principal& p) -> absl::StatusOr<federation::v1::NodeKey> {
                // Only for this node's peers (the key seals identities handed to this
                // node; nobody else hands cases here).
                if (p.role != Role::kNode || !d_.registry->IsPeer(p.unit_code)) {
                  return absl::PermissionDeniedError(
                      "GetNodeKey is for the nodes of this node's federation peers");
                }
                federation::v1::NodeKey k;
                k.set_unit_code(d_.unit_code);
                k.set_public_key(d_.node_key->public_key());
                k.set_key_id(d_.node_key->key_id());
                return k;
              });
}

namespace {

// The room as this node's media service has it must vouch for the
// attachment: the case is one the minutes are attached to, and the minutes
// are locked with exactly this text.
absl::Status CheckRoomVouches(const media::v1::Room& room,
                              const federation::v1::AttachCaseMinutesRequest& r) {
  bool listed = false;
  for (const auto& a : room.minutes_attachments()) listed = listed || a.case_() == r.name();
  if (!listed) {
    return absl::PermissionDeniedError(absl::StrCat(
        r.room().substr(0, 50), " has no minutes to attach to ", r.name().substr(0, 50)));
  }
  if (!room.minutes().locked() || room.minutes().text() != r.text()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the minutes of ", r.room().substr(0, 50),
                     " are not locked with this text in this node's media service"));
  }
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* CaseFederationGrpcService::AttachCaseMinutes(
    Ctx* ctx, const federation::v1::AttachCaseMinutesRequest* req, cases::v1::Case* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto principal = d_.auth->Authenticate(*ctx);
  if (!principal.ok()) {
    reactor->Finish(ToGrpcStatus(principal.status()));
    return reactor;
  }
  // Only this node's own services (its media service) attach minutes:
  // another node's certificate is refused whatever the room.
  if (principal->role != Role::kNode || principal->unit_code != d_.unit_code) {
    reactor->Finish(ToGrpcStatus(absl::PermissionDeniedError(
        absl::StrCat("AttachCaseMinutes is for this node's own media service (unit ", d_.unit_code,
                     "); the caller is unit ", principal->unit_code.substr(0, 32)))));
    return reactor;
  }
  std::shared_ptr<media::v1::MediaService::Stub> media;
  {
    absl::MutexLock lock(&mu_);
    if (!media_ && d_.media_channel) {
      if (auto channel = d_.media_channel()) media_ = media::v1::MediaService::NewStub(channel);
    }
    media = media_;
  }
  if (!media) {
    reactor->Finish(ToGrpcStatus(absl::UnavailableError(
        "this node's media service cannot be reached to check the room; try again")));
    return reactor;
  }
  struct Check {
    grpc::ClientContext ctx;
    media::v1::GetRoomRequest get;
    media::v1::Room room;
  };
  auto check = std::make_shared<Check>();
  check->get.set_name(req->room());
  AddNodeIdentity(d_.unit_code, d_.in_process_secret, &check->ctx, absl::Seconds(5));
  media->async()->GetRoom(
      &check->ctx, &check->get, &check->room,
      [this, check, media, reactor, req, resp, p = *principal](grpc::Status s) {
        if (!s.ok()) {
          const bool gone = s.error_code() == grpc::StatusCode::NOT_FOUND ||
                            s.error_code() == grpc::StatusCode::INVALID_ARGUMENT;
          return reactor->Finish(ToGrpcStatus(
              gone ? absl::NotFoundError(absl::StrCat("this node's media service has no room ",
                                                      req->room().substr(0, 50)))
                   : absl::UnavailableError(
                         absl::StrCat("the room cannot be checked with this node's media service: ",
                                      s.error_message().substr(0, 200)))));
        }
        if (auto vouched = CheckRoomVouches(check->room, *req); !vouched.ok()) {
          return reactor->Finish(ToGrpcStatus(vouched));
        }
        d_.registry->AttachCaseMinutes(p, *req, [reactor, resp](absl::StatusOr<cases::v1::Case> c) {
          Answer(reactor, resp, std::move(c));
        });
      });
  return reactor;
}

grpc::ServerUnaryReactor* CaseFederationGrpcService::ReadCaseFeed(
    Ctx* ctx, const federation::v1::ReadCaseFeedRequest* req, federation::v1::CaseFeedPage* resp) {
  // A bounded scan of the feed: on the scan pool, not a gRPC thread.
  CaseRegistry* registry = d_.registry;
  return Scan(ctx, d_.auth, d_.scans, resp,
              [registry, req](const Principal& p) -> absl::StatusOr<federation::v1::CaseFeedPage> {
                RECEPTION_RETURN_IF_ERROR(registry->replicas().CheckFollower(p));
                if (req->after_sequence() < 0) {
                  return InvalidField("after_sequence", "must not be negative");
                }
                if (req->page_size() < 0 || req->page_size() > 1000) {
                  return InvalidField("page_size", "must be between 1 and 1000 (0: 500)");
                }
                return registry->replicas().ReadPage(
                    static_cast<uint64_t>(req->after_sequence()),
                    req->page_size() == 0 ? 500 : req->page_size());
              });
}

grpc::ServerUnaryReactor* CaseFederationGrpcService::FindRelatedCases(
    Ctx* ctx, const federation::v1::FindRelatedCasesRequest* req,
    federation::v1::FindRelatedCasesResponse* resp) {
  // Prefix scans of the subtree index: on the scan pool.
  CaseRegistry* registry = d_.registry;
  return Scan(ctx, d_.auth, d_.scans, resp, [registry, req](const Principal& p) {
    return registry->subtree_checks().Answer(p, *req);
  });
}

grpc::ServerUnaryReactor* CaseFederationGrpcService::CheckFirstComplaint(
    Ctx* ctx, const federation::v1::CheckFirstComplaintRequest* req,
    federation::v1::CheckFirstComplaintResponse* resp) {
  // Two point reads: on the scan pool with the other federation reads.
  CaseRegistry* registry = d_.registry;
  return Scan(ctx, d_.auth, d_.scans, resp, [registry, req](const Principal& p) {
    return registry->first_complaint_links().Answer(p, *req);
  });
}

grpc::ServerUnaryReactor* CaseFederationGrpcService::CheckCaseOwners(
    Ctx* ctx, const federation::v1::CheckCaseOwnersRequest* req,
    federation::v1::CheckCaseOwnersResponse* resp) {
  // Up to 500 point reads: on the scan pool with the other federation reads.
  CaseRegistry* registry = d_.registry;
  return Scan(ctx, d_.auth, d_.scans, resp, [registry, req](const Principal& p) {
    return registry->ownership_check().Answer(p, *req);
  });
}

grpc::ServerWriteReactor<federation::v1::CaseFeedPage>* CaseFederationGrpcService::WatchCaseFeed(
    Ctx* ctx, const federation::v1::WatchCaseFeedRequest* req) {
  absl::Status refused;
  auto principal = d_.auth->Authenticate(*ctx);
  if (!principal.ok()) {
    refused = principal.status();
  } else if (auto ok = d_.registry->replicas().CheckFollower(*principal); !ok.ok()) {
    refused = ok;
  } else if (req->after_sequence() < 0) {
    refused = InvalidField("after_sequence", "must not be negative");
  } else if (req->page_size() < 0 || req->page_size() > 1000) {
    refused = InvalidField("page_size", "must be between 1 and 1000 (0: 500)");
  } else if (d_.feed_watch == nullptr || d_.scans == nullptr) {
    refused = absl::UnavailableError("this node does not serve its feed");
  }
  if (!refused.ok()) {
    class Refusal final : public grpc::ServerWriteReactor<federation::v1::CaseFeedPage> {
     public:
      explicit Refusal(const absl::Status& s) { Finish(ToGrpcStatus(s)); }
      void OnDone() override { delete this; }
    };
    return new Refusal(refused);
  }
  return NewFeedWatch(&d_.registry->replicas(), d_.feed_watch, d_.scans,
                      static_cast<uint64_t>(req->after_sequence()),
                      req->page_size() == 0 ? 500 : req->page_size(), d_.feed_heartbeat,
                      d_.feed_batch);
}

}  // namespace reception
