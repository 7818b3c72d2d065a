#include "services/case/case_duplicates.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/case/intake.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace reception {

using cases::v1::Case;

absl::StatusOr<int> CaseDuplicates::GuidancesOnMatter(const WriteTxn* txn, const Case& c) const {
  int count = 0;
  std::string ref = c.repeats_case();
  for (int hops = 0; !ref.empty() && hops < 32; ++hops) {
    auto number = ParseCaseName(ref, "repeats_case");
    if (!number.ok()) break;
    RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.Load(txn, *number));
    if (!rec) break;  // held by another node: not known here
    if (rec->case_().has_guidance()) ++count;
    ref = rec->case_().repeats_case();
  }
  return count;
}

absl::StatusOr<std::string> CaseDuplicates::GuidanceRefusal(const WriteTxn* txn, const Case& c,
                                                            absl::CivilDay day) const {
  if (c.repeats_case().empty()) return std::string();
  RECEPTION_ASSIGN_OR_RETURN(const RuleBook::Pack* pack, d_.rules->PackOn(day));
  const int max = pack->intake().max_guidances_per_matter();
  if (max <= 0) return std::string();
  RECEPTION_ASSIGN_OR_RETURN(int earlier, GuidancesOnMatter(txn, c));
  if (earlier < max) return std::string();
  return absl::StrCat("the matter (see ", c.repeats_case(), ") was already guided ", earlier,
                      " time(s) and rule pack ", pack->id(), " allows ", max,
                      "; archive it with reason ALREADY_GUIDED");
}

namespace {

// The content's distinct folded words as sorted 32-bit hashes (SipHash-2-4
// from libsodium with a fixed key: stable across processes and versions).
std::vector<uint32_t> TokenHashes(absl::string_view folded) {
  static const unsigned char kKey[crypto_shorthash_KEYBYTES] = {
      'r', 'e', 'c', 'e', 'p', 't', 'i', 'o', 'n', '-', 'd', 'u', 'p', 'l', 'i', 'c'};
  std::vector<uint32_t> out;
  for (absl::string_view token : absl::StrSplit(folded, ' ', absl::SkipEmpty())) {
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, reinterpret_cast<const unsigned char*>(token.data()), token.size(), kKey);
    uint32_t v;
    std::memcpy(&v, h, sizeof v);
    out.push_back(v);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

int64_t DaysSinceEpoch(absl::CivilDay d) { return d - absl::CivilDay(1970, 1, 1); }

}  // namespace

CaseDuplicates::Profile CaseDuplicates::ProfileOf(const Case& c, bool protect) const {
  Profile p;
  const std::string content = FoldForSearch(c.content());
  p.content_tokens = TokenHashes(content);
  // Protected identities are never indexed: a name search must not reveal
  // that someone denounced.
  std::string people;
  if (!protect) {
    for (const auto& person : c.petitioners()) absl::StrAppend(&people, " ", person.full_name());
  }
  absl::StrAppend(&people, " ", c.respondent().official_name(), " ",
                  c.respondent().official_position());
  p.search_text = FoldForSearch(people);
  if (!content.empty()) absl::StrAppend(&p.search_text, p.search_text.empty() ? "" : " ", content);
  if (!protect) {
    for (const auto& person : c.petitioners()) {
      if (person.citizen_id().empty()) continue;
      // A keyed hash: the raw ID is never a key, and the hash cannot be
      // reversed by trying the 10^12 possible IDs without the vault's key.
      p.citizen_prefixes.push_back(
          absl::StrCat(absl::BytesToHexString(
                           d_.vault->Fingerprint(absl::StrCat("citizen:", person.citizen_id())))
                           .substr(0, 32),
                       "/"));
    }
  }
  return p;
}

void CaseDuplicates::Index(WriteTxn& txn, const Case& c, const Profile& profile) const {
  const auto& f = records_.families();
  txn.Put(f.search, c.number(),
          absl::StrCat(absl::AsciiStrToLower(c.number()), " ", profile.search_text));
  if (c.identity_protected() || profile.citizen_prefixes.empty()) return;
  cases::storage::CitizenIndexEntry entry;
  entry.set_received_day(DaysSinceEpoch(DayOf(c.received_date())));
  *entry.mutable_content_tokens() = {profile.content_tokens.begin(), profile.content_tokens.end()};
  const std::string value = entry.SerializeAsString();
  for (const auto& prefix : profile.citizen_prefixes) {
    txn.Put(f.citizens, absl::StrCat(prefix, c.number()), value);
  }
}

absl::StatusOr<std::optional<cases::storage::CitizenIndexEntry>> CaseDuplicates::EntryOf(
    absl::string_view value, const std::string& number) const {
  cases::storage::CitizenIndexEntry entry;
  if (!value.empty()) {
    if (!entry.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return absl::DataLossError(
          absl::StrCat("citizen index entry of ", number, " does not parse"));
    }
    return entry;
  }
  RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.Load(nullptr, number));
  if (!rec) return std::nullopt;
  entry.set_received_day(DaysSinceEpoch(DayOf(rec->case_().received_date())));
  const std::vector<uint32_t> tokens = TokenHashes(FoldForSearch(rec->case_().content()));
  *entry.mutable_content_tokens() = {tokens.begin(), tokens.end()};
  return entry;
}

absl::StatusOr<std::vector<std::string>> CaseDuplicates::Find(const Profile& profile,
                                                              absl::CivilDay received) const {
  std::vector<std::string> out;
  absl::flat_hash_set<std::string> seen;
  const auto& mine = profile.content_tokens;
  const int64_t day = DaysSinceEpoch(received);
  for (const std::string& prefix : profile.citizen_prefixes) {
    auto it = d_.store->NewPrefixIterator(records_.families().citizens);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      const std::string number(it->key().ToStringView().substr(prefix.size()));
      if (!seen.insert(number).second) continue;
      RECEPTION_ASSIGN_OR_RETURN(
          auto entry, EntryOf(absl::string_view(it->value().data(), it->value().size()), number));
      if (!entry) continue;
      if (std::abs(entry->received_day() - day) > d_.duplicate_window_days) continue;
      // Both sorted: count the common words in one pass.
      const auto& theirs = entry->content_tokens();
      size_t common = 0;
      auto a = mine.begin();
      auto b = theirs.begin();
      while (a != mine.end() && b != theirs.end()) {
        if (*a < *b) {
          ++a;
        } else if (*b < *a) {
          ++b;
        } else {
          ++common, ++a, ++b;
        }
      }
      const size_t all = mine.size() + static_cast<size_t>(theirs.size()) - common;
      if (all == 0 || common * 100 < static_cast<size_t>(d_.duplicate_min_similarity_percent) * all)
        continue;
      out.push_back(absl::StrCat("cases/", number));
    }
    if (!it->status().ok()) return absl::InternalError(it->status().ToString());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace reception
