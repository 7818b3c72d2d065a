// Validation and normalisation of new matters (CreateCase) and of the text
// fields of transitions. Every error is INVALID_ARGUMENT naming the field path
// and the rule, except a reception unit that did not exist on the reception
// date (FAILED_PRECONDITION) and a missing rule pack.
#ifndef RECEPTION_SERVICES_CASE_INTAKE_H_
#define RECEPTION_SERVICES_CASE_INTAKE_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "reception/cases/v1/case_service.pb.h"
#include "services/common/rule_book.h"
#include "services/common/topology.h"

namespace reception {

// Size limits of the API (system limits, not legal rules).
struct IntakeLimits {
  static constexpr size_t kMaxNameChars = 200;
  static constexpr size_t kMaxAddressChars = 500;
  static constexpr size_t kMaxPhoneChars = 20;
  static constexpr size_t kMaxContentBytes = 20000;
  static constexpr int kMaxPetitioners = 500;
  static constexpr int kMaxPeople = 100000;
  static constexpr int kMaxAttachments = 100;
  static constexpr size_t kMaxAttachmentNameChars = 255;
  static constexpr int64_t kMaxAttachmentBytes = int64_t{2} << 30;
  static constexpr size_t kMaxNoteChars = 2000;
  static constexpr size_t kMaxReferenceChars = 200;
  static constexpr size_t kMaxBodyChars = 500;
  static constexpr size_t kMaxSummaryChars = 5000;
  static constexpr size_t kMaxRequestIdChars = 100;
  static constexpr size_t kMaxQueryChars = 200;
};

struct IntakeEnv {
  const Topology* topology = nullptr;
  const RuleBook* rules = nullptr;
  std::string node_unit;
  absl::CivilDay today;
};

// Returns the case to store: output-only fields cleared, text in NFC,
// defaults applied, the reception unit resolved as it was on the reception
// date, mass_case computed from the rule pack in force on that date.
absl::StatusOr<cases::v1::Case> PrepareNewCase(const cases::v1::CreateCaseRequest& request,
                                               const IntakeEnv& env);

// A complaint's filing-limit input: `start` (may be unset) not after
// `received`; each delay with an obstacle, evidence, first <= last day, inside
// [start, received]; at most 10 in all. `field` names the repeated field in
// errors ("case.filing_limit.delays").
absl::Status ValidateFilingDelays(
    const google::protobuf::RepeatedPtrField<cases::v1::FilingDelay>& delays,
    absl::string_view field, std::optional<absl::CivilDay> start, absl::CivilDay received);

// request_id: 1-100 printable ASCII characters.
absl::Status ValidateRequestId(absl::string_view request_id);

// Validates a text field: UTF-8, no control characters (newlines allowed when
// `multiline`), at most `max_chars` code points, non-empty when `required`.
absl::Status ValidateText(absl::string_view value, absl::string_view field, size_t max_chars,
                          bool required, bool multiline);

// "cases/{number}" -> number. INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<std::string> ParseCaseName(absl::string_view name, absl::string_view field);

// The anonymous-letter facts of `c` may be recorded: `c` is anonymous and
// the note fits; `field` names the input in errors.
absl::Status CheckAnonymousLetter(const cases::v1::Case& c, absl::string_view field);

// True for a 12-digit citizen identity number.
bool IsCitizenId(absl::string_view id);

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_INTAKE_H_
