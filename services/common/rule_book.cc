#include "services/common/rule_book.h"

#include <algorithm>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "services/common/civil_date.h"
#include "services/common/yaml_proto.h"

namespace reception {
namespace {

absl::Status ValidateDeadlines(const config::v1::RulePack& p) {
  absl::flat_hash_set<std::string> ids, keys;
  for (int i = 0; i < p.deadlines_size(); ++i) {
    const config::v1::DeadlineRule& r = p.deadlines(i);
    auto err = [&](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat("deadlines[", i, "] (", r.id(), ") ", what));
    };
    if (r.id().empty()) return err("id must not be empty");
    if (!ids.insert(r.id()).second) return err("id is used twice in the pack");
    if (r.step() == cases::v1::DEADLINE_STEP_UNSPECIFIED) return err("step must be set");
    if (r.basis() == cases::v1::DAY_BASIS_UNSPECIFIED) return err("basis must be set");
    if (r.source().empty()) return err("source must name the legal source");
    for (int d : {r.days(), r.complex_days(), r.remote_days(), r.remote_complex_days()}) {
      if (d < 0 || d > 3660) return err("days must be between 1 and 3660");
    }
    if (r.days() == 0) return err("days must be between 1 and 3660");
    absl::flat_hash_set<int> complexities;
    for (const auto& e : r.extensions()) {
      if (e.max_count() < 1 || e.max_days() < 1 || e.max_days() > 3660) {
        return err("extensions need max_count >= 1 and max_days between 1 and 3660");
      }
      if (!complexities.insert(e.complexity()).second) {
        return err("extensions list a complexity twice");
      }
    }
    if (!keys.insert(absl::StrCat(r.step(), "/", r.kind(), "/", r.complaint_round())).second) {
      return err("repeats the step, kind and complaint round of another rule");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateJurisdiction(const config::v1::RulePack& p) {
  absl::flat_hash_set<std::string> ids, keys;
  for (int i = 0; i < p.jurisdiction_size(); ++i) {
    const config::v1::JurisdictionRule& r = p.jurisdiction(i);
    auto err = [&](absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat("jurisdiction[", i, "] (", r.id(), ") ", what));
    };
    if (r.id().empty()) return err("id must not be empty");
    if (!ids.insert(r.id()).second) return err("id is used twice in the pack");
    if (r.competent() == config::v1::COMPETENT_BODY_UNSPECIFIED)
      return err("competent must be set");
    if (r.source().empty()) return err("source must name the legal source");
    if (!keys.insert(absl::StrCat(r.kind(), "/", r.complaint_round())).second) {
      return err("repeats the kind and complaint round of another rule");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateScheduling(const config::v1::RulePack& p) {
  absl::flat_hash_set<std::string> ids;
  absl::flat_hash_set<int> levels;
  for (int i = 0; i < p.reception_frequency_size(); ++i) {
    const config::v1::ReceptionFrequencyRule& r = p.reception_frequency(i);
    auto err = [&](absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat("reception_frequency[", i, "] (", r.id(), ") ", what));
    };
    if (r.id().empty()) return err("id must not be empty");
    if (!ids.insert(r.id()).second) return err("id is used twice in the pack");
    if (r.level() == type::v1::UNIT_LEVEL_UNSPECIFIED) return err("level must be set");
    if (!levels.insert(r.level()).second) return err("repeats the level of another rule");
    if (r.min_days() < 1 || r.min_days() > 31) return err("min_days must be 1-31");
    if (r.per() == config::v1::RECEPTION_PERIOD_UNSPECIFIED)
      return err("per must be week or month");
    if (r.per() == config::v1::RECEPTION_PERIOD_WEEK && r.min_days() > 7)
      return err("min_days must be at most 7 a week");
    if (r.source().empty()) return err("source must name the legal source");
  }
  if (p.has_reporting()) {
    if (p.reporting().quarter_start_day() < 1 || p.reporting().quarter_start_day() > 28) {
      return absl::InvalidArgumentError("reporting.quarter_start_day must be 1-28");
    }
    if (p.reporting().source().empty())
      return absl::InvalidArgumentError("reporting.source must name the legal source");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RuleBook> RuleBook::FromProto(config::v1::RuleSet proto, absl::string_view source) {
  if (proto.packs_size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": packs must not be empty"));
  }
  absl::flat_hash_set<std::string> ids;
  for (int i = 0; i < proto.packs_size(); ++i) {
    const Pack& p = proto.packs(i);
    auto err = [&](absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": packs[", i, "] (", p.id(), ") ", what));
    };
    if (p.id().empty()) return err("id must not be empty");
    if (!ids.insert(p.id()).second) return err("id is used twice");
    if (!p.has_effective_from()) return err("effective_from must be set");
    auto day = ToCivilDay(p.effective_from(), "effective_from");
    if (!day.ok()) return err(day.status().message());
    if (!p.has_intake()) return err("intake must be set");
    if (p.intake().mass_case_min_people() < 2) {
      return err("intake.mass_case_min_people must be at least 2");
    }
    if (p.intake().representative_limits_size() == 0) {
      return err("intake.representative_limits must not be empty");
    }
    for (const auto& l : p.intake().representative_limits()) {
      if (l.min_people() < 1 || l.max_representatives() < 1 ||
          (l.max_people() != 0 && l.max_people() < l.min_people())) {
        return err("intake.representative_limits has a limit with a bad range");
      }
    }
    if (p.intake().has_anonymous_letters()) {
      const auto& a = p.intake().anonymous_letters();
      if (a.handled_as() != "information_for_inspection" && a.handled_as() != "denunciation") {
        return err(
            "intake.anonymous_letters.handled_as must be information_for_inspection or "
            "denunciation");
      }
      if (a.source().empty()) return err("intake.anonymous_letters.source must be set");
    }
    std::set<int> grounds;
    for (const auto& g : p.refusal_grounds()) {
      if (g.ground() == cases::v1::REFUSAL_GROUND_UNSPECIFIED) {
        return err("refusal_grounds has a rule without a ground");
      }
      if (!grounds.insert(g.ground()).second) {
        return err(absl::StrCat("refusal_grounds lists ", cases::v1::RefusalGround_Name(g.ground()),
                                " twice"));
      }
      if (g.source().empty()) {
        return err(absl::StrCat("refusal_grounds: ", cases::v1::RefusalGround_Name(g.ground()),
                                " needs its source"));
      }
    }
    if (auto st = ValidateDeadlines(p); !st.ok()) return err(st.message());
    if (auto st = ValidateJurisdiction(p); !st.ok()) return err(st.message());
    if (auto st = ValidateScheduling(p); !st.ok()) return err(st.message());
  }
  std::sort(proto.mutable_packs()->begin(), proto.mutable_packs()->end(),
            [](const Pack& a, const Pack& b) {
              return FormatDate(a.effective_from()) < FormatDate(b.effective_from());
            });
  for (int i = 1; i < proto.packs_size(); ++i) {
    if (FormatDate(proto.packs(i).effective_from()) ==
        FormatDate(proto.packs(i - 1).effective_from())) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": packs ", proto.packs(i - 1).id(),
                                                     " and ", proto.packs(i).id(),
                                                     " take effect on the same day"));
    }
  }
  RuleBook book;
  book.proto_ = std::move(proto);
  return book;
}

absl::StatusOr<RuleBook> RuleBook::LoadFile(const std::string& path) {
  config::v1::RuleSet proto;
  auto s = LoadYamlFile(path, &proto);
  if (!s.ok()) return s;
  return FromProto(std::move(proto), path);
}

absl::StatusOr<const RuleBook::Pack*> RuleBook::PackOn(absl::CivilDay day) const {
  const Pack* found = nullptr;
  for (const Pack& p : proto_.packs()) {
    absl::CivilDay from(p.effective_from().year(), p.effective_from().month(),
                        p.effective_from().day());
    if (from <= day) found = &p;
  }
  if (found == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no rule pack is in force on ", FormatDate(day), "; the earliest takes effect on ",
        FormatDate(proto_.packs(0).effective_from())));
  }
  return found;
}

const RuleBook::Pack* RuleBook::FindPack(absl::string_view id) const {
  for (const Pack& p : proto_.packs()) {
    if (p.id() == id) return &p;
  }
  return nullptr;
}

int RuleBook::MaxRepresentatives(const Pack& pack, int people) {
  if (people < pack.intake().mass_case_min_people()) return -1;
  for (const auto& l : pack.intake().representative_limits()) {
    if (people >= l.min_people() && (l.max_people() == 0 || people <= l.max_people())) {
      return l.max_representatives();
    }
  }
  return -1;
}

}  // namespace reception
