#include "services/case/case_corrections.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/case/lifecycle.h"
#include "services/common/civil_date.h"
#include "services/common/status.h"

namespace reception {
namespace {

using cases::v1::Case;

// What UpdateCase corrects.
const std::vector<std::string>& Correctable() {
  static const auto* paths = new std::vector<std::string>{
      "petitioners",
      "representative_citizen_ids",
      "content",
      "attachments",
      "previously_handled_by",
      "respondent.official_name",
      "respondent.official_position",
      "respondent.act_reference",
      "respondent.act_date",
  };
  return *paths;
}

// Input fields UpdateCase does not correct, and what changes them instead.
const absl::flat_hash_map<std::string, std::string>& Refusals() {
  static const auto* refusals = [] {
    const std::string refile =
        "changes the legal meaning of the matter (what was received, when, how and about "
        "what): archive this case (ArchiveCase, reason OTHER) and register the matter again "
        "(CreateCase)";
    const std::string route =
        "decides which unit is competent: route the case (RouteCase) and transfer it "
        "(TransferCase)";
    return new absl::flat_hash_map<std::string, std::string>{
        {"kind", "is changed by ClassifyCase (kind), before acceptance"},
        {"complaint_round", refile},
        {"previous_case", refile},
        {"first_decision", refile},
        {"repeats_case", refile},
        {"anonymous", refile},
        {"channel", refile},
        {"forwarded_by", refile},
        {"received_date", refile},
        {"reception_unit", refile},
        {"people_count", refile},
        {"respondent",
         "must name the respondent's fields one by one (respondent.official_name, "
         "respondent.official_position, respondent.act_reference, "
         "respondent.act_date)"},
        {"respondent.unit_code", route},
        {"respondent.head_of_unit", route},
        {"filing_limit", "is changed by ClassifyCase (filing_start_date, filing_delays)"},
        {"anonymous_letter", "is recorded by ClassifyCase (anonymous_letter)"},
    };
  }();
  return *refusals;
}

std::string MaskId(const std::string& id) {
  if (id.size() <= 3) return id;
  return std::string(id.size() - 3, '*') + id.substr(id.size() - 3);
}

std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }

void Diff(std::vector<std::string>* out, const std::string& path, const std::string& before,
          const std::string& after) {
  if (before != after)
    out->push_back(absl::StrCat(path, ": ", Quoted(before), " -> ", Quoted(after)));
}

std::string Ids(const google::protobuf::RepeatedPtrField<std::string>& ids) {
  std::vector<std::string> masked;
  for (const auto& id : ids) masked.push_back(MaskId(id));
  return absl::StrCat("[", absl::StrJoin(masked, ", "), "]");
}

std::string Documents(const Case& c) {
  std::vector<std::string> names;
  for (const auto& a : c.attachments()) names.push_back(a.name());
  return absl::StrCat("[", absl::StrJoin(names, ", "), "]");
}

absl::Status NotAfterAcceptance(const Case& c, const std::string& what) {
  const std::string state(StateName(c.state()));
  return WithReason(
      WithPrecondition(
          absl::FailedPreconditionError(absl::StrCat(
              what, " may be corrected only before acceptance (the case is ", state,
              "; the notice of acceptance names the matter as it was accepted); after it only "
              "the petitioners' addresses and phones are corrected")),
          "STATE", state, "after acceptance UpdateCase corrects only addresses and phones"),
      "CORRECTION_NOT_ALLOWED");
}

}  // namespace

absl::StatusOr<std::vector<std::string>> CorrectionPaths(const google::protobuf::FieldMask& mask) {
  std::vector<std::string> out;
  for (const std::string& path : mask.paths()) {
    if (std::find(Correctable().begin(), Correctable().end(), path) != Correctable().end()) {
      if (std::find(out.begin(), out.end(), path) == out.end()) out.push_back(path);
      continue;
    }
    const std::string shown = path.substr(0, 64);
    const std::string head = path.substr(0, path.find('.'));
    std::string rule;
    if (auto it = Refusals().find(path); it != Refusals().end()) {
      rule = it->second;
    } else if (head == "respondent") {
      rule =
          "is not a field of the respondent that UpdateCase corrects (official_name, "
          "official_position, act_reference, act_date)";
    } else if (auto it = Refusals().find(head); it != Refusals().end()) {
      rule = it->second;
    } else if (std::find(Correctable().begin(), Correctable().end(), head) != Correctable().end()) {
      rule = absl::StrCat("names a part of ", head, ", which is corrected whole: use path ", head);
    } else if (Case::descriptor()->FindFieldByName(head) != nullptr) {
      rule = "is output only: the service sets it";
    } else {
      rule = "is not a field of Case";
    }
    return InvalidField("update_mask", absl::StrCat("path ", shown, " ", rule));
  }
  if (out.empty()) return InvalidField("update_mask", "must name at least one field to correct");
  return out;
}

void OverlayCorrections(const std::vector<std::string>& paths, const Case& from, Case& onto) {
  for (const std::string& path : paths) {
    if (path == "petitioners") {
      *onto.mutable_petitioners() = from.petitioners();
    } else if (path == "representative_citizen_ids") {
      *onto.mutable_representative_citizen_ids() = from.representative_citizen_ids();
    } else if (path == "content") {
      onto.set_content(from.content());
    } else if (path == "attachments") {
      *onto.mutable_attachments() = from.attachments();
    } else if (path == "previously_handled_by") {
      onto.set_previously_handled_by(from.previously_handled_by());
    } else if (path == "respondent.official_name") {
      onto.mutable_respondent()->set_official_name(from.respondent().official_name());
    } else if (path == "respondent.official_position") {
      onto.mutable_respondent()->set_official_position(from.respondent().official_position());
    } else if (path == "respondent.act_reference") {
      onto.mutable_respondent()->set_act_reference(from.respondent().act_reference());
    } else if (path == "respondent.act_date") {
      if (from.respondent().has_act_date()) {
        *onto.mutable_respondent()->mutable_act_date() = from.respondent().act_date();
      } else {
        onto.mutable_respondent()->clear_act_date();
      }
    }
  }
}

absl::StatusOr<CaseChange> ApplyCorrection(const std::vector<std::string>& paths,
                                           const Case& validated, Case& stored, bool accepted,
                                           bool protected_identity) {
  std::vector<std::string> lines;
  CaseChange change;
  for (const std::string& path : paths) {
    std::vector<std::string> diffs;
    if (path == "petitioners") {
      if (validated.petitioners_size() != stored.petitioners_size()) {
        return InvalidField("case.petitioners",
                            absl::StrCat("must keep its ", stored.petitioners_size(),
                                         " people: a correction fixes their details; another "
                                         "person files their own matter"));
      }
      for (int i = 0; i < stored.petitioners_size(); ++i) {
        const auto& was = stored.petitioners(i);
        const auto& now = validated.petitioners(i);
        const std::string at = absl::StrCat("petitioners[", i, "]");
        if (accepted && was.full_name() != now.full_name()) {
          return NotAfterAcceptance(stored, absl::StrCat("case.", at, ".full_name"));
        }
        if (accepted && was.citizen_id() != now.citizen_id()) {
          return NotAfterAcceptance(stored, absl::StrCat("case.", at, ".citizen_id"));
        }
        Diff(&diffs, at + ".full_name", was.full_name(), now.full_name());
        Diff(&diffs, at + ".citizen_id", MaskId(was.citizen_id()), MaskId(now.citizen_id()));
        if (was.citizen_id() != now.citizen_id() &&
            MaskId(was.citizen_id()) == MaskId(now.citizen_id())) {
          diffs.push_back(absl::StrCat(at, ".citizen_id: corrected (same last digits)"));
        }
        Diff(&diffs, at + ".address", was.address(), now.address());
        Diff(&diffs, at + ".phone", was.phone(), now.phone());
      }
      if (!diffs.empty()) *stored.mutable_petitioners() = validated.petitioners();
    } else if (accepted) {
      return NotAfterAcceptance(stored, absl::StrCat("case.", path));
    } else if (path == "representative_citizen_ids") {
      const std::string was = Ids(stored.representative_citizen_ids());
      const bool same = std::equal(stored.representative_citizen_ids().begin(),
                                   stored.representative_citizen_ids().end(),
                                   validated.representative_citizen_ids().begin(),
                                   validated.representative_citizen_ids().end());
      if (!same) {
        diffs.push_back(
            absl::StrCat(path, ": ", was, " -> ", Ids(validated.representative_citizen_ids())));
        *stored.mutable_representative_citizen_ids() = validated.representative_citizen_ids();
      }
    } else if (path == "content") {
      Diff(&diffs, path, stored.content(), validated.content());
      stored.set_content(validated.content());
    } else if (path == "attachments") {
      bool same = stored.attachments_size() == validated.attachments_size();
      for (int i = 0; same && i < stored.attachments_size(); ++i) {
        same = stored.attachments(i).SerializeAsString() ==
               validated.attachments(i).SerializeAsString();
      }
      if (!same) {
        diffs.push_back(absl::StrCat(path, ": ", Documents(stored), " -> ", Documents(validated)));
        *stored.mutable_attachments() = validated.attachments();
      }
    } else if (path == "previously_handled_by") {
      Diff(&diffs, path, stored.previously_handled_by(), validated.previously_handled_by());
      stored.set_previously_handled_by(validated.previously_handled_by());
    } else if (path == "respondent.official_name") {
      Diff(&diffs, path, stored.respondent().official_name(),
           validated.respondent().official_name());
      stored.mutable_respondent()->set_official_name(validated.respondent().official_name());
    } else if (path == "respondent.official_position") {
      Diff(&diffs, path, stored.respondent().official_position(),
           validated.respondent().official_position());
      stored.mutable_respondent()->set_official_position(
          validated.respondent().official_position());
    } else if (path == "respondent.act_reference") {
      Diff(&diffs, path, stored.respondent().act_reference(),
           validated.respondent().act_reference());
      stored.mutable_respondent()->set_act_reference(validated.respondent().act_reference());
    } else if (path == "respondent.act_date") {
      const auto show = [](const Case& c) {
        return c.respondent().has_act_date() ? FormatDate(c.respondent().act_date())
                                             : std::string("(none)");
      };
      Diff(&diffs, path, show(stored), show(validated));
      if (validated.respondent().has_act_date()) {
        *stored.mutable_respondent()->mutable_act_date() = validated.respondent().act_date();
      } else {
        stored.mutable_respondent()->clear_act_date();
      }
    }
    if (diffs.empty()) continue;
    change.fields.push_back(path);
    const bool secret =
        protected_identity && (path == "petitioners" || path == "representative_citizen_ids");
    if (secret) {
      lines.push_back(absl::StrCat(
          path, ": corrected (protected identity, sealed again; the values are not recorded)"));
    } else {
      lines.insert(lines.end(), diffs.begin(), diffs.end());
    }
  }
  if (!change.fields.empty()) change.summary = absl::StrJoin(lines, "; ");
  return change;
}

}  // namespace reception
