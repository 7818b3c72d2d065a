// Corrections of what intake recorded (UpdateCase, AIP-134): which fields an
// officer may correct in which state, the refusals that name the transition
// that changes a field instead, and the audit summary of old and new values.
// Pure: the registry validates the corrected case with intake's rules and
// writes it; nothing here touches the store.
#ifndef RECEPTION_SERVICES_CASE_CASE_CORRECTIONS_H_
#define RECEPTION_SERVICES_CASE_CASE_CORRECTIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/field_mask.pb.h"
#include "reception/cases/v1/case.pb.h"
#include "services/case/case_records.h"

namespace reception {

// The paths of `mask`, each one a field UpdateCase corrects; otherwise
// INVALID_ARGUMENT on "update_mask" naming the rule (output only, not a field
// of Case) or the transition that changes that field (ClassifyCase for the
// kind, RouteCase/TransferCase for the respondent's unit, a new case for the
// reception facts). Duplicates are dropped; at least one path.
absl::StatusOr<std::vector<std::string>> CorrectionPaths(const google::protobuf::FieldMask& mask);

// Copies the fields of `paths` from `from` (the request) onto `onto` (the
// whole case as stored, a protected identity opened), for intake's rules to
// validate the result.
void OverlayCorrections(const std::vector<std::string>& paths, const cases::v1::Case& from,
                        cases::v1::Case& onto);

// Applies the fields of `paths` from `validated` (intake's normalised form of
// the overlaid case) to `stored`. The petitioners keep their number; after
// acceptance (`accepted`) only their addresses and phones may change, and
// other paths are refused (FAILED_PRECONDITION naming the state). The change
// lists the paths that differ ("" summary and no fields: nothing changed);
// its summary gives each old and new value, citizen IDs masked, except for a
// protected identity (`protected_identity`), whose values are never written.
absl::StatusOr<CaseChange> ApplyCorrection(const std::vector<std::string>& paths,
                                           const cases::v1::Case& validated,
                                           cases::v1::Case& stored, bool accepted,
                                           bool protected_identity);

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_CASE_CORRECTIONS_H_
