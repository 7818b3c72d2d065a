// The case lifecycle as a table: which transition is allowed from which
// state, and where it leads.
#ifndef RECEPTION_SERVICES_CASE_LIFECYCLE_H_
#define RECEPTION_SERVICES_CASE_LIFECYCLE_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "reception/cases/v1/case.pb.h"

namespace reception {

enum class CaseTransition {
  kClassify,
  kAccept,
  kRefuse,
  kGuide,
  kArchive,
  kStartVerification,
  kSuspend,
  kResume,
  kDecide,
  kClose,
  kWithdraw,             // whole matter
  kWithdrawPartial,      // part of it; state unchanged
  kExtendDeadline,       // a written extension; state unchanged
  kTransfer,             // ownership handed to another node (also a return)
  kAttachMinutes,        // signed minutes of an online reception; state unchanged
  kPublishDecision,      // a complaint decision made public; state unchanged
  kDisputeJurisdiction,  // a jurisdiction dispute opened (kept here when this unit decides)
  kResolveJurisdiction,  // the deciding unit's decision (kept here when it is competent)
  kDeclareComplexity,    // the head's decision on complexity after acceptance; state unchanged
  kCorrect,              // UpdateCase: what intake recorded, corrected; state unchanged
};

// The RPC name of a transition ("AcceptCase").
absl::string_view TransitionName(CaseTransition t);

// "RECEIVED" for CASE_STATE_RECEIVED.
absl::string_view StateName(cases::v1::CaseState s);

// OK when `t` is allowed from `from`; otherwise FAILED_PRECONDITION naming
// the current state and the states it is allowed from.
absl::Status CheckTransition(CaseTransition t, cases::v1::CaseState from);

// The state after `t` from `from` (which CheckTransition allowed).
cases::v1::CaseState NextState(CaseTransition t, cases::v1::CaseState from);

// Open states: the matter is still being handled.
bool IsOpen(cases::v1::CaseState s);

// Whether `t` applies to matters of `kind` at all: a denunciation is never
// guided (Law on Denunciations Art 24: it is transferred); only a
// complaint's decision is published and only a complaint is withdrawn in
// part. The transitions refuse by it; the diagrams show it.
bool AppliesToKind(CaseTransition t, cases::v1::CaseKind kind);

// The lifecycle of `kind` for docs/api.md, generated from the table above:
// a Mermaid state diagram of the transitions that change the state, then a
// Markdown table of the acts that keep it. lifecycle_test checks that
// docs/api.md holds exactly this for every kind.
std::string LifecycleMarkdown(cases::v1::CaseKind kind);

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_LIFECYCLE_H_
