#include "services/case/intake.h"

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/common/civil_date.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace reception {
namespace {

using cases::v1::Case;

bool IsForwarded(cases::v1::Channel c) {
  return c == cases::v1::CHANNEL_FORWARDED_DEPUTY ||
         c == cases::v1::CHANNEL_FORWARDED_FATHERLAND_FRONT ||
         c == cases::v1::CHANNEL_FORWARDED_PRESS || c == cases::v1::CHANNEL_FORWARDED_LEADER;
}

void NormalizeInPlace(std::string* s) { *s = NormalizeNfc(*s); }

absl::Status ValidatePerson(type::v1::Person* p, const std::string& path, bool id_required) {
  RECEPTION_RETURN_IF_ERROR(
      ValidateText(p->full_name(), path + ".full_name", IntakeLimits::kMaxNameChars, true, false));
  if (!p->citizen_id().empty() || id_required) {
    if (!IsCitizenId(p->citizen_id())) {
      return InvalidField(path + ".citizen_id",
                          id_required && p->citizen_id().empty()
                              ? "is required by the rule pack in force on the reception date "
                                "and must be 12 digits"
                              : "must be 12 digits");
    }
  }
  RECEPTION_RETURN_IF_ERROR(
      ValidateText(p->address(), path + ".address", IntakeLimits::kMaxAddressChars, false, false));
  if (!p->phone().empty()) {
    bool ok = p->phone().size() <= IntakeLimits::kMaxPhoneChars;
    for (size_t i = 0; ok && i < p->phone().size(); ++i) {
      const char c = p->phone()[i];
      ok = absl::ascii_isdigit(c) || c == ' ' || (c == '+' && i == 0);
    }
    if (!ok) {
      return InvalidField(path + ".phone",
                          "must be at most 20 digits and spaces, with an optional leading '+'");
    }
  }
  NormalizeInPlace(p->mutable_full_name());
  NormalizeInPlace(p->mutable_address());
  return absl::OkStatus();
}

absl::Status ValidateCaseRef(absl::string_view value, absl::string_view field) {
  if (value.empty()) return absl::OkStatus();
  return ParseCaseName(value, field).status();
}

}  // namespace

bool IsCitizenId(absl::string_view id) {
  if (id.size() != 12) return false;
  for (char c : id) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

absl::Status ValidateRequestId(absl::string_view request_id) {
  if (request_id.empty()) {
    return InvalidField("request_id",
                        "must be set (a UUID chosen by the client makes retries safe)");
  }
  if (request_id.size() > IntakeLimits::kMaxRequestIdChars) {
    return InvalidField("request_id", "must be at most 100 characters");
  }
  for (char c : request_id) {
    if (c < 0x21 || c > 0x7e) {
      return InvalidField("request_id", "must be printable ASCII without spaces");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateText(absl::string_view value, absl::string_view field, size_t max_chars,
                          bool required, bool multiline) {
  const TextScan scan = ScanText(value, multiline);
  if (!scan.valid_utf8) return InvalidField(field, "must be valid UTF-8");
  if (required && absl::StripAsciiWhitespace(value).empty()) {
    return InvalidField(field, "must not be empty");
  }
  if (scan.control) {
    return InvalidField(field, multiline ? "must not contain control characters"
                                         : "must not contain control characters or line breaks");
  }
  if (scan.code_points > max_chars) {
    return InvalidField(field, absl::StrCat("must be at most ", max_chars, " characters"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseCaseName(absl::string_view name, absl::string_view field) {
  if (!absl::ConsumePrefix(&name, "cases/") || name.empty() || name.size() > 64) {
    return InvalidField(field, "must be a case name of the form cases/{number}");
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '-') {
      return InvalidField(field, "must be a case name of the form cases/{number}");
    }
  }
  return std::string(name);
}

absl::Status ValidateFilingDelays(
    const google::protobuf::RepeatedPtrField<cases::v1::FilingDelay>& delays,
    absl::string_view field, std::optional<absl::CivilDay> start, absl::CivilDay received) {
  if (delays.size() > 10) return InvalidField(field, "must list at most 10 delays");
  for (int i = 0; i < delays.size(); ++i) {
    const auto& d = delays[i];
    const std::string at = absl::StrCat(field, "[", i, "]");
    if (!cases::v1::FilingObstacle_IsValid(d.obstacle()) ||
        d.obstacle() == cases::v1::FILING_OBSTACLE_UNSPECIFIED) {
      return InvalidField(absl::StrCat(at, ".obstacle"),
                          "must be ILLNESS, NATURAL_DISASTER, HOSTILITIES, AWAY or OTHER");
    }
    if (IsUnset(d.start_date()) || IsUnset(d.end_date())) {
      return InvalidField(absl::StrCat(at, IsUnset(d.start_date()) ? ".start_date" : ".end_date"),
                          "is required (the obstacle's first and last day)");
    }
    RECEPTION_ASSIGN_OR_RETURN(absl::CivilDay first,
                               ToCivilDay(d.start_date(), absl::StrCat(at, ".start_date")));
    RECEPTION_ASSIGN_OR_RETURN(absl::CivilDay last,
                               ToCivilDay(d.end_date(), absl::StrCat(at, ".end_date")));
    if (last < first)
      return InvalidField(absl::StrCat(at, ".end_date"), "must not be before its start_date");
    if (last > received) {
      return InvalidField(absl::StrCat(at, ".end_date"), "must not be after case.received_date");
    }
    if (start && first < *start) {
      return InvalidField(
          absl::StrCat(at, ".start_date"),
          "must not be before the filing limit's start_date (days before it do not count anyway)");
    }
    RECEPTION_RETURN_IF_ERROR(ValidateText(d.evidence_reference(),
                                           absl::StrCat(at, ".evidence_reference"),
                                           IntakeLimits::kMaxReferenceChars, true, false));
    RECEPTION_RETURN_IF_ERROR(ValidateText(d.note(), absl::StrCat(at, ".note"),
                                           IntakeLimits::kMaxNoteChars,
                                           d.obstacle() == cases::v1::FILING_OBSTACLE_OTHER, true));
  }
  return absl::OkStatus();
}

absl::Status CheckAnonymousLetter(const Case& c, absl::string_view field) {
  if (!c.anonymous()) {
    return InvalidField(field, "applies only to anonymous letters (case.anonymous)");
  }
  return ValidateText(c.anonymous_letter().evidence_note(), absl::StrCat(field, ".evidence_note"),
                      IntakeLimits::kMaxNoteChars, false, true);
}

absl::StatusOr<Case> PrepareNewCase(const cases::v1::CreateCaseRequest& request,
                                    const IntakeEnv& env) {
  if (!request.has_case_()) return InvalidField("case", "must be set");
  const Case& in = request.case_();
  Case c;
  // Only the input fields are copied: output-only fields are ignored.
  c.set_kind(in.kind());
  c.set_complaint_round(in.complaint_round());
  c.set_previous_case(in.previous_case());
  if (in.has_first_decision()) *c.mutable_first_decision() = in.first_decision();
  c.set_repeats_case(in.repeats_case());
  c.set_anonymous(in.anonymous());
  if (in.has_anonymous_letter()) *c.mutable_anonymous_letter() = in.anonymous_letter();
  c.set_channel(in.channel());
  c.set_forwarded_by(in.forwarded_by());
  *c.mutable_petitioners() = in.petitioners();
  *c.mutable_representative_citizen_ids() = in.representative_citizen_ids();
  c.set_people_count(in.people_count());
  if (in.has_respondent()) *c.mutable_respondent() = in.respondent();
  c.set_content(in.content());
  *c.mutable_attachments() = in.attachments();
  if (in.has_reception_unit()) *c.mutable_reception_unit() = in.reception_unit();
  if (in.has_received_date()) *c.mutable_received_date() = in.received_date();
  c.set_previously_handled_by(in.previously_handled_by());
  if (in.has_filing_limit()) {
    *c.mutable_filing_limit()->mutable_start_date() = in.filing_limit().start_date();
    *c.mutable_filing_limit()->mutable_delays() = in.filing_limit().delays();
    if (IsUnset(c.filing_limit().start_date())) c.mutable_filing_limit()->clear_start_date();
  }

  if (!cases::v1::CaseKind_IsValid(c.kind()) || c.kind() == cases::v1::CASE_KIND_UNSPECIFIED) {
    return InvalidField("case.kind", "must be one of COMPLAINT, DENUNCIATION, PETITION, FEEDBACK");
  }
  const bool complaint = c.kind() == cases::v1::CASE_KIND_COMPLAINT;
  if (complaint) {
    if (c.complaint_round() != cases::v1::COMPLAINT_ROUND_FIRST &&
        c.complaint_round() != cases::v1::COMPLAINT_ROUND_SECOND) {
      return InvalidField("case.complaint_round", "must be FIRST or SECOND for a complaint");
    }
    if (c.complaint_round() == cases::v1::COMPLAINT_ROUND_SECOND && c.previous_case().empty() &&
        !c.has_first_decision()) {
      return InvalidField("case.previous_case",
                          "must name the first-time complaint case for a second-time complaint "
                          "(or case.first_decision the first decision made outside the system)");
    }
    if (!c.previous_case().empty() && c.has_first_decision()) {
      return InvalidField("case.first_decision",
                          "must be unset when case.previous_case names the first-time complaint");
    }
  } else {
    if (c.complaint_round() != cases::v1::COMPLAINT_ROUND_UNSPECIFIED) {
      return InvalidField("case.complaint_round", "must be unset unless kind is COMPLAINT");
    }
    if (!c.previous_case().empty()) {
      return InvalidField("case.previous_case", "applies only to second-time complaints");
    }
  }
  if (complaint && c.complaint_round() == cases::v1::COMPLAINT_ROUND_FIRST &&
      !c.previous_case().empty()) {
    return InvalidField("case.previous_case", "applies only to second-time complaints");
  }
  if (c.has_first_decision() && c.complaint_round() != cases::v1::COMPLAINT_ROUND_SECOND) {
    return InvalidField("case.first_decision", "applies only to second-time complaints");
  }
  if (c.has_first_decision()) {
    auto* fd = c.mutable_first_decision();
    RECEPTION_RETURN_IF_ERROR(ValidateText(fd->document_number(),
                                           "case.first_decision.document_number",
                                           IntakeLimits::kMaxReferenceChars, true, false));
    RECEPTION_RETURN_IF_ERROR(ValidateText(fd->issued_by(), "case.first_decision.issued_by",
                                           IntakeLimits::kMaxBodyChars, true, false));
    if (!fd->has_date()) return InvalidField("case.first_decision.date", "must be set");
    RECEPTION_RETURN_IF_ERROR(ToCivilDay(fd->date(), "case.first_decision.date").status());
    NormalizeInPlace(fd->mutable_document_number());
    NormalizeInPlace(fd->mutable_issued_by());
  }
  RECEPTION_RETURN_IF_ERROR(ValidateCaseRef(c.previous_case(), "case.previous_case"));
  RECEPTION_RETURN_IF_ERROR(ValidateCaseRef(c.repeats_case(), "case.repeats_case"));
  if (c.anonymous() && c.kind() != cases::v1::CASE_KIND_DENUNCIATION) {
    return InvalidField(
        "case.anonymous",
        "applies only to denunciations; complaints and petitions need a named author");
  }
  if (c.has_anonymous_letter()) {
    RECEPTION_RETURN_IF_ERROR(CheckAnonymousLetter(c, "case.anonymous_letter"));
    NormalizeInPlace(c.mutable_anonymous_letter()->mutable_evidence_note());
  }
  if (!cases::v1::Channel_IsValid(c.channel()) || c.channel() == cases::v1::CHANNEL_UNSPECIFIED) {
    return InvalidField("case.channel", "must be set");
  }
  if (IsForwarded(c.channel())) {
    RECEPTION_RETURN_IF_ERROR(ValidateText(c.forwarded_by(), "case.forwarded_by",
                                           IntakeLimits::kMaxBodyChars, true, false));
  } else if (!c.forwarded_by().empty()) {
    return InvalidField("case.forwarded_by", "applies only to forwarded channels");
  }
  NormalizeInPlace(c.mutable_forwarded_by());

  // The reception date decides the unit as it was and the rule pack.
  if (!c.has_received_date()) return InvalidField("case.received_date", "must be set");
  RECEPTION_ASSIGN_OR_RETURN(absl::CivilDay received,
                             ToCivilDay(c.received_date(), "case.received_date"));
  if (received > env.today) {
    return InvalidField("case.received_date", absl::StrCat("must not be in the future (today is ",
                                                           FormatDate(env.today), ")"));
  }
  RECEPTION_ASSIGN_OR_RETURN(const RuleBook::Pack* pack, env.rules->PackOn(received));
  if (c.has_first_decision() &&
      ToCivilDay(c.first_decision().date(), "case.first_decision.date").value() > received) {
    return InvalidField("case.first_decision.date", "must not be after case.received_date");
  }

  // Petitioners.
  if (c.anonymous()) {
    if (c.petitioners_size() > 0) {
      return InvalidField("case.petitioners", "must be empty for an anonymous denunciation");
    }
  } else if (c.petitioners_size() == 0) {
    return InvalidField("case.petitioners", "must name at least one person");
  }
  if (c.petitioners_size() > IntakeLimits::kMaxPetitioners) {
    return InvalidField("case.petitioners", "must have at most 500 entries");
  }
  absl::flat_hash_set<std::string> ids;
  for (int i = 0; i < c.petitioners_size(); ++i) {
    const std::string path = absl::StrCat("case.petitioners[", i, "]");
    RECEPTION_RETURN_IF_ERROR(
        ValidatePerson(c.mutable_petitioners(i), path, pack->intake().citizen_id_required()));
    const std::string& id = c.petitioners(i).citizen_id();
    if (!id.empty() && !ids.insert(id).second) {
      return InvalidField(path + ".citizen_id", "appears twice among the petitioners");
    }
  }
  if (c.people_count() < 0 || c.people_count() > IntakeLimits::kMaxPeople) {
    return InvalidField("case.people_count", "must be between 0 and 100000");
  }
  if (c.people_count() == 0) c.set_people_count(std::max(1, c.petitioners_size()));
  if (c.people_count() < c.petitioners_size()) {
    return InvalidField(
        "case.people_count",
        absl::StrCat("must be at least the number of petitioners (", c.petitioners_size(), ")"));
  }
  c.set_mass_case(c.people_count() >= pack->intake().mass_case_min_people());
  absl::flat_hash_set<std::string> reps;
  for (int i = 0; i < c.representative_citizen_ids_size(); ++i) {
    const std::string path = absl::StrCat("case.representative_citizen_ids[", i, "]");
    const std::string& id = c.representative_citizen_ids(i);
    if (!IsCitizenId(id)) return InvalidField(path, "must be 12 digits");
    if (!ids.contains(id))
      return InvalidField(path, "must be the citizen ID of one of the petitioners");
    if (!reps.insert(id).second) return InvalidField(path, "appears twice");
  }
  if (c.representative_citizen_ids_size() > 0) {
    if (!c.mass_case()) {
      return InvalidField(
          "case.representative_citizen_ids",
          absl::StrCat("apply only to mass cases (", pack->intake().mass_case_min_people(),
                       " or more people under rule pack ", pack->id(), ")"));
    }
    const int max = RuleBook::MaxRepresentatives(*pack, c.people_count());
    if (max >= 0 && c.representative_citizen_ids_size() > max) {
      return InvalidField(
          "case.representative_citizen_ids",
          absl::StrCat("has ", c.representative_citizen_ids_size(),
                       " representatives; a delegation of ", c.people_count(),
                       " people may choose at most ", max, " (rule pack ", pack->id(), ")"));
    }
  }

  // Respondent.
  auto* r = c.mutable_respondent();
  if (r->unit_code().empty() && r->official_name().empty()) {
    return InvalidField("case.respondent", "must name a unit_code or an official_name");
  }
  if (!r->unit_code().empty() && env.topology->Find(r->unit_code()) == nullptr) {
    return InvalidField(
        "case.respondent.unit_code",
        absl::StrCat("\"", r->unit_code().substr(0, 32), "\" is not a unit of the topology"));
  }
  RECEPTION_RETURN_IF_ERROR(ValidateText(r->official_name(), "case.respondent.official_name",
                                         IntakeLimits::kMaxNameChars, false, false));
  RECEPTION_RETURN_IF_ERROR(ValidateText(r->official_position(),
                                         "case.respondent.official_position",
                                         IntakeLimits::kMaxNameChars, false, false));
  RECEPTION_RETURN_IF_ERROR(ValidateText(r->act_reference(), "case.respondent.act_reference",
                                         IntakeLimits::kMaxReferenceChars, false, false));
  if (r->has_act_date()) {
    RECEPTION_ASSIGN_OR_RETURN(absl::CivilDay act,
                               ToCivilDay(r->act_date(), "case.respondent.act_date"));
    if (act > received) {
      return InvalidField("case.respondent.act_date", "must not be after case.received_date");
    }
  }
  NormalizeInPlace(r->mutable_official_name());
  NormalizeInPlace(r->mutable_official_position());

  // The complainant's filing limit (judged by the registry).
  if (c.has_filing_limit()) {
    if (!complaint) {
      return InvalidField("case.filing_limit",
                          "applies to complaints only (Law on Complaints Art 9)");
    }
    std::optional<absl::CivilDay> start;
    if (c.filing_limit().has_start_date()) {
      RECEPTION_ASSIGN_OR_RETURN(
          start, ToCivilDay(c.filing_limit().start_date(), "case.filing_limit.start_date"));
      if (*start > received) {
        return InvalidField("case.filing_limit.start_date", "must not be after case.received_date");
      }
    }
    RECEPTION_RETURN_IF_ERROR(ValidateFilingDelays(c.filing_limit().delays(),
                                                   "case.filing_limit.delays", start, received));
    for (auto& d : *c.mutable_filing_limit()->mutable_delays()) {
      NormalizeInPlace(d.mutable_evidence_reference());
      NormalizeInPlace(d.mutable_note());
    }
  }

  // Content and documents.
  if (c.content().size() > IntakeLimits::kMaxContentBytes) {
    return InvalidField("case.content", "must be at most 20000 bytes");
  }
  RECEPTION_RETURN_IF_ERROR(
      ValidateText(c.content(), "case.content", IntakeLimits::kMaxContentBytes, true, true));
  NormalizeInPlace(c.mutable_content());
  RECEPTION_RETURN_IF_ERROR(ValidateText(c.previously_handled_by(), "case.previously_handled_by",
                                         IntakeLimits::kMaxBodyChars, false, false));
  NormalizeInPlace(c.mutable_previously_handled_by());
  if (c.attachments_size() > IntakeLimits::kMaxAttachments) {
    return InvalidField("case.attachments", "must have at most 100 entries");
  }
  for (int i = 0; i < c.attachments_size(); ++i) {
    const std::string path = absl::StrCat("case.attachments[", i, "]");
    auto* a = c.mutable_attachments(i);
    RECEPTION_RETURN_IF_ERROR(ValidateText(a->name(), path + ".name",
                                           IntakeLimits::kMaxAttachmentNameChars, true, false));
    const auto slash = a->media_type().find('/');
    if (a->media_type().size() > 127 || slash == std::string::npos || slash == 0 ||
        slash + 1 == a->media_type().size() || !absl::c_all_of(a->media_type(), [](char ch) {
          return absl::ascii_isalnum(ch) || ch == '/' || ch == '.' || ch == '+' || ch == '-';
        })) {
      return InvalidField(path + ".media_type", "must be a media type such as application/pdf");
    }
    if (a->size_bytes() < 0 || a->size_bytes() > IntakeLimits::kMaxAttachmentBytes) {
      return InvalidField(path + ".size_bytes", "must be between 0 and 2147483648");
    }
    if (a->sha256().size() != 64 || !absl::c_all_of(a->sha256(), [](char ch) {
          return absl::ascii_isdigit(ch) || (ch >= 'a' && ch <= 'f');
        })) {
      return InvalidField(path + ".sha256", "must be 64 lowercase hexadecimal digits");
    }
    NormalizeInPlace(a->mutable_name());
  }

  // Reception unit: this node's unit or one below it, as it was that day.
  std::string unit = c.reception_unit().code();
  if (unit.empty()) unit = env.node_unit;
  auto found = env.topology->FindOn(unit, received, "case.reception_unit.code");
  if (absl::IsNotFound(found.status())) {
    return absl::InvalidArgumentError(found.status().message());
  }
  if (!found.ok()) return found.status();
  const Topology::Unit* u = *found;
  if (!env.topology->IsWithin(u->code(), env.node_unit)) {
    return absl::PermissionDeniedError(absl::StrCat("case.reception_unit.code ", u->code(),
                                                    " is not this node's unit ", env.node_unit,
                                                    " or a unit below it"));
  }
  auto* ref = c.mutable_reception_unit();
  ref->set_code(u->code());
  ref->set_name(u->name());
  ref->set_level(u->level());
  *ref->mutable_as_of() = ToProtoDate(received);
  return c;
}

}  // namespace reception
