#include "services/case/case_transitions.h"

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
#include "services/case/intake.h"
#include "services/common/civil_date.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace reception {
namespace {

using cases::storage::CaseRecord;
using cases::v1::Case;
using cases::v1::CaseKind;
using cases::v1::CaseState;

bool OutcomeFits(CaseKind kind, cases::v1::Outcome o) {
  using O = cases::v1::Outcome;
  switch (kind) {
    case cases::v1::CASE_KIND_COMPLAINT:
      return o == O::OUTCOME_COMPLAINT_RIGHT || o == O::OUTCOME_COMPLAINT_WRONG ||
             o == O::OUTCOME_COMPLAINT_PARTLY_RIGHT;
    case cases::v1::CASE_KIND_DENUNCIATION:
      return o == O::OUTCOME_DENUNCIATION_FOUNDED || o == O::OUTCOME_DENUNCIATION_UNFOUNDED ||
             o == O::OUTCOME_DENUNCIATION_PARTLY_FOUNDED;
    default:
      return o == O::OUTCOME_ANSWERED;
  }
}

}  // namespace

CaseTransitions::CaseTransitions(const CaseDeps& deps, const CaseRecords& records,
                                 const CaseClocks& clocks, const CaseDuplicates& duplicates,
                                 const CaseHandoffs& handoffs, DeadlineBoard& board)
    : d_(deps),
      records_(records),
      clocks_(clocks),
      duplicates_(duplicates),
      handoffs_(handoffs),
      board_(board) {
  if (d_.metrics != nullptr) {
    transitions_ = &prometheus::BuildCounter()
                        .Name("reception_case_transitions_total")
                        .Help("Lifecycle transitions applied, by method")
                        .Register(*d_.metrics);
    reveals_ = &prometheus::BuildCounter()
                    .Name("reception_identity_reveals_total")
                    .Help("Protected identities revealed to inspectors (each one audited)")
                    .Register(*d_.metrics)
                    .Add({});
  }
}

void CaseTransitions::Transition(const Principal& p, const std::string& name,
                                 const std::string& etag, CaseTransition t, Apply apply,
                                 CaseCallback done, bool check_writer) {
  if (check_writer) {
    if (auto s = CheckCaseWriter(d_, p); !s.ok()) return done(s);
  }
  auto number = ParseCaseName(name, "name");
  if (!number.ok()) return done(number.status());
  if (etag.size() > 64)
    return done(InvalidField("etag", "is not an etag returned by this service"));
  auto result = std::make_shared<Case>();
  d_.store->Submit(
      [this, p, number = *number, etag, t, apply = std::move(apply),
       result](WriteTxn& txn) mutable -> absl::Status {
        RECEPTION_ASSIGN_OR_RETURN(CaseRecord rec, records_.LoadOwned(txn, number));
        Case& c = *rec.mutable_case_();
        if (!etag.empty() && etag != c.etag()) {
          return WithReason(
              absl::AbortedError(absl::StrCat("etag ", etag, " is stale: cases/", number,
                                              " is now at ", c.etag(), "; read it again")),
              "ETAG_MISMATCH");
        }
        RECEPTION_RETURN_IF_ERROR(CheckTransition(t, c.state()));
        if (t != CaseTransition::kExtendDeadline && t != CaseTransition::kAttachMinutes &&
            t != CaseTransition::kWithdraw && t != CaseTransition::kWithdrawPartial) {
          RECEPTION_RETURN_IF_ERROR(handoffs_.CheckNoDisputeHere(c));
        }
        const CaseState before = c.state();
        const absl::CivilDay today = d_.clock->Today();
        RECEPTION_ASSIGN_OR_RETURN(CaseChange change, apply(txn, c, today));
        c.set_state(NextState(t, before));
        RECEPTION_RETURN_IF_ERROR(clocks_.Advance(c, t, today));
        if (c.state() != before) {
          change.fields.insert(change.fields.begin(), "state");
          change.summary = absl::StrCat(StateName(before), " -> ", StateName(c.state()),
                                        change.summary.empty() ? "" : ": ", change.summary);
        }
        RECEPTION_RETURN_IF_ERROR(records_.AppendEvent(txn, rec, p, TransitionName(t), change));
        *result = std::move(c);  // written already
        return absl::OkStatus();
      },
      [this, t, result, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        if (transitions_) {
          transitions_->Add({{"method", std::string(TransitionName(t))}}).Increment();
        }
        board_.Update(*result);
        clocks_.Decorate(*result, d_.clock->Today());
        done(std::move(*result));
      });
}

void CaseTransitions::ClassifyCase(const Principal& p, const cases::v1::ClassifyCaseRequest& r,
                                   CaseCallback done) {
  if (!cases::v1::CaseKind_IsValid(r.kind()))
    return done(InvalidField("kind", "is not a case kind"));
  if (!cases::v1::Complexity_IsValid(r.complexity())) {
    return done(InvalidField("complexity", "is not a complexity"));
  }
  if (auto s = ValidateNote(r.note(), "note", false); !s.ok()) return done(s);
  if (!r.has_within_competence()) {
    return done(InvalidField("within_competence",
                             "must be set: true when this unit is competent, false to guide the "
                             "citizen or transfer the matter"));
  }
  Transition(
      p, r.name(), r.etag(), CaseTransition::kClassify,
      [this, r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<CaseChange> {
        RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
        RECEPTION_ASSIGN_OR_RETURN(std::string filing, clocks_.AddFilingFacts(r, c));
        auto* cl = c.mutable_classification();
        cl->set_kind(r.kind() == cases::v1::CASE_KIND_UNSPECIFIED ? c.kind() : r.kind());
        if (cl->kind() != c.kind()) {
          return InvalidField(
              "kind",
              absl::StrCat("cannot change a ", KindName(c.kind()), " into a ", KindName(cl->kind()),
                           "; register a new case of the right kind and archive this one"));
        }
        if (r.has_anonymous_letter()) {
          *c.mutable_anonymous_letter() = r.anonymous_letter();
          RECEPTION_RETURN_IF_ERROR(CheckAnonymousLetter(c, "anonymous_letter"));
          c.mutable_anonymous_letter()->set_evidence_note(
              NormalizeNfc(c.anonymous_letter().evidence_note()));
        }
        cl->set_within_competence(r.within_competence());
        cl->set_complexity(r.complexity() == cases::v1::COMPLEXITY_UNSPECIFIED
                               ? cases::v1::COMPLEXITY_NORMAL
                               : r.complexity());
        cl->set_note(NormalizeNfc(r.note()));
        *cl->mutable_date() = ToProtoDate(day);
        CaseChange change{
            absl::StrCat(r.within_competence() ? "within" : "outside", " competence, ",
                         absl::AsciiStrToLower(EnumSuffix(
                             cases::v1::Complexity_Name(cl->complexity()), "COMPLEXITY_"))),
            {"classification"}};
        if (!filing.empty()) {
          absl::StrAppend(&change.summary, "; ", filing);
          change.fields.push_back("filing_limit");
        }
        return change;
      },
      std::move(done));
}

absl::StatusOr<CaseTransitions::AnonymousGoesOn> CaseTransitions::AnonymousBasis(
    const Case& c) const {
  // The pack in force when the letter was received.
  RECEPTION_ASSIGN_OR_RETURN(const RuleBook::Pack* pack,
                             d_.rules->PackOn(DayOf(c.received_date())));
  const auto& letter = c.anonymous_letter();
  std::vector<std::string> missing;
  if (!letter.names_violator()) missing.push_back("names_violator");
  if (!letter.evidence_provided()) missing.push_back("evidence_provided");
  if (!letter.verifiable()) missing.push_back("verifiable");
  if (!pack->intake().has_anonymous_letters()) {
    return absl::FailedPreconditionError(
        absl::StrCat("AcceptCase is not allowed: rule pack ", pack->id(),
                     " lets no anonymous letter go on; archive it with reason ANONYMOUS"));
  }
  const auto& rule = pack->intake().anonymous_letters();
  if (!missing.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "AcceptCase is not allowed: an anonymous letter is not handled as a denunciation (",
        rule.source(),
        ") unless it names the violator, brings evidence and gives a basis to verify it; "
        "anonymous_letter lacks ",
        absl::StrJoin(missing, ", "),
        ". Record what the letter brings with ClassifyCase.anonymous_letter, or archive it "
        "with reason ANONYMOUS"));
  }
  AnonymousGoesOn out;
  out.information_for_inspection = rule.handled_as() == "information_for_inspection";
  out.basis =
      absl::StrCat("anonymous letter naming the violator, with evidence and a basis to verify: ",
                   out.information_for_inspection ? "handled as information for inspection"
                                                  : "handled as a denunciation",
                   " (", rule.source(), "; rule pack ", pack->id(), ")");
  return out;
}

void CaseTransitions::AcceptCase(const Principal& p, const cases::v1::AcceptCaseRequest& r,
                                 CaseCallback done) {
  if (auto s = ValidateReference(r.notice_reference(), "notice_reference", true); !s.ok()) {
    return done(s);
  }
  Transition(
      p, r.name(), r.etag(), CaseTransition::kAccept,
      [this, r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<CaseChange> {
        if (!c.classification().within_competence()) {
          return WithReason(absl::FailedPreconditionError(
                                "AcceptCase is not allowed: the case was classified outside this "
                                "unit's competence; guide the citizen or transfer it instead"),
                            "NOT_COMPETENT");
        }
        if (const auto& f = c.filing_limit(); f.has_due_date() && !f.met()) {
          return WithReason(
              absl::FailedPreconditionError(absl::StrCat(
                  "AcceptCase is not allowed: the complaint was filed ", f.days_late(),
                  " day(s) after its filing limit ran out on ", FormatDate(f.due_date()), " (",
                  f.source(),
                  "); record a legitimate reason for the delay with ClassifyCase.filing_delays, "
                  "or refuse it with ground OUT_OF_TIME")),
              "FILED_LATE");
        }
        const auto& link = c.previous_case_check();
        if (link.state() == cases::v1::PreviousCaseCheck::STATE_CONTRADICTED) {
          return WithReason(
              absl::FailedPreconditionError(absl::StrCat(
                  "AcceptCase is not allowed: unit ", link.checked_unit(),
                  " contradicts the second-time complaint's link: ", link.detail(),
                  "; refuse it, or register the matter again as a first-time complaint")),
              "FIRST_COMPLAINT_LINK_CONTRADICTED");
        }
        RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
        AnonymousGoesOn goes_on;
        if (c.anonymous()) {
          RECEPTION_ASSIGN_OR_RETURN(goes_on, AnonymousBasis(c));
        }
        c.mutable_acceptance()->set_notice_reference(NormalizeNfc(r.notice_reference()));
        *c.mutable_acceptance()->mutable_date() = ToProtoDate(day);
        c.mutable_acceptance()->set_basis(goes_on.basis);
        c.mutable_acceptance()->set_information_for_inspection(goes_on.information_for_inspection);
        return CaseChange{
            absl::StrCat(
                "accepted by notice ", r.notice_reference(), goes_on.basis.empty() ? "" : "; ",
                goes_on.basis,
                link.state() == cases::v1::PreviousCaseCheck::STATE_UNVERIFIED
                    ? absl::StrCat("; the link to the first-time complaint ", c.previous_case(),
                                   " is unverified (", link.detail(), ")")
                    : ""),
            {"acceptance"}};
      },
      std::move(done));
}

void CaseTransitions::RefuseCase(const Principal& p, const cases::v1::RefuseCaseRequest& r,
                                 CaseCallback done) {
  if (!cases::v1::RefusalGround_IsValid(r.ground()) ||
      r.ground() == cases::v1::REFUSAL_GROUND_UNSPECIFIED) {
    return done(InvalidField("ground", "must be a legal ground for refusal"));
  }
  if (auto s = ValidateReference(r.notice_reference(), "notice_reference", false); !s.ok()) {
    return done(s);
  }
  if (auto s = ValidateNote(r.explanation(), "explanation", true); !s.ok()) return done(s);
  Transition(
      p, r.name(), r.etag(), CaseTransition::kRefuse,
      [this, r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<CaseChange> {
        RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
        // The grounds are legal data: the pack in force when the matter came.
        RECEPTION_ASSIGN_OR_RETURN(const RuleBook::Pack* pack,
                                   d_.rules->PackOn(DayOf(c.received_date())));
        const std::string ground =
            EnumSuffix(cases::v1::RefusalGround_Name(r.ground()), "REFUSAL_GROUND_");
        const config::v1::RefusalGroundRule* rule = nullptr;
        for (const auto& g : pack->refusal_grounds()) {
          if (g.ground() == r.ground()) rule = &g;
        }
        if (rule == nullptr) {
          return InvalidField("ground",
                              absl::StrCat(ground, " is not a ground of rule pack ", pack->id(),
                                           " (in force on the reception date)"));
        }
        if (!rule->kinds().empty() && std::find(rule->kinds().begin(), rule->kinds().end(),
                                                c.kind()) == rule->kinds().end()) {
          return absl::FailedPreconditionError(
              absl::StrCat("ground ", ground, " does not apply to a ", KindName(c.kind()), " (",
                           rule->source(), ")"));
        }
        if (rule->notice_required() && r.notice_reference().empty()) {
          return InvalidField(
              "notice_reference",
              absl::StrCat("is required: refusing on ground ", ground,
                           " needs a written refusal notice by the head (", rule->source(), ")"));
        }
        if (rule->judged_on_filing_limit()) {
          // The ground is the complainant's filing limit, judged on the case.
          const auto& f = c.filing_limit();
          if (!f.has_due_date()) {
            return absl::FailedPreconditionError(absl::StrCat(
                "ground ", ground,
                " needs the filing limit judged: record when the complainant received the "
                "decision or learned of the act (ClassifyCase.filing_start_date)"));
          }
          if (f.met()) {
            return absl::FailedPreconditionError(
                absl::StrCat("ground ", ground,
                             " does not apply: the complaint was filed "
                             "within its limit (last day ",
                             FormatDate(f.due_date()), ")"));
          }
        }
        auto* rf = c.mutable_refusal();
        rf->set_ground(r.ground());
        rf->set_notice_reference(NormalizeNfc(r.notice_reference()));
        rf->set_explanation(NormalizeNfc(r.explanation()));
        *rf->mutable_date() = ToProtoDate(day);
        return CaseChange{absl::StrCat("refused on ground ", ground, " (", rule->source(), ")"),
                          {"refusal"}};
      },
      std::move(done));
}

void CaseTransitions::GuideCase(const Principal& p, const cases::v1::GuideCaseRequest& r,
                                CaseCallback done) {
  if (auto s = ValidateText(r.competent_body(), "competent_body", IntakeLimits::kMaxBodyChars, true,
                            false);
      !s.ok()) {
    return done(s);
  }
  if (auto s = ValidateNote(r.note(), "note", false); !s.ok()) return done(s);
  Transition(
      p, r.name(), r.etag(), CaseTransition::kGuide,
      [this, r](const WriteTxn& txn, Case& c, absl::CivilDay today) -> absl::StatusOr<CaseChange> {
        if (c.classification().within_competence()) {
          return absl::FailedPreconditionError(
              "GuideCase is not allowed: the case was classified within this unit's "
              "competence; accept it instead");
        }
        if (!AppliesToKind(CaseTransition::kGuide, c.kind())) {
          // A denouncer is not sent elsewhere: the denunciation goes to the
          // competent body (its transfer clock runs for that).
          return absl::FailedPreconditionError(
              "GuideCase is not allowed: a denunciation outside this unit's competence is "
              "transferred to the competent body within the pack's transfer limit (Law on "
              "Denunciations Art 24), not guided; use TransferCase");
        }
        RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
        RECEPTION_ASSIGN_OR_RETURN(std::string refused, duplicates_.GuidanceRefusal(&txn, c, day));
        if (!refused.empty()) {
          return absl::FailedPreconditionError(absl::StrCat("GuideCase is not allowed: ", refused));
        }
        auto* g = c.mutable_guidance();
        g->set_competent_body(NormalizeNfc(r.competent_body()));
        g->set_note(NormalizeNfc(r.note()));
        *g->mutable_date() = ToProtoDate(day);
        return CaseChange{absl::StrCat("guided to ", g->competent_body()), {"guidance"}};
      },
      std::move(done));
}

void CaseTransitions::ArchiveCase(const Principal& p, const cases::v1::ArchiveCaseRequest& r,
                                  CaseCallback done) {
  if (!cases::v1::ArchiveReason_IsValid(r.reason()) ||
      r.reason() == cases::v1::ARCHIVE_REASON_UNSPECIFIED) {
    return done(InvalidField("reason", "must be an archive reason"));
  }
  if (r.reason() == cases::v1::ARCHIVE_REASON_DUPLICATE) {
    if (r.duplicate_of().empty()) {
      return done(InvalidField("duplicate_of", "is required when the reason is DUPLICATE"));
    }
    if (auto n = ParseCaseName(r.duplicate_of(), "duplicate_of"); !n.ok()) return done(n.status());
  } else if (!r.duplicate_of().empty()) {
    return done(InvalidField("duplicate_of", "applies only when the reason is DUPLICATE"));
  }
  if (auto s = ValidateNote(r.note(), "note", r.reason() == cases::v1::ARCHIVE_REASON_OTHER);
      !s.ok()) {
    return done(s);
  }
  Transition(
      p, r.name(), r.etag(), CaseTransition::kArchive,
      [this, r](const WriteTxn& txn, Case& c, absl::CivilDay today) -> absl::StatusOr<CaseChange> {
        if (r.duplicate_of() == c.name()) {
          return InvalidField("duplicate_of", "must name another case");
        }
        // Each reason must fit the case it is given for.
        if (r.reason() == cases::v1::ARCHIVE_REASON_ANONYMOUS && !c.anonymous()) {
          return absl::FailedPreconditionError(
              "reason ANONYMOUS is for anonymous letters; this case names its petitioners");
        }
        if (r.reason() == cases::v1::ARCHIVE_REASON_ALREADY_GUIDED) {
          RECEPTION_ASSIGN_OR_RETURN(int guided, duplicates_.GuidancesOnMatter(&txn, c));
          if (guided == 0) {
            return absl::FailedPreconditionError(
                "reason ALREADY_GUIDED needs a matter guided before: this case repeats no "
                "guided case (repeats_case, as far as this node holds the chain)");
          }
        }
        RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
        auto* a = c.mutable_archival();
        a->set_reason(r.reason());
        a->set_duplicate_of(r.duplicate_of());
        a->set_note(NormalizeNfc(r.note()));
        *a->mutable_date() = ToProtoDate(day);
        return CaseChange{
            absl::StrCat("archived: ",
                         EnumSuffix(cases::v1::ArchiveReason_Name(r.reason()), "ARCHIVE_REASON_"),
                         r.duplicate_of().empty() ? "" : " of ", r.duplicate_of()),
            {"archival"}};
      },
      std::move(done));
}

void CaseTransitions::StartCaseVerification(const Principal& p,
                                            const cases::v1::StartCaseVerificationRequest& r,
                                            CaseCallback done) {
  if (p.role != Role::kInspector && p.role != Role::kHead) {
    return done(
        absl::PermissionDeniedError("StartCaseVerification needs the inspector or head role"));
  }
  if (auto s = ValidateText(r.verifier(), "verifier", IntakeLimits::kMaxNameChars, false, false);
      !s.ok()) {
    return done(s);
  }
  Transition(
      p, r.name(), r.etag(), CaseTransition::kStartVerification,
      [r, subject = p.subject](const WriteTxn&, Case& c,
                               absl::CivilDay today) -> absl::StatusOr<CaseChange> {
        RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
        auto* v = c.mutable_verification();
        v->set_verifier(r.verifier().empty() ? subject : NormalizeNfc(r.verifier()));
        *v->mutable_start_date() = ToProtoDate(day);
        return CaseChange{absl::StrCat("verification by ", v->verifier()), {"verification"}};
      },
      std::move(done));
}

void CaseTransitions::SuspendCase(const Principal& p, const cases::v1::SuspendCaseRequest& r,
                                  CaseCallback done) {
  if (auto s = ValidateNote(r.reason(), "reason", true); !s.ok()) return done(s);
  if (auto s = ValidateReference(r.evidence_reference(), "evidence_reference", true); !s.ok()) {
    return done(s);
  }
  Transition(
      p, r.name(), r.etag(), CaseTransition::kSuspend,
      [r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<CaseChange> {
        RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
        for (const auto& s : c.suspensions()) {
          if (s.has_end_date() && ToCivilDay(s.end_date(), "end").value() >= day) {
            return InvalidField("date",
                                absl::StrCat("must be after the end of the previous pause (",
                                             FormatDate(s.end_date()), ")"));
          }
        }
        auto* s = c.add_suspensions();
        *s->mutable_start_date() = ToProtoDate(day);
        s->set_reason(NormalizeNfc(r.reason()));
        s->set_evidence_reference(NormalizeNfc(r.evidence_reference()));
        return CaseChange{absl::StrCat("handling paused from ", FormatDate(day), " (evidence ",
                                       s->evidence_reference(), ")"),
                          {"suspensions"}};
      },
      std::move(done));
}

void CaseTransitions::ResumeCase(const Principal& p, const cases::v1::ResumeCaseRequest& r,
                                 CaseCallback done) {
  Transition(
      p, r.name(), r.etag(), CaseTransition::kResume,
      [r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<CaseChange> {
        RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
        if (c.suspensions().empty()) {
          return absl::DataLossError("suspended case has no open pause");
        }
        auto* s = c.mutable_suspensions(c.suspensions_size() - 1);
        RECEPTION_ASSIGN_OR_RETURN(auto start, ToCivilDay(s->start_date(), "start"));
        if (day < start) {
          return InvalidField(
              "date", absl::StrCat("must not be before the pause began (", FormatDate(start), ")"));
        }
        *s->mutable_end_date() = ToProtoDate(day);
        const int days = static_cast<int>(day - start) + 1;
        return CaseChange{
            absl::StrCat("handling resumed; paused ", FormatDate(start), " to ", FormatDate(day),
                         " inclusive (", days, days == 1 ? " day" : " days",
                         "), counting again from ", FormatDate(day + 1)),
            {"suspensions"}};
      },
      std::move(done));
}

void CaseTransitions::PublishDecision(const Principal& p,
                                      const cases::v1::PublishDecisionRequest& r,
                                      CaseCallback done) {
  if (!cases::v1::PublicationMethod_IsValid(r.method()) ||
      r.method() == cases::v1::PUBLICATION_METHOD_UNSPECIFIED) {
    return done(InvalidField("method", "must be MEETING, POSTING or MEDIA"));
  }
  if (auto s = ValidateReference(r.reference(), "reference", true); !s.ok()) return done(s);
  Transition(
      p, r.name(), r.etag(), CaseTransition::kPublishDecision,
      [r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<CaseChange> {
        if (!AppliesToKind(CaseTransition::kPublishDecision, c.kind())) {
          return absl::FailedPreconditionError(
              "PublishDecision is for complaint settlement decisions; this case is not a "
              "complaint");
        }
        if (c.has_publication()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the decision was already made public on ", FormatDate(c.publication().date()), " (",
              c.publication().reference(), ")"));
        }
        RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
        if (day < DayOf(c.decision().date())) {
          return InvalidField("date", absl::StrCat("must not be before the decision (",
                                                   FormatDate(c.decision().date()), ")"));
        }
        auto* pub = c.mutable_publication();
        pub->set_method(r.method());
        pub->set_reference(NormalizeNfc(r.reference()));
        *pub->mutable_date() = ToProtoDate(day);
        return CaseChange{
            absl::StrCat("decision made public by ",
                         absl::AsciiStrToLower(EnumSuffix(
                             cases::v1::PublicationMethod_Name(r.method()), "PUBLICATION_METHOD_")),
                         " on ", FormatDate(day), " (", pub->reference(), ")"),
            {"publication"}};
      },
      std::move(done));
}

void CaseTransitions::DecideCase(const Principal& p, const cases::v1::DecideCaseRequest& r,
                                 CaseCallback done) {
  // The decision is the head's whatever the kind (the access table says
  // why); an inspector verifies and proposes it.
  if (p.role != Role::kHead) {
    return done(absl::PermissionDeniedError(
        "DecideCase needs the head role: the chairman or head of the agency decides; an "
        "inspector verifies and proposes (StartCaseVerification)"));
  }
  if (!cases::v1::Outcome_IsValid(r.outcome()) || r.outcome() == cases::v1::OUTCOME_UNSPECIFIED) {
    return done(InvalidField("outcome", "must be set"));
  }
  if (auto s = ValidateReference(r.decision_reference(), "decision_reference", true); !s.ok()) {
    return done(s);
  }
  if (auto s = ValidateText(r.summary(), "summary", IntakeLimits::kMaxSummaryChars, false, true);
      !s.ok()) {
    return done(s);
  }
  Transition(
      p, r.name(), r.etag(), CaseTransition::kDecide,
      [r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<CaseChange> {
        if (!OutcomeFits(c.kind(), r.outcome())) {
          return InvalidField("outcome", absl::StrCat(cases::v1::Outcome_Name(r.outcome()),
                                                      " does not fit a ", KindName(c.kind())));
        }
        RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
        auto* d = c.mutable_decision();
        d->set_outcome(r.outcome());
        d->set_decision_reference(NormalizeNfc(r.decision_reference()));
        d->set_summary(NormalizeNfc(r.summary()));
        *d->mutable_date() = ToProtoDate(day);
        return CaseChange{
            absl::StrCat("decided: ", EnumSuffix(cases::v1::Outcome_Name(r.outcome()), "OUTCOME_"),
                         " by ", d->decision_reference()),
            {"decision"}};
      },
      std::move(done));
}

void CaseTransitions::CloseCase(const Principal& p, const cases::v1::CloseCaseRequest& r,
                                CaseCallback done) {
  Transition(
      p, r.name(), r.etag(), CaseTransition::kClose,
      [](const WriteTxn&, Case&, absl::CivilDay) -> absl::StatusOr<CaseChange> {
        return CaseChange{"", {}};
      },
      std::move(done));
}

void CaseTransitions::WithdrawCase(const Principal& p, const cases::v1::WithdrawCaseRequest& r,
                                   CaseCallback done) {
  if (auto s = ValidateReference(r.document_reference(), "document_reference", true); !s.ok()) {
    return done(s);
  }
  if (auto s = ValidateNote(r.reason(), "reason", false); !s.ok()) return done(s);
  if (r.partial()) {
    if (auto s = ValidateNote(r.withdrawn_part(), "withdrawn_part", true); !s.ok()) return done(s);
  } else if (!r.withdrawn_part().empty()) {
    return done(InvalidField("withdrawn_part", "applies only to a partial withdrawal"));
  }
  const CaseTransition t =
      r.partial() ? CaseTransition::kWithdrawPartial : CaseTransition::kWithdraw;
  Transition(
      p, r.name(), r.etag(), t,
      [this, r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<CaseChange> {
        RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
        if (r.partial()) {
          if (!AppliesToKind(CaseTransition::kWithdrawPartial, c.kind())) {
            return absl::FailedPreconditionError("a partial withdrawal applies only to complaints");
          }
          RECEPTION_ASSIGN_OR_RETURN(const RuleBook::Pack* pack, d_.rules->PackOn(day));
          if (!pack->intake().partial_withdrawal_allowed()) {
            return absl::FailedPreconditionError(absl::StrCat(
                "a partial withdrawal is not allowed on ", FormatDate(day), " under rule pack ",
                pack->id(), "; withdraw the whole complaint or none"));
          }
        }
        auto* w = c.add_withdrawals();
        w->set_partial(r.partial());
        w->set_withdrawn_part(NormalizeNfc(r.withdrawn_part()));
        w->set_reason(NormalizeNfc(r.reason()));
        w->set_document_reference(NormalizeNfc(r.document_reference()));
        *w->mutable_date() = ToProtoDate(day);
        if (c.state() == cases::v1::CASE_STATE_SUSPENDED && !r.partial()) {
          *c.mutable_suspensions(c.suspensions_size() - 1)->mutable_end_date() = ToProtoDate(day);
        }
        return CaseChange{absl::StrCat(r.partial() ? "partly withdrawn" : "withdrawn",
                                       " by document ", w->document_reference()),
                          {"withdrawals"}};
      },
      std::move(done));
}

}  // namespace reception
