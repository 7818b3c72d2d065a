// The form templates of the papers (deploy/forms), loaded from a FormSet file
// and chosen by kind and the date of the act.
#ifndef RECEPTION_SERVICES_DOCUMENTS_FORM_BOOK_H_
#define RECEPTION_SERVICES_DOCUMENTS_FORM_BOOK_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/documents/forms.pb.h"

namespace reception::documents {

// The fields a template may name; a template naming another is refused at
// load time.
const std::vector<std::string>& KnownFields();

// Replaces each "${field}" of `text` by its value ("" when absent). Fails on
// an unterminated "${" or an unknown field name.
absl::StatusOr<std::string> FillTemplate(absl::string_view text,
                                         const std::map<std::string, std::string>& fields);
// The field names `text` uses, in order.
std::vector<std::string> FieldsOf(absl::string_view text);

// Immutable after construction; safe to share between threads.
class FormBook {
 public:
  // Validates: unique ids, a kind, an effective_from, a title, known fields,
  // no two versions of a kind starting the same day (of the versions in
  // force on a day, the latest to start applies).
  static absl::StatusOr<FormBook> FromProto(FormSet proto, absl::string_view source);
  static absl::StatusOr<FormBook> LoadFile(const std::string& path);

  // The version of `kind` in force on `day`; FAILED_PRECONDITION
  // NO_FORM_IN_FORCE naming the day and the versions there are.
  absl::StatusOr<const Form*> FormOn(cases::v1::DocumentKind kind, absl::CivilDay day) const;
  const FormSet& proto() const { return proto_; }

 private:
  FormSet proto_;
};

}  // namespace reception::documents

#endif  // RECEPTION_SERVICES_DOCUMENTS_FORM_BOOK_H_
