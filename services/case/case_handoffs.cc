#include "services/case/case_handoffs.h"

#include <sodium.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/case/intake.h"
#include "services/common/civil_date.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace reception {

using cases::storage::CaseRecord;
using cases::v1::Case;
using cases::v1::CaseState;

CaseHandoffs::CaseHandoffs(const CaseDeps& deps, const CaseRecords& records,
                           const CaseClocks& clocks, const CaseDuplicates& duplicates,
                           const SubtreeChecks& checks, const FirstComplaintLinks& links,
                           DeadlineBoard& board)
    : d_(deps),
      records_(records),
      clocks_(clocks),
      duplicates_(duplicates),
      checks_(checks),
      links_(links),
      board_(board) {
  status_ = OpenOutbox();
}

void CaseHandoffs::TransferCase(const Principal& p, const cases::v1::TransferCaseRequest& r,
                                Callback<cases::v1::Handoff> done) {
  if (r.destination_unit().empty()) return done(InvalidField("destination_unit", "must be set"));
  QueueTransfer(p, r.name(), r.etag(), r.destination_unit(), r.reason(), r.request_id(), false,
                std::move(done));
}

void CaseHandoffs::ReturnCase(const Principal& p, const cases::v1::ReturnCaseRequest& r,
                              Callback<cases::v1::Handoff> done) {
  QueueTransfer(p, r.name(), r.etag(), "", r.reason(), r.request_id(), true, std::move(done));
}

void CaseHandoffs::QueueTransfer(const Principal& p, const std::string& name,
                                 const std::string& etag, const std::string& destination_in,
                                 const std::string& reason, const std::string& request_id,
                                 bool is_return, Callback<cases::v1::Handoff> done,
                                 TransferHook hook, std::shared_ptr<Case> case_out) {
  if (auto s = CheckCaseWriter(d_, p); !s.ok()) return done(s);
  if (auto s = ValidateRequestId(request_id); !s.ok()) return done(s);
  if (auto s = ValidateNote(reason, "reason", true); !s.ok()) return done(s);
  auto number = ParseCaseName(name, "name");
  if (!number.ok()) return done(number.status());
  if (etag.size() > 64)
    return done(InvalidField("etag", "is not an etag returned by this service"));
  auto result = std::make_shared<cases::v1::Handoff>();
  auto updated = case_out ? case_out : std::make_shared<Case>();
  const std::string fingerprint = d_.vault->Fingerprint(
      absl::StrCat(*number, "\n", destination_in, "\n", reason, "\n", is_return));
  d_.store->Submit(
      [this, p, number = *number, etag, destination_in, reason = NormalizeNfc(reason), request_id,
       is_return, fingerprint, result, updated,
       hook = std::move(hook)](WriteTxn& txn) -> absl::Status {
        const std::string request_key = absl::StrCat("transfer/", request_id);
        RECEPTION_ASSIGN_OR_RETURN(auto seen, txn.Get(records_.families().requests, request_key));
        if (seen) {
          cases::storage::RequestRecord rr;
          rr.ParseFromString(*seen);
          if (rr.fingerprint() != fingerprint) {
            return absl::AlreadyExistsError(
                absl::StrCat("request_id ", request_id, " was already used for ",
                             rr.handoff_id().empty() ? "another change"
                                                     : absl::StrCat("handoffs/", rr.handoff_id()),
                             " with different content; use a new request_id"));
          }
          RECEPTION_ASSIGN_OR_RETURN(auto current, records_.Load(&txn, number));
          if (current) *updated = current->case_();
          if (rr.handoff_id().empty()) return absl::OkStatus();  // kept here: no handoff
          RECEPTION_ASSIGN_OR_RETURN(auto raw,
                                     txn.Get(records_.families().handoffs, rr.handoff_id()));
          if (!raw) return absl::DataLossError("idempotency record points to a missing handoff");
          cases::storage::HandoffRecord hr;
          hr.ParseFromString(*raw);
          *result = hr.handoff();
          return absl::OkStatus();
        }
        RECEPTION_ASSIGN_OR_RETURN(CaseRecord rec, records_.LoadOwned(txn, number));
        Case& c = *rec.mutable_case_();
        if (!etag.empty() && etag != c.etag()) {
          return WithReason(
              absl::AbortedError(absl::StrCat("etag ", etag, " is stale: cases/", number,
                                              " is now at ", c.etag(), "; read it again")),
              "ETAG_MISMATCH");
        }
        const absl::CivilDay today = d_.clock->Today();
        TransferPlan plan{destination_in, is_return ? "ReturnCase" : "TransferCase", ""};
        if (is_return) {
          if (c.previous_owner_unit().empty()) {
            return absl::FailedPreconditionError(absl::StrCat(
                "cases/", number, " was not received by transfer; use TransferCase to send it on"));
          }
          plan.destination = c.previous_owner_unit();
        }
        RECEPTION_RETURN_IF_ERROR(CheckTransition(CaseTransition::kTransfer, c.state()));
        if (hook) {
          RECEPTION_RETURN_IF_ERROR(hook(c, today, plan));
        } else {
          RECEPTION_RETURN_IF_ERROR(CheckNoDisputeHere(c));
          if (is_return) RECEPTION_RETURN_IF_ERROR(RecordReturn(c, today, reason, plan));
        }
        const std::string& destination = plan.destination;
        const bool returning = is_return && destination == c.previous_owner_unit();
        const CaseState before = c.state();
        if (destination.empty()) {
          // Kept on this node (this unit decides the dispute, or was decided
          // competent): no handoff, the state does not change.
          SetDueDate(c);
          RECEPTION_RETURN_IF_ERROR(records_.AppendEvent(
              txn, rec, p, plan.action,
              CaseChange{absl::StrCat(plan.summary, reason), {"dispute", "clocks"}}));
          cases::storage::RequestRecord rr;
          rr.set_case_number(number);
          rr.set_fingerprint(fingerprint);
          txn.Put(records_.families().requests, request_key, rr.SerializeAsString());
          *updated = rec.case_();
          return absl::OkStatus();
        }
        if (destination == d_.unit_code) {
          return InvalidField("destination_unit", "must not be this node's own unit");
        }
        if (d_.topology->Find(destination) == nullptr) {
          return InvalidField("destination_unit", absl::StrCat("is not a unit of the topology (",
                                                               destination.substr(0, 32), ")"));
        }
        if (std::find(d_.peer_units.begin(), d_.peer_units.end(), destination) ==
            d_.peer_units.end()) {
          return absl::FailedPreconditionError(
              absl::StrCat("unit ", destination,
                           " has no node address in this node's federation.peers; add it "
                           "to the configuration to hand cases to it"));
        }
        const int64_t epoch = c.owner_epoch() + 1;
        cases::v1::Handoff h;
        const std::string id = absl::StrCat(number, ".", epoch);
        h.set_name(absl::StrCat("handoffs/", id));
        h.set_case_(absl::StrCat("cases/", number));
        h.set_source_unit(d_.unit_code);
        h.set_destination_unit(destination);
        h.set_reason(reason);
        h.set_state(cases::v1::HANDOFF_STATE_PENDING);
        h.set_outgoing(true);
        h.set_is_return(returning);
        h.set_owner_epoch(epoch);
        SetTimestamp(d_.clock->Now(), h.mutable_create_time());
        c.set_state(NextState(CaseTransition::kTransfer, before));
        RECEPTION_RETURN_IF_ERROR(clocks_.Advance(c, CaseTransition::kTransfer, today));
        CaseChange change{
            absl::StrCat(plan.summary, StateName(before), " -> ", StateName(c.state()), ": ",
                         returning ? "returned" : "handed", " to unit ", destination, " (handoff ",
                         id, "): ", reason),
            {"state", "clocks"}};
        if (c.has_dispute()) change.fields.push_back("dispute");
        RECEPTION_RETURN_IF_ERROR(records_.AppendEvent(txn, rec, p, plan.action, change));
        cases::storage::HandoffRecord hr;
        *hr.mutable_handoff() = h;
        outbox_->Put(txn, destination, absl::StrCat("h/", id), id);
        txn.Put(records_.families().handoffs, id, hr.SerializeAsString());
        cases::storage::RequestRecord rr;
        rr.set_case_number(number);
        rr.set_handoff_id(id);
        rr.set_fingerprint(fingerprint);
        txn.Put(records_.families().requests, request_key, rr.SerializeAsString());
        *result = h;
        *updated = rec.case_();
        return absl::OkStatus();
      },
      [this, result, updated, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        if (!updated->number().empty()) board_.Update(*updated);
        if (!result->name().empty()) outbox_->Kick();
        done(*result);
      });
}

absl::Status CaseHandoffs::CheckNoDisputeHere(const Case& c) const {
  if (c.dispute().state() == cases::v1::DISPUTE_STATE_OPEN &&
      c.dispute().deciding_unit() == d_.unit_code) {
    return absl::FailedPreconditionError(
        absl::StrCat("cases/", c.number(),
                     " waits for this unit's decision on the jurisdiction dispute between units ",
                     c.dispute().claimant_unit(), " and ", c.dispute().disputed_unit(),
                     "; decide it with ResolveJurisdiction"));
  }
  return absl::OkStatus();
}

absl::Status CaseHandoffs::OpenDispute(Case& c, const std::string& claimant,
                                       const std::string& disputed, const std::string& reason,
                                       bool automatic, absl::CivilDay today,
                                       TransferPlan& plan) const {
  RECEPTION_ASSIGN_OR_RETURN(std::string deciding,
                             d_.topology->CommonAncestor(claimant, disputed, today));
  auto* d = c.mutable_dispute();
  d->Clear();
  d->set_claimant_unit(claimant);
  d->set_disputed_unit(disputed);
  d->set_deciding_unit(deciding);
  d->set_reason(reason);
  *d->mutable_opened_date() = ToProtoDate(today);
  d->set_automatic(automatic);
  d->set_state(cases::v1::DISPUTE_STATE_OPEN);
  plan.action = "DisputeJurisdiction";
  plan.summary = absl::StrCat(
      "jurisdiction dispute: unit ", claimant, " maintains that unit ", disputed, " is competent",
      automatic ? " (returned a second time)" : "", "; unit ", deciding, " decides; ");
  if (deciding == d_.unit_code) {
    // This unit is the common ancestor: it decides, on its own clock.
    plan.destination.clear();
    RECEPTION_RETURN_IF_ERROR(clocks_.Start(c, ClockTrigger::kDisputeReceived, today));
  } else {
    plan.destination = deciding;
  }
  return absl::OkStatus();
}

absl::Status CaseHandoffs::RecordReturn(Case& c, absl::CivilDay today, const std::string& reason,
                                        TransferPlan& plan) const {
  const std::string back_to = plan.destination;  // a copy: OpenDispute rewrites the plan
  if (c.dispute().state() == cases::v1::DISPUTE_STATE_RESOLVED &&
      c.dispute().decided_unit() == d_.unit_code) {
    return absl::FailedPreconditionError(
        absl::StrCat("unit ", c.dispute().deciding_unit(), " decided on ",
                     FormatDate(c.dispute().decided_date()), " that this unit is competent (",
                     c.dispute().legal_basis(), "); the case cannot be returned"));
  }
  const bool again = std::any_of(c.returns().begin(), c.returns().end(),
                                 [&](const cases::v1::JurisdictionReturn& r) {
                                   return r.from_unit() == d_.unit_code && r.to_unit() == back_to;
                                 });
  auto* r = c.add_returns();
  r->set_from_unit(d_.unit_code);
  r->set_to_unit(back_to);
  *r->mutable_date() = ToProtoDate(today);
  r->set_reason(reason);
  if (!again) return absl::OkStatus();
  // The same matter comes back and is returned again: the sender maintains
  // this unit is competent. Their common ancestor decides.
  return OpenDispute(c, back_to, d_.unit_code, reason, true, today, plan);
}

namespace {
// A JurisdictionResponse from what QueueTransfer wrote.
absl::AnyInvocable<void(absl::StatusOr<cases::v1::Handoff>)> Respond(
    std::shared_ptr<Case> written,
    absl::AnyInvocable<void(absl::StatusOr<cases::v1::JurisdictionResponse>)> done) {
  return [written, done = std::move(done)](absl::StatusOr<cases::v1::Handoff> h) mutable {
    if (!h.ok()) return done(h.status());
    cases::v1::JurisdictionResponse out;
    *out.mutable_case_() = *written;
    if (!h->name().empty()) *out.mutable_handoff() = *std::move(h);
    done(std::move(out));
  };
}
}  // namespace

void CaseHandoffs::DisputeJurisdiction(const Principal& p,
                                       const cases::v1::DisputeJurisdictionRequest& r,
                                       Callback<cases::v1::JurisdictionResponse> done) {
  if (r.competent_unit().empty() || r.competent_unit().size() > 32) {
    return done(InvalidField("competent_unit", "must name a unit of the topology"));
  }
  auto written = std::make_shared<Case>();
  QueueTransfer(
      p, r.name(), r.etag(), r.competent_unit(), r.reason(), r.request_id(), false,
      Respond(written, std::move(done)),
      [this, r](Case& c, absl::CivilDay today, TransferPlan& plan) -> absl::Status {
        if (c.dispute().state() == cases::v1::DISPUTE_STATE_OPEN) {
          return absl::FailedPreconditionError(
              absl::StrCat("cases/", c.number(), " is already in a jurisdiction dispute, for unit ",
                           c.dispute().deciding_unit(), " to decide"));
        }
        if (c.dispute().state() == cases::v1::DISPUTE_STATE_RESOLVED &&
            c.dispute().decided_unit() == d_.unit_code) {
          return absl::FailedPreconditionError(absl::StrCat(
              "unit ", c.dispute().deciding_unit(),
              " already decided that this unit is competent (", c.dispute().legal_basis(), ")"));
        }
        auto unit = d_.topology->InForce(r.competent_unit(), today, "competent_unit");
        if (!unit.ok())
          return unit.status().code() == absl::StatusCode::kNotFound
                     ? InvalidField("competent_unit", "is not a unit of the topology")
                     : unit.status();
        if ((*unit)->code() == d_.unit_code) {
          return InvalidField("competent_unit", "must be another unit than this one");
        }
        return OpenDispute(c, d_.unit_code, (*unit)->code(), NormalizeNfc(r.reason()), false, today,
                           plan);
      },
      written);
}

void CaseHandoffs::ResolveJurisdiction(const Principal& p,
                                       const cases::v1::ResolveJurisdictionRequest& r,
                                       Callback<cases::v1::JurisdictionResponse> done) {
  if (p.role != Role::kHead) {
    return done(
        absl::PermissionDeniedError("ResolveJurisdiction needs the head role: the deciding unit's "
                                    "head decides which unit is competent"));
  }
  if (r.competent_unit().empty() || r.competent_unit().size() > 32) {
    return done(InvalidField("competent_unit", "must name a unit of the topology"));
  }
  if (auto s = ValidateReference(r.legal_basis(), "legal_basis", true); !s.ok()) return done(s);
  auto written = std::make_shared<Case>();
  QueueTransfer(
      p, r.name(), r.etag(), r.competent_unit(), r.reason(), r.request_id(), false,
      Respond(written, std::move(done)),
      [this, r](Case& c, absl::CivilDay today, TransferPlan& plan) -> absl::Status {
        auto* d = c.mutable_dispute();
        if (d->state() != cases::v1::DISPUTE_STATE_OPEN || d->deciding_unit() != d_.unit_code) {
          return absl::FailedPreconditionError(absl::StrCat(
              "cases/", c.number(), " has no jurisdiction dispute for this unit to decide"));
        }
        auto unit = d_.topology->InForce(r.competent_unit(), today, "competent_unit");
        if (!unit.ok())
          return unit.status().code() == absl::StatusCode::kNotFound
                     ? InvalidField("competent_unit", "is not a unit of the topology")
                     : unit.status();
        const std::string competent = (*unit)->code();
        if (!d_.topology->IsWithin(competent, d_.unit_code)) {
          return InvalidField("competent_unit",
                              absl::StrCat("must be unit ", d_.unit_code, " or a unit below it"));
        }
        d->set_state(cases::v1::DISPUTE_STATE_RESOLVED);
        d->set_decided_unit(competent);
        d->set_decision_reason(NormalizeNfc(r.reason()));
        d->set_legal_basis(NormalizeNfc(r.legal_basis()));
        *d->mutable_decided_date() = ToProtoDate(today);
        for (auto& k : *c.mutable_clocks()) {
          DeadlineEngine::End(k, DeadlineEngine::EndFor(k.step(), "ResolveJurisdiction"), today);
        }
        plan.action = "ResolveJurisdiction";
        plan.summary = absl::StrCat("jurisdiction decided: unit ", competent, " is competent (",
                                    d->legal_basis(), "); ");
        if (competent == d_.unit_code) {
          // This unit handles it: its own time limits run from today.
          plan.destination.clear();
          RECEPTION_RETURN_IF_ERROR(clocks_.Start(c, ClockTrigger::kReceived, today));
        } else {
          plan.destination = competent;
        }
        return absl::OkStatus();
      },
      written);
}

absl::StatusOr<federation::v1::OfferHandoffRequest> CaseHandoffs::BuildOffer(
    const std::string& handoff_id, absl::string_view peer_public_key) const {
  RECEPTION_ASSIGN_OR_RETURN(auto raw, d_.store->Get(records_.families().handoffs, handoff_id));
  if (!raw) return absl::NotFoundError(absl::StrCat("handoff ", handoff_id, " does not exist"));
  cases::storage::HandoffRecord hr;
  if (!hr.ParseFromString(*raw)) return absl::DataLossError("handoff record does not parse");
  const std::string number(absl::StripPrefix(hr.handoff().case_(), "cases/"));
  RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.Load(nullptr, number));
  if (!rec)
    return absl::DataLossError(absl::StrCat("handoff ", handoff_id, " names a missing case"));
  federation::v1::OfferHandoffRequest offer;
  *offer.mutable_handoff() = hr.handoff();
  *offer.mutable_case_() = rec->case_();
  const std::string prefix = absl::StrCat(number, "/");
  auto it = d_.store->NewIterator(records_.families().events);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (!offer.add_events()->ParseFromArray(it->value().data(),
                                            static_cast<int>(it->value().size()))) {
      return absl::DataLossError("case event does not parse");
    }
  }
  if (rec->case_().identity_protected()) {
    RECEPTION_ASSIGN_OR_RETURN(std::string identity,
                               d_.vault->Unseal(rec->sealed_identity(), number));
    auto sealed = NodeKey::SealFor(peer_public_key, identity);
    sodium_memzero(identity.data(), identity.size());
    if (!sealed.ok()) return sealed.status();
    offer.set_sealed_identity(*sealed);
    offer.set_node_key_id(NodeKey::KeyId(peer_public_key));
  }
  return offer;
}

absl::Status CaseHandoffs::OpenOutbox() {
  if (!status_.ok()) return status_;
  Outbox::Options o;
  o.store = d_.store;
  o.family = CaseRecords::OutboxFamily();
  o.clock = d_.clock;
  o.initial_backoff = d_.retry_initial;
  o.max_backoff = d_.retry_max;
  o.name = "handoffs";
  // A delivered handoff changed the copy here (owner, due date): the board
  // learns once that is durable.
  o.settled = [this](const Outbox::Item& item, const Outbox::Answer& answer) {
    if (answer.verdict != Outbox::Verdict::kDelivered) return;
    auto raw = d_.store->Get(records_.families().handoffs, item.payload);
    cases::storage::HandoffRecord hr;
    if (!raw.ok() || !raw->has_value() || !hr.ParseFromString(**raw)) return;
    auto rec =
        records_.Load(nullptr, std::string(absl::StripPrefix(hr.handoff().case_(), "cases/")));
    if (rec.ok() && rec->has_value()) board_.Update((*rec)->case_());
  };
  auto box = Outbox::Open(
      o,
      [this](const Outbox::Item& item, absl::AnyInvocable<void(Outbox::Answer)> answer) {
        if (!d_.deliver_handoff)
          return answer({Outbox::Verdict::kRetry, "no delivery configured", ""});
        d_.deliver_handoff(item, std::move(answer));
      },
      [this](const Outbox::Item& item, const Outbox::Answer& answer, WriteTxn& txn) {
        return Settle(item, answer, txn);
      });
  if (!box.ok()) return box.status();
  outbox_ = *std::move(box);
  // Before the shared outbox: "outbox" held BE64(sequence) -> handoff id.
  std::vector<std::pair<std::string, std::string>> old;
  auto it = d_.store->NewIterator(records_.families().outbox);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() == 8) old.emplace_back(it->key().ToString(), it->value().ToString());
  }
  if (old.empty()) return absl::OkStatus();
  return d_.store->CommitAndWait([this, &old](WriteTxn& txn) -> absl::Status {
    for (const auto& [key, id] : old) {
      txn.Delete(records_.families().outbox, key);
      RECEPTION_ASSIGN_OR_RETURN(auto raw, txn.Get(records_.families().handoffs, id));
      cases::storage::HandoffRecord hr;
      if (!raw || !hr.ParseFromString(*raw)) continue;
      if (hr.handoff().state() != cases::v1::HANDOFF_STATE_PENDING) continue;
      outbox_->Put(txn, hr.handoff().destination_unit(), absl::StrCat("h/", id), id);
    }
    return absl::OkStatus();
  });
}

void CaseHandoffs::Decorate(const std::vector<cases::v1::Handoff*>& handoffs) const {
  // Attempts that ended in "try again" are not written to the handoff (the
  // outbox counts them since start); the peer's last error says why. Point
  // lookups only: GetHandoff answers on the reactor thread.
  if (outbox_ == nullptr) return;
  for (auto* h : handoffs) {
    if (!h->outgoing() || h->state() != cases::v1::HANDOFF_STATE_PENDING) continue;
    auto item = outbox_->Find(absl::StrCat("h/", absl::StripPrefix(h->name(), "handoffs/")));
    if (!item) continue;
    h->set_attempts(h->attempts() + item->attempts);
    if (!item->last_error.empty()) {
      h->set_last_error(item->last_error);
    } else if (h->last_error().empty()) {
      h->set_last_error(TruncateUtf8(outbox_->LastError(h->destination_unit()), 500));
    }
  }
}

absl::Status CaseHandoffs::Settle(const Outbox::Item& item, const Outbox::Answer& answer,
                                  WriteTxn& txn) {
  const std::string& handoff_id = item.payload;
  if (answer.detail == "cancelled by an operator") {
    // The case is frozen here until a node owns it: dropping the handoff
    // would leave it with nobody.
    return absl::FailedPreconditionError(absl::StrCat(
        "handoff ", handoff_id,
        " cannot be cancelled: its case is frozen until the destination owns it; fix what the "
        "destination refuses and retry it"));
  }
  const bool delivered = answer.verdict == Outbox::Verdict::kDelivered;
  RECEPTION_ASSIGN_OR_RETURN(auto raw, txn.Get(records_.families().handoffs, handoff_id));
  if (!raw) return absl::OkStatus();
  cases::storage::HandoffRecord hr;
  if (!hr.ParseFromString(*raw)) return absl::DataLossError("handoff record does not parse");
  cases::v1::Handoff& h = *hr.mutable_handoff();
  if (h.state() != cases::v1::HANDOFF_STATE_PENDING || !h.outgoing()) return absl::OkStatus();
  h.set_attempts(h.attempts() + 1);
  if (!delivered) {
    h.set_last_error(TruncateUtf8(answer.detail, 500));
  } else {
    h.set_state(cases::v1::HANDOFF_STATE_DELIVERED);
    h.clear_last_error();
    SetTimestamp(d_.clock->Now(), h.mutable_deliver_time());
    hr.clear_outbox_key();
    // The source keeps a read-only copy that records where the case went;
    // the protected identity leaves with the case.
    const std::string number(absl::StripPrefix(h.case_(), "cases/"));
    RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.Load(&txn, number));
    if (rec && rec->case_().owner_epoch() < h.owner_epoch()) {
      Case& c = *rec->mutable_case_();
      c.set_owner_unit(h.destination_unit());
      c.set_owner_epoch(h.owner_epoch());
      *c.mutable_replica_confirm_time() = h.deliver_time();
      rec->clear_sealed_identity();
      if (!rec->due_key().empty()) txn.Delete(records_.families().due, rec->due_key());
      rec->clear_due_key();
      c.clear_due_date();
      txn.Put(records_.families().cases, number, rec->SerializeAsString());
      records_.WriteFacts(txn, c, /*replica=*/false);
    }
  }
  txn.Put(records_.families().handoffs, handoff_id, hr.SerializeAsString());
  return absl::OkStatus();
}

absl::StatusOr<cases::v1::Handoff> CaseHandoffs::GetHandoff(
    const cases::v1::GetHandoffRequest& r) const {
  absl::string_view id = r.name();
  if (!absl::ConsumePrefix(&id, "handoffs/") || id.empty() || id.size() > 64) {
    return InvalidField("name", "must be handoffs/{id}");
  }
  RECEPTION_ASSIGN_OR_RETURN(auto raw, d_.store->Get(records_.families().handoffs, id));
  if (!raw) {
    return WithReason(
        WithResource(absl::NotFoundError(absl::StrCat("handoff ", r.name(), " does not exist")),
                     "reception.cases.v1.Handoff", r.name()),
        "HANDOFF_NOT_FOUND");
  }
  cases::storage::HandoffRecord hr;
  if (!hr.ParseFromString(*raw)) return absl::DataLossError("handoff record does not parse");
  cases::v1::Handoff h = hr.handoff();
  Decorate(std::vector<cases::v1::Handoff*>{&h});
  return h;
}

absl::StatusOr<cases::v1::ListHandoffsResponse> CaseHandoffs::ListHandoffs(
    const cases::v1::ListHandoffsRequest& r) const {
  if (r.page_size() < 0) return InvalidField("page_size", "must not be negative");
  const int page_size = r.page_size() == 0 ? 50 : std::min(r.page_size(), 500);
  if (!cases::v1::HandoffState_IsValid(r.state()))
    return InvalidField("state", "is not a handoff state");
  int offset = 0;
  if (!r.page_token().empty() && (!absl::SimpleAtoi(r.page_token(), &offset) || offset < 0)) {
    return InvalidField("page_token", "is not a token returned by ListHandoffs");
  }
  std::vector<cases::v1::Handoff> all;
  auto it = d_.store->NewIterator(records_.families().handoffs);
  cases::storage::HandoffRecord hr;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!hr.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("handoff record does not parse");
    }
    const auto& h = hr.handoff();
    if (r.state() != cases::v1::HANDOFF_STATE_UNSPECIFIED && h.state() != r.state()) continue;
    if (!r.peer_unit().empty() && h.source_unit() != r.peer_unit() &&
        h.destination_unit() != r.peer_unit()) {
      continue;
    }
    all.push_back(h);
  }
  std::sort(all.begin(), all.end(), [](const cases::v1::Handoff& a, const cases::v1::Handoff& b) {
    if (a.create_time().seconds() != b.create_time().seconds()) {
      return a.create_time().seconds() > b.create_time().seconds();
    }
    if (a.create_time().nanos() != b.create_time().nanos())
      return a.create_time().nanos() > b.create_time().nanos();
    return a.name() < b.name();
  });
  cases::v1::ListHandoffsResponse out;
  for (int i = offset; i < static_cast<int>(all.size()) && out.handoffs_size() < page_size; ++i) {
    *out.add_handoffs() = all[i];
  }
  std::vector<cases::v1::Handoff*> page;
  for (auto& h : *out.mutable_handoffs()) page.push_back(&h);
  Decorate(page);
  // 64-bit: an offset near INT_MAX must not wrap into a negative token.
  if (static_cast<int64_t>(offset) + page_size < static_cast<int64_t>(all.size())) {
    out.set_next_page_token(absl::StrCat(static_cast<int64_t>(offset) + page_size));
  }
  return out;
}

}  // namespace reception
