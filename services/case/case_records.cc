#include "services/case/case_records.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "services/case/audit_chain.h"
#include "services/case/intake.h"
#include "services/case/report_view.pb.h"
#include "services/common/civil_date.h"
#include "services/common/key_file.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace reception {
namespace {

using cases::storage::CaseRecord;
using cases::v1::Case;

constexpr char kCases[] = "cases";             // number -> CaseRecord
constexpr char kEvents[] = "events";           // number '/' BE64(seq) -> CaseEvent
constexpr char kRequests[] = "requests";       // request_id -> RequestRecord
constexpr char kMeta[] = "meta";               // counters
constexpr char kHandoffs[] = "handoffs";       // handoff id -> HandoffRecord
constexpr char kOutbox[] = "outbox";           // BE64(seq) -> handoff id (pending, outgoing)
constexpr char kCitizens[] = "citizens";       // hex(keyed hash of citizen ID) '/' number -> ""
constexpr char kDue[] = "due";                 // YYYYMMDD '/' number -> "" (running clocks)
constexpr char kFeed[] = "feed";               // BE64(seq) -> FeedEntry
constexpr char kSearch[] = "search";           // number -> folded text for ListCases.query
                                               // (never a protected identity; written once)
constexpr char kReplicas[] = "replicas";       // number -> ReplicaRecord (oversight)
constexpr char kReplicaDue[] = "replica_due";  // YYYYMMDD '/' number -> "" (replicas)
constexpr char kFacts[] = "report_facts";      // number '\0' 'o'|'r' -> view::CaseReportView
constexpr char kSubtreeCitizens[] = "subtree_citizens";  // hex(matching-key hash) '/' number
constexpr char kCheckOutbox[] = "check_outbox";          // subtree duplicate checks to ask

}  // namespace

std::string DueKey(const Case& c) {
  if (!c.has_due_date()) return "";
  return absl::StrFormat("%04d%02d%02d/%s", c.due_date().year(), c.due_date().month(),
                         c.due_date().day(), c.number());
}

std::string EventKey(absl::string_view number, uint64_t seq) {
  return absl::StrCat(number, "/", BigEndian64(seq));
}

std::string DeterministicBytes(const google::protobuf::Message& m) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream out(&stream);
  out.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&out);
  out.Trim();
  return bytes;
}

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* ts) {
  const int64_t nanos = absl::ToUnixNanos(t);
  ts->set_seconds(nanos / 1000000000);
  ts->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

std::string KindName(cases::v1::CaseKind k) {
  std::string name = cases::v1::CaseKind_Name(k);
  return absl::AsciiStrToLower(name.substr(absl::string_view("CASE_KIND_").size()));
}

std::string EnumSuffix(const std::string& full, absl::string_view prefix) {
  return absl::StartsWith(full, prefix) ? full.substr(prefix.size()) : full;
}

absl::CivilDay DayOf(const type::v1::Date& d) {
  return absl::CivilDay(d.year(), d.month(), d.day());
}

// Default today; not before the reception date; not in the future.
absl::StatusOr<absl::CivilDay> ResolveDate(const type::v1::Date& date, absl::string_view field,
                                           const Case& c, absl::CivilDay today) {
  absl::CivilDay day = today;
  if (!IsUnset(date)) {
    RECEPTION_ASSIGN_OR_RETURN(day, ToCivilDay(date, field));
  }
  auto received = ToCivilDay(c.received_date(), "received_date");
  if (received.ok() && day < *received) {
    return InvalidField(
        field, absl::StrCat("must not be before the reception date ", FormatDate(*received)));
  }
  if (day > today) {
    return InvalidField(
        field, absl::StrCat("must not be in the future (today is ", FormatDate(today), ")"));
  }
  return day;
}

absl::Status ValidateReference(absl::string_view value, absl::string_view field, bool required) {
  return ValidateText(value, field, IntakeLimits::kMaxReferenceChars, required, false);
}

absl::Status ValidateNote(absl::string_view value, absl::string_view field, bool required) {
  return ValidateText(value, field, IntakeLimits::kMaxNoteChars, required, true);
}
// Page tokens are opaque: a serialized PageToken in web-safe base64, bound to
// the filters of the request that produced it.
std::string EncodePageToken(const std::string& after_key, const std::string& filter_fp, int phase) {
  cases::storage::PageToken t;
  t.set_phase(phase);
  t.set_after_key(after_key);
  t.set_filter_fingerprint(filter_fp);
  return absl::WebSafeBase64Escape(t.SerializeAsString());
}

absl::StatusOr<cases::storage::PageToken> DecodePageToken(absl::string_view token,
                                                          const std::string& filter_fp) {
  std::string bytes;
  cases::storage::PageToken t;
  if (!absl::WebSafeBase64Unescape(token, &bytes) || !t.ParseFromString(bytes)) {
    return InvalidField("page_token", "is not a token returned by this method");
  }
  if (t.filter_fingerprint() != filter_fp) {
    return InvalidField("page_token", "was issued for different filters; start again without it");
  }
  return t;
}

std::vector<std::string> CaseRecords::ColumnFamilies() {
  return {kCases, kEvents,          kRequests,   kMeta,     kFeed,     kSearch,
          kDue,   kHandoffs,        kOutbox,     kCitizens, kReplicas, kReplicaDue,
          kFacts, kSubtreeCitizens, kCheckOutbox};
}

const char* CaseRecords::OutboxFamily() { return kOutbox; }
const char* CaseRecords::CheckOutboxFamily() { return kCheckOutbox; }

std::map<std::string, size_t> CaseRecords::PrefixLengths() {
  return {{kCitizens, 33}, {kSubtreeCitizens, 33}};
}

CaseRecords::CaseRecords(const CaseDeps& deps)
    : d_(deps), f_{d_.store->Family(kCases),    d_.store->Family(kEvents),
                   d_.store->Family(kRequests), d_.store->Family(kMeta),
                   d_.store->Family(kFeed),     d_.store->Family(kSearch),
                   d_.store->Family(kDue),      d_.store->Family(kHandoffs),
                   d_.store->Family(kOutbox),   d_.store->Family(kCitizens),
                   d_.store->Family(kReplicas), d_.store->Family(kReplicaDue),
                   d_.store->Family(kFacts),    d_.store->Family(kSubtreeCitizens)} {}

absl::Status CaseNotFound(absl::string_view number) {
  return WithReason(
      WithResource(absl::NotFoundError(absl::StrCat("case cases/", number, " does not exist")),
                   "reception.cases.v1.Case", absl::StrCat("cases/", number)),
      "CASE_NOT_FOUND");
}

absl::Status CheckCaseWriter(const CaseDeps& d_, const Principal& p) {
  if (!CanChangeCases(p)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "role ", RoleName(p.role), " may not change cases; an officer, inspector or head may"));
  }
  if (!d_.topology->IsWithin(p.unit_code, d_.unit_code)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "unit ", p.unit_code.substr(0, 32), " may not change cases of unit ", d_.unit_code));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<CaseRecord>> CaseRecords::Load(const WriteTxn* txn,
                                                            const std::string& number) const {
  RECEPTION_ASSIGN_OR_RETURN(auto raw,
                             txn ? txn->Get(f_.cases, number) : d_.store->Get(f_.cases, number));
  if (!raw) return std::nullopt;
  CaseRecord rec;
  if (!rec.ParseFromString(*raw)) {
    return absl::DataLossError(absl::StrCat("case record ", number, " does not parse"));
  }
  return rec;
}

absl::StatusOr<CaseRecord> CaseRecords::LoadOwned(const WriteTxn& txn,
                                                  const std::string& number) const {
  RECEPTION_ASSIGN_OR_RETURN(auto rec, Load(&txn, number));
  if (!rec) return CaseNotFound(number);
  if (rec->case_().owner_unit() != d_.unit_code) {
    return WithReason(
        WithPrecondition(absl::FailedPreconditionError(absl::StrCat(
                             "case cases/", number, " is owned by unit ", rec->case_().owner_unit(),
                             "; changes must be made on that unit's node")),
                         "OWNER", absl::StrCat("cases/", number),
                         absl::StrCat("owned by unit ", rec->case_().owner_unit())),
        "NOT_OWNER");
  }
  if (rec->ownership_unconfirmed()) {
    return WithReason(
        WithRetryDelay(
            absl::UnavailableError(absl::StrCat(
                "case cases/", number,
                ": this node was restored from a backup and its peers have not all confirmed yet "
                "that it still owns the case (a handoff made after the backup may have given it "
                "away); retry later")),
            absl::Seconds(30)),
        "OWNERSHIP_UNCONFIRMED");
  }
  return *std::move(rec);
}

absl::StatusOr<uint64_t> CaseRecords::NextCounter(WriteTxn& txn, const std::string& key) const {
  auto raw = txn.Get(f_.meta, key);
  if (!raw.ok()) return raw.status();
  uint64_t next = 1;
  if (const std::optional<std::string>& value = *raw; value.has_value()) {
    next = FromBigEndian64(*value) + 1;
  }
  // Every case and change bumps a counter: one write per commit group.
  txn.PutCoalesced(f_.meta, key, BigEndian64(next));
  return next;
}

absl::Status CaseRecords::AppendEvent(WriteTxn& txn, CaseRecord& rec, const Principal& p,
                                      absl::string_view action, const CaseChange& change) const {
  Case& c = *rec.mutable_case_();
  const absl::Time now = d_.clock->Now();
  c.set_version(c.version() + 1);
  c.set_etag(absl::StrCat("v", c.version()));
  SetTimestamp(now, c.mutable_update_time());
  if (c.version() == 1) SetTimestamp(now, c.mutable_create_time());

  cases::v1::CaseEvent e;
  e.set_sequence(c.history_length() + 1);
  SetTimestamp(now, e.mutable_time());
  e.mutable_actor()->set_subject(p.subject);
  e.mutable_actor()->set_role(std::string(RoleName(p.role)));
  e.mutable_actor()->set_unit_code(p.unit_code);
  e.set_action(std::string(action));
  e.set_state(c.state());
  e.set_summary(change.summary);
  for (const auto& f : change.fields) e.add_changed_fields(f);
  e.set_case_version(c.version());
  SealCaseEvent(c.history_head_hash(), &e);
  c.set_history_head_hash(e.hash());
  c.set_history_length(e.sequence());

  cases::storage::FeedEntry fe;
  fe.set_case_number(c.number());
  fe.set_version(c.version());
  fe.set_owner_epoch(c.owner_epoch());
  RECEPTION_RETURN_IF_ERROR(AppendFeed(txn, fe));
  const std::string due_key = DueKey(c);
  if (due_key != rec.due_key()) {
    if (!rec.due_key().empty()) txn.Delete(f_.due, rec.due_key());
    if (!due_key.empty()) txn.Put(f_.due, due_key, "");
    rec.set_due_key(due_key);
  }
  txn.Put(f_.events, EventKey(c.number(), e.sequence()), e.SerializeAsString());
  txn.Put(f_.cases, c.number(), rec.SerializeAsString());
  WriteFacts(txn, c, /*replica=*/false);
  return absl::OkStatus();
}

std::string FactsKey(absl::string_view number, bool replica) {
  std::string key(number);
  key.push_back('\0');
  key.push_back(replica ? 'r' : 'o');
  return key;
}

cases::storage::view::CaseReportView ReportFacts(const Case& c) {
  cases::storage::view::CaseReportView v;
  auto date = [](const type::v1::Date& d, cases::storage::view::DateView* out) {
    out->set_year(d.year());
    out->set_month(d.month());
    out->set_day(d.day());
  };
  v.set_number(c.number());
  v.set_kind(c.kind());
  v.set_channel(c.channel());
  v.set_mass_case(c.mass_case());
  v.mutable_reception_unit()->set_code(c.reception_unit().code());
  date(c.received_date(), v.mutable_received_date());
  v.set_owner_unit(c.owner_unit());
  v.set_owner_epoch(c.owner_epoch());
  if (c.has_classification()) {
    v.mutable_classification()->set_within_competence(c.classification().within_competence());
  }
  if (c.has_acceptance()) date(c.acceptance().date(), v.mutable_acceptance()->mutable_date());
  if (c.has_guidance()) date(c.guidance().date(), v.mutable_guidance()->mutable_date());
  if (c.has_decision()) date(c.decision().date(), v.mutable_decision()->mutable_date());
  for (const auto& w : c.withdrawals()) {
    auto* o = v.add_withdrawals();
    o->set_partial(w.partial());
    date(w.date(), o->mutable_date());
  }
  v.set_version(c.version());
  for (const auto& k : c.clocks()) {
    // Only the settlement clock is read (its due date judges on time).
    if (k.step() != cases::v1::DEADLINE_STEP_SETTLE) continue;
    auto* o = v.add_clocks();
    o->set_step(k.step());
    if (k.has_due_date()) date(k.due_date(), o->mutable_due_date());
    o->set_state(k.state());
  }
  return v;
}

void CaseRecords::WriteFacts(WriteTxn& txn, const Case& c, bool replica) const {
  txn.Put(f_.facts, FactsKey(c.number(), replica), ReportFacts(c).SerializeAsString());
}

absl::Status CaseRecords::AppendFeed(WriteTxn& txn, const cases::storage::FeedEntry& entry) const {
  RECEPTION_ASSIGN_OR_RETURN(uint64_t feed_seq, NextCounter(txn, "feed_seq"));
  txn.Put(f_.feed, BigEndian64(feed_seq), entry.SerializeAsString());
  if (d_.feed_watch != nullptr) {
    txn.OnDurable([watch = d_.feed_watch, feed_seq] { watch->Advance(feed_seq); });
  }
  return absl::OkStatus();
}

absl::StatusOr<int> CaseRecords::SkipCounters(uint64_t gap) const {
  auto moved = std::make_shared<int>(0);
  RECEPTION_RETURN_IF_ERROR(d_.store->CommitAndWait([this, gap, moved](WriteTxn& txn) {
    std::vector<std::string> keys = {"feed_seq"};
    auto it = d_.store->NewIterator(f_.meta);
    for (it->Seek("case_seq/"); it->Valid() && it->key().starts_with("case_seq/"); it->Next()) {
      keys.push_back(it->key().ToString());
    }
    if (!it->status().ok()) return absl::InternalError("reading the counters failed");
    for (const auto& key : keys) {
      RECEPTION_ASSIGN_OR_RETURN(auto raw, txn.Get(f_.meta, key));
      const uint64_t now = raw ? FromBigEndian64(*raw) : 0;
      txn.PutCoalesced(f_.meta, key, BigEndian64(now + gap));
      ++*moved;
    }
    return absl::OkStatus();
  }));
  return *moved;
}

absl::StatusOr<uint64_t> CaseRecords::FeedHead() const {
  RECEPTION_ASSIGN_OR_RETURN(auto v, d_.store->Get(f_.meta, "feed_seq"));
  if (!v) return 0;
  if (v->size() != 8) return absl::DataLossError("the feed counter does not parse");
  return FromBigEndian64(*v);
}

absl::StatusOr<std::vector<FeedPosition>> CaseRecords::ReadFeed(uint64_t after, int limit) const {
  std::vector<FeedPosition> out;
  auto it = d_.store->NewIterator(f_.feed);
  cases::storage::FeedEntry fe;
  for (it->Seek(BigEndian64(after + 1)); it->Valid() && static_cast<int>(out.size()) < limit;
       it->Next()) {
    if (it->key().size() != 8 ||
        !fe.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("change feed entry does not parse");
    }
    out.push_back(FeedPosition{FromBigEndian64(absl::string_view(it->key().data(), 8)),
                               fe.case_number(), fe.version(), fe.origin_unit(), fe.owner_epoch()});
  }
  if (!it->status().ok()) return absl::InternalError(it->status().ToString());
  return out;
}

absl::Status CaseRecords::ForEach(const std::function<absl::Status(const CaseRecord&)>& fn) const {
  auto it = d_.store->NewIterator(f_.cases);
  CaseRecord rec;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(
          absl::StrCat("case record ", it->key().ToString(), " does not parse"));
    }
    RECEPTION_RETURN_IF_ERROR(fn(rec));
  }
  if (!it->status().ok()) return absl::InternalError(it->status().ToString());
  return absl::OkStatus();
}

}  // namespace reception
