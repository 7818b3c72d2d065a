#include "services/case/case_intake.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/case/intake.h"
#include "services/common/civil_date.h"
#include "services/common/status.h"

namespace reception {

using cases::storage::CaseRecord;
using cases::v1::Case;

CaseIntake::CaseIntake(const CaseDeps& deps, const CaseRecords& records, const CaseClocks& clocks,
                       const CaseDuplicates& duplicates, const SubtreeChecks& checks,
                       const FirstComplaintLinks& links, DeadlineBoard& board)
    : d_(deps),
      records_(records),
      clocks_(clocks),
      duplicates_(duplicates),
      checks_(checks),
      links_(links),
      board_(board) {
  if (d_.metrics != nullptr) {
    auto& family = prometheus::BuildCounter()
                       .Name("reception_cases_created_total")
                       .Help("Cases registered on this node, by kind")
                       .Register(*d_.metrics);
    const auto* kinds = cases::v1::CaseKind_descriptor();
    for (int i = 0; i < kinds->value_count(); ++i) {
      const auto kind = static_cast<cases::v1::CaseKind>(kinds->value(i)->number());
      if (kind == cases::v1::CASE_KIND_UNSPECIFIED) continue;
      created_[kind] = &family.Add({{"kind", KindName(kind)}});
    }
  }
}

absl::StatusOr<CaseIntake::Prepared> CaseIntake::Prepare(
    const Principal& p, const cases::v1::CreateCaseRequest& r) const {
  RECEPTION_RETURN_IF_ERROR(CheckCaseWriter(d_, p));
  RECEPTION_RETURN_IF_ERROR(ValidateRequestId(r.request_id()));
  const IntakeEnv env{d_.topology, d_.rules, d_.unit_code, d_.clock->Today()};
  Prepared out;
  RECEPTION_ASSIGN_OR_RETURN(out.c, PrepareNewCase(r, env));
  out.fingerprint = d_.vault->Fingerprint(DeterministicBytes(out.c));
  out.request_id = r.request_id();
  // Folding and hashing are the costliest steps of intake: done here, on
  // the caller's thread, not on the single writer.
  out.protect = out.c.kind() == cases::v1::CASE_KIND_DENUNCIATION && !out.c.anonymous();
  out.profile = duplicates_.ProfileOf(out.c, out.protect);
  if (!out.protect) {
    // Against committed cases (a duplicate created in the same commit group
    // is not seen; it would be by the next case).
    RECEPTION_ASSIGN_OR_RETURN(auto duplicates,
                               duplicates_.Find(out.profile, DayOf(out.c.received_date())));
    for (auto& d : duplicates) out.c.add_possible_duplicates(std::move(d));
  }
  // Province-wide: asked of the ancestor's node once the case is numbered,
  // or, on a node with nobody above to ask, checked here now.
  if (checks_.Wanted(out.profile, out.protect)) {
    if (d_.subtree_check_unit.empty()) {
      RECEPTION_RETURN_IF_ERROR(checks_.CheckHere(out.c, out.profile));
    } else {
      out.check_subtree = true;
    }
  }
  return out;
}

absl::StatusOr<std::optional<Case>> CaseIntake::Replay(const WriteTxn& txn,
                                                       const Prepared& in) const {
  RECEPTION_ASSIGN_OR_RETURN(auto seen, txn.Get(records_.families().requests, in.request_id));
  if (!seen) return std::nullopt;
  cases::storage::RequestRecord rr;
  rr.ParseFromString(*seen);
  if (rr.fingerprint() != in.fingerprint) {
    return absl::AlreadyExistsError(
        absl::StrCat("request_id ", in.request_id, " was already used to create cases/",
                     rr.case_number(), " with different content; use a new request_id"));
  }
  RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.Load(&txn, rr.case_number()));
  if (!rec) return absl::DataLossError("idempotency record points to a missing case");
  return rec->case_();
}

absl::Status CaseIntake::Number(WriteTxn& txn, Case& c) const {
  const absl::CivilDay today = d_.clock->Today();
  RECEPTION_ASSIGN_OR_RETURN(uint64_t seq,
                             records_.NextCounter(txn, absl::StrCat("case_seq/", today.year())));
  const std::string number = absl::StrFormat("%s-%04d-%06d", d_.unit_code, today.year(), seq);
  c.set_name(absl::StrCat("cases/", number));
  c.set_number(number);
  c.set_state(cases::v1::CASE_STATE_RECEIVED);
  c.set_owner_unit(d_.unit_code);
  c.set_owner_epoch(0);
  c.set_petitioner_count(c.petitioners_size());
  return absl::OkStatus();
}

absl::Status CaseIntake::Protect(Case& c, CaseRecord& rec) const {
  cases::storage::ProtectedIdentity identity;
  *identity.mutable_petitioners() = c.petitioners();
  *identity.mutable_representative_citizen_ids() = c.representative_citizen_ids();
  *rec.mutable_sealed_identity() = d_.vault->Seal(identity.SerializeAsString(), c.number());
  c.clear_petitioners();
  c.clear_representative_citizen_ids();
  c.set_identity_protected(true);
  return absl::OkStatus();
}

CaseChange CaseIntake::Received(const Case& c) {
  const std::string round = c.kind() != cases::v1::CASE_KIND_COMPLAINT ? ""
                            : c.complaint_round() == cases::v1::COMPLAINT_ROUND_SECOND
                                ? " (second time)"
                                : " (first time)";
  return CaseChange{
      absl::StrCat(
          "received ", KindName(c.kind()), round, " via ",
          absl::AsciiStrToLower(EnumSuffix(cases::v1::Channel_Name(c.channel()), "CHANNEL_")),
          " at unit ", c.reception_unit().code(), " on ", FormatDate(c.received_date()), "; ",
          c.petitioner_count(), " petitioner(s)",
          c.identity_protected() ? " (identity protected)" : "", c.anonymous() ? ", anonymous" : "",
          c.mass_case() ? ", mass case" : "", ", ", c.people_count(), " people",
          c.possible_duplicates().empty()
              ? ""
              : absl::StrCat("; may repeat ", absl::StrJoin(c.possible_duplicates(), ", "))),
      {}};
}

absl::Status CaseIntake::Register(WriteTxn& txn, const Principal& p, Prepared in, Case& out) const {
  // A retry returns what the first call created.
  RECEPTION_ASSIGN_OR_RETURN(auto replayed, Replay(txn, in));
  if (replayed) {
    out = *std::move(replayed);
    return absl::OkStatus();
  }
  Case& c = in.c;
  RECEPTION_RETURN_IF_ERROR(links_.Check(txn, c, /*at_intake=*/true));
  RECEPTION_RETURN_IF_ERROR(Number(txn, c));
  RECEPTION_RETURN_IF_ERROR(clocks_.Start(c, ClockTrigger::kReceived, DayOf(c.received_date())));
  clocks_.JudgeFiling(c);
  CaseRecord rec;
  if (in.protect) RECEPTION_RETURN_IF_ERROR(Protect(c, rec));
  duplicates_.Index(txn, c, in.profile);
  if (in.check_subtree) checks_.Queue(txn, c, in.profile);
  links_.Queue(txn, c, checks_.outbox());
  const CaseChange change = Received(c);
  *rec.mutable_case_() = std::move(c);
  RECEPTION_RETURN_IF_ERROR(records_.AppendEvent(txn, rec, p, "CreateCase", change));
  cases::storage::RequestRecord rr;
  rr.set_case_number(rec.case_().number());
  rr.set_fingerprint(in.fingerprint);
  txn.Put(records_.families().requests, in.request_id, rr.SerializeAsString());
  out = std::move(*rec.mutable_case_());  // written already
  return absl::OkStatus();
}

void CaseIntake::CreateCase(const Principal& p, const cases::v1::CreateCaseRequest& r,
                            CaseCallback done) {
  auto prepared = Prepare(p, r);
  if (!prepared.ok()) return done(prepared.status());
  auto result = std::make_shared<Case>();
  d_.store->Submit(
      [this, p, in = *std::move(prepared), result](WriteTxn& txn) mutable -> absl::Status {
        return Register(txn, p, std::move(in), *result);
      },
      [this, result, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        if (result->version() == 1) {
          if (auto it = created_.find(result->kind()); it != created_.end())
            it->second->Increment();
        }
        board_.Update(*result);
        clocks_.Decorate(*result, d_.clock->Today());
        done(std::move(*result));
      });
}

}  // namespace reception
