#include "services/documents/form_book.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/civil_date.h"
#include "services/common/status.h"
#include "services/common/text.h"
#include "services/common/yaml_proto.h"

namespace reception::documents {

const std::vector<std::string>& KnownFields() {
  static const auto* fields = new std::vector<std::string>{
      // The issuing unit and the paper.
      "unit_name", "unit_name_upper", "parent_name_upper", "place", "number", "date", "date_words",
      // The matter as received.
      "case_number", "case_kind", "channel", "received_date", "petitioners", "petitioner_names",
      "people_count", "content", "attachments", "respondent", "previously_handled_by",
      "receipt_code", "lookup_address", "due_date",
      // Acceptance, refusal, guidance.
      "acceptance_basis", "acceptance_reference", "refusal_ground", "refusal_explanation",
      "competent_body", "guidance_note",
      // Transfer.
      "destination_unit", "transfer_reason",
      // Extension.
      "extension_step", "extension_days", "extension_reference", "extension_date", "new_due_date",
      // Minutes.
      "minutes_room", "minutes_text", "minutes_lock_time",
      // Decision.
      "decision_title", "decision_reference", "decision_date", "decision_outcome",
      "decision_summary", "publication_method", "publication_date", "publication_reference"};
  return *fields;
}

namespace {

// Calls `each(name)` for every "${name}" in text; false on a malformed one.
template <typename F>
bool ForEachField(absl::string_view text, F each) {
  size_t pos = 0;
  while ((pos = text.find("${", pos)) != absl::string_view::npos) {
    const size_t end = text.find('}', pos + 2);
    if (end == absl::string_view::npos) return false;
    each(text.substr(pos + 2, end - pos - 2));
    pos = end + 1;
  }
  return true;
}

bool Known(absl::string_view name) {
  const auto& known = KnownFields();
  return std::find(known.begin(), known.end(), name) != known.end();
}

}  // namespace

std::vector<std::string> FieldsOf(absl::string_view text) {
  std::vector<std::string> out;
  ForEachField(text, [&](absl::string_view name) { out.emplace_back(name); });
  return out;
}

absl::StatusOr<std::string> FillTemplate(absl::string_view text,
                                         const std::map<std::string, std::string>& fields) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t open = text.find("${", pos);
    if (open == absl::string_view::npos) break;
    const size_t close = text.find('}', open + 2);
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("unterminated ${ in \"", text, "\""));
    }
    const absl::string_view name = text.substr(open + 2, close - open - 2);
    if (!Known(name))
      return absl::InvalidArgumentError(absl::StrCat("unknown field ${", name, "}"));
    absl::StrAppend(&out, text.substr(pos, open - pos));
    if (auto it = fields.find(std::string(name)); it != fields.end()) {
      absl::StrAppend(&out, it->second);
    }
    pos = close + 1;
  }
  absl::StrAppend(&out, text.substr(pos));
  return out;
}

absl::StatusOr<FormBook> FormBook::FromProto(FormSet proto, absl::string_view source) {
  auto bad = [&](int i, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": forms[", i, "]: ", why));
  };
  std::vector<std::string> ids;
  for (int i = 0; i < proto.forms_size(); ++i) {
    const Form& f = proto.forms(i);
    if (f.id().empty()) return bad(i, "id is required");
    if (std::find(ids.begin(), ids.end(), f.id()) != ids.end()) {
      return bad(i, absl::StrCat("id ", f.id(), " is used twice"));
    }
    ids.push_back(f.id());
    if (f.kind() == cases::v1::DOCUMENT_KIND_UNSPECIFIED) return bad(i, "kind is required");
    if (f.title().empty()) return bad(i, "title is required");
    auto from = ToCivilDay(f.effective_from(), "effective_from");
    if (!from.ok()) return bad(i, std::string(from.status().message()));
    if (!IsUnset(f.effective_to())) {
      auto to = ToCivilDay(f.effective_to(), "effective_to");
      if (!to.ok()) return bad(i, std::string(to.status().message()));
      if (*to < *from) return bad(i, "effective_to is before effective_from");
    }
    std::vector<std::string> texts(f.paragraphs().begin(), f.paragraphs().end());
    texts.insert(texts.end(), f.recipients().begin(), f.recipients().end());
    texts.push_back(f.legal_basis());
    texts.push_back(f.subtitle());
    texts.push_back(f.title());
    for (const auto& t : texts) {
      if (!IsValidUtf8(t)) return bad(i, "text must be UTF-8");
      bool ok = true;
      std::string unknown;
      if (!ForEachField(t, [&](absl::string_view name) {
            if (!Known(name) && unknown.empty()) unknown = std::string(name);
          })) {
        ok = false;
      }
      if (!ok) return bad(i, absl::StrCat("unterminated ${ in \"", t, "\""));
      if (!unknown.empty()) {
        return bad(i, absl::StrCat("unknown field ${", unknown, "}; the fields are ",
                                   absl::StrJoin(KnownFields(), ", ")));
      }
    }
  }
  // Of the versions in force on a day the latest to start applies, so two
  // versions of a kind may not start the same day.
  for (int i = 0; i < proto.forms_size(); ++i) {
    for (int j = i + 1; j < proto.forms_size(); ++j) {
      const Form& a = proto.forms(i);
      const Form& b = proto.forms(j);
      if (a.kind() == b.kind() &&
          *ToCivilDay(a.effective_from(), "") == *ToCivilDay(b.effective_from(), "")) {
        return bad(j, absl::StrCat("starts the same day as ", a.id()));
      }
    }
  }
  FormBook book;
  book.proto_ = std::move(proto);
  return book;
}

absl::StatusOr<FormBook> FormBook::LoadFile(const std::string& path) {
  FormSet proto;
  if (auto s = LoadYamlFile(path, &proto); !s.ok()) return s;
  return FromProto(std::move(proto), path);
}

absl::StatusOr<const Form*> FormBook::FormOn(cases::v1::DocumentKind kind,
                                             absl::CivilDay day) const {
  const Form* found = nullptr;
  absl::CivilDay found_from;
  std::vector<std::string> versions;
  for (const Form& f : proto_.forms()) {
    if (f.kind() != kind) continue;
    const absl::CivilDay from = *ToCivilDay(f.effective_from(), "");
    versions.push_back(absl::StrCat(f.id(), " from ", FormatDate(from),
                                    IsUnset(f.effective_to()) ? "" : " to ",
                                    IsUnset(f.effective_to()) ? "" : FormatDate(f.effective_to())));
    if (from > day) continue;
    if (!IsUnset(f.effective_to()) && *ToCivilDay(f.effective_to(), "") < day) continue;
    // The latest version that has started wins.
    if (found == nullptr || from > found_from) {
      found = &f;
      found_from = from;
    }
  }
  if (found == nullptr) {
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "no ", cases::v1::DocumentKind_Name(kind), " form is in force on ", FormatDate(day),
            versions.empty() ? "; the form file has none of that kind"
                             : absl::StrCat("; there are: ", absl::StrJoin(versions, "; ")))),
        "NO_FORM_IN_FORCE");
  }
  return found;
}

}  // namespace reception::documents
