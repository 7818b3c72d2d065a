// Statutory clocks on cases: which rule of which pack sets a step's time
// limit, the due date it gives on the working-day calendar, pauses,
// extensions within the allowed count, and how a clock ends. Pure: no clock,
// no storage, no gRPC. Every legal number comes from the rule packs; what the
// engine knows is only the meaning of the steps.
#ifndef RECEPTION_SERVICES_CALENDAR_DEADLINE_ENGINE_H_
#define RECEPTION_SERVICES_CALENDAR_DEADLINE_ENGINE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "reception/cases/v1/case_service.pb.h"
#include "services/calendar/working_calendar.h"
#include "services/common/rule_book.h"

namespace reception {

// The facts about a case a time limit depends on.
struct ClockFacts {
  cases::v1::CaseKind kind = cases::v1::CASE_KIND_UNSPECIFIED;
  cases::v1::ComplaintRound round = cases::v1::COMPLAINT_ROUND_UNSPECIFIED;
  bool remote_area = false;
  cases::v1::Complexity complexity = cases::v1::COMPLEXITY_NORMAL;
};

// What triggers a step's clock.
enum class ClockTrigger {
  kReceived,           // receipt: letter handling, acceptance
  kOutsideCompetence,  // classified outside competence: transfer (counted from receipt)
  kAccepted,           // acceptance: settlement
  kDecided,            // a decision: its publication (complaints)
  kDisputeReceived,    // a jurisdiction dispute at its deciding unit
};

// How a step's clock ends on a transition.
enum class ClockEnd { kNone, kDone, kCancelled };

// Immutable; safe to share between threads.
class DeadlineEngine {
 public:
  DeadlineEngine(const WorkingCalendar* calendar, const RuleBook* rules)
      : calendar_(calendar), rules_(rules) {}

  const WorkingCalendar& calendar() const { return *calendar_; }

  // The steps a trigger starts, in handling order.
  static std::vector<cases::v1::DeadlineStep> StepsFor(ClockTrigger trigger);

  // The rule for `step` in `pack` that fits the facts: the rule for the kind
  // (and complaint round) if there is one, else the rule for every kind;
  // nullptr when none.
  static const config::v1::DeadlineRule* FindRule(const config::v1::RulePack& pack,
                                                  cases::v1::DeadlineStep step,
                                                  const ClockFacts& facts);
  // The period's length for the unit's remote flag and the complexity.
  static int Length(const config::v1::DeadlineRule& rule, bool remote,
                    cases::v1::Complexity complexity);
  // The extensions allowed for the complexity (max_count 0: none).
  static config::v1::ExtensionAllowance Allowance(const config::v1::DeadlineRule& rule,
                                                  cases::v1::Complexity complexity);

  // The clocks `trigger` starts on `event` (the pack in force on `event`
  // applies). A clock whose due date cannot be counted (the calendar does not
  // cover the period) is still started, with `problem` set.
  absl::StatusOr<std::vector<cases::v1::DeadlineClock>> Start(ClockTrigger trigger,
                                                              const ClockFacts& facts,
                                                              absl::CivilDay event) const;

  // Re-derives length, limits and due date from the clock's rule (in the pack
  // it recorded) and the current facts; keeps pauses and extensions.
  void Recompute(cases::v1::DeadlineClock& clock, const ClockFacts& facts) const;

  // Adds an extension: FAILED_PRECONDITION when the clock has ended, when the
  // rule allows no (more) extension for the case's complexity, or when the
  // decision comes after the due date; INVALID_ARGUMENT ("days") when longer
  // than the rule allows.
  absl::Status Extend(cases::v1::DeadlineClock& clock, const ClockFacts& facts,
                      const std::string& decision_reference, absl::CivilDay date, int days) const;

  // Stops a running clock from `first_paused_day` (the suspension date).
  void Pause(cases::v1::DeadlineClock& clock, absl::CivilDay first_paused_day,
             const ClockFacts& facts) const;
  // Restarts a paused clock on `resumed_on` (the last paused day is the day
  // before) and recomputes its due date.
  void Resume(cases::v1::DeadlineClock& clock, absl::CivilDay resumed_on,
              const ClockFacts& facts) const;
  // Ends a running or paused clock: done -> MET or MISSED by `on` against the
  // due date; cancelled -> CANCELLED.
  static void End(cases::v1::DeadlineClock& clock, ClockEnd how, absl::CivilDay on);

  // How `transition` ("AcceptCase", ...) ends a step's clock.
  static ClockEnd EndFor(cases::v1::DeadlineStep step, absl::string_view transition);

  // Computed when served: marks a running clock whose period runs through a
  // provisional year (clears the mark otherwise).
  void MarkProvisional(cases::v1::DeadlineClock& clock) const;
  // Fills `out` when [first, last] touches a provisional year; false (and
  // `out` cleared) otherwise.
  bool MarkProvisional(absl::CivilDay first, absl::CivilDay last,
                       cases::v1::ProvisionalCalendar* out) const;

  // The earliest due date of a running clock.
  static std::optional<absl::CivilDay> EarliestDue(
      const google::protobuf::RepeatedPtrField<cases::v1::DeadlineClock>& clocks);

  // Judges a complaint's filing limit (the input fields of `limit` set):
  // the rule for DEADLINE_STEP_FILE in the pack in force on `received`,
  // counted from start_date without the delays' days. Clears the output
  // when the limit is not to be judged (no start date, no rule); sets
  // `problem` when the calendar cannot count it.
  void JudgeFiling(cases::v1::FilingLimit& limit, const ClockFacts& facts,
                   absl::CivilDay received) const;

  // The due dates a matter would get (PreviewDeadlines). A step whose dates
  // cannot be counted carries its own `problem`; the others are still given.
  absl::StatusOr<cases::v1::PreviewDeadlinesResponse> Preview(
      const ClockFacts& facts, absl::CivilDay received,
      std::optional<absl::CivilDay> accepted) const;

 private:
  // Fills the rule-derived fields and the due date.
  void Apply(cases::v1::DeadlineClock& clock, const config::v1::RulePack& pack,
             const config::v1::DeadlineRule& rule, const ClockFacts& facts) const;
  void ComputeDue(cases::v1::DeadlineClock& clock) const;

  const WorkingCalendar* calendar_;
  const RuleBook* rules_;
};

// "settle" for DEADLINE_STEP_SETTLE.
std::string StepName(cases::v1::DeadlineStep step);

}  // namespace reception

#endif  // RECEPTION_SERVICES_CALENDAR_DEADLINE_ENGINE_H_
