// What a case may repeat, and the indexes that find it: the folded search
// text (ListCases.query), the keyed-hash index of petitioners' citizen IDs,
// the earlier cases a new one may repeat (same citizen, similar content,
// within a window), and how often the matter of a chain of repeats was
// already guided. Protected identities are never indexed.
#ifndef RECEPTION_SERVICES_CASE_CASE_DUPLICATES_H_
#define RECEPTION_SERVICES_CASE_CASE_DUPLICATES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "reception/cases/v1/case.pb.h"
#include "services/case/case_records.h"

namespace reception {

class CaseDuplicates {
 public:
  // Reads which citizens this node has indexed (one pass over the keys of
  // the citizens index).
  CaseDuplicates(const CaseDeps& deps, const CaseRecords& records);

  // What the indexes need of a case, worked out once, off the writer thread
  // (folding and hashing are the costly steps of intake).
  struct Profile {
    // The folded names a case is found by besides its content (unprotected
    // petitioners, the respondent).
    std::string search_names;
    // The content's distinct folded words, hashed and sorted.
    std::vector<uint32_t> content_tokens;
    // "{keyed hash of the citizen ID}/" (33 bytes: CaseRecords::
    // PrefixLengths) per unprotected petitioner.
    std::vector<std::string> citizen_prefixes;
    // The same citizens hashed under the province's matching key (16 bytes
    // each; empty without a key): what may leave this node.
    std::vector<std::string> citizen_keys;
  };
  // `protect`: the petitioners are a protected identity, never indexed.
  Profile ProfileOf(const cases::v1::Case& c, bool protect) const;
  // The folded names a case is found by (never a protected identity).
  static std::string SearchNames(const cases::v1::Case& c, bool protect);
  // The whole search text (what a replica keeps), from the content folded
  // once: `folded_content` is FoldForSearch(c.content()).
  static std::string SearchText(const cases::v1::Case& c, bool protect,
                                absl::string_view folded_content);
  // Whether a case is found by every one of `tokens` (folded words), given
  // its search text: a replica's whole text, or its entry in the search
  // family. Since 2026-11-29 that entry holds the number and the folded
  // names only, marked by a leading kNamesOnly, and the content (1 KB,
  // already in the case record) is folded here when a token is not among
  // the names: it was a third of the bytes every CreateCase wrote. Entries
  // written before, like replicas' texts, hold the whole text.
  static constexpr char kNamesOnly = '\x01';
  static bool Found(absl::string_view entry, const cases::v1::Case& c,
                    const std::vector<std::string>& tokens);
  // Writes the indexes of a case new on this node (registered or imported):
  // its search text and its citizens with what duplicate detection compares
  // (under this node's key, and under the matching key for subtree checks).
  void Index(WriteTxn& txn, const cases::v1::Case& c, const Profile& profile) const;
  // Rewrites the indexes of a case corrected on this node (UpdateCase):
  // the entries of `before` that `after` no longer has are deleted, then
  // `after` is indexed. Both as stored (a protected identity without its
  // petitioners).
  void Reindex(WriteTxn& txn, const cases::v1::Case& before, const cases::v1::Case& after,
               bool protect) const;
  // The content's distinct folded words, hashed and sorted (what content
  // similarity compares).
  static std::vector<uint32_t> ContentTokens(absl::string_view content);
  // The hash of a citizen ID under the province's matching key (16 bytes;
  // keyed BLAKE2b from libsodium).
  static std::string MatchKey(absl::string_view matching_key, absl::string_view citizen_id);
  // The matching-key hashes of `c`'s petitioners (none when the identity is
  // protected or the node has no matching key).
  std::vector<std::string> CitizenKeysOf(const cases::v1::Case& c) const;
  // What the subtree index holds of a replica (its day and content words),
  // worked out off the writer.
  static std::string ReplicaIndexValue(const cases::v1::Case& c, absl::string_view folded_content);
  // The subtree index of replica `number`: its entries under `old_keys`
  // that are not in `new_keys` are removed, and `new_keys` written with
  // `value` (ReplicaIndexValue).
  void IndexReplica(WriteTxn& txn, const std::string& number,
                    const google::protobuf::RepeatedPtrField<std::string>& old_keys,
                    const google::protobuf::RepeatedPtrField<std::string>& new_keys,
                    const std::string& value) const;
  // The numbers of committed cases in the subtree index (this node's own and
  // its replicas) that a case with these citizen hashes and content words,
  // received on `received`, may repeat; `exclude` left out.
  absl::StatusOr<std::vector<std::string>> FindInSubtree(const std::vector<std::string>& keys,
                                                         const std::vector<uint32_t>& tokens,
                                                         absl::CivilDay received,
                                                         absl::string_view exclude) const;
  // Earlier committed cases that a case with `profile`, received on
  // `received`, may repeat: the same citizen, within the window, with
  // similar content (Jaccard similarity of the content's words).
  absl::StatusOr<std::vector<std::string>> Find(const Profile& profile,
                                                absl::CivilDay received) const;
  // How many cases along `c`'s chain of repeats (as this node holds them)
  // were guided. With a txn: as the writer sees them; without: committed.
  absl::StatusOr<int> GuidancesOnMatter(const WriteTxn* txn, const cases::v1::Case& c) const;
  // The rule "guide once" (Law on Citizen Reception; the pack's
  // max_guidances_per_matter in force on `day`): why guiding `c` is refused
  // because its matter was guided enough already, or "" when it may be
  // guided. GuideCase and GetCase's matter_guidance_exhausted both use it.
  absl::StatusOr<std::string> GuidanceRefusal(const WriteTxn* txn, const cases::v1::Case& c,
                                              absl::CivilDay day) const;

 private:
  // The content tokens and day of an index entry (loading the case for an
  // entry written before the index carried them); nullopt: case unknown.
  absl::StatusOr<std::optional<cases::storage::CitizenIndexEntry>> EntryOf(
      absl::string_view value, const std::string& number) const;

  // Walks `family` under each of `prefixes` and returns the numbers whose
  // entries are within the window of `day` with content similar to
  // `tokens`, sorted, each once.
  absl::StatusOr<std::vector<std::string>> Matches(rocksdb::ColumnFamilyHandle* family,
                                                   const std::vector<std::string>& prefixes,
                                                   const std::vector<uint32_t>& tokens,
                                                   int64_t day) const;

  const CaseDeps& d_;
  const CaseRecords& records_;
  // A hash of every citizen prefix in the citizens index: a new case whose
  // citizens are not in it (most of them: people seldom complain twice)
  // repeats nothing, and Find skips the index seek. Only grows (a member
  // whose entries went costs one seek); Index adds to it before its write
  // commits, so a committed entry is never missed. Not filled (the start-up
  // pass failed): every citizen is sought.
  bool seen_filled_ = false;
  mutable absl::Mutex seen_mu_;
  mutable absl::flat_hash_set<size_t> seen_ ABSL_GUARDED_BY(seen_mu_);
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_CASE_DUPLICATES_H_
