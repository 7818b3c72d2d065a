#include "services/case/lifecycle.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/status.h"

namespace reception {
namespace {

using cases::v1::CaseState;
using S = cases::v1::CaseState;

struct Rule {
  CaseTransition t;
  std::vector<CaseState> from;
  CaseState to;  // CASE_STATE_UNSPECIFIED: unchanged
};

const std::vector<Rule>& Rules() {
  static const auto* rules = new std::vector<Rule>{
      {CaseTransition::kClassify, {S::CASE_STATE_RECEIVED}, S::CASE_STATE_CLASSIFIED},
      {CaseTransition::kAccept, {S::CASE_STATE_CLASSIFIED}, S::CASE_STATE_ACCEPTED},
      {CaseTransition::kRefuse,
       {S::CASE_STATE_RECEIVED, S::CASE_STATE_CLASSIFIED},
       S::CASE_STATE_REFUSED},
      {CaseTransition::kGuide, {S::CASE_STATE_CLASSIFIED}, S::CASE_STATE_GUIDED},
      {CaseTransition::kArchive,
       {S::CASE_STATE_RECEIVED, S::CASE_STATE_CLASSIFIED},
       S::CASE_STATE_ARCHIVED},
      {CaseTransition::kStartVerification, {S::CASE_STATE_ACCEPTED}, S::CASE_STATE_VERIFYING},
      {CaseTransition::kSuspend, {S::CASE_STATE_VERIFYING}, S::CASE_STATE_SUSPENDED},
      {CaseTransition::kResume, {S::CASE_STATE_SUSPENDED}, S::CASE_STATE_VERIFYING},
      {CaseTransition::kDecide, {S::CASE_STATE_VERIFYING}, S::CASE_STATE_DECIDED},
      {CaseTransition::kClose, {S::CASE_STATE_DECIDED}, S::CASE_STATE_CLOSED},
      {CaseTransition::kWithdraw,
       {S::CASE_STATE_RECEIVED, S::CASE_STATE_CLASSIFIED, S::CASE_STATE_ACCEPTED,
        S::CASE_STATE_VERIFYING, S::CASE_STATE_SUSPENDED},
       S::CASE_STATE_WITHDRAWN},
      {CaseTransition::kWithdrawPartial,
       {S::CASE_STATE_RECEIVED, S::CASE_STATE_CLASSIFIED, S::CASE_STATE_ACCEPTED,
        S::CASE_STATE_VERIFYING, S::CASE_STATE_SUSPENDED},
       S::CASE_STATE_UNSPECIFIED},
      {CaseTransition::kTransfer,
       {S::CASE_STATE_RECEIVED, S::CASE_STATE_CLASSIFIED},
       S::CASE_STATE_TRANSFERRED},
      {CaseTransition::kExtendDeadline,
       {S::CASE_STATE_RECEIVED, S::CASE_STATE_CLASSIFIED, S::CASE_STATE_ACCEPTED,
        S::CASE_STATE_VERIFYING, S::CASE_STATE_SUSPENDED},
       S::CASE_STATE_UNSPECIFIED},
      // Minutes may concern a case at any point while this unit owns it.
      {CaseTransition::kAttachMinutes,
       {S::CASE_STATE_RECEIVED, S::CASE_STATE_CLASSIFIED, S::CASE_STATE_ACCEPTED,
        S::CASE_STATE_GUIDED, S::CASE_STATE_ARCHIVED, S::CASE_STATE_REFUSED,
        S::CASE_STATE_VERIFYING, S::CASE_STATE_SUSPENDED, S::CASE_STATE_DECIDED,
        S::CASE_STATE_CLOSED, S::CASE_STATE_WITHDRAWN},
       S::CASE_STATE_UNSPECIFIED},
      {CaseTransition::kPublishDecision,
       {S::CASE_STATE_DECIDED, S::CASE_STATE_CLOSED},
       S::CASE_STATE_UNSPECIFIED},
      {CaseTransition::kDisputeJurisdiction,
       {S::CASE_STATE_RECEIVED, S::CASE_STATE_CLASSIFIED},
       S::CASE_STATE_UNSPECIFIED},
      {CaseTransition::kResolveJurisdiction,
       {S::CASE_STATE_RECEIVED, S::CASE_STATE_CLASSIFIED},
       S::CASE_STATE_UNSPECIFIED},
      {CaseTransition::kDeclareComplexity,
       {S::CASE_STATE_ACCEPTED, S::CASE_STATE_VERIFYING, S::CASE_STATE_SUSPENDED},
       S::CASE_STATE_UNSPECIFIED},
      // Corrections while the matter is open (what may change after
      // acceptance: case_corrections.h).
      {CaseTransition::kCorrect,
       {S::CASE_STATE_RECEIVED, S::CASE_STATE_CLASSIFIED, S::CASE_STATE_ACCEPTED,
        S::CASE_STATE_VERIFYING, S::CASE_STATE_SUSPENDED},
       S::CASE_STATE_UNSPECIFIED},
  };
  return *rules;
}

const Rule& RuleFor(CaseTransition t) {
  for (const auto& r : Rules()) {
    if (r.t == t) return r;
  }
  return Rules().front();
}

}  // namespace

absl::string_view TransitionName(CaseTransition t) {
  switch (t) {
    case CaseTransition::kClassify:
      return "ClassifyCase";
    case CaseTransition::kAccept:
      return "AcceptCase";
    case CaseTransition::kRefuse:
      return "RefuseCase";
    case CaseTransition::kGuide:
      return "GuideCase";
    case CaseTransition::kArchive:
      return "ArchiveCase";
    case CaseTransition::kStartVerification:
      return "StartCaseVerification";
    case CaseTransition::kSuspend:
      return "SuspendCase";
    case CaseTransition::kResume:
      return "ResumeCase";
    case CaseTransition::kDecide:
      return "DecideCase";
    case CaseTransition::kClose:
      return "CloseCase";
    case CaseTransition::kWithdraw:
      return "WithdrawCase";
    case CaseTransition::kWithdrawPartial:
      return "WithdrawCase (partial)";
    case CaseTransition::kExtendDeadline:
      return "ExtendCaseDeadline";
    case CaseTransition::kTransfer:
      return "TransferCase";
    case CaseTransition::kAttachMinutes:
      return "AttachCaseMinutes";
    case CaseTransition::kPublishDecision:
      return "PublishDecision";
    case CaseTransition::kDisputeJurisdiction:
      return "DisputeJurisdiction";
    case CaseTransition::kResolveJurisdiction:
      return "ResolveJurisdiction";
    case CaseTransition::kDeclareComplexity:
      return "DeclareCaseComplexity";
    case CaseTransition::kCorrect:
      return "UpdateCase";
  }
  return "unknown";
}

absl::string_view StateName(CaseState s) {
  absl::string_view name = cases::v1::CaseState_Name(s);
  constexpr absl::string_view kPrefix = "CASE_STATE_";
  if (name.substr(0, kPrefix.size()) == kPrefix) name.remove_prefix(kPrefix.size());
  return name;
}

absl::Status CheckTransition(CaseTransition t, CaseState from) {
  const Rule& r = RuleFor(t);
  for (CaseState s : r.from) {
    if (s == from) return absl::OkStatus();
  }
  std::vector<absl::string_view> allowed;
  for (CaseState s : r.from) allowed.push_back(StateName(s));
  return WithReason(
      WithPrecondition(
          absl::FailedPreconditionError(
              absl::StrCat(TransitionName(t), " is not allowed: the case is ", StateName(from),
                           "; it is allowed only from ", absl::StrJoin(allowed, ", "))),
          "STATE", StateName(from),
          absl::StrCat(TransitionName(t), " is allowed only from ", absl::StrJoin(allowed, ", "))),
      "TRANSITION_NOT_ALLOWED");
}

CaseState NextState(CaseTransition t, CaseState from) {
  const Rule& r = RuleFor(t);
  return r.to == S::CASE_STATE_UNSPECIFIED ? from : r.to;
}

bool AppliesToKind(CaseTransition t, cases::v1::CaseKind kind) {
  switch (t) {
    case CaseTransition::kGuide:
      return kind != cases::v1::CASE_KIND_DENUNCIATION;
    case CaseTransition::kPublishDecision:
    case CaseTransition::kWithdrawPartial:
      return kind == cases::v1::CASE_KIND_COMPLAINT;
    default:
      return true;
  }
}

std::string LifecycleMarkdown(cases::v1::CaseKind kind) {
  std::string out = "```mermaid\nstateDiagram-v2\n    [*] --> RECEIVED: CreateCase\n";
  std::vector<CaseState> ends;
  std::vector<const Rule*> keeping;
  for (const Rule& r : Rules()) {
    if (!AppliesToKind(r.t, kind)) continue;
    if (r.to == S::CASE_STATE_UNSPECIFIED) {
      keeping.push_back(&r);
      continue;
    }
    for (CaseState from : r.from) {
      absl::StrAppend(&out, "    ", StateName(from), " --> ", StateName(r.to), ": ",
                      TransitionName(r.t), "\n");
    }
    if (!IsOpen(r.to) && std::find(ends.begin(), ends.end(), r.to) == ends.end()) {
      ends.push_back(r.to);
    }
  }
  for (CaseState end : ends) {
    bool leaves = false;  // a state something still leaves is not an end
    for (const Rule& r : Rules()) {
      if (!AppliesToKind(r.t, kind) || r.to == S::CASE_STATE_UNSPECIFIED) continue;
      leaves = leaves || std::find(r.from.begin(), r.from.end(), end) != r.from.end();
    }
    if (end == S::CASE_STATE_TRANSFERRED) {
      absl::StrAppend(&out, "    TRANSFERRED --> [*]: the destination owns it (RECEIVED there)\n");
    } else if (!leaves) {
      absl::StrAppend(&out, "    ", StateName(end), " --> [*]\n");
    }
  }
  absl::StrAppend(&out, "```\n\n| act (state unchanged) | allowed in |\n|---|---|\n");
  for (const Rule* r : keeping) {
    std::vector<absl::string_view> states;
    for (CaseState s : r->from) states.push_back(StateName(s));
    absl::StrAppend(&out, "| `", TransitionName(r->t), "` | ", absl::StrJoin(states, ", "), " |\n");
  }
  return out;
}

bool IsOpen(CaseState s) {
  switch (s) {
    case S::CASE_STATE_RECEIVED:
    case S::CASE_STATE_CLASSIFIED:
    case S::CASE_STATE_ACCEPTED:
    case S::CASE_STATE_VERIFYING:
    case S::CASE_STATE_SUSPENDED:
      return true;
    default:
      return false;
  }
}

}  // namespace reception
