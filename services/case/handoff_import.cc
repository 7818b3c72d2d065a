// The receiving side of a handoff: a peer's offer is input, never truth.
#include <sodium.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/case/audit_chain.h"
#include "services/case/case_handoffs.h"
#include "services/case/intake.h"
#include "services/common/civil_date.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace reception {

using cases::storage::CaseRecord;
using cases::v1::Case;

absl::StatusOr<std::string> CaseHandoffs::CheckOffer(const Principal& p,
                                                     const federation::v1::OfferHandoffRequest& r,
                                                     std::optional<common::Sealed>& sealed) const {
  const cases::v1::Handoff& h = r.handoff();
  if (p.role != Role::kNode || p.unit_code != h.source_unit()) {
    return absl::PermissionDeniedError("OfferHandoff is for the node of the handoff's source unit");
  }
  // A peer's message is input, never truth: the caller must be a configured
  // peer, and what it offers must be a case it may hand over, as valid as
  // one registered here.
  if (std::find(d_.peer_units.begin(), d_.peer_units.end(), h.source_unit()) ==
      d_.peer_units.end()) {
    return absl::PermissionDeniedError(
        absl::StrCat("unit ", h.source_unit().substr(0, 32),
                     " is not a federation peer of this node; it cannot hand cases here"));
  }
  if (h.destination_unit() != d_.unit_code) {
    return absl::FailedPreconditionError(
        absl::StrCat("handoff ", h.name().substr(0, 80), " is for unit ",
                     h.destination_unit().substr(0, 32), "; this node is unit ", d_.unit_code));
  }
  auto number = ParseCaseName(r.case_().name(), "case.name");
  RECEPTION_RETURN_IF_ERROR(number.status());
  if (r.case_().number() != *number) {
    return InvalidField("case.number", "must equal the number in case.name");
  }
  if (r.case_().owner_unit() != h.source_unit()) {
    return InvalidField("case.owner_unit",
                        "must be the handoff's source unit (the owner handing it over)");
  }
  const std::string id(absl::StripPrefix(h.name(), "handoffs/"));
  if (id != absl::StrCat(*number, ".", h.owner_epoch()) || h.owner_epoch() < 1) {
    return InvalidField("handoff.name", "must be handoffs/{case number}.{owner epoch}");
  }
  std::vector<cases::v1::CaseEvent> events(r.events().begin(), r.events().end());
  const ChainCheck check =
      CheckCaseChain(events, r.case_().history_head_hash(), r.case_().history_length());
  if (!check.valid) {
    return InvalidField("events", absl::StrCat("do not verify: ", check.problem));
  }
  const Case& offered = r.case_();
  const bool named_denouncer =
      offered.kind() == cases::v1::CASE_KIND_DENUNCIATION && !offered.anonymous();
  if (named_denouncer != offered.identity_protected()) {
    return InvalidField("case.identity_protected",
                        named_denouncer
                            ? "must be true: a denunciation with a named denouncer arrives sealed"
                            : "is only for denunciations with a named denouncer");
  }
  if (offered.identity_protected() &&
      (offered.petitioners_size() > 0 || offered.representative_citizen_ids_size() > 0)) {
    return InvalidField("case.petitioners",
                        "must be empty: a protected identity travels only in sealed_identity");
  }
  cases::storage::ProtectedIdentity opened;
  if (offered.identity_protected()) {
    if (d_.node_key == nullptr) return absl::FailedPreconditionError("this node has no node key");
    if (r.node_key_id() != d_.node_key->key_id()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "sealed_identity was sealed for node key ", r.node_key_id().substr(0, 32),
          "; this node's key is ", d_.node_key->key_id(), " (fetch it again with GetNodeKey)"));
    }
    auto identity = d_.node_key->OpenSealed(r.sealed_identity());
    if (!identity.ok()) {
      return InvalidField("sealed_identity",
                          "does not open with this node's key (not sealed for it, or altered)");
    }
    const bool parsed = opened.ParseFromString(*identity);
    sealed = d_.vault->Seal(*identity, *number);
    sodium_memzero(identity->data(), identity->size());
    if (!parsed || opened.petitioners_size() == 0) {
      return InvalidField("sealed_identity", "does not hold the denouncer's identity");
    }
  }
  // A dispute it carries is checked against this node's topology: between
  // the sender and another unit, decided by their lowest common ancestor on
  // the day it was opened.
  if (const auto& d = offered.dispute(); d.state() == cases::v1::DISPUTE_STATE_OPEN) {
    if (h.source_unit() != d.claimant_unit() && h.source_unit() != d.disputed_unit()) {
      return InvalidField("case.dispute", "must be a dispute of the sending unit");
    }
    auto opened_on = ToCivilDay(d.opened_date(), "case.dispute.opened_date");
    if (!opened_on.ok()) return opened_on.status();
    auto deciding = d_.topology->CommonAncestor(d.claimant_unit(), d.disputed_unit(), *opened_on);
    if (!deciding.ok() || *deciding != d.deciding_unit()) {
      return InvalidField(
          "case.dispute.deciding_unit",
          "must be the lowest common ancestor of the two units on the day the dispute opened");
    }
  }
  // The same validation as intake, on the case as offered (with the
  // protected identity it carries).
  {
    cases::v1::CreateCaseRequest as_intake;
    as_intake.set_request_id("offer");
    *as_intake.mutable_case_() = offered;
    if (offered.identity_protected()) {
      *as_intake.mutable_case_()->mutable_petitioners() = opened.petitioners();
      *as_intake.mutable_case_()->mutable_representative_citizen_ids() =
          opened.representative_citizen_ids();
    }
    // Intake's rule that a node registers only for its own units does not
    // apply to a case received elsewhere: its reception unit is still
    // checked against the topology on its date.
    const std::string origin =
        offered.reception_unit().code().empty() ? h.source_unit() : offered.reception_unit().code();
    const IntakeEnv env{d_.topology, d_.rules, origin, d_.clock->Today()};
    auto valid = PrepareNewCase(as_intake, env);
    opened.Clear();
    as_intake.Clear();
    if (!valid.ok()) {
      return absl::Status(valid.status().code(), absl::StrCat("the offered case is not valid: ",
                                                              valid.status().message()));
    }
  }
  return *std::move(number);
}

void CaseHandoffs::ImportHandoff(const Principal& p, const federation::v1::OfferHandoffRequest& r,
                                 Callback<federation::v1::OfferHandoffResponse> done) {
  std::optional<common::Sealed> sealed;
  auto number = CheckOffer(p, r, sealed);
  if (!number.ok()) return done(number.status());
  const std::string id(absl::StripPrefix(r.handoff().name(), "handoffs/"));
  auto profile = std::make_shared<const CaseDuplicates::Profile>(
      duplicates_.ProfileOf(r.case_(), r.case_().identity_protected()));
  // The province-wide check is this node's own, not the sender's: asked
  // again of this node's ancestor, or, with nobody above to ask, made here
  // now (off the writer).
  auto checked_here = std::make_shared<std::optional<cases::v1::SubtreeDuplicateCheck>>();
  bool queue_check = false;
  if (checks_.Wanted(*profile, r.case_().identity_protected())) {
    if (d_.subtree_check_unit.empty()) {
      Case probe;
      probe.set_number(r.case_().number());
      *probe.mutable_received_date() = r.case_().received_date();
      if (checks_.CheckHere(probe, *profile).ok()) *checked_here = probe.subtree_check();
    } else {
      queue_check = true;
    }
  }
  auto response = std::make_shared<federation::v1::OfferHandoffResponse>();
  auto imported = std::make_shared<Case>();
  d_.store->Submit(
      [this, p, r, id, number = *number, sealed, profile, checked_here, queue_check, response,
       imported](WriteTxn& txn) -> absl::Status {
        const cases::v1::Handoff& h = r.handoff();
        RECEPTION_ASSIGN_OR_RETURN(auto seen, txn.Get(records_.families().handoffs, id));
        RECEPTION_ASSIGN_OR_RETURN(auto local, records_.Load(&txn, number));
        cases::storage::HandoffRecord hr;
        *hr.mutable_handoff() = h;
        hr.mutable_handoff()->set_outgoing(false);
        hr.mutable_handoff()->set_state(cases::v1::HANDOFF_STATE_DELIVERED);
        hr.mutable_handoff()->set_attempts(0);
        hr.mutable_handoff()->clear_last_error();
        SetTimestamp(d_.clock->Now(), hr.mutable_handoff()->mutable_deliver_time());
        if (!seen && local) {
          // Only the owner this node knows of may hand the case over, and
          // never a case this node owns.
          const Case& known = local->case_();
          if (known.owner_unit() == d_.unit_code) {
            if (local->ownership_unconfirmed()) {
              // Restored from a backup older than this case's handoff: the
              // peers' answers turn it into the copy a return replaces.
              return absl::AbortedError(absl::StrCat(
                  "cases/", number,
                  ": this node was restored from a backup and is confirming with its peers which "
                  "cases it still owns; offer again later"));
            }
            if (known.state() == cases::v1::CASE_STATE_TRANSFERRED) {
              return absl::AbortedError(absl::StrCat(
                  "cases/", number,
                  ": this node's own handoff of it is not acknowledged yet; offer again later"));
            }
            return absl::FailedPreconditionError(absl::StrCat(
                "cases/", number, " is owned by this node; an offer cannot replace it"));
          }
          if (known.owner_unit() != h.source_unit()) {
            return absl::PermissionDeniedError(absl::StrCat(
                "cases/", number, " is owned by unit ", known.owner_unit(),
                " as this node knows it; unit ", h.source_unit(), " cannot hand it over"));
          }
        }
        if (seen || (local && local->case_().owner_epoch() >= h.owner_epoch())) {
          // A retry (the acknowledgement was lost) or an older offer than
          // what this node has: nothing to do, acknowledge again.
          response->set_already_imported(true);
          if (!seen) txn.Put(records_.families().handoffs, id, hr.SerializeAsString());
          return absl::OkStatus();
        }
        for (const auto& e : r.events())
          txn.Put(records_.families().events, EventKey(number, e.sequence()),
                  e.SerializeAsString());
        CaseRecord rec;
        if (local) rec.set_due_key(local->due_key());  // replaced by AppendEvent
        Case& c = *rec.mutable_case_();
        c = r.case_();
        c.set_owner_unit(d_.unit_code);
        c.set_owner_epoch(h.owner_epoch());
        c.set_previous_owner_unit(h.source_unit());
        c.clear_replica_confirm_time();
        c.set_state(cases::v1::CASE_STATE_RECEIVED);
        if (sealed) *rec.mutable_sealed_identity() = *sealed;
        // The competent body's own time limits run from its receipt, under
        // the rule pack in force that day.
        // A case sent here to decide a jurisdiction dispute runs only the
        // dispute's clock; the competent unit's own limits start there.
        const bool to_decide = c.dispute().state() == cases::v1::DISPUTE_STATE_OPEN &&
                               c.dispute().deciding_unit() == d_.unit_code;
        RECEPTION_RETURN_IF_ERROR(
            clocks_.Start(c, to_decide ? ClockTrigger::kDisputeReceived : ClockTrigger::kReceived,
                          d_.clock->Today()));
        // A second-time complaint's link is checked here: the sender's check
        // is not evidence. The filing limit is judged here, not taken from
        // the sender.
        RECEPTION_RETURN_IF_ERROR(links_.Check(txn, c, /*at_intake=*/false));
        clocks_.JudgeFiling(c);
        duplicates_.Index(txn, c, *profile);
        c.clear_subtree_check();
        if (*checked_here) *c.mutable_subtree_check() = **checked_here;
        if (queue_check) checks_.Queue(txn, c, *profile);
        links_.Queue(txn, c, checks_.outbox());
        CaseChange change{absl::StrCat("TRANSFERRED -> RECEIVED: ",
                                       to_decide ? "received to decide the jurisdiction dispute"
                                                 : (h.is_return() ? "returned" : "received"),
                                       " by transfer from unit ", h.source_unit(), " (handoff ", id,
                                       "): ", h.reason()),
                          {"state", "owner_unit", "owner_epoch", "clocks"}};
        RECEPTION_RETURN_IF_ERROR(records_.AppendEvent(txn, rec, p, "ImportCase", change));
        txn.Put(records_.families().handoffs, id, hr.SerializeAsString());
        *imported = rec.case_();
        return absl::OkStatus();
      },
      [this, response, imported, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        if (!imported->number().empty()) board_.Update(*imported);
        done(*response);
      });
}

}  // namespace reception
