// The case service's stored records: the column families, a case record
// read as the writer or as committed state, the audit event and change-feed
// entry every mutation appends, and the counters numbers come from. The
// other parts of the case service (intake, transitions, clocks, handoffs,
// queries, duplicates) read and write cases only through this class.
//
// Layout of the case store (one RocksDB column family each):
//   cases     number -> CaseRecord
//   events    number '/' BE64(seq) -> CaseEvent (hash-chained)
//   requests  request_id -> RequestRecord (idempotency)
//   meta      counters ("case_seq/{year}", "feed_seq"; written once per
//             commit group, WriteTxn::PutCoalesced)
//   feed      BE64(seq) -> FeedEntry (the change feed: one per mutation)
//   search    number -> 0x01, the number and the folded names for
//             ListCases.query (never a protected identity; the content is
//             folded from the case at query time; entries before 2026-11-29
//             hold the whole text, content included)
//   due       YYYYMMDD '/' number -> "" (cases with a running clock)
//   handoffs  handoff id -> HandoffRecord
//   outbox    the shared outbox's entries (handoffs waiting for a peer)
//   citizens  hex(keyed hash of citizen ID) '/' number -> ""
//   replicas  number -> ReplicaRecord (oversight: the redacted cases of the
//             nodes below, as their feeds publish them; case_replicas.h)
//   replica_due  YYYYMMDD '/' number -> "" (replicas with a running clock)
//   report_facts number '\0' 'o' (own record) | 'r' (replica) -> what a
//             report reads of the case (report_view.proto), small, written
//             with every record, so a report over a million cases reads
//             ~60 bytes of each, not the whole case
//   subtree_citizens  hex(hash of citizen ID under the province's matching
//             key) '/' number -> CitizenIndexEntry: this node's cases and its
//             replicas, what a province-wide duplicate check searches
//   check_outbox  the shared outbox's entries (subtree duplicate checks
//             waiting for the ancestor's node)
#ifndef RECEPTION_SERVICES_CASE_CASE_RECORDS_H_
#define RECEPTION_SERVICES_CASE_CASE_RECORDS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "reception/cases/v1/case_service.pb.h"
#include "services/calendar/deadline_engine.h"
#include "services/case/lifecycle.h"
#include "services/case/node_key.h"
#include "services/case/report_view.pb.h"
#include "services/case/storage.pb.h"
#include "services/common/clock.h"
#include "services/common/identity_vault.h"
#include "services/common/outbox.h"
#include "services/common/principal.h"
#include "services/common/rule_book.h"
#include "services/common/sequence_watch.h"
#include "services/common/store.h"
#include "services/common/topology.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace reception {

namespace documents {
class FormBook;
}  // namespace documents

// What the case service is built from (CaseRegistry::Deps).
struct CaseDeps {
  Store* store = nullptr;  // opened with CaseRecords::ColumnFamilies()
  const IdentityVault* vault = nullptr;
  const Topology* topology = nullptr;
  const RuleBook* rules = nullptr;
  const DeadlineEngine* deadlines = nullptr;
  const Clock* clock = nullptr;
  prometheus::Registry* metrics = nullptr;  // optional
  std::string unit_code;                    // this node's unit
  const NodeKey* node_key = nullptr;        // opens identities sealed for this node
  std::vector<std::string> peer_units;      // units a case may be handed to
  // Offers one queued handoff to its destination (the gRPC side: the
  // HandoffWorker) and answers exactly once. Unset: handoffs wait.
  Outbox::Deliver deliver_handoff;
  // The handoff outbox's backoff (federation retry settings).
  absl::Duration retry_initial = absl::Milliseconds(200);
  absl::Duration retry_max = absl::Seconds(30);
  // Most records one ListCases call examines; past it the call returns the
  // matches so far and a token to continue (AIP-158 allows short pages).
  int list_scan_limit = 10000;
  // Duplicate detection at intake: window and least content similarity.
  int duplicate_window_days = 180;
  int duplicate_min_similarity_percent = 50;
  // Advanced to each change-feed position once it is durable (the feed's
  // watchers wait on it); optional.
  SequenceWatch* feed_watch = nullptr;
  // The province's matching key (32 bytes; config duplicates.
  // matching_key_file): citizen IDs leave this node only hashed under it.
  // Empty: none leaves and there is no province-wide check.
  std::string matching_key;
  // The unit whose node checks this node's new cases against its whole
  // subtree (the topmost ancestor among the peers); empty: this node checks
  // them against its own subtree (it is the top, or has no key).
  std::string subtree_check_unit;
  // The topmost ancestor unit among the peers, whatever the key: its node
  // is asked what this node cannot check itself (subtree duplicates with a
  // key, second-time complaints' links); empty at the top.
  std::string ancestor_unit;
  // Asks the node of the ancestor one queued question (the gRPC side:
  // subtree checks and first-complaint checks, told apart by key prefix)
  // and answers exactly once. Unset: questions wait.
  Outbox::Deliver deliver_subtree_check;
  // The form templates of the papers (documents.forms_file); unset: no
  // papers. The address the receipt's QR code points to (documents.lookup_url).
  const documents::FormBook* forms = nullptr;
  std::string lookup_url;
};

// What one mutation changed, for its audit event.
struct CaseChange {
  std::string summary;
  std::vector<std::string> fields;
};

// One entry of the change feed: case `number` reached `version` at feed
// position `sequence` (1, 2, ...: gap-free, in commit order).
struct FeedPosition {
  uint64_t sequence = 0;
  std::string number;
  int64_t version = 0;
  // Set for a replica republished from below (its record is in "replicas").
  std::string origin_unit;
  int64_t owner_epoch = 0;
};

class CaseRecords {
 public:
  struct Families {
    rocksdb::ColumnFamilyHandle* cases;
    rocksdb::ColumnFamilyHandle* events;
    rocksdb::ColumnFamilyHandle* requests;
    rocksdb::ColumnFamilyHandle* meta;
    rocksdb::ColumnFamilyHandle* feed;
    rocksdb::ColumnFamilyHandle* search;
    rocksdb::ColumnFamilyHandle* due;
    rocksdb::ColumnFamilyHandle* handoffs;
    rocksdb::ColumnFamilyHandle* outbox;
    rocksdb::ColumnFamilyHandle* citizens;
    rocksdb::ColumnFamilyHandle* replicas;
    rocksdb::ColumnFamilyHandle* replica_due;
    rocksdb::ColumnFamilyHandle* facts;
    rocksdb::ColumnFamilyHandle* subtree_citizens;
  };
  static std::vector<std::string> ColumnFamilies();
  // Families sought by a fixed-length key prefix (Store::Options::
  // prefix_lengths): "citizens", by the 33-byte "{hash}/" of a citizen ID.
  static std::map<std::string, size_t> PrefixLengths();
  // The outbox family's name (the shared outbox opens it by name).
  static const char* OutboxFamily();
  // The family of the outbox of subtree duplicate checks.
  static const char* CheckOutboxFamily();

  explicit CaseRecords(const CaseDeps& deps);

  const Families& families() const { return f_; }

  // With a txn: the record as the writer sees it; without: committed state.
  absl::StatusOr<std::optional<cases::storage::CaseRecord>> Load(const WriteTxn* txn,
                                                                 const std::string& number) const;
  // A case this node owns, or NOT_FOUND / FAILED_PRECONDITION naming the owner.
  absl::StatusOr<cases::storage::CaseRecord> LoadOwned(const WriteTxn& txn,
                                                       const std::string& number) const;
  // Writes `rec` with its version, etag and times advanced, its next audit
  // event (hash-chained), its due-index entry and a change-feed entry.
  absl::Status AppendEvent(WriteTxn& txn, cases::storage::CaseRecord& rec, const Principal& p,
                           absl::string_view action, const CaseChange& change) const;
  // The next value of counter `key` (1 for a new one), written in `txn`.
  absl::StatusOr<uint64_t> NextCounter(WriteTxn& txn, const std::string& key) const;

  // Writes the report facts of `c` (this node's record, or a replica).
  void WriteFacts(WriteTxn& txn, const cases::v1::Case& c, bool replica) const;

  // Appends `entry` to the change feed at the next position (feed_watch
  // learns of it once durable).
  absl::Status AppendFeed(WriteTxn& txn, const cases::storage::FeedEntry& entry) const;
  // The feed's latest committed position (0: empty).
  absl::StatusOr<uint64_t> FeedHead() const;

  // After a restore from a backup: every counter (case numbers per year,
  // feed positions) moves `gap` ahead in one write, so that no number or
  // feed position issued between the backup and the loss is issued again
  // (peers and followers hold them). Returns the counters moved.
  absl::StatusOr<int> SkipCounters(uint64_t gap) const;

  // The change feed (committed), from just after position `after`: at most
  // `limit` entries in commit order. Oversight reads it from a cursor.
  absl::StatusOr<std::vector<FeedPosition>> ReadFeed(uint64_t after, int limit) const;

  // Every committed record, in number order; stops at the first error.
  absl::Status ForEach(
      const std::function<absl::Status(const cases::storage::CaseRecord&)>& fn) const;

 private:
  const CaseDeps& d_;
  Families f_;
};

// PERMISSION_DENIED unless `p` may change the cases of `deps.unit_code`.
absl::Status CheckCaseWriter(const CaseDeps& deps, const Principal& p);

// NOT_FOUND for cases/{number}, reason CASE_NOT_FOUND, with its ResourceInfo.
absl::Status CaseNotFound(absl::string_view number);

// Helpers shared by the parts of the case service.
std::string DeterministicBytes(const google::protobuf::Message& m);
void SetTimestamp(absl::Time t, google::protobuf::Timestamp* ts);
std::string KindName(cases::v1::CaseKind k);
// `full` without `prefix` ("REFUSAL_GROUND_" of "REFUSAL_GROUND_OUT_OF_TIME").
std::string EnumSuffix(const std::string& full, absl::string_view prefix);
absl::CivilDay DayOf(const type::v1::Date& d);
// A transition's date: default today; not before the reception date; not in
// the future.
absl::StatusOr<absl::CivilDay> ResolveDate(const type::v1::Date& date, absl::string_view field,
                                           const cases::v1::Case& c, absl::CivilDay today);
absl::Status ValidateReference(absl::string_view value, absl::string_view field, bool required);
absl::Status ValidateNote(absl::string_view value, absl::string_view field, bool required);
// Page tokens are opaque: a serialized PageToken in web-safe base64, bound
// to the filters of the request that produced it.
std::string EncodePageToken(const std::string& after_key, const std::string& filter_fp,
                            int phase = 0);
absl::StatusOr<cases::storage::PageToken> DecodePageToken(absl::string_view token,
                                                          const std::string& filter_fp);
// The key of a case's report facts: number '\0' 'o' or 'r'.
std::string FactsKey(absl::string_view number, bool replica);
// What a report reads of a case.
cases::storage::view::CaseReportView ReportFacts(const cases::v1::Case& c);
// "YYYYMMDD/number" for a case with a running clock, else "".
std::string DueKey(const cases::v1::Case& c);
// The stored form of an event's key: number '/' BE64(seq).
std::string EventKey(absl::string_view number, uint64_t seq);

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_CASE_RECORDS_H_
