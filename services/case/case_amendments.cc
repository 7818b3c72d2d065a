// CaseTransitions, the changes that are not lifecycle steps: corrections of
// a registered case (UpdateCase), an inspector's audited look at a
// protected identity, a complexity declaration, a deadline extension, and
// signed minutes attached from an online reception room. The lifecycle
// steps are in case_transitions.cc.
#include <sodium.h>

#include <algorithm>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/case/case_corrections.h"
#include "services/case/case_transitions.h"
#include "services/case/intake.h"
#include "services/common/civil_date.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace reception {
namespace {

using cases::storage::CaseRecord;
using cases::v1::Case;

}  // namespace

void CaseTransitions::UpdateCase(const Principal& p, const cases::v1::UpdateCaseRequest& r,
                                 CaseCallback done) {
  if (auto s = CheckCaseWriter(d_, p); !s.ok()) return done(s);
  auto number = ParseCaseName(r.case_().name(), "case.name");
  if (!number.ok()) return done(number.status());
  if (r.case_().etag().size() > 64) {
    return done(InvalidField("case.etag", "is not an etag returned by this service"));
  }
  auto paths = CorrectionPaths(r.update_mask());
  if (!paths.ok()) return done(paths.status());
  if (auto s = ValidateNote(r.reason(), "reason", true); !s.ok()) return done(s);
  auto result = std::make_shared<Case>();
  d_.store->Submit(
      [this, p, r, number = *number, paths = *paths,
       result](WriteTxn& txn) mutable -> absl::Status {
        RECEPTION_ASSIGN_OR_RETURN(CaseRecord rec, records_.LoadOwned(txn, number));
        Case& c = *rec.mutable_case_();
        const std::string& etag = r.case_().etag();
        if (!etag.empty() && etag != c.etag()) {
          return WithReason(
              absl::AbortedError(absl::StrCat("etag ", etag, " is stale: cases/", number,
                                              " is now at ", c.etag(), "; read it again")),
              "ETAG_MISMATCH");
        }
        RECEPTION_RETURN_IF_ERROR(CheckTransition(CaseTransition::kCorrect, c.state()));
        const bool protect = c.identity_protected();
        // The whole case as intake saw it: a protected identity opened.
        Case whole = c;
        cases::storage::ProtectedIdentity identity;
        if (protect) {
          RECEPTION_ASSIGN_OR_RETURN(std::string plain,
                                     d_.vault->Unseal(rec.sealed_identity(), number));
          const bool parsed = identity.ParseFromString(plain);
          sodium_memzero(plain.data(), plain.size());
          if (!parsed) return absl::DataLossError("protected identity does not parse");
          *whole.mutable_petitioners() = identity.petitioners();
          *whole.mutable_representative_citizen_ids() = identity.representative_citizen_ids();
        }
        if (std::find(paths.begin(), paths.end(), "petitioners") != paths.end() &&
            r.case_().petitioners_size() != whole.petitioners_size()) {
          return InvalidField("case.petitioners",
                              absl::StrCat("must keep its ", whole.petitioners_size(),
                                           " people: a correction fixes their details; another "
                                           "person files their own matter"));
        }
        // Validated as intake validates, at the unit that received it.
        cases::v1::CreateCaseRequest again;
        *again.mutable_case_() = whole;
        OverlayCorrections(paths, r.case_(), *again.mutable_case_());
        const IntakeEnv env{d_.topology, d_.rules, whole.reception_unit().code(),
                            d_.clock->Today()};
        RECEPTION_ASSIGN_OR_RETURN(Case validated, PrepareNewCase(again, env));
        const bool accepted = c.state() != cases::v1::CASE_STATE_RECEIVED &&
                              c.state() != cases::v1::CASE_STATE_CLASSIFIED;
        RECEPTION_ASSIGN_OR_RETURN(CaseChange change,
                                   ApplyCorrection(paths, validated, whole, accepted, protect));
        if (change.fields.empty()) {
          *result = c;  // nothing to correct: no write, no event
          return absl::OkStatus();
        }
        const Case before = c;
        Case corrected = whole;
        if (protect) {
          *identity.mutable_petitioners() = whole.petitioners();
          *identity.mutable_representative_citizen_ids() = whole.representative_citizen_ids();
          std::string plain = identity.SerializeAsString();
          *rec.mutable_sealed_identity() = d_.vault->Seal(plain, number);
          sodium_memzero(plain.data(), plain.size());
          corrected.clear_petitioners();
          corrected.clear_representative_citizen_ids();
        }
        duplicates_.Reindex(txn, before, corrected, protect);
        c = std::move(corrected);
        change.summary =
            absl::StrCat("corrected ", change.summary, "; reason: ", NormalizeNfc(r.reason()));
        RECEPTION_RETURN_IF_ERROR(records_.AppendEvent(txn, rec, p, "UpdateCase", change));
        *result = c;  // written already
        return absl::OkStatus();
      },
      [this, result, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        if (transitions_) transitions_->Add({{"method", "UpdateCase"}}).Increment();
        board_.Update(*result);
        clocks_.Decorate(*result, d_.clock->Today());
        done(std::move(*result));
      });
}

void CaseTransitions::RevealDenouncerIdentity(
    const Principal& p, const cases::v1::RevealDenouncerIdentityRequest& r,
    Callback<cases::v1::RevealDenouncerIdentityResponse> done) {
  if (p.role != Role::kInspector) {
    return done(absl::PermissionDeniedError(
        "only an inspector of the unit that owns the case may reveal a denouncer's identity"));
  }
  auto number = ParseCaseName(r.name(), "name");
  if (!number.ok()) return done(number.status());
  if (auto s = ValidateNote(r.reason(), "reason", true); !s.ok()) return done(s);
  if (VisibleCharCount(r.reason()) < 10) {
    return done(InvalidField("reason", "must explain the need in at least 10 visible characters"));
  }
  auto result = std::make_shared<cases::v1::RevealDenouncerIdentityResponse>();
  d_.store->Submit(
      [this, p, number = *number, reason = NormalizeNfc(r.reason()),
       result](WriteTxn& txn) -> absl::Status {
        RECEPTION_ASSIGN_OR_RETURN(CaseRecord rec, records_.LoadOwned(txn, number));
        if (!rec.case_().identity_protected()) {
          return absl::FailedPreconditionError(
              absl::StrCat("cases/", number, " holds no protected identity"));
        }
        if (p.unit_code != rec.case_().owner_unit()) {
          return absl::PermissionDeniedError(
              absl::StrCat("only an inspector of unit ", rec.case_().owner_unit(),
                           ", which owns the case, may reveal the denouncer's identity"));
        }
        if (rec.case_().state() == cases::v1::CASE_STATE_TRANSFERRED) {
          // Frozen by a transfer not yet acknowledged: the new owner may
          // already hold the case, and a reveal here would never reach its
          // audit trail.
          return absl::FailedPreconditionError(absl::StrCat(
              "cases/", number,
              " is being handed to another unit; the identity may be revealed only by the "
              "new owner once the transfer is acknowledged"));
        }
        RECEPTION_ASSIGN_OR_RETURN(std::string plain,
                                   d_.vault->Unseal(rec.sealed_identity(), number));
        cases::storage::ProtectedIdentity identity;
        if (!identity.ParseFromString(plain)) {
          return absl::DataLossError("protected identity does not parse");
        }
        CaseChange change{
            absl::StrCat("denouncer identity revealed to ", p.subject, "; reason: ", reason), {}};
        RECEPTION_RETURN_IF_ERROR(
            records_.AppendEvent(txn, rec, p, "RevealDenouncerIdentity", change));
        *result->mutable_petitioners() = identity.petitioners();
        *result->mutable_representative_citizen_ids() = identity.representative_citizen_ids();
        result->set_audit_event_sequence(rec.case_().history_length());
        return absl::OkStatus();
      },
      [this, result, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        if (reveals_) reveals_->Increment();
        done(std::move(*result));
      });
}

void CaseTransitions::DeclareCaseComplexity(const Principal& p,
                                            const cases::v1::DeclareCaseComplexityRequest& r,
                                            CaseCallback done) {
  if (p.role != Role::kHead) {
    return done(absl::PermissionDeniedError(
        "DeclareCaseComplexity needs the head role: the complexity of an accepted matter is "
        "changed by the head's written decision"));
  }
  if (!cases::v1::Complexity_IsValid(r.complexity()) ||
      r.complexity() == cases::v1::COMPLEXITY_UNSPECIFIED) {
    return done(InvalidField("complexity", "must be normal, complex or very_complex"));
  }
  if (auto s = ValidateReference(r.decision_reference(), "decision_reference", true); !s.ok()) {
    return done(s);
  }
  if (auto s = ValidateNote(r.note(), "note", false); !s.ok()) return done(s);
  Transition(
      p, r.name(), r.etag(), CaseTransition::kDeclareComplexity,
      [r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<CaseChange> {
        RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
        auto* cl = c.mutable_classification();
        if (cl->complexity() == r.complexity()) {
          return InvalidField("complexity", "must differ from the case's complexity");
        }
        auto* d = cl->add_complexity_decisions();
        d->set_from(cl->complexity());
        d->set_to(r.complexity());
        d->set_decision_reference(NormalizeNfc(r.decision_reference()));
        *d->mutable_date() = ToProtoDate(day);
        d->set_note(NormalizeNfc(r.note()));
        cl->set_complexity(r.complexity());
        // The running clocks are counted again with the new complexity when
        // the transition is applied (CaseClocks::Advance).
        auto name = [](cases::v1::Complexity k) {
          return absl::AsciiStrToLower(EnumSuffix(cases::v1::Complexity_Name(k), "COMPLEXITY_"));
        };
        return CaseChange{absl::StrCat("complexity ", name(d->from()), " -> ", name(d->to()),
                                       " by decision ", d->decision_reference()),
                          {"classification", "clocks"}};
      },
      std::move(done));
}

void CaseTransitions::ExtendCaseDeadline(const Principal& p,
                                         const cases::v1::ExtendCaseDeadlineRequest& r,
                                         CaseCallback done) {
  if (p.role != Role::kHead) {
    return done(absl::PermissionDeniedError(
        "ExtendCaseDeadline needs the head role: an extension is the written decision of the "
        "person who settles the matter (Law on Denunciations 2018 Art 30); inspectors propose "
        "it"));
  }
  if (!cases::v1::DeadlineStep_IsValid(r.step()) ||
      r.step() == cases::v1::DEADLINE_STEP_UNSPECIFIED) {
    return done(InvalidField(
        "step", "must name a deadline step (handle_letter, accept, transfer, settle)"));
  }
  if (auto s = ValidateReference(r.decision_reference(), "decision_reference", true); !s.ok()) {
    return done(s);
  }
  if (r.days() < 1) return done(InvalidField("days", "must be at least 1"));
  if (d_.deadlines == nullptr)
    return done(absl::FailedPreconditionError("no working calendar is loaded"));
  Transition(
      p, r.name(), r.etag(), CaseTransition::kExtendDeadline,
      [this, r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<CaseChange> {
        RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
        cases::v1::DeadlineClock* clock = nullptr;
        for (auto& k : *c.mutable_clocks()) {
          if (k.step() == r.step() && (k.state() == cases::v1::CLOCK_STATE_RUNNING ||
                                       k.state() == cases::v1::CLOCK_STATE_PAUSED)) {
            clock = &k;
          }
        }
        if (clock == nullptr) {
          return absl::FailedPreconditionError(absl::StrCat("cases/", c.number(),
                                                            " has no running ", StepName(r.step()),
                                                            " time limit to extend"));
        }
        RECEPTION_RETURN_IF_ERROR(d_.deadlines->Extend(
            *clock, clocks_.Facts(c), NormalizeNfc(r.decision_reference()), day, r.days()));
        return CaseChange{
            absl::StrCat(
                StepName(r.step()), " time limit extended by ", r.days(), " days by ",
                r.decision_reference(), " (extension ", clock->extensions_size(), " of ",
                clock->max_extensions(), ")",
                clock->has_due_date() ? absl::StrCat("; due ", FormatDate(clock->due_date())) : ""),
            {"clocks"}};
      },
      std::move(done));
}

void CaseTransitions::AttachCaseMinutes(const Principal& p,
                                        const federation::v1::AttachCaseMinutesRequest& r,
                                        CaseCallback done) {
  if (p.role != Role::kNode || p.unit_code != d_.unit_code) {
    return done(absl::PermissionDeniedError(
        absl::StrCat("only this node's own media service attaches minutes; the caller is a ",
                     RoleName(p.role), " of unit ", p.unit_code.substr(0, 32))));
  }
  absl::string_view room = r.room();
  if (!absl::ConsumePrefix(&room, "rooms/") || room.empty() || room.size() > 40) {
    return done(InvalidField("room", "must be rooms/{room_id}"));
  }
  if (r.text().empty() || r.text().size() > kMaxMinutesBytes) {
    return done(InvalidField("text", absl::StrCat("must be 1-", kMaxMinutesBytes, " bytes")));
  }
  if (!IsValidUtf8(r.text()) || HasControlCharacters(r.text(), /*allow_newlines=*/true)) {
    return done(InvalidField("text", "must be UTF-8 text without control characters"));
  }
  if (!r.has_lock_time()) return done(InvalidField("lock_time", "must be set"));
  // A real instant: between 2000 and a day after now (clocks may differ a little).
  if (r.lock_time().seconds() < 946684800 || r.lock_time().nanos() < 0 ||
      r.lock_time().nanos() > 999999999 ||
      absl::FromUnixSeconds(r.lock_time().seconds()) > d_.clock->Now() + absl::Hours(24)) {
    return done(InvalidField("lock_time", "must be a time between 2000 and now"));
  }
  auto repeat = std::make_shared<bool>(false);
  Transition(
      p, r.name(), "", CaseTransition::kAttachMinutes,
      [this, r, repeat](const WriteTxn&, Case& c, absl::CivilDay) -> absl::StatusOr<CaseChange> {
        for (const auto& m : c.minutes()) {
          if (m.room() == r.room()) {
            *repeat = true;
            return absl::AlreadyExistsError("attached already");
          }
        }
        auto* m = c.add_minutes();
        m->set_room(r.room());
        m->set_text(r.text());
        *m->mutable_lock_time() = r.lock_time();
        SetTimestamp(d_.clock->Now(), m->mutable_attach_time());
        return CaseChange{absl::StrCat("minutes of ", r.room(), " attached"), {"minutes"}};
      },
      [this, r, repeat, done = std::move(done)](absl::StatusOr<Case> c) mutable {
        if (!c.ok() && *repeat) {
          // The case as it stands (the media service reads it as this node).
          auto rec = records_.Load(nullptr, *ParseCaseName(r.name(), "name"));
          if (!rec.ok()) return done(rec.status());
          if (!*rec) return done(CaseNotFound(absl::StripPrefix(r.name(), "cases/")));
          clocks_.Decorate(*(*rec)->mutable_case_(), d_.clock->Today());
          return done(std::move(*(*rec)->mutable_case_()));
        }
        done(std::move(c));
      },
      /*check_writer=*/false);
}

}  // namespace reception
