#include "services/case/ownership_check.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "services/case/intake.h"
#include "services/common/logging.h"
#include "services/common/status.h"

namespace reception {

using cases::storage::CaseRecord;
using cases::storage::OwnershipCheckPage;
using cases::storage::OwnershipClaim;
using cases::v1::Case;
using federation::v1::CheckCaseOwnersRequest;
using federation::v1::CheckCaseOwnersResponse;

namespace {

std::string PageKey(absl::string_view id) { return absl::StrCat("ownership_check/", id); }

}  // namespace

absl::StatusOr<int> OwnershipCheck::Begin(const std::string& backup, Outbox* outbox) const {
  if (d_.peer_units.empty() || outbox == nullptr) return 0;
  std::vector<OwnershipClaim> claims;
  RECEPTION_RETURN_IF_ERROR(records_.ForEach([&](const CaseRecord& rec) {
    if (rec.case_().owner_unit() == d_.unit_code) {
      OwnershipClaim& claim = claims.emplace_back();
      claim.set_number(rec.case_().number());
      claim.set_owner_epoch(rec.case_().owner_epoch());
    }
    return absl::OkStatus();
  }));
  // Pages of this start are told apart from those of an earlier restore
  // whose check was still running when the backup was taken.
  const int64_t run = absl::ToUnixSeconds(d_.clock->Now());
  for (size_t first = 0, page = 0; first < claims.size(); first += kPageSize, ++page) {
    const std::string id = absl::StrFormat("%d-%06d", run, page);
    OwnershipCheckPage stored;
    stored.set_backup(backup);
    CheckCaseOwnersRequest question;
    for (size_t i = first; i < std::min(claims.size(), first + kPageSize); ++i) {
      *stored.add_claims() = claims[i];
      federation::v1::CaseClaim* q = question.add_claims();
      q->set_case_(absl::StrCat("cases/", claims[i].number()));
      q->set_owner_epoch(claims[i].owner_epoch());
    }
    for (const auto& peer : d_.peer_units) stored.add_peers_pending(peer);
    RECEPTION_RETURN_IF_ERROR(d_.store->CommitAndWait([&](WriteTxn& txn) -> absl::Status {
      txn.Put(records_.families().meta, PageKey(id), stored.SerializeAsString());
      for (const auto& claim : stored.claims()) {
        RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.Load(&txn, claim.number()));
        if (!rec || rec->case_().owner_unit() != d_.unit_code) continue;
        rec->set_ownership_unconfirmed(true);
        txn.Put(records_.families().cases, claim.number(), rec->SerializeAsString());
      }
      for (const auto& peer : d_.peer_units) {
        outbox->Put(txn, peer, absl::StrCat(kKeyPrefix, id, "/", peer),
                    question.SerializeAsString());
      }
      return absl::OkStatus();
    }));
  }
  outbox->Kick();
  return static_cast<int>(claims.size());
}

absl::StatusOr<CheckCaseOwnersResponse> OwnershipCheck::Answer(
    const Principal& p, const CheckCaseOwnersRequest& r) const {
  if (p.role != Role::kNode ||
      std::find(d_.peer_units.begin(), d_.peer_units.end(), p.unit_code) == d_.peer_units.end()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "unit ", d_.unit_code, " answers ownership questions only for the nodes of its ",
        "configured peers; the caller is ", RoleName(p.role), " of unit ",
        p.unit_code.substr(0, 32)));
  }
  if (r.claims_size() < 1 || r.claims_size() > kPageSize) {
    return InvalidField("claims", absl::StrCat("must hold 1-", kPageSize, " claims"));
  }
  CheckCaseOwnersResponse out;
  out.set_checked_unit(d_.unit_code);
  for (int i = 0; i < r.claims_size(); ++i) {
    const federation::v1::CaseClaim& claim = r.claims(i);
    RECEPTION_ASSIGN_OR_RETURN(std::string number,
                               ParseCaseName(claim.case_(), absl::StrCat("claims[", i, "].case")));
    if (claim.owner_epoch() < 0) {
      return InvalidField(absl::StrCat("claims[", i, "].owner_epoch"), "must be at least 0");
    }
    RECEPTION_ASSIGN_OR_RETURN(auto known, replicas_.Newest(nullptr, number));
    if (!known || known->owner_epoch() <= claim.owner_epoch()) continue;
    federation::v1::CaseOwner* newer = out.add_newer();
    newer->set_case_(claim.case_());
    newer->set_owner_unit(known->owner_unit());
    newer->set_owner_epoch(known->owner_epoch());
  }
  return out;
}

absl::Status OwnershipCheck::Freeze(WriteTxn& txn, const std::string& number,
                                    const std::string& owner_unit, int64_t owner_epoch,
                                    const std::string& peer) const {
  RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.Load(&txn, number));
  if (!rec || rec->case_().owner_unit() != d_.unit_code ||
      rec->case_().owner_epoch() >= owner_epoch) {
    return absl::OkStatus();
  }
  // What a delivered handoff leaves at its source: a read-only copy naming
  // the owner, without the protected identity or a running due date. No
  // audit event: the owner's history already has the handoff this node
  // lost, and a return brings that history back here.
  const int64_t held = rec->case_().owner_epoch();
  Case& c = *rec->mutable_case_();
  c.set_owner_unit(owner_unit);
  c.set_owner_epoch(owner_epoch);
  c.set_state(cases::v1::CASE_STATE_TRANSFERRED);
  c.clear_due_date();
  rec->clear_sealed_identity();
  if (!rec->due_key().empty()) txn.Delete(records_.families().due, rec->due_key());
  rec->clear_due_key();
  rec->clear_ownership_unconfirmed();
  txn.Put(records_.families().cases, number, rec->SerializeAsString());
  records_.WriteFacts(txn, c, /*replica=*/false);
  txn.OnDurable([this, c, held, peer] {
    board_.Update(c);
    Log()->warn(
        "event=ownership_healed case={} held_epoch={} owner_unit={} owner_epoch={} told_by={} "
        "note=\"handed away after the backup: kept as a read-only copy\"",
        c.number(), held, c.owner_unit(), c.owner_epoch(), peer);
  });
  return absl::OkStatus();
}

absl::Status OwnershipCheck::Settle(const Outbox::Item& item, const Outbox::Answer& answer,
                                    WriteTxn& txn) const {
  absl::string_view rest = item.key;
  if (!absl::ConsumePrefix(&rest, kKeyPrefix)) return absl::OkStatus();
  const std::string id(rest.substr(0, rest.find('/')));
  RECEPTION_ASSIGN_OR_RETURN(auto raw, txn.Get(records_.families().meta, PageKey(id)));
  if (!raw) return absl::OkStatus();
  OwnershipCheckPage page;
  if (!page.ParseFromString(*raw))
    return absl::DataLossError("ownership check page does not parse");
  auto pending = std::find(page.peers_pending().begin(), page.peers_pending().end(), item.peer);
  if (pending == page.peers_pending().end()) return absl::OkStatus();

  if (answer.verdict != Outbox::Verdict::kDelivered) {
    if (answer.detail != Outbox::kCancelledDetail) {
      // Parked as a dead letter: its cases stay unconfirmed.
      Log()->warn(
          "event=ownership_check_refused page={} peer={} error={} note=\"its cases stay "
          "unconfirmed until an operator retries or cancels the question (receptionctl "
          "federation)\"",
          id, item.peer, LogValue(answer.detail));
      return absl::OkStatus();
    }
    Log()->warn(
        "event=ownership_check_cancelled page={} peer={} note=\"counted as an answer "
        "with nothing newer\"",
        id, item.peer);
  } else {
    // Facts from another node: checked before anything is changed here.
    CheckCaseOwnersResponse r;
    if (!r.ParseFromString(answer.response) || r.checked_unit() != item.peer) {
      // Left queued: asked again after a backoff.
      return absl::InvalidArgumentError(absl::StrCat("the ownership answer of unit ", item.peer,
                                                     " does not parse or names another unit"));
    }
    std::map<std::string, int64_t> asked;
    for (const auto& claim : page.claims()) asked[claim.number()] = claim.owner_epoch();
    std::set<std::string> held_back(page.held_back().begin(), page.held_back().end());
    for (const auto& newer : r.newer()) {
      auto number = ParseCaseName(newer.case_(), "newer.case");
      auto it = number.ok() ? asked.find(*number) : asked.end();
      if (it == asked.end() || newer.owner_epoch() <= it->second ||
          d_.topology->Find(newer.owner_unit()) == nullptr) {
        Log()->warn("event=ownership_check_bad_answer page={} peer={} case={}", id, item.peer,
                    LogValue(newer.case_().substr(0, 64)));
        continue;
      }
      if (newer.owner_unit() == d_.unit_code) {
        // Handed away and back after the backup: this node owns it, but
        // what happened to it since it came back is lost here.
        Log()->error(
            "event=ownership_content_lost case={} held_epoch={} owner_epoch={} told_by={} "
            "note=\"came back after the backup; writes to it stay refused\"",
            *number, it->second, newer.owner_epoch(), item.peer);
        if (held_back.insert(*number).second) page.add_held_back(*number);
        continue;
      }
      RECEPTION_RETURN_IF_ERROR(
          Freeze(txn, *number, newer.owner_unit(), newer.owner_epoch(), item.peer));
    }
  }
  page.mutable_peers_pending()->erase(pending);
  if (!page.peers_pending().empty()) {
    txn.Put(records_.families().meta, PageKey(id), page.SerializeAsString());
    return absl::OkStatus();
  }
  // Every peer answered: what nobody holds newer is this node's again.
  const std::set<std::string> held_back(page.held_back().begin(), page.held_back().end());
  int confirmed = 0;
  for (const auto& claim : page.claims()) {
    if (held_back.count(claim.number())) continue;
    RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.Load(&txn, claim.number()));
    if (!rec || !rec->ownership_unconfirmed()) continue;
    rec->clear_ownership_unconfirmed();
    txn.Put(records_.families().cases, claim.number(), rec->SerializeAsString());
    ++confirmed;
  }
  txn.Delete(records_.families().meta, PageKey(id));
  txn.OnDurable([id, confirmed, backup = page.backup()] {
    Log()->warn("event=ownership_confirmed page={} cases={} backup={}", id, confirmed,
                LogValue(backup));
  });
  return absl::OkStatus();
}

}  // namespace reception
