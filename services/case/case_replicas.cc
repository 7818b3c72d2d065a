#include "services/case/case_replicas.h"

#include <tuple>

#include "absl/strings/str_cat.h"
#include "services/case/intake.h"
#include "services/common/key_file.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace reception {

using cases::storage::FollowCheckpoint;
using cases::storage::ReplicaRecord;
using cases::v1::Case;

namespace {

std::string CheckpointKey(absl::string_view via) { return absl::StrCat("follow/", via); }

// Most entries one page may carry (the request's page_size is at most 1000).
constexpr int kMaxPageEntries = 1000;
// A page served ends once it holds this many bytes.
constexpr size_t kMaxPageBytes = 1 << 20;
// Most citizen hashes one entry may carry: one per petitioner.
constexpr int kMaxCitizenKeys = IntakeLimits::kMaxPetitioners;

}  // namespace

bool NewerThan(const Case& a, const Case& b) {
  return std::make_tuple(a.owner_epoch(), a.version()) >
         std::make_tuple(b.owner_epoch(), b.version());
}

absl::StatusOr<std::optional<Case>> CaseReplicas::Newest(const WriteTxn* txn,
                                                         const std::string& number,
                                                         bool* from_replica) const {
  RECEPTION_ASSIGN_OR_RETURN(auto own, records_.Load(txn, number));
  RECEPTION_ASSIGN_OR_RETURN(auto rep, Load(txn, number));
  const bool replica = rep && (!own || NewerThan(rep->case_(), own->case_()));
  if (from_replica != nullptr) *from_replica = replica;
  if (replica) return std::move(*rep->mutable_case_());
  if (own) return std::move(*own->mutable_case_());
  return std::nullopt;
}

Case CaseReplicas::Project(Case c) {
  for (auto& person : *c.mutable_petitioners()) {
    person.clear_citizen_id();
    person.clear_address();
    person.clear_phone();
  }
  if (c.identity_protected()) c.clear_petitioners();  // never there; said twice
  c.clear_representative_citizen_ids();
  for (auto& a : *c.mutable_attachments()) a.clear_name();
  for (auto& m : *c.mutable_minutes()) m.clear_text();
  c.clear_replica();
  c.clear_replica_confirm_time();
  c.clear_subtree_check();  // the node above checks for itself
  c.clear_etag();           // no write goes through a replica
  return c;
}

absl::Status CaseReplicas::CheckFollower(const Principal& p) const {
  if (p.role == Role::kNode && p.unit_code != d_.unit_code &&
      d_.topology->IsWithin(d_.unit_code, p.unit_code)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("the case feed of unit ", d_.unit_code,
                   " is served only to the node of a unit above it; the caller is ",
                   RoleName(p.role), " of unit ", p.unit_code.substr(0, 32)));
}

absl::StatusOr<federation::v1::CaseFeedPage> CaseReplicas::ReadPage(uint64_t after,
                                                                    int limit) const {
  federation::v1::CaseFeedPage page;
  RECEPTION_ASSIGN_OR_RETURN(uint64_t head, records_.FeedHead());
  RECEPTION_ASSIGN_OR_RETURN(auto positions, records_.ReadFeed(after, limit));
  uint64_t last = after;
  size_t bytes = 0;
  for (const FeedPosition& pos : positions) {
    // A page stays well under gRPC's 4 MiB message limit whatever the cases
    // hold: it ends after the entry that passes kMaxPageBytes.
    if (bytes > kMaxPageBytes) break;
    last = pos.sequence;
    if (pos.origin_unit.empty()) {
      RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.Load(nullptr, pos.number));
      if (!rec || rec->case_().version() != pos.version) continue;  // changed since
      auto* e = page.add_entries();
      e->set_sequence(static_cast<int64_t>(pos.sequence));
      e->set_origin_unit(d_.unit_code);
      for (auto& k : duplicates_.CitizenKeysOf(rec->case_())) e->add_citizen_keys(std::move(k));
      *e->mutable_case_() = Project(std::move(*rec->mutable_case_()));
      bytes += e->ByteSizeLong();
    } else {
      RECEPTION_ASSIGN_OR_RETURN(auto rep, Load(nullptr, pos.number));
      if (!rep || rep->case_().version() != pos.version ||
          rep->case_().owner_epoch() != pos.owner_epoch) {
        continue;  // replaced since
      }
      auto* e = page.add_entries();
      e->set_sequence(static_cast<int64_t>(pos.sequence));
      e->set_origin_unit(pos.origin_unit);
      *e->mutable_citizen_keys() = std::move(*rep->mutable_citizen_keys());
      *e->mutable_case_() = Project(std::move(*rep->mutable_case_()));
      bytes += e->ByteSizeLong();
    }
  }
  page.set_last_sequence(static_cast<int64_t>(last));
  page.set_head_sequence(static_cast<int64_t>(std::max(head, last)));
  return page;
}

absl::StatusOr<CaseReplicas::Compaction> CaseReplicas::CompactFeed(uint64_t after,
                                                                   int limit) const {
  RECEPTION_ASSIGN_OR_RETURN(auto positions, records_.ReadFeed(after, limit));
  Compaction out;
  out.last = positions.empty() ? after : positions.back().sequence;
  if (positions.empty()) return out;
  // Judged on committed state, off the writer: a case's (owner epoch,
  // version) only ever grows, so a position superseded now stays so, and
  // the writer only deletes.
  std::vector<uint64_t> superseded;
  for (const FeedPosition& pos : positions) {
    if (pos.origin_unit.empty()) {
      RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.Load(nullptr, pos.number));
      if (rec && rec->case_().version() != pos.version) superseded.push_back(pos.sequence);
    } else {
      RECEPTION_ASSIGN_OR_RETURN(auto rep, Load(nullptr, pos.number));
      if (rep && (rep->case_().version() != pos.version ||
                  rep->case_().owner_epoch() != pos.owner_epoch)) {
        superseded.push_back(pos.sequence);
      }
    }
  }
  if (!superseded.empty()) {
    RECEPTION_RETURN_IF_ERROR(d_.store->CommitAndWait([&](WriteTxn& txn) {
      for (uint64_t seq : superseded) txn.Delete(records_.families().feed, BigEndian64(seq));
      return absl::OkStatus();
    }));
  }
  out.removed = static_cast<int>(superseded.size());
  return out;
}

absl::StatusOr<FollowCheckpoint> CaseReplicas::Checkpoint(const std::string& via) const {
  FollowCheckpoint cp;
  RECEPTION_ASSIGN_OR_RETURN(auto v, d_.store->Get(records_.families().meta, CheckpointKey(via)));
  if (v && !cp.ParseFromString(*v)) {
    return absl::DataLossError(absl::StrCat("the follow checkpoint of ", via, " does not parse"));
  }
  return cp;
}

absl::StatusOr<std::optional<ReplicaRecord>> CaseReplicas::Load(const WriteTxn* txn,
                                                                const std::string& number) const {
  std::optional<std::string> raw;
  if (txn != nullptr) {
    RECEPTION_ASSIGN_OR_RETURN(raw, txn->Get(records_.families().replicas, number));
  } else {
    RECEPTION_ASSIGN_OR_RETURN(raw, d_.store->Get(records_.families().replicas, number));
  }
  if (!raw) return std::nullopt;
  ReplicaRecord rec;
  if (!rec.ParseFromString(*raw)) {
    return absl::DataLossError(absl::StrCat("replica ", number, " does not parse"));
  }
  return rec;
}

absl::Status CaseReplicas::ForEach(const std::function<absl::Status(const Case&)>& fn) const {
  auto it = d_.store->NewIterator(records_.families().replicas);
  ReplicaRecord rec;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("replica ", it->key().ToString(), " does not parse"));
    }
    RECEPTION_RETURN_IF_ERROR(fn(rec.case_()));
  }
  if (!it->status().ok()) return absl::InternalError(it->status().ToString());
  return absl::OkStatus();
}

absl::Status CaseReplicas::CheckPage(const std::string& via, const FollowCheckpoint& cp,
                                     const federation::v1::CaseFeedPage& page) const {
  // A peer's page is input: every field is checked before anything is kept.
  if (page.entries_size() > kMaxPageEntries) {
    return InvalidField("entries", absl::StrCat("must hold at most ", kMaxPageEntries));
  }
  if (page.last_sequence() < cp.applied_sequence()) {
    return InvalidField("last_sequence",
                        absl::StrCat("went back from ", cp.applied_sequence(), " to ",
                                     page.last_sequence(), " (the feed was reset?)"));
  }
  int64_t previous = cp.applied_sequence();
  for (int i = 0; i < page.entries_size(); ++i) {
    const auto& e = page.entries(i);
    const std::string at = absl::StrCat("entries[", i, "]");
    if (e.sequence() <= previous || e.sequence() > page.last_sequence()) {
      return InvalidField(absl::StrCat(at, ".sequence"),
                          absl::StrCat("must be after ", previous, " and at most last_sequence ",
                                       page.last_sequence()));
    }
    previous = e.sequence();
    if (e.origin_unit().empty() || e.origin_unit().size() > 32 ||
        !d_.topology->IsWithin(e.origin_unit(), via)) {
      return InvalidField(absl::StrCat(at, ".origin_unit"),
                          absl::StrCat("must be unit ", via, " or a unit below it"));
    }
    const Case& c = e.case_();
    RECEPTION_ASSIGN_OR_RETURN(std::string number,
                               ParseCaseName(c.name(), absl::StrCat(at, ".case.name")));
    if (number != c.number()) {
      return InvalidField(absl::StrCat(at, ".case.number"), "must be the number of case.name");
    }
    if (c.version() < 1 || c.owner_epoch() < 0) {
      return InvalidField(absl::StrCat(at, ".case.version"),
                          "must be at least 1 (owner_epoch at least 0)");
    }
    if (c.owner_unit().empty() || d_.topology->Find(c.owner_unit()) == nullptr) {
      return InvalidField(absl::StrCat(at, ".case.owner_unit"), "must be a unit of the topology");
    }
    if (c.has_due_date() &&
        (c.due_date().year() < 1900 || c.due_date().year() > 9999 || c.due_date().month() < 1 ||
         c.due_date().month() > 12 || c.due_date().day() < 1 || c.due_date().day() > 31)) {
      return InvalidField(absl::StrCat(at, ".case.due_date"), "must be a calendar date");
    }
    if (e.citizen_keys_size() > kMaxCitizenKeys) {
      return InvalidField(absl::StrCat(at, ".citizen_keys"),
                          absl::StrCat("must hold at most ", kMaxCitizenKeys));
    }
    if (c.identity_protected() && e.citizen_keys_size() > 0) {
      return InvalidField(absl::StrCat(at, ".citizen_keys"),
                          "must be empty for a protected identity");
    }
    for (int k = 0; k < e.citizen_keys_size(); ++k) {
      if (e.citizen_keys(k).size() != 16) {
        return InvalidField(absl::StrCat(at, ".citizen_keys[", k, "]"), "must be 16 bytes");
      }
    }
  }
  return absl::OkStatus();
}

void CaseReplicas::Apply(const std::string& via, federation::v1::CaseFeedPage page,
                         absl::AnyInvocable<void(absl::StatusOr<int>)> done) const {
  // Checked, redacted again and folded here, on the caller's thread: the
  // store's writer only compares and writes.
  auto cp = Checkpoint(via);
  if (!cp.ok()) return done(cp.status());
  if (auto checked = CheckPage(via, *cp, page); !checked.ok()) return done(checked);
  struct Prepared {
    Case c;
    std::string origin;
    std::string search_text;
    google::protobuf::RepeatedPtrField<std::string> citizen_keys;
    std::string index_value;  // the subtree index's entry, when keys came
  };
  auto prepared = std::make_shared<std::vector<Prepared>>();
  for (auto& e : *page.mutable_entries()) {
    // Never trust the sender's redaction.
    Case c = Project(std::move(*e.mutable_case_()));
    const std::string content = FoldForSearch(c.content());
    std::string text = CaseDuplicates::SearchText(c, c.identity_protected(), content);
    std::string value =
        e.citizen_keys().empty() ? std::string() : CaseDuplicates::ReplicaIndexValue(c, content);
    prepared->push_back({std::move(c), e.origin_unit(), std::move(text),
                         std::move(*e.mutable_citizen_keys()), std::move(value)});
  }
  const int64_t first = page.entries_size() > 0 ? page.entries(0).sequence() : 0;
  const int64_t last = page.last_sequence(), head = page.head_sequence();
  auto written = std::make_shared<int>(0);
  d_.store->Submit(
      [this, via, prepared, first, last, head, written](WriteTxn& txn) -> absl::Status {
        *written = 0;
        const auto& f = records_.families();
        FollowCheckpoint cp;
        RECEPTION_ASSIGN_OR_RETURN(auto raw, txn.Get(f.meta, CheckpointKey(via)));
        if (raw && !cp.ParseFromString(*raw)) {
          return absl::DataLossError(absl::StrCat("the follow checkpoint of ", via, " is corrupt"));
        }
        // The page was checked against the committed checkpoint; one that
        // moved meanwhile (a page applied twice) refuses it here.
        if (last < cp.applied_sequence() || (first != 0 && first <= cp.applied_sequence())) {
          return InvalidField("entries[0].sequence",
                              absl::StrCat("must be after ", cp.applied_sequence()));
        }
        const absl::Time now = d_.clock->Now();
        for (Prepared& p : *prepared) {
          Case& c = p.c;
          // A case a node below says this node owns, that this node does not
          // hold: not kept (this node's own records are the truth of what it
          // owns; a handoff on its way arrives as a record of its own).
          if (c.owner_unit() == d_.unit_code) {
            RECEPTION_ASSIGN_OR_RETURN(auto own, records_.Load(&txn, c.number()));
            if (!own) continue;
          }
          RECEPTION_ASSIGN_OR_RETURN(auto old, Load(&txn, c.number()));
          if (old && !NewerThan(c, old->case_())) continue;  // a repeat, or older news
          c.mutable_replica()->set_origin_unit(p.origin);
          c.mutable_replica()->set_via_unit(via);
          SetTimestamp(now, c.mutable_replica()->mutable_sync_time());
          ReplicaRecord rec;
          rec.set_due_key(DueKey(c));
          if (old && old->due_key() != rec.due_key() && !old->due_key().empty()) {
            txn.Delete(f.replica_due, old->due_key());
          }
          if (!rec.due_key().empty()) txn.Put(f.replica_due, rec.due_key(), "");
          rec.set_search_text(std::move(p.search_text));
          duplicates_.IndexReplica(
              txn, c.number(),
              old ? old->citizen_keys() : google::protobuf::RepeatedPtrField<std::string>(),
              p.citizen_keys, p.index_value);
          *rec.mutable_citizen_keys() = std::move(p.citizen_keys);
          cases::storage::FeedEntry fe;
          fe.set_case_number(c.number());
          fe.set_version(c.version());
          fe.set_owner_epoch(c.owner_epoch());
          fe.set_origin_unit(p.origin);
          *rec.mutable_case_() = std::move(c);
          txn.Put(f.replicas, rec.case_().number(), rec.SerializeAsString());
          records_.WriteFacts(txn, rec.case_(), /*replica=*/true);
          if (board_ != nullptr) {
            txn.OnDurable([board = board_, number = rec.case_().number(),
                           e = board_->Summarize(rec.case_(), /*replica=*/true)]() mutable {
              board->Put(number, std::move(e));
            });
          }
          RECEPTION_RETURN_IF_ERROR(records_.AppendFeed(txn, fe));
          ++*written;
        }
        if (last == cp.applied_sequence() && head == cp.head_sequence()) {
          return absl::OkStatus();  // nothing new: no write
        }
        cp.set_applied_sequence(last);
        cp.set_head_sequence(std::max(head, last));
        if (*written > 0) SetTimestamp(now, cp.mutable_last_entry_time());
        txn.Put(f.meta, CheckpointKey(via), cp.SerializeAsString());
        return absl::OkStatus();
      },
      [done = std::move(done), written](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        done(*written);
      });
}

}  // namespace reception
