#include "services/common/topology.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/civil_date.h"
#include "services/common/yaml_proto.h"

namespace reception {

absl::StatusOr<Topology> Topology::FromProto(config::v1::Topology proto, absl::string_view source) {
  Topology t;
  t.proto_ = std::move(proto);
  auto err = [&](int i, absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": units[", i, "] ", what));
  };
  if (t.proto_.units_size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": has no units"));
  }
  for (int i = 0; i < t.proto_.units_size(); ++i) {
    const Unit& u = t.proto_.units(i);
    if (u.code().empty()) return err(i, "code must not be empty");
    if (u.name().empty()) return err(i, absl::StrCat("(", u.code(), ") name must not be empty"));
    if (u.level() == type::v1::UNIT_LEVEL_UNSPECIFIED) {
      return err(i, absl::StrCat("(", u.code(), ") level must be set"));
    }
    if (!t.by_code_.emplace(u.code(), i).second) {
      return err(i, absl::StrCat("code ", u.code(), " is used twice"));
    }
    if (u.has_valid_from() && u.has_valid_to()) {
      auto from = ToCivilDay(u.valid_from(), "valid_from");
      auto to = ToCivilDay(u.valid_to(), "valid_to");
      if (!from.ok()) return err(i, from.status().message());
      if (!to.ok()) return err(i, to.status().message());
      if (*to < *from)
        return err(i, absl::StrCat("(", u.code(), ") valid_to is before valid_from"));
    }
  }
  int roots = 0;
  for (int i = 0; i < t.proto_.units_size(); ++i) {
    const Unit& u = t.proto_.units(i);
    if (u.parent_code().empty()) {
      ++roots;
    } else {
      const Unit* p = t.Find(u.parent_code());
      if (p == nullptr) {
        return err(i, absl::StrCat("(", u.code(), ") parent_code ", u.parent_code(),
                                   " is not a unit in the file"));
      }
      if (p->level() >= u.level()) {
        return err(i, absl::StrCat("(", u.code(), ") must be at a lower level than its parent ",
                                   p->code()));
      }
    }
    if (!u.successor_code().empty() && t.Find(u.successor_code()) == nullptr) {
      return err(i, absl::StrCat("(", u.code(), ") successor_code ", u.successor_code(),
                                 " is not a unit in the file"));
    }
    // Walk up: levels strictly decrease, so a cycle cannot exist, but bound
    // the walk anyway against a malformed file.
  }
  if (roots == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": has no root unit (one without parent_code)"));
  }
  return t;
}

absl::StatusOr<Topology> Topology::LoadFile(const std::string& path) {
  config::v1::Topology proto;
  auto s = LoadYamlFile(path, &proto);
  if (!s.ok()) return s;
  return FromProto(std::move(proto), path);
}

const Topology::Unit* Topology::Find(absl::string_view code) const {
  auto it = by_code_.find(code);
  return it == by_code_.end() ? nullptr : &proto_.units(it->second);
}

absl::StatusOr<const Topology::Unit*> Topology::InForce(absl::string_view code, absl::CivilDay day,
                                                        absl::string_view field) const {
  std::string current(code);
  for (int hops = 0; hops < 16; ++hops) {
    auto u = FindOn(current, day, field);
    if (u.ok()) return u;
    const Unit* known = Find(current);
    if (known == nullptr || known->successor_code().empty() ||
        !absl::IsFailedPrecondition(u.status())) {
      return u.status();
    }
    current = known->successor_code();
  }
  return absl::FailedPreconditionError(
      absl::StrCat(field, " ", code, ": the chain of merges does not end"));
}

absl::StatusOr<std::string> Topology::CommonAncestor(absl::string_view a, absl::string_view b,
                                                     absl::CivilDay day) const {
  auto chain = [&](absl::string_view code) -> absl::StatusOr<std::vector<std::string>> {
    std::vector<std::string> out;
    auto u = InForce(code, day);
    if (!u.ok()) return u.status();
    out.push_back((*u)->code());
    for (int hops = 0; hops < 32 && !(*u)->parent_code().empty(); ++hops) {
      u = InForce((*u)->parent_code(), day, "parent");
      if (!u.ok()) return u.status();
      if ((*u)->code() == out.back()) break;  // merged into itself: the chain ends
      out.push_back((*u)->code());
    }
    return out;
  };
  auto up_a = chain(a);
  if (!up_a.ok()) return up_a.status();
  auto up_b = chain(b);
  if (!up_b.ok()) return up_b.status();
  for (const std::string& x : *up_b) {
    if (std::find(up_a->begin(), up_a->end(), x) != up_a->end()) return x;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("units ", a, " and ", b, " share no ancestor in the topology \"", name(), "\""));
}

absl::StatusOr<const Topology::Unit*> Topology::FindOn(absl::string_view code, absl::CivilDay day,
                                                       absl::string_view field) const {
  const Unit* u = Find(code);
  if (u == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(field, " ", code, " is not a unit of the topology \"", name(), "\""));
  }
  if (u->has_valid_from()) {
    auto from = ToCivilDay(u->valid_from(), "valid_from");
    if (from.ok() && day < *from) {
      return absl::FailedPreconditionError(absl::StrCat(field, " ", code, " (", u->name(),
                                                        ") did not exist on ", FormatDate(day),
                                                        "; it exists from ", FormatDate(*from)));
    }
  }
  if (u->has_valid_to()) {
    auto to = ToCivilDay(u->valid_to(), "valid_to");
    if (to.ok() && day > *to) {
      std::string succ;
      if (!u->successor_code().empty()) {
        succ = absl::StrCat("; it was merged into ", u->successor_code());
      }
      return absl::FailedPreconditionError(
          absl::StrCat(field, " ", code, " (", u->name(), ") no longer existed on ",
                       FormatDate(day), " (it ended on ", FormatDate(*to), succ, ")"));
    }
  }
  return u;
}

bool Topology::IsWithin(absl::string_view code, absl::string_view ancestor) const {
  const Unit* u = Find(code);
  for (int guard = 0; u != nullptr && guard < 64; ++guard) {
    if (u->code() == ancestor) return true;
    if (u->parent_code().empty()) return false;
    u = Find(u->parent_code());
  }
  return false;
}

std::vector<std::string> Topology::Children(absl::string_view code) const {
  std::vector<std::string> out;
  for (const Unit& u : proto_.units()) {
    if (u.parent_code() == code) out.push_back(u.code());
  }
  return out;
}

}  // namespace reception
