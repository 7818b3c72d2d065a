#include "services/case/case_duplicates.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
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

std::string CaseDuplicates::SearchNames(const Case& c, bool protect) {
  std::string people;
  if (!protect) {
    for (const auto& person : c.petitioners()) absl::StrAppend(&people, " ", person.full_name());
  }
  absl::StrAppend(&people, " ", c.respondent().official_name(), " ",
                  c.respondent().official_position());
  return FoldForSearch(people);
}

std::string CaseDuplicates::SearchText(const Case& c, bool protect,
                                       absl::string_view folded_content) {
  std::string text = SearchNames(c, protect);
  if (!folded_content.empty()) {
    absl::StrAppend(&text, text.empty() ? "" : " ", folded_content);
  }
  return text;
}

bool CaseDuplicates::Found(absl::string_view entry, const Case& c,
                           const std::vector<std::string>& tokens) {
  const bool names_only = !entry.empty() && entry.front() == kNamesOnly;
  std::optional<std::string> content;
  for (const auto& t : tokens) {
    if (absl::StrContains(entry, t)) continue;
    if (!names_only) return false;
    // A token has no spaces, so it is in "names content" exactly when it
    // is in one of the two.
    if (!content) content = FoldForSearch(c.content());
    if (!absl::StrContains(*content, t)) return false;
  }
  return true;
}

CaseDuplicates::CaseDuplicates(const CaseDeps& deps, const CaseRecords& records)
    : d_(deps), records_(records) {
  auto it = d_.store->NewIterator(records_.families().citizens);
  const size_t prefix = CaseRecords::PrefixLengths().at("citizens");
  absl::MutexLock lock(&seen_mu_);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const absl::string_view key(it->key().data(), it->key().size());
    if (key.size() > prefix) seen_.insert(absl::HashOf(key.substr(0, prefix)));
  }
  seen_filled_ = it->status().ok();
}

CaseDuplicates::Profile CaseDuplicates::ProfileOf(const Case& c, bool protect) const {
  Profile p;
  const std::string content = FoldForSearch(c.content());
  p.content_tokens = TokenHashes(content);
  // Protected identities are never indexed: a name search must not reveal
  // that someone denounced.
  p.search_names = SearchNames(c, protect);
  if (!protect) {
    p.citizen_keys = CitizenKeysOf(c);
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

std::vector<uint32_t> CaseDuplicates::ContentTokens(absl::string_view content) {
  return TokenHashes(FoldForSearch(content));
}

std::string CaseDuplicates::MatchKey(absl::string_view matching_key, absl::string_view citizen_id) {
  unsigned char h[16];
  const std::string input = absl::StrCat("citizen:", citizen_id);
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), reinterpret_cast<const unsigned char*>(matching_key.data()),
                     matching_key.size());
  return std::string(reinterpret_cast<const char*>(h), sizeof h);
}

std::vector<std::string> CaseDuplicates::CitizenKeysOf(const Case& c) const {
  std::vector<std::string> out;
  if (d_.matching_key.empty() || c.identity_protected()) return out;
  for (const auto& person : c.petitioners()) {
    if (person.citizen_id().empty()) continue;
    std::string k = MatchKey(d_.matching_key, person.citizen_id());
    if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(std::move(k));
  }
  return out;
}

namespace {

std::string EntryValue(const Case& c, const std::vector<uint32_t>& tokens) {
  cases::storage::CitizenIndexEntry entry;
  entry.set_received_day(DaysSinceEpoch(DayOf(c.received_date())));
  *entry.mutable_content_tokens() = {tokens.begin(), tokens.end()};
  return entry.SerializeAsString();
}

}  // namespace

void CaseDuplicates::Index(WriteTxn& txn, const Case& c, const Profile& profile) const {
  const auto& f = records_.families();
  txn.Put(f.search, c.number(),
          absl::StrCat(absl::string_view(&kNamesOnly, 1), absl::AsciiStrToLower(c.number()), " ",
                       profile.search_names));
  if (c.identity_protected() ||
      (profile.citizen_prefixes.empty() && profile.citizen_keys.empty())) {
    return;
  }
  const std::string value = EntryValue(c, profile.content_tokens);
  if (!profile.citizen_prefixes.empty()) {
    absl::MutexLock lock(&seen_mu_);
    for (const auto& prefix : profile.citizen_prefixes)
      seen_.insert(absl::HashOf(absl::string_view(prefix)));
  }
  for (const auto& prefix : profile.citizen_prefixes) {
    txn.Put(f.citizens, absl::StrCat(prefix, c.number()), value);
  }
  for (const auto& key : profile.citizen_keys) {
    txn.Put(f.subtree_citizens, absl::StrCat(absl::BytesToHexString(key), "/", c.number()), value);
  }
}

void CaseDuplicates::Reindex(WriteTxn& txn, const Case& before, const Case& after,
                             bool protect) const {
  const auto& f = records_.families();
  const Profile was = ProfileOf(before, protect);
  const Profile now = ProfileOf(after, protect);
  for (const auto& prefix : was.citizen_prefixes) {
    if (std::find(now.citizen_prefixes.begin(), now.citizen_prefixes.end(), prefix) ==
        now.citizen_prefixes.end()) {
      txn.Delete(f.citizens, absl::StrCat(prefix, before.number()));
    }
  }
  for (const auto& key : was.citizen_keys) {
    if (std::find(now.citizen_keys.begin(), now.citizen_keys.end(), key) ==
        now.citizen_keys.end()) {
      txn.Delete(f.subtree_citizens,
                 absl::StrCat(absl::BytesToHexString(key), "/", before.number()));
    }
  }
  Index(txn, after, now);
}

std::string CaseDuplicates::ReplicaIndexValue(const Case& c, absl::string_view folded_content) {
  return EntryValue(c, TokenHashes(folded_content));
}

void CaseDuplicates::IndexReplica(WriteTxn& txn, const std::string& number,
                                  const google::protobuf::RepeatedPtrField<std::string>& old_keys,
                                  const google::protobuf::RepeatedPtrField<std::string>& new_keys,
                                  const std::string& value) const {
  const auto& f = records_.families();
  for (const auto& k : old_keys) {
    if (std::find(new_keys.begin(), new_keys.end(), k) == new_keys.end()) {
      txn.Delete(f.subtree_citizens, absl::StrCat(absl::BytesToHexString(k), "/", number));
    }
  }
  // The content may have been corrected: every entry is written again.
  for (const auto& k : new_keys) {
    txn.Put(f.subtree_citizens, absl::StrCat(absl::BytesToHexString(k), "/", number), value);
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

absl::StatusOr<std::vector<std::string>> CaseDuplicates::Matches(
    rocksdb::ColumnFamilyHandle* family, const std::vector<std::string>& prefixes,
    const std::vector<uint32_t>& mine, int64_t day) const {
  std::vector<std::string> out;
  absl::flat_hash_set<std::string> seen;
  for (const std::string& prefix : prefixes) {
    auto it = d_.store->NewPrefixIterator(family);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      std::string number(it->key().ToStringView().substr(prefix.size()));
      if (seen.contains(number)) continue;
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
      seen.insert(number);
      out.push_back(std::move(number));
    }
    if (!it->status().ok()) return absl::InternalError(it->status().ToString());
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::vector<std::string>> CaseDuplicates::Find(const Profile& profile,
                                                              absl::CivilDay received) const {
  std::vector<std::string> sought;
  {
    absl::ReaderMutexLock lock(&seen_mu_);
    for (const auto& prefix : profile.citizen_prefixes) {
      if (!seen_filled_ || seen_.contains(absl::HashOf(absl::string_view(prefix)))) {
        sought.push_back(prefix);
      }
    }
  }
  if (sought.empty()) return std::vector<std::string>{};
  RECEPTION_ASSIGN_OR_RETURN(auto numbers,
                             Matches(records_.families().citizens, sought, profile.content_tokens,
                                     DaysSinceEpoch(received)));
  for (auto& n : numbers) n = absl::StrCat("cases/", n);
  return numbers;
}

absl::StatusOr<std::vector<std::string>> CaseDuplicates::FindInSubtree(
    const std::vector<std::string>& keys, const std::vector<uint32_t>& tokens,
    absl::CivilDay received, absl::string_view exclude) const {
  std::vector<std::string> prefixes;
  for (const auto& k : keys) prefixes.push_back(absl::StrCat(absl::BytesToHexString(k), "/"));
  RECEPTION_ASSIGN_OR_RETURN(auto numbers, Matches(records_.families().subtree_citizens, prefixes,
                                                   tokens, DaysSinceEpoch(received)));
  numbers.erase(std::remove(numbers.begin(), numbers.end(), exclude), numbers.end());
  return numbers;
}

}  // namespace reception
