#include "services/case/case_duplicates.h"

#include <algorithm>
#include <cstdlib>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/case/intake.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace reception {

using cases::v1::Case;

std::string CaseDuplicates::SearchText(const Case& c) const {
  // Protected identities are never indexed: a name search must not reveal
  // that someone denounced.
  std::string text;
  for (const auto& p : c.petitioners()) absl::StrAppend(&text, " ", p.full_name());
  absl::StrAppend(&text, " ", c.respondent().official_name(), " ",
                  c.respondent().official_position(), " ", c.content());
  return FoldForSearch(text);
}

absl::StatusOr<int> CaseDuplicates::GuidancesOnMatter(const WriteTxn& txn, const Case& c) const {
  int count = 0;
  std::string ref = c.repeats_case();
  for (int hops = 0; !ref.empty() && hops < 32; ++hops) {
    auto number = ParseCaseName(ref, "repeats_case");
    if (!number.ok()) break;
    RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.Load(&txn, *number));
    if (!rec) break;  // held by another node: not known here
    if (rec->case_().has_guidance()) ++count;
    ref = rec->case_().repeats_case();
  }
  return count;
}

void CaseDuplicates::Index(WriteTxn& txn, const Case& c, const std::string& search_text) const {
  const auto& f = records_.families();
  txn.Put(f.search, c.number(), absl::StrCat(absl::AsciiStrToLower(c.number()), " ", search_text));
  if (!c.identity_protected()) {
    for (const auto& key : CitizenKeys(c)) txn.Put(f.citizens, key, "");
  }
}

std::vector<std::string> CaseDuplicates::CitizenKeys(const Case& c) const {
  std::vector<std::string> keys;
  for (const auto& p : c.petitioners()) {
    if (p.citizen_id().empty()) continue;
    // A keyed hash: the raw ID is never a key, and the hash cannot be
    // reversed by trying the 10^12 possible IDs without the vault's key.
    const std::string fp =
        absl::BytesToHexString(d_.vault->Fingerprint(absl::StrCat("citizen:", p.citizen_id())))
            .substr(0, 32);
    keys.push_back(absl::StrCat(fp, "/", c.number()));
  }
  return keys;
}

absl::StatusOr<std::vector<std::string>> CaseDuplicates::Find(const Case& c) const {
  std::vector<std::string> out;
  if (c.petitioners().empty()) return out;
  const auto tokens_of = [](absl::string_view content) {
    std::vector<std::string> t = Tokens(FoldForSearch(content));
    return absl::flat_hash_set<std::string>(t.begin(), t.end());
  };
  const auto mine = tokens_of(c.content());
  const absl::CivilDay received = DayOf(c.received_date());
  absl::flat_hash_set<std::string> seen;
  Case probe = c;
  probe.set_number("");
  for (std::string key : CitizenKeys(probe)) {
    const std::string prefix = key;  // "fp/" (the number is empty)
    auto it = d_.store->NewIterator(records_.families().citizens);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      const std::string number(it->key().ToStringView().substr(prefix.size()));
      if (!seen.insert(number).second) continue;
      RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.Load(nullptr, number));
      if (!rec) continue;
      const Case& other = rec->case_();
      const int apart = static_cast<int>(std::abs(DayOf(other.received_date()) - received));
      if (apart > d_.duplicate_window_days) continue;
      const auto theirs = tokens_of(other.content());
      size_t common = 0;
      for (const auto& t : mine) common += theirs.contains(t);
      const size_t all = mine.size() + theirs.size() - common;
      if (all == 0 || common * 100 < static_cast<size_t>(d_.duplicate_min_similarity_percent) * all)
        continue;
      out.push_back(other.name());
    }
    if (!it->status().ok()) return absl::InternalError(it->status().ToString());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace reception
