#include "services/case/case_registry.h"

#include <sodium.h>

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/case/audit_chain.h"
#include "services/case/intake.h"
#include "services/case/reception_log.h"
#include "services/common/civil_date.h"
#include "services/common/key_file.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace reception {
namespace {

using cases::storage::CaseRecord;
using cases::v1::Case;
using cases::v1::CaseKind;
using cases::v1::CaseState;

constexpr char kCases[] = "cases";        // number -> CaseRecord
constexpr char kEvents[] = "events";      // number '/' BE64(seq) -> CaseEvent
constexpr char kRequests[] = "requests";  // request_id -> RequestRecord
constexpr char kMeta[] = "meta";          // counters
constexpr char kHandoffs[] = "handoffs";  // handoff id -> HandoffRecord
constexpr char kOutbox[] = "outbox";      // BE64(seq) -> handoff id (pending, outgoing)
constexpr char kCitizens[] = "citizens";  // hex(keyed hash of citizen ID) '/' number -> ""
constexpr char kDue[] = "due";            // YYYYMMDD '/' number -> "" (running clocks)
constexpr char kFeed[] = "feed";          // BE64(seq) -> FeedEntry
constexpr char kSearch[] = "search";      // number -> folded text for ListCases.query
                                          // (never a protected identity; written once)

std::string EventKey(absl::string_view number, uint64_t seq) {
  return absl::StrCat(number, "/", BigEndian64(seq));
}

std::string Deterministic(const google::protobuf::Message& m) {
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

std::string KindName(CaseKind k) {
  std::string name = cases::v1::CaseKind_Name(k);
  return absl::AsciiStrToLower(name.substr(absl::string_view("CASE_KIND_").size()));
}

template <typename E>
std::string EnumSuffix(const std::string& full, absl::string_view prefix) {
  return absl::StartsWith(full, prefix) ? full.substr(prefix.size()) : full;
}

absl::CivilDay DayOf(const type::v1::Date& d) { return absl::CivilDay(d.year(), d.month(), d.day()); }

// "YYYYMMDD/number" for a case with a running clock, else "".
std::string DueKey(const Case& c) {
  if (!c.has_due_date()) return "";
  return absl::StrFormat("%04d%02d%02d/%s", c.due_date().year(), c.due_date().month(),
                         c.due_date().day(), c.number());
}

// The date a transition took effect, as recorded by it.
absl::CivilDay TransitionDate(const Case& c, CaseTransition t, absl::CivilDay today) {
  const type::v1::Date* d = nullptr;
  switch (t) {
    case CaseTransition::kClassify: d = &c.classification().date(); break;
    case CaseTransition::kAccept: d = &c.acceptance().date(); break;
    case CaseTransition::kRefuse: d = &c.refusal().date(); break;
    case CaseTransition::kGuide: d = &c.guidance().date(); break;
    case CaseTransition::kArchive: d = &c.archival().date(); break;
    case CaseTransition::kStartVerification: d = &c.verification().start_date(); break;
    case CaseTransition::kSuspend:
      if (!c.suspensions().empty()) d = &c.suspensions().rbegin()->start_date();
      break;
    case CaseTransition::kResume:
      if (!c.suspensions().empty()) d = &c.suspensions().rbegin()->end_date();
      break;
    case CaseTransition::kDecide: d = &c.decision().date(); break;
    case CaseTransition::kPublishDecision:
      d = &c.publication().date();
      break;
    case CaseTransition::kWithdraw:
    case CaseTransition::kWithdrawPartial:
      if (!c.withdrawals().empty()) d = &c.withdrawals().rbegin()->date();
      break;
    default: break;
  }
  return d != nullptr && d->year() != 0 ? DayOf(*d) : today;
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
    return InvalidField(field, absl::StrCat("must not be before the reception date ",
                                            FormatDate(*received)));
  }
  if (day > today) {
    return InvalidField(field, absl::StrCat("must not be in the future (today is ",
                                            FormatDate(today), ")"));
  }
  return day;
}

absl::Status ValidateReference(absl::string_view value, absl::string_view field, bool required) {
  return ValidateText(value, field, IntakeLimits::kMaxReferenceChars, required, false);
}

absl::Status ValidateNote(absl::string_view value, absl::string_view field, bool required) {
  return ValidateText(value, field, IntakeLimits::kMaxNoteChars, required, true);
}

bool OutcomeFits(CaseKind kind, cases::v1::Outcome o) {
  using O = cases::v1::Outcome;
  switch (kind) {
    case cases::v1::CASE_KIND_COMPLAINT:
      return o == O::OUTCOME_COMPLAINT_RIGHT || o == O::OUTCOME_COMPLAINT_WRONG ||
             o == O::OUTCOME_COMPLAINT_PARTLY_RIGHT;
    case cases::v1::CASE_KIND_DENUNCIATION:
      return o == O::OUTCOME_DENUNCIATION_FOUNDED || o == O::OUTCOME_DENUNCIATION_UNFOUNDED ||
             o == O::OUTCOME_DENUNCIATION_PARTLY_FOUNDED;
    default:
      return o == O::OUTCOME_ANSWERED;
  }
}

// Page tokens are opaque: a serialized PageToken in web-safe base64, bound to
// the filters of the request that produced it.
std::string EncodePageToken(const std::string& after_key, const std::string& filter_fp,
                            int phase = 0) {
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

}  // namespace

std::vector<std::string> CaseRegistry::ColumnFamilies() {
  return {kCases, kEvents, kRequests, kMeta, kFeed, kSearch, kDue, kHandoffs, kOutbox, kCitizens};
}

CaseRegistry::CaseRegistry(Deps deps)
    : d_(std::move(deps)),
      cases_(d_.store->Family(kCases)),
      events_(d_.store->Family(kEvents)),
      requests_(d_.store->Family(kRequests)),
      meta_(d_.store->Family(kMeta)),
      feed_(d_.store->Family(kFeed)),
      search_(d_.store->Family(kSearch)),
      due_(d_.store->Family(kDue)),
      handoffs_(d_.store->Family(kHandoffs)),
      outbox_(d_.store->Family(kOutbox)),
      citizens_(d_.store->Family(kCitizens)),
      board_(std::make_shared<DeadlineBoard>(d_.clock)) {
  status_ = OpenHandoffOutbox();
  // The board starts from what is stored; every committed write updates it.
  auto it = d_.store->NewIterator(cases_);
  CaseRecord rec;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      board_->Update(rec.case_());
    }
  }
  if (d_.metrics != nullptr) {
    created_ = &prometheus::BuildCounter()
                    .Name("reception_cases_created_total")
                    .Help("Cases registered on this node, by kind")
                    .Register(*d_.metrics);
    transitions_ = &prometheus::BuildCounter()
                        .Name("reception_case_transitions_total")
                        .Help("Lifecycle transitions applied, by method")
                        .Register(*d_.metrics);
    reveals_ = &prometheus::BuildCounter()
                    .Name("reception_identity_reveals_total")
                    .Help("Protected identities revealed to inspectors (each one audited)")
                    .Register(*d_.metrics)
                    .Add({});
  }
}

absl::Status CaseRegistry::CheckWriter(const Principal& p) const {
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

absl::StatusOr<std::optional<CaseRecord>> CaseRegistry::LoadRecord(const WriteTxn* txn,
                                                                    const std::string& number) const {
  RECEPTION_ASSIGN_OR_RETURN(auto raw, txn ? txn->Get(cases_, number) : d_.store->Get(cases_, number));
  if (!raw) return std::nullopt;
  CaseRecord rec;
  if (!rec.ParseFromString(*raw)) {
    return absl::DataLossError(absl::StrCat("case record ", number, " does not parse"));
  }
  return rec;
}

absl::StatusOr<CaseRecord> CaseRegistry::LoadOwnedRecord(const WriteTxn& txn,
                                                          const std::string& number) const {
  RECEPTION_ASSIGN_OR_RETURN(auto rec, LoadRecord(&txn, number));
  if (!rec) return absl::NotFoundError(absl::StrCat("case cases/", number, " does not exist"));
  if (rec->case_().owner_unit() != d_.unit_code) {
    return absl::FailedPreconditionError(absl::StrCat(
        "case cases/", number, " is owned by unit ", rec->case_().owner_unit(),
        "; changes must be made on that unit's node"));
  }
  return *std::move(rec);
}

absl::StatusOr<uint64_t> CaseRegistry::NextCounter(WriteTxn& txn, const std::string& key) {
  auto raw = txn.Get(meta_, key);
  if (!raw.ok()) return raw.status();
  uint64_t next = 1;
  if (const std::optional<std::string>& value = *raw; value.has_value()) {
    next = FromBigEndian64(*value) + 1;
  }
  txn.Put(meta_, key, BigEndian64(next));
  return next;
}

absl::Status CaseRegistry::AppendEvent(WriteTxn& txn, CaseRecord& rec,
                                       const Principal& p, absl::string_view action,
                                       const Change& change) {
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

  RECEPTION_ASSIGN_OR_RETURN(uint64_t feed_seq, NextCounter(txn, "feed_seq"));
  cases::storage::FeedEntry fe;
  fe.set_case_number(c.number());
  fe.set_version(c.version());
  const std::string due_key = DueKey(c);
  if (due_key != rec.due_key()) {
    if (!rec.due_key().empty()) txn.Delete(due_, rec.due_key());
    if (!due_key.empty()) txn.Put(due_, due_key, "");
    rec.set_due_key(due_key);
  }
  txn.Put(events_, EventKey(c.number(), e.sequence()), e.SerializeAsString());
  txn.Put(cases_, c.number(), rec.SerializeAsString());
  txn.Put(feed_, BigEndian64(feed_seq), fe.SerializeAsString());
  return absl::OkStatus();
}

std::string CaseRegistry::SearchText(const Case& c) const {
  // Protected identities are never indexed: a name search must not reveal
  // that someone denounced.
  std::string text;
  for (const auto& p : c.petitioners()) absl::StrAppend(&text, " ", p.full_name());
  absl::StrAppend(&text, " ", c.respondent().official_name(), " ",
                  c.respondent().official_position(), " ", c.content());
  return FoldForSearch(text);
}

absl::StatusOr<int> CaseRegistry::GuidancesOnMatter(const WriteTxn& txn, const Case& c) const {
  int count = 0;
  std::string ref = c.repeats_case();
  for (int hops = 0; !ref.empty() && hops < 32; ++hops) {
    auto number = ParseCaseName(ref, "repeats_case");
    if (!number.ok()) break;
    RECEPTION_ASSIGN_OR_RETURN(auto rec, LoadRecord(&txn, *number));
    if (!rec) break;  // held by another node: not known here
    if (rec->case_().has_guidance()) ++count;
    ref = rec->case_().repeats_case();
  }
  return count;
}

void CaseRegistry::CreateCase(const Principal& p, const cases::v1::CreateCaseRequest& r,
                              Callback<Case> done) {
  if (auto s = CheckWriter(p); !s.ok()) return done(s);
  if (auto s = ValidateRequestId(r.request_id()); !s.ok()) return done(s);
  IntakeEnv env{d_.topology, d_.rules, d_.unit_code, d_.clock->Today()};
  auto prepared = PrepareNewCase(r, env);
  if (!prepared.ok()) return done(prepared.status());
  std::string fingerprint = d_.vault->Fingerprint(Deterministic(*prepared));
  // Folding is the costliest step of intake: do it here, on the caller's
  // thread, not on the single writer. Protected identities are left out.
  const bool protect = prepared->kind() == cases::v1::CASE_KIND_DENUNCIATION && !prepared->anonymous();
  Case searchable = *prepared;
  if (protect) searchable.clear_petitioners();
  std::string search_text = SearchText(searchable);
  if (!protect) {
    // On the caller's thread, against committed cases (a duplicate created
    // in the same commit group is not seen; it would be by the next case).
    auto duplicates = FindDuplicates(*prepared);
    if (!duplicates.ok()) return done(duplicates.status());
    for (auto& d : *duplicates) prepared->add_possible_duplicates(std::move(d));
  }
  auto result = std::make_shared<Case>();
  d_.store->Submit(
      [this, p, c = *std::move(prepared), fingerprint, request_id = r.request_id(), protect,
       search_text = std::move(search_text), result](WriteTxn& txn) mutable -> absl::Status {
        // A retry returns what the first call created.
        RECEPTION_ASSIGN_OR_RETURN(auto seen, txn.Get(requests_, request_id));
        if (seen) {
          cases::storage::RequestRecord rr;
          rr.ParseFromString(*seen);
          if (rr.fingerprint() != fingerprint) {
            return absl::AlreadyExistsError(absl::StrCat(
                "request_id ", request_id, " was already used to create cases/",
                rr.case_number(), " with different content; use a new request_id"));
          }
          RECEPTION_ASSIGN_OR_RETURN(auto rec, LoadRecord(&txn, rr.case_number()));
          if (!rec) return absl::DataLossError("idempotency record points to a missing case");
          *result = rec->case_();
          return absl::OkStatus();
        }
        if (!c.previous_case().empty()) {
          auto prev = LoadRecord(&txn, *ParseCaseName(c.previous_case(), "case.previous_case"));
          if (!prev.ok()) return prev.status();
          if (*prev && ((*prev)->case_().kind() != cases::v1::CASE_KIND_COMPLAINT ||
                        (*prev)->case_().complaint_round() != cases::v1::COMPLAINT_ROUND_FIRST)) {
            return InvalidField("case.previous_case", "must name a first-time complaint");
          }
        }
        const absl::CivilDay today = d_.clock->Today();
        RECEPTION_ASSIGN_OR_RETURN(
            uint64_t seq, NextCounter(txn, absl::StrCat("case_seq/", today.year())));
        const std::string number =
            absl::StrFormat("%s-%04d-%06d", d_.unit_code, today.year(), seq);
        c.set_name(absl::StrCat("cases/", number));
        c.set_number(number);
        c.set_state(cases::v1::CASE_STATE_RECEIVED);
        c.set_owner_unit(d_.unit_code);
        c.set_owner_epoch(0);
        c.set_petitioner_count(c.petitioners_size());
        if (d_.deadlines != nullptr) {
          RECEPTION_ASSIGN_OR_RETURN(
              auto clocks, d_.deadlines->Start(ClockTrigger::kReceived, Facts(c), DayOf(c.received_date())));
          for (auto& clock : clocks) *c.add_clocks() = std::move(clock);
          if (auto due = DeadlineEngine::EarliestDue(c.clocks())) *c.mutable_due_date() = ToProtoDate(*due);
          if (c.has_filing_limit()) {
            d_.deadlines->JudgeFiling(*c.mutable_filing_limit(), Facts(c),
                                      DayOf(c.received_date()));
          }
        }
        CaseRecord rec;
        if (protect) {
          cases::storage::ProtectedIdentity identity;
          *identity.mutable_petitioners() = c.petitioners();
          *identity.mutable_representative_citizen_ids() = c.representative_citizen_ids();
          *rec.mutable_sealed_identity() = d_.vault->Seal(identity.SerializeAsString(), number);
          c.clear_petitioners();
          c.clear_representative_citizen_ids();
          c.set_identity_protected(true);
        }
        txn.Put(search_, number, absl::StrCat(absl::AsciiStrToLower(number), " ", search_text));
        if (!protect) {
          for (const auto& key : CitizenKeys(c)) txn.Put(citizens_, key, "");
        }
        Change change;
        change.summary = absl::StrCat(
            "received ", KindName(c.kind()),
            c.kind() == cases::v1::CASE_KIND_COMPLAINT
                ? (c.complaint_round() == cases::v1::COMPLAINT_ROUND_SECOND ? " (second time)"
                                                                          : " (first time)")
                : "",
            " via ", absl::AsciiStrToLower(EnumSuffix<int>(cases::v1::Channel_Name(c.channel()), "CHANNEL_")),
            " at unit ", c.reception_unit().code(), " on ", FormatDate(c.received_date()), "; ",
            c.petitioner_count(), " petitioner(s)",
            c.identity_protected() ? " (identity protected)" : "",
            c.anonymous() ? ", anonymous" : "", c.mass_case() ? ", mass case" : "", ", ",
            c.people_count(), " people",
            c.possible_duplicates().empty()
                ? ""
                : absl::StrCat("; may repeat ", absl::StrJoin(c.possible_duplicates(), ", ")));
        *rec.mutable_case_() = std::move(c);
        RECEPTION_RETURN_IF_ERROR(AppendEvent(txn, rec, p, "CreateCase", change));
        cases::storage::RequestRecord rr;
        rr.set_case_number(number);
        rr.set_fingerprint(fingerprint);
        txn.Put(requests_, request_id, rr.SerializeAsString());
        *result = rec.case_();
        return absl::OkStatus();
      },
      [this, result, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        if (created_ && result->version() == 1) {
          created_->Add({{"kind", KindName(result->kind())}}).Increment();
        }
        board_->Update(*result);
        Decorate(*result, d_.clock->Today());
        done(*result);
      });
}

void CaseRegistry::Transition(const Principal& p, const std::string& name, const std::string& etag,
                              CaseTransition t, Apply apply, Callback<Case> done, bool check_writer) {
  if (check_writer) {
    if (auto s = CheckWriter(p); !s.ok()) return done(s);
  }
  auto number = ParseCaseName(name, "name");
  if (!number.ok()) return done(number.status());
  if (etag.size() > 64) return done(InvalidField("etag", "is not an etag returned by this service"));
  auto result = std::make_shared<Case>();
  d_.store->Submit(
      [this, p, number = *number, etag, t, apply = std::move(apply),
       result](WriteTxn& txn) mutable -> absl::Status {
        RECEPTION_ASSIGN_OR_RETURN(CaseRecord rec, LoadOwnedRecord(txn, number));
        Case& c = *rec.mutable_case_();
        if (!etag.empty() && etag != c.etag()) {
          return absl::AbortedError(absl::StrCat("etag ", etag, " is stale: cases/", number,
                                                 " is now at ", c.etag(), "; read it again"));
        }
        RECEPTION_RETURN_IF_ERROR(CheckTransition(t, c.state()));
        if (t != CaseTransition::kExtendDeadline && t != CaseTransition::kAttachMinutes &&
            t != CaseTransition::kWithdraw && t != CaseTransition::kWithdrawPartial) {
          RECEPTION_RETURN_IF_ERROR(CheckNoDisputeHere(c));
        }
        const CaseState before = c.state();
        const absl::CivilDay today = d_.clock->Today();
        RECEPTION_ASSIGN_OR_RETURN(Change change, apply(txn, c, today));
        c.set_state(NextState(t, before));
        RECEPTION_RETURN_IF_ERROR(AdvanceClocks(c, t, today));
        if (c.state() != before) {
          change.fields.insert(change.fields.begin(), "state");
          change.summary = absl::StrCat(StateName(before), " -> ", StateName(c.state()),
                                        change.summary.empty() ? "" : ": ", change.summary);
        }
        RECEPTION_RETURN_IF_ERROR(AppendEvent(txn, rec, p, TransitionName(t), change));
        *result = c;
        return absl::OkStatus();
      },
      [this, t, result, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        if (transitions_) {
          transitions_->Add({{"method", std::string(TransitionName(t))}}).Increment();
        }
        board_->Update(*result);
        Decorate(*result, d_.clock->Today());
        done(*result);
      });
}

absl::StatusOr<std::string> CaseRegistry::AddFilingFacts(const cases::v1::ClassifyCaseRequest& r,
                                                         Case& c) const {
  if (r.filing_delays().empty() && IsUnset(r.filing_start_date())) return std::string();
  if (c.kind() != cases::v1::CASE_KIND_COMPLAINT) {
    return InvalidField(r.filing_delays().empty() ? "filing_start_date" : "filing_delays",
                        "applies to complaints only (Law on Complaints Art 9)");
  }
  const absl::CivilDay received = DayOf(c.received_date());
  auto* f = c.mutable_filing_limit();
  std::vector<std::string> said;
  if (!IsUnset(r.filing_start_date())) {
    RECEPTION_ASSIGN_OR_RETURN(absl::CivilDay start,
                               ToCivilDay(r.filing_start_date(), "filing_start_date"));
    if (f->has_start_date() && !IsUnset(f->start_date()) && DayOf(f->start_date()) != start) {
      return InvalidField("filing_start_date",
                          absl::StrCat("was recorded at intake as ", FormatDate(f->start_date()),
                                       " and cannot be changed"));
    }
    if (start > received)
      return InvalidField("filing_start_date", "must not be after the reception date");
    *f->mutable_start_date() = ToProtoDate(start);
    said.push_back(absl::StrCat("filing limit counted from ", FormatDate(start)));
  }
  google::protobuf::RepeatedPtrField<cases::v1::FilingDelay> all = f->delays();
  for (const auto& d : r.filing_delays()) *all.Add() = d;
  std::optional<absl::CivilDay> start;
  if (f->has_start_date() && !IsUnset(f->start_date())) start = DayOf(f->start_date());
  RECEPTION_RETURN_IF_ERROR(ValidateFilingDelays(all, "filing_delays", start, received));
  for (const auto& d : r.filing_delays()) {
    auto* added = f->add_delays();
    *added = d;
    added->set_evidence_reference(NormalizeNfc(d.evidence_reference()));
    added->set_note(NormalizeNfc(d.note()));
    said.push_back(absl::StrCat(
        "delay ",
        absl::AsciiStrToLower(
            EnumSuffix<int>(cases::v1::FilingObstacle_Name(d.obstacle()), "FILING_OBSTACLE_")),
        " ", FormatDate(d.start_date()), " to ", FormatDate(d.end_date()), " (evidence ",
        added->evidence_reference(), ")"));
  }
  if (d_.deadlines != nullptr) d_.deadlines->JudgeFiling(*f, Facts(c), received);
  if (f->has_due_date()) {
    said.push_back(f->met()
                       ? absl::StrCat("filed in time (last day ", FormatDate(f->due_date()), ")")
                       : absl::StrCat("filed ", f->days_late(), " day(s) late (last day ",
                                      FormatDate(f->due_date()), ")"));
  }
  return absl::StrJoin(said, "; ");
}

void CaseRegistry::ClassifyCase(const Principal& p, const cases::v1::ClassifyCaseRequest& r,
                                Callback<Case> done) {
  if (!cases::v1::CaseKind_IsValid(r.kind())) return done(InvalidField("kind", "is not a case kind"));
  if (!cases::v1::Complexity_IsValid(r.complexity())) {
    return done(InvalidField("complexity", "is not a complexity"));
  }
  if (auto s = ValidateNote(r.note(), "note", false); !s.ok()) return done(s);
  Transition(
      p, r.name(), r.etag(), CaseTransition::kClassify,
      [this, r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<Change> {
        RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
        RECEPTION_ASSIGN_OR_RETURN(std::string filing, AddFilingFacts(r, c));
        auto* cl = c.mutable_classification();
        cl->set_kind(r.kind() == cases::v1::CASE_KIND_UNSPECIFIED ? c.kind() : r.kind());
        if (cl->kind() != c.kind()) {
          return InvalidField(
              "kind",
              absl::StrCat("cannot change a ", KindName(c.kind()), " into a ", KindName(cl->kind()),
                           "; register a new case of the right kind and archive this one"));
        }
        cl->set_within_competence(r.within_competence());
        cl->set_complexity(r.complexity() == cases::v1::COMPLEXITY_UNSPECIFIED
                               ? cases::v1::COMPLEXITY_NORMAL
                               : r.complexity());
        cl->set_note(NormalizeNfc(r.note()));
        *cl->mutable_date() = ToProtoDate(day);
        Change change{
            absl::StrCat(r.within_competence() ? "within" : "outside", " competence, ",
                         absl::AsciiStrToLower(EnumSuffix<int>(
                             cases::v1::Complexity_Name(cl->complexity()), "COMPLEXITY_"))),
            {"classification"}};
        if (!filing.empty()) {
          absl::StrAppend(&change.summary, "; ", filing);
          change.fields.push_back("filing_limit");
        }
        return change;
      },
      std::move(done));
}

void CaseRegistry::AcceptCase(const Principal& p, const cases::v1::AcceptCaseRequest& r,
                              Callback<Case> done) {
  if (auto s = ValidateReference(r.notice_reference(), "notice_reference", true); !s.ok()) {
    return done(s);
  }
  Transition(p, r.name(), r.etag(), CaseTransition::kAccept,
             [r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<Change> {
               if (!c.classification().within_competence()) {
                 return absl::FailedPreconditionError(
                     "AcceptCase is not allowed: the case was classified outside this unit's "
                     "competence; guide the citizen or transfer it instead");
               }
               if (const auto& f = c.filing_limit(); f.has_due_date() && !f.met()) {
                 return absl::FailedPreconditionError(absl::StrCat(
                     "AcceptCase is not allowed: the complaint was filed ", f.days_late(),
                     " day(s) after its filing limit ran out on ", FormatDate(f.due_date()), " (",
                     f.source(),
                     "); record a legitimate reason for the delay with ClassifyCase.filing_delays, "
                     "or refuse it with ground OUT_OF_TIME"));
               }
               RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
               c.mutable_acceptance()->set_notice_reference(NormalizeNfc(r.notice_reference()));
               *c.mutable_acceptance()->mutable_date() = ToProtoDate(day);
               return Change{absl::StrCat("accepted by notice ", r.notice_reference()),
                             {"acceptance"}};
             },
             std::move(done));
}

void CaseRegistry::RefuseCase(const Principal& p, const cases::v1::RefuseCaseRequest& r,
                              Callback<Case> done) {
  if (!cases::v1::RefusalGround_IsValid(r.ground()) ||
      r.ground() == cases::v1::REFUSAL_GROUND_UNSPECIFIED) {
    return done(InvalidField("ground", "must be a legal ground for refusal"));
  }
  const bool notice_required = r.ground() == cases::v1::REFUSAL_GROUND_ALREADY_SETTLED;
  if (auto s = ValidateReference(r.notice_reference(), "notice_reference", notice_required);
      !s.ok()) {
    if (notice_required && r.notice_reference().empty()) {
      return done(InvalidField("notice_reference",
                               "is required: refusing a matter already settled needs a written "
                               "refusal notice by the head"));
    }
    return done(s);
  }
  if (auto s = ValidateNote(r.explanation(), "explanation", true); !s.ok()) return done(s);
  Transition(p, r.name(), r.etag(), CaseTransition::kRefuse,
             [r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<Change> {
               RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
               if (r.ground() == cases::v1::REFUSAL_GROUND_OUT_OF_TIME) {
                 // The ground is the complainant's filing limit, judged on the case.
                 const auto& f = c.filing_limit();
                 if (c.kind() != cases::v1::CASE_KIND_COMPLAINT) {
                   return absl::FailedPreconditionError(
                       "ground OUT_OF_TIME applies to complaints only (Law on Complaints Art 9, "
                       "11)");
                 }
                 if (!f.has_due_date()) {
                   return absl::FailedPreconditionError(
                       "ground OUT_OF_TIME needs the filing limit judged: record when the "
                       "complainant "
                       "received the decision or learned of the act "
                       "(ClassifyCase.filing_start_date)");
                 }
                 if (f.met()) {
                   return absl::FailedPreconditionError(
                       absl::StrCat("ground OUT_OF_TIME does not apply: the complaint was filed "
                                    "within its limit (last day ",
                                    FormatDate(f.due_date()), ")"));
                 }
               }
               auto* rf = c.mutable_refusal();
               rf->set_ground(r.ground());
               rf->set_notice_reference(NormalizeNfc(r.notice_reference()));
               rf->set_explanation(NormalizeNfc(r.explanation()));
               *rf->mutable_date() = ToProtoDate(day);
               return Change{absl::StrCat("refused on ground ",
                                          EnumSuffix<int>(cases::v1::RefusalGround_Name(r.ground()),
                                                          "REFUSAL_GROUND_")),
                             {"refusal"}};
             },
             std::move(done));
}

void CaseRegistry::GuideCase(const Principal& p, const cases::v1::GuideCaseRequest& r,
                             Callback<Case> done) {
  if (auto s = ValidateText(r.competent_body(), "competent_body", IntakeLimits::kMaxBodyChars,
                            true, false);
      !s.ok()) {
    return done(s);
  }
  if (auto s = ValidateNote(r.note(), "note", false); !s.ok()) return done(s);
  Transition(p, r.name(), r.etag(), CaseTransition::kGuide,
             [this, r](const WriteTxn& txn, Case& c, absl::CivilDay today) -> absl::StatusOr<Change> {
               if (c.classification().within_competence()) {
                 return absl::FailedPreconditionError(
                     "GuideCase is not allowed: the case was classified within this unit's "
                     "competence; accept it instead");
               }
               RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
               RECEPTION_ASSIGN_OR_RETURN(const RuleBook::Pack* pack, d_.rules->PackOn(day));
               RECEPTION_ASSIGN_OR_RETURN(int earlier, GuidancesOnMatter(txn, c));
               const int max = pack->intake().max_guidances_per_matter();
               if (max > 0 && earlier >= max) {
                 return absl::FailedPreconditionError(absl::StrCat(
                     "GuideCase is not allowed: the matter (see ", c.repeats_case(),
                     ") was already guided ", earlier, " time(s) and rule pack ", pack->id(),
                     " allows ", max, "; archive it with reason ALREADY_GUIDED"));
               }
               auto* g = c.mutable_guidance();
               g->set_competent_body(NormalizeNfc(r.competent_body()));
               g->set_note(NormalizeNfc(r.note()));
               *g->mutable_date() = ToProtoDate(day);
               return Change{absl::StrCat("guided to ", g->competent_body()), {"guidance"}};
             },
             std::move(done));
}

void CaseRegistry::ArchiveCase(const Principal& p, const cases::v1::ArchiveCaseRequest& r,
                               Callback<Case> done) {
  if (!cases::v1::ArchiveReason_IsValid(r.reason()) ||
      r.reason() == cases::v1::ARCHIVE_REASON_UNSPECIFIED) {
    return done(InvalidField("reason", "must be an archive reason"));
  }
  if (r.reason() == cases::v1::ARCHIVE_REASON_DUPLICATE) {
    if (r.duplicate_of().empty()) {
      return done(InvalidField("duplicate_of", "is required when the reason is DUPLICATE"));
    }
    if (auto n = ParseCaseName(r.duplicate_of(), "duplicate_of"); !n.ok()) return done(n.status());
  } else if (!r.duplicate_of().empty()) {
    return done(InvalidField("duplicate_of", "applies only when the reason is DUPLICATE"));
  }
  if (auto s = ValidateNote(r.note(), "note", r.reason() == cases::v1::ARCHIVE_REASON_OTHER);
      !s.ok()) {
    return done(s);
  }
  Transition(p, r.name(), r.etag(), CaseTransition::kArchive,
             [r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<Change> {
               if (r.duplicate_of() == c.name()) {
                 return InvalidField("duplicate_of", "must name another case");
               }
               RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
               auto* a = c.mutable_archival();
               a->set_reason(r.reason());
               a->set_duplicate_of(r.duplicate_of());
               a->set_note(NormalizeNfc(r.note()));
               *a->mutable_date() = ToProtoDate(day);
               return Change{absl::StrCat("archived: ",
                                          EnumSuffix<int>(cases::v1::ArchiveReason_Name(r.reason()),
                                                          "ARCHIVE_REASON_"),
                                          r.duplicate_of().empty() ? "" : " of ", r.duplicate_of()),
                             {"archival"}};
             },
             std::move(done));
}

void CaseRegistry::StartCaseVerification(const Principal& p,
                                         const cases::v1::StartCaseVerificationRequest& r,
                                         Callback<Case> done) {
  if (p.role != Role::kInspector && p.role != Role::kHead) {
    return done(absl::PermissionDeniedError(
        "StartCaseVerification needs the inspector or head role"));
  }
  if (auto s = ValidateText(r.verifier(), "verifier", IntakeLimits::kMaxNameChars, false, false);
      !s.ok()) {
    return done(s);
  }
  Transition(p, r.name(), r.etag(), CaseTransition::kStartVerification,
             [r, subject = p.subject](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<Change> {
               RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
               auto* v = c.mutable_verification();
               v->set_verifier(r.verifier().empty() ? subject : NormalizeNfc(r.verifier()));
               *v->mutable_start_date() = ToProtoDate(day);
               return Change{absl::StrCat("verification by ", v->verifier()), {"verification"}};
             },
             std::move(done));
}

void CaseRegistry::SuspendCase(const Principal& p, const cases::v1::SuspendCaseRequest& r,
                               Callback<Case> done) {
  if (auto s = ValidateNote(r.reason(), "reason", true); !s.ok()) return done(s);
  if (auto s = ValidateReference(r.evidence_reference(), "evidence_reference", true); !s.ok()) {
    return done(s);
  }
  Transition(p, r.name(), r.etag(), CaseTransition::kSuspend,
             [r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<Change> {
               RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
               for (const auto& s : c.suspensions()) {
                 if (s.has_end_date() && ToCivilDay(s.end_date(), "end").value() >= day) {
                   return InvalidField("date", absl::StrCat("must be after the end of the previous pause (",
                                                            FormatDate(s.end_date()), ")"));
                 }
               }
               auto* s = c.add_suspensions();
               *s->mutable_start_date() = ToProtoDate(day);
               s->set_reason(NormalizeNfc(r.reason()));
               s->set_evidence_reference(NormalizeNfc(r.evidence_reference()));
               return Change{absl::StrCat("handling paused from ", FormatDate(day),
                                          " (evidence ", s->evidence_reference(), ")"),
                             {"suspensions"}};
             },
             std::move(done));
}

void CaseRegistry::ResumeCase(const Principal& p, const cases::v1::ResumeCaseRequest& r,
                              Callback<Case> done) {
  Transition(p, r.name(), r.etag(), CaseTransition::kResume,
             [r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<Change> {
               RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
               if (c.suspensions().empty()) {
                 return absl::DataLossError("suspended case has no open pause");
               }
               auto* s = c.mutable_suspensions(c.suspensions_size() - 1);
               RECEPTION_ASSIGN_OR_RETURN(auto start, ToCivilDay(s->start_date(), "start"));
               if (day < start) {
                 return InvalidField("date", absl::StrCat("must not be before the pause began (",
                                                          FormatDate(start), ")"));
               }
               *s->mutable_end_date() = ToProtoDate(day);
               const int days = static_cast<int>(day - start) + 1;
               return Change{
                   absl::StrCat("handling resumed; paused ", FormatDate(start), " to ",
                                FormatDate(day), " inclusive (", days, days == 1 ? " day" : " days",
                                "), counting again from ", FormatDate(day + 1)),
                   {"suspensions"}};
             },
             std::move(done));
}

void CaseRegistry::PublishDecision(const Principal& p, const cases::v1::PublishDecisionRequest& r,
                                   Callback<Case> done) {
  if (!cases::v1::PublicationMethod_IsValid(r.method()) ||
      r.method() == cases::v1::PUBLICATION_METHOD_UNSPECIFIED) {
    return done(InvalidField("method", "must be MEETING, POSTING or MEDIA"));
  }
  if (auto s = ValidateReference(r.reference(), "reference", true); !s.ok()) return done(s);
  Transition(
      p, r.name(), r.etag(), CaseTransition::kPublishDecision,
      [r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<Change> {
        if (c.kind() != cases::v1::CASE_KIND_COMPLAINT) {
          return absl::FailedPreconditionError(
              "PublishDecision is for complaint settlement decisions; this case is not a "
              "complaint");
        }
        if (c.has_publication()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the decision was already made public on ", FormatDate(c.publication().date()), " (",
              c.publication().reference(), ")"));
        }
        RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
        if (day < DayOf(c.decision().date())) {
          return InvalidField("date", absl::StrCat("must not be before the decision (",
                                                   FormatDate(c.decision().date()), ")"));
        }
        auto* pub = c.mutable_publication();
        pub->set_method(r.method());
        pub->set_reference(NormalizeNfc(r.reference()));
        *pub->mutable_date() = ToProtoDate(day);
        return Change{
            absl::StrCat("decision made public by ",
                         absl::AsciiStrToLower(EnumSuffix<int>(
                             cases::v1::PublicationMethod_Name(r.method()), "PUBLICATION_METHOD_")),
                         " on ", FormatDate(day), " (", pub->reference(), ")"),
            {"publication"}};
      },
      std::move(done));
}

void CaseRegistry::DecideCase(const Principal& p, const cases::v1::DecideCaseRequest& r,
                              Callback<Case> done) {
  if (p.role != Role::kInspector && p.role != Role::kHead) {
    return done(absl::PermissionDeniedError("DecideCase needs the head or inspector role"));
  }
  if (!cases::v1::Outcome_IsValid(r.outcome()) || r.outcome() == cases::v1::OUTCOME_UNSPECIFIED) {
    return done(InvalidField("outcome", "must be set"));
  }
  if (auto s = ValidateReference(r.decision_reference(), "decision_reference", true); !s.ok()) {
    return done(s);
  }
  if (auto s = ValidateText(r.summary(), "summary", IntakeLimits::kMaxSummaryChars, false, true);
      !s.ok()) {
    return done(s);
  }
  Transition(p, r.name(), r.etag(), CaseTransition::kDecide,
             [r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<Change> {
               if (!OutcomeFits(c.kind(), r.outcome())) {
                 return InvalidField("outcome", absl::StrCat(
                     cases::v1::Outcome_Name(r.outcome()), " does not fit a ", KindName(c.kind())));
               }
               RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
               auto* d = c.mutable_decision();
               d->set_outcome(r.outcome());
               d->set_decision_reference(NormalizeNfc(r.decision_reference()));
               d->set_summary(NormalizeNfc(r.summary()));
               *d->mutable_date() = ToProtoDate(day);
               return Change{absl::StrCat("decided: ",
                                          EnumSuffix<int>(cases::v1::Outcome_Name(r.outcome()), "OUTCOME_"),
                                          " by ", d->decision_reference()),
                             {"decision"}};
             },
             std::move(done));
}

void CaseRegistry::CloseCase(const Principal& p, const cases::v1::CloseCaseRequest& r,
                             Callback<Case> done) {
  Transition(p, r.name(), r.etag(), CaseTransition::kClose,
             [](const WriteTxn&, Case&, absl::CivilDay) -> absl::StatusOr<Change> { return Change{"", {}}; },
             std::move(done));
}

void CaseRegistry::WithdrawCase(const Principal& p, const cases::v1::WithdrawCaseRequest& r,
                                Callback<Case> done) {
  if (auto s = ValidateReference(r.document_reference(), "document_reference", true); !s.ok()) {
    return done(s);
  }
  if (auto s = ValidateNote(r.reason(), "reason", false); !s.ok()) return done(s);
  if (r.partial()) {
    if (auto s = ValidateNote(r.withdrawn_part(), "withdrawn_part", true); !s.ok()) return done(s);
  } else if (!r.withdrawn_part().empty()) {
    return done(InvalidField("withdrawn_part", "applies only to a partial withdrawal"));
  }
  const CaseTransition t = r.partial() ? CaseTransition::kWithdrawPartial : CaseTransition::kWithdraw;
  Transition(p, r.name(), r.etag(), t,
             [this, r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<Change> {
               RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
               if (r.partial()) {
                 if (c.kind() != cases::v1::CASE_KIND_COMPLAINT) {
                   return absl::FailedPreconditionError(
                       "a partial withdrawal applies only to complaints");
                 }
                 RECEPTION_ASSIGN_OR_RETURN(const RuleBook::Pack* pack, d_.rules->PackOn(day));
                 if (!pack->intake().partial_withdrawal_allowed()) {
                   return absl::FailedPreconditionError(absl::StrCat(
                       "a partial withdrawal is not allowed on ", FormatDate(day),
                       " under rule pack ", pack->id(), "; withdraw the whole complaint or none"));
                 }
               }
               auto* w = c.add_withdrawals();
               w->set_partial(r.partial());
               w->set_withdrawn_part(NormalizeNfc(r.withdrawn_part()));
               w->set_reason(NormalizeNfc(r.reason()));
               w->set_document_reference(NormalizeNfc(r.document_reference()));
               *w->mutable_date() = ToProtoDate(day);
               if (c.state() == cases::v1::CASE_STATE_SUSPENDED && !r.partial()) {
                 *c.mutable_suspensions(c.suspensions_size() - 1)->mutable_end_date() = ToProtoDate(day);
               }
               return Change{absl::StrCat(r.partial() ? "partly withdrawn" : "withdrawn",
                                          " by document ", w->document_reference()),
                             {"withdrawals"}};
             },
             std::move(done));
}

void CaseRegistry::RevealDenouncerIdentity(const Principal& p,
                                           const cases::v1::RevealDenouncerIdentityRequest& r,
                                           Callback<cases::v1::RevealDenouncerIdentityResponse> done) {
  if (p.role != Role::kInspector) {
    return done(absl::PermissionDeniedError(
        "only an inspector of the unit that owns the case may reveal a denouncer's identity"));
  }
  auto number = ParseCaseName(r.name(), "name");
  if (!number.ok()) return done(number.status());
  if (auto s = ValidateNote(r.reason(), "reason", true); !s.ok()) return done(s);
  if (VisibleCharCount(r.reason()) < 10) {
    return done(InvalidField("reason", "must explain the need in at least 10 visible characters"));
  }
  auto result = std::make_shared<cases::v1::RevealDenouncerIdentityResponse>();
  d_.store->Submit(
      [this, p, number = *number, reason = NormalizeNfc(r.reason()),
       result](WriteTxn& txn) -> absl::Status {
        RECEPTION_ASSIGN_OR_RETURN(CaseRecord rec, LoadOwnedRecord(txn, number));
        if (!rec.case_().identity_protected()) {
          return absl::FailedPreconditionError(
              absl::StrCat("cases/", number, " holds no protected identity"));
        }
        if (p.unit_code != rec.case_().owner_unit()) {
          return absl::PermissionDeniedError(absl::StrCat(
              "only an inspector of unit ", rec.case_().owner_unit(),
              ", which owns the case, may reveal the denouncer's identity"));
        }
        if (rec.case_().state() == cases::v1::CASE_STATE_TRANSFERRED) {
          // Frozen by a transfer not yet acknowledged: the new owner may
          // already hold the case, and a reveal here would never reach its
          // audit trail.
          return absl::FailedPreconditionError(absl::StrCat(
              "cases/", number,
              " is being handed to another unit; the identity may be revealed only by the "
              "new owner once the transfer is acknowledged"));
        }
        RECEPTION_ASSIGN_OR_RETURN(std::string plain, d_.vault->Unseal(rec.sealed_identity(), number));
        cases::storage::ProtectedIdentity identity;
        if (!identity.ParseFromString(plain)) {
          return absl::DataLossError("protected identity does not parse");
        }
        Change change{absl::StrCat("denouncer identity revealed to ", p.subject, "; reason: ", reason),
                      {}};
        RECEPTION_RETURN_IF_ERROR(AppendEvent(txn, rec, p, "RevealDenouncerIdentity", change));
        *result->mutable_petitioners() = identity.petitioners();
        *result->mutable_representative_citizen_ids() = identity.representative_citizen_ids();
        result->set_audit_event_sequence(rec.case_().history_length());
        return absl::OkStatus();
      },
      [this, result, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        if (reveals_) reveals_->Increment();
        done(std::move(*result));
      });
}

std::string CaseRegistry::ReadScope(const Principal& p) const {
  if (p.role == Role::kNode || p.unit_code == d_.unit_code) return "";
  return d_.topology->IsWithin(p.unit_code, d_.unit_code) ? p.unit_code : "";
}

absl::StatusOr<Case> CaseRegistry::GetCase(const Principal& p,
                                           const cases::v1::GetCaseRequest& r) const {
  RECEPTION_ASSIGN_OR_RETURN(std::string number, ParseCaseName(r.name(), "name"));
  RECEPTION_ASSIGN_OR_RETURN(auto rec, LoadRecord(nullptr, number));
  if (!rec) return absl::NotFoundError(absl::StrCat("case ", r.name(), " does not exist"));
  if (const std::string scope = ReadScope(p);
      !scope.empty() && !d_.topology->IsWithin(rec->case_().reception_unit().code(), scope)) {
    return absl::PermissionDeniedError(
        absl::StrCat("unit ", scope, " reads on this node only the cases received at it; ",
                     r.name(), " was received at unit ", rec->case_().reception_unit().code()));
  }
  Decorate(*rec->mutable_case_(), d_.clock->Today());
  return std::move(*rec->mutable_case_());
}

absl::StatusOr<bool> CaseRegistry::MatchesFilters(const Case& c, const ListFilters& f) const {
  const cases::v1::ListCasesRequest& r = *f.request;
  if (r.state() != cases::v1::CASE_STATE_UNSPECIFIED && c.state() != r.state()) return false;
  if (r.kind() != cases::v1::CASE_KIND_UNSPECIFIED && c.kind() != r.kind()) return false;
  if (!r.unit_code().empty() && c.reception_unit().code() != r.unit_code()) return false;
  if (!f.received_within.empty() &&
      !d_.topology->IsWithin(c.reception_unit().code(), f.received_within)) {
    return false;
  }
  if (r.awaiting_jurisdiction_decision() &&
      (c.owner_unit() != d_.unit_code || c.dispute().state() != cases::v1::DISPUTE_STATE_OPEN ||
       c.dispute().deciding_unit() != d_.unit_code)) {
    return false;
  }
  if (f.from || f.to) {
    const absl::CivilDay day = DayOf(c.received_date());
    if ((f.from && day < *f.from) || (f.to && day > *f.to)) return false;
  }
  if (!f.tokens.empty()) {
    RECEPTION_ASSIGN_OR_RETURN(auto text, d_.store->Get(search_, c.number()));
    if (!text) return false;
    for (const auto& t : f.tokens) {
      if (!absl::StrContains(*text, t)) return false;
    }
  }
  return true;
}

absl::StatusOr<cases::v1::ListCasesResponse> CaseRegistry::ListCases(
    const Principal& p, const cases::v1::ListCasesRequest& r) const {
  if (r.page_size() < 0) return InvalidField("page_size", "must not be negative");
  if (!cases::v1::CaseState_IsValid(r.state())) return InvalidField("state", "is not a case state");
  if (!cases::v1::CaseKind_IsValid(r.kind())) return InvalidField("kind", "is not a case kind");
  RECEPTION_RETURN_IF_ERROR(ValidateText(r.query(), "query", IntakeLimits::kMaxQueryChars, false, false));
  RECEPTION_RETURN_IF_ERROR(ValidateText(r.unit_code(), "unit_code", 32, false, false));
  ListFilters f;
  f.request = &r;
  f.received_within = ReadScope(p);
  f.page_size = r.page_size() == 0 ? 50 : std::min(r.page_size(), 500);
  if (r.has_received_from()) {
    RECEPTION_ASSIGN_OR_RETURN(f.from, ToCivilDay(r.received_from(), "received_from"));
  }
  if (r.has_received_to()) {
    RECEPTION_ASSIGN_OR_RETURN(f.to, ToCivilDay(r.received_to(), "received_to"));
  }
  if (f.from && f.to && *f.to < *f.from) return InvalidField("received_to", "must not be before received_from");
  if (r.at_risk_working_days() < 0 || r.at_risk_working_days() > 60) {
    return InvalidField("at_risk_working_days", "must be between 1 and 60 (0: no filter)");
  }
  if (r.overdue() && r.at_risk_working_days() > 0) {
    return InvalidField("at_risk_working_days", "cannot be combined with overdue (at risk means not yet overdue)");
  }
  if (!r.order_by().empty() && r.order_by() != "due_date") {
    return InvalidField("order_by", "must be empty or \"due_date\"");
  }
  const absl::CivilDay today = d_.clock->Today();
  if (r.has_due_before()) {
    RECEPTION_ASSIGN_OR_RETURN(f.due_to, ToCivilDay(r.due_before(), "due_before"));
  }
  if (r.overdue() && (!f.due_to || *f.due_to > today - 1)) f.due_to = today - 1;
  if (r.at_risk_working_days() > 0) {
    if (d_.deadlines == nullptr) return absl::FailedPreconditionError("no working calendar is loaded");
    auto end = d_.deadlines->calendar().PeriodEnd(today, r.at_risk_working_days(), DayBasis::kWorkingDays);
    if (!end.ok()) return end.status();
    f.due_from = today;
    if (!f.due_to || *end < *f.due_to) f.due_to = *end;
  }
  f.by_due = f.due_to.has_value() || f.due_from.has_value() || r.order_by() == "due_date";
  f.due_only = f.due_to.has_value() || f.due_from.has_value();
  f.tokens = Tokens(FoldForSearch(r.query()));

  cases::v1::ListCasesRequest filters = r;
  filters.clear_page_token();
  filters.clear_page_size();
  // Relative filters mean a different set tomorrow: the token is for today.
  const std::string filter_fp =
      d_.vault
          ->Fingerprint(absl::StrCat(Deterministic(filters), f.by_due ? FormatDate(today) : "", "|",
                                     f.received_within))
          .substr(0, 16);
  cases::storage::PageToken token;
  if (!r.page_token().empty()) {
    RECEPTION_ASSIGN_OR_RETURN(token, DecodePageToken(r.page_token(), filter_fp));
  }

  cases::v1::ListCasesResponse out;
  int examined = 0;
  // Walks one family from the token; `number_of` maps a key to a case number
  // ("" = stop: past the range). Returns false when the page or the scan
  // budget is full (a token is set).
  auto walk = [&](rocksdb::ColumnFamilyHandle* family, int phase, const std::string& start,
                  const std::function<std::string(absl::string_view)>& number_of,
                  bool skip_with_due) -> absl::StatusOr<bool> {
    auto it = d_.store->NewIterator(family);
    const bool resume = token.phase() == phase && !token.after_key().empty();
    it->Seek(resume ? token.after_key() : start);
    if (resume && it->Valid() && it->key().ToStringView() == token.after_key()) it->Next();
    std::string last_examined, last_key;
    CaseRecord rec;
    for (; it->Valid(); it->Next()) {
      const absl::string_view key(it->key().data(), it->key().size());
      const std::string number = number_of(key);
      if (number.empty()) break;
      if (examined++ == std::max(1, d_.list_scan_limit)) {
        out.set_next_page_token(EncodePageToken(last_examined, filter_fp, phase));
        return false;
      }
      last_examined = std::string(key);
      if (family == cases_) {
        if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
          return absl::DataLossError(absl::StrCat("case record ", number, " does not parse"));
        }
      } else {
        RECEPTION_ASSIGN_OR_RETURN(auto loaded, LoadRecord(nullptr, number));
        // The index and the record are read at different moments: skip an
        // entry the case has moved away from since.
        if (!loaded || loaded->due_key() != key) continue;
        rec = *std::move(loaded);
      }
      if (skip_with_due && rec.case_().has_due_date()) continue;
      RECEPTION_ASSIGN_OR_RETURN(bool match, MatchesFilters(rec.case_(), f));
      if (!match) continue;
      if (out.cases_size() == f.page_size) {
        out.set_next_page_token(EncodePageToken(last_key, filter_fp, phase));
        return false;
      }
      Case* c = out.add_cases();
      *c = rec.case_();
      Decorate(*c, today);
      last_key = std::string(key);
    }
    if (!it->status().ok()) return absl::InternalError(it->status().ToString());
    return true;
  };
  auto whole_key = [](absl::string_view key) { return std::string(key); };
  if (!f.by_due) {
    RECEPTION_RETURN_IF_ERROR(walk(cases_, 0, "", whole_key, false).status());
    return out;
  }
  // Due order: the "due" family is sorted by date, then number.
  auto compact = [](absl::CivilDay d) {
    return absl::StrFormat("%04d%02d%02d", d.year(), d.month(), d.day());
  };
  const std::string from_key = f.due_from ? compact(*f.due_from) : "";
  const std::string to_key = f.due_to ? compact(*f.due_to) : "";
  auto due_number = [&](absl::string_view key) -> std::string {
    if (key.size() < 10 || key[8] != '/') return "";
    if (!to_key.empty() && key.substr(0, 8) > to_key) return "";
    return std::string(key.substr(9));
  };
  if (token.phase() == 0) {
    RECEPTION_ASSIGN_OR_RETURN(bool finished, walk(due_, 0, from_key, due_number, false));
    if (!finished || f.due_only) return out;
    token.clear_after_key();
  }
  // Then the cases with no running clock, in number order.
  token.set_phase(1);
  RECEPTION_RETURN_IF_ERROR(walk(cases_, 1, "", whole_key, true).status());
  return out;
}

absl::StatusOr<cases::v1::GetCaseHistoryResponse> CaseRegistry::GetCaseHistory(
    const Principal&, const cases::v1::GetCaseHistoryRequest& r) const {
  RECEPTION_ASSIGN_OR_RETURN(std::string number, ParseCaseName(r.name(), "name"));
  if (r.page_size() < 0) return InvalidField("page_size", "must not be negative");
  const int page_size = r.page_size() == 0 ? 100 : std::min(r.page_size(), 1000);
  RECEPTION_ASSIGN_OR_RETURN(auto rec, LoadRecord(nullptr, number));
  if (!rec) return absl::NotFoundError(absl::StrCat("case ", r.name(), " does not exist"));
  const std::string prefix = absl::StrCat(number, "/");
  const std::string fp = d_.vault->Fingerprint(number).substr(0, 16);
  auto it = d_.store->NewIterator(events_);
  if (r.page_token().empty()) {
    it->Seek(prefix);
  } else {
    RECEPTION_ASSIGN_OR_RETURN(auto token, DecodePageToken(r.page_token(), fp));
    it->Seek(token.after_key());
    if (it->Valid() && it->key().ToStringView() == token.after_key()) it->Next();
  }
  cases::v1::GetCaseHistoryResponse out;
  std::string last_key;
  for (; it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (out.events_size() == page_size) {
      out.set_next_page_token(EncodePageToken(last_key, fp));
      break;
    }
    if (!out.add_events()->ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("case event does not parse");
    }
    last_key = it->key().ToString();
  }
  return out;
}

absl::StatusOr<cases::v1::VerifyCaseHistoryResponse> CaseRegistry::VerifyCaseHistory(
    const Principal&, const cases::v1::VerifyCaseHistoryRequest& r) const {
  RECEPTION_ASSIGN_OR_RETURN(std::string number, ParseCaseName(r.name(), "name"));
  RECEPTION_ASSIGN_OR_RETURN(auto rec, LoadRecord(nullptr, number));
  if (!rec) return absl::NotFoundError(absl::StrCat("case ", r.name(), " does not exist"));
  const std::string prefix = absl::StrCat(number, "/");
  std::vector<cases::v1::CaseEvent> events;
  auto it = d_.store->NewIterator(events_);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    cases::v1::CaseEvent e;
    if (!e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      e.Clear();
      e.set_sequence(static_cast<int64_t>(events.size()) + 1);
      e.set_hash("unparseable");
    }
    events.push_back(std::move(e));
  }
  ChainCheck check = CheckCaseChain(events, rec->case_().history_head_hash(),
                                    rec->case_().history_length());
  cases::v1::VerifyCaseHistoryResponse out;
  out.set_valid(check.valid);
  out.set_event_count(static_cast<int64_t>(events.size()));
  out.set_first_invalid_sequence(check.first_invalid_sequence);
  out.set_problem(check.problem);
  out.set_head_hash(check.head_hash);
  return out;
}

absl::StatusOr<cases::v1::ExportReceptionLogResponse> CaseRegistry::ExportReceptionLog(
    const Principal&, const cases::v1::ExportReceptionLogRequest& r) const {
  if (!r.has_start_date()) return InvalidField("start_date", "must be set");
  if (!r.has_end_date()) return InvalidField("end_date", "must be set");
  RECEPTION_ASSIGN_OR_RETURN(absl::CivilDay start, ToCivilDay(r.start_date(), "start_date"));
  RECEPTION_ASSIGN_OR_RETURN(absl::CivilDay end, ToCivilDay(r.end_date(), "end_date"));
  if (end < start) return InvalidField("end_date", "must not be before start_date");
  if (end - start > 366) return InvalidField("end_date", "must be at most 366 days after start_date");
  std::vector<Case> rows;
  auto it = d_.store->NewIterator(cases_);
  CaseRecord rec;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("case record does not parse");
    }
    const auto& d = rec.case_().received_date();
    absl::CivilDay day(d.year(), d.month(), d.day());
    if (day < start || day > end) continue;
    rows.push_back(rec.case_());
  }
  std::sort(rows.begin(), rows.end(), [](const Case& a, const Case& b) {
    const std::string da = FormatDate(a.received_date()), db = FormatDate(b.received_date());
    return da != db ? da < db : a.number() < b.number();
  });
  cases::v1::ExportReceptionLogResponse out;
  out.set_csv(RenderReceptionLog(rows));
  out.set_row_count(static_cast<int32_t>(rows.size()));
  return out;
}

ClockFacts CaseRegistry::Facts(const Case& c) const {
  ClockFacts f;
  f.kind = c.kind();
  f.round = c.complaint_round();
  const auto* owner = d_.topology->Find(c.owner_unit().empty() ? d_.unit_code : c.owner_unit());
  f.remote_area = owner != nullptr && owner->remote_area();
  f.complexity = c.classification().complexity() == cases::v1::COMPLEXITY_UNSPECIFIED
                     ? cases::v1::COMPLEXITY_NORMAL
                     : c.classification().complexity();
  return f;
}

absl::Status CaseRegistry::AdvanceClocks(Case& c, CaseTransition t, absl::CivilDay today) const {
  if (d_.deadlines == nullptr) return absl::OkStatus();
  const DeadlineEngine& engine = *d_.deadlines;
  const absl::CivilDay day = TransitionDate(c, t, today);
  const ClockFacts facts = Facts(c);
  const absl::string_view name = TransitionName(t);
  for (auto& clock : *c.mutable_clocks()) {
    DeadlineEngine::End(clock, DeadlineEngine::EndFor(clock.step(), name), day);
  }
  std::vector<cases::v1::DeadlineClock> started;
  if (t == CaseTransition::kClassify && !c.classification().within_competence()) {
    RECEPTION_ASSIGN_OR_RETURN(started, engine.Start(ClockTrigger::kOutsideCompetence, facts,
                                                     DayOf(c.received_date())));
  } else if (t == CaseTransition::kAccept) {
    RECEPTION_ASSIGN_OR_RETURN(started, engine.Start(ClockTrigger::kAccepted, facts, day));
  } else if (t == CaseTransition::kDecide) {
    // Publication of the decision (complaints; the pack has no rule for other kinds).
    RECEPTION_ASSIGN_OR_RETURN(started, engine.Start(ClockTrigger::kDecided, facts, day));
  } else if (t == CaseTransition::kTransfer &&
             std::none_of(c.clocks().begin(), c.clocks().end(),
                          [](const cases::v1::DeadlineClock& k) {
                            return k.step() == cases::v1::DEADLINE_STEP_TRANSFER;
                          })) {
    // Transferred without a classification outside competence: the time
    // limit for transferring (denunciations) still applies, and is judged now.
    RECEPTION_ASSIGN_OR_RETURN(started, engine.Start(ClockTrigger::kOutsideCompetence, facts,
                                                     DayOf(c.received_date())));
    for (auto& k : started) DeadlineEngine::End(k, ClockEnd::kDone, day);
  } else if (t == CaseTransition::kSuspend) {
    for (auto& clock : *c.mutable_clocks()) engine.Pause(clock, day, facts);
  } else if (t == CaseTransition::kResume) {
    // `day` is the last paused day (ResumeCaseRequest.date, Suspension.end_date):
    // counting starts again the day after.
    for (auto& clock : *c.mutable_clocks()) engine.Resume(clock, day + 1, facts);
  }
  for (auto& clock : started) *c.add_clocks() = std::move(clock);
  // Complexity (classification) and the owner's remote flag may have changed.
  for (auto& clock : *c.mutable_clocks()) engine.Recompute(clock, facts);
  if (auto due = DeadlineEngine::EarliestDue(c.clocks())) {
    *c.mutable_due_date() = ToProtoDate(*due);
  } else {
    c.clear_due_date();
  }
  return absl::OkStatus();
}

namespace {

// "2027-02-19", or "no due date" (the calendar did not cover the period).
std::string DueWords(const cases::v1::DeadlineClock& clock) {
  return clock.has_due_date() ? FormatDate(clock.due_date()) : "no due date";
}

// What recounting on the loaded calendar changes in a case's running clocks:
// one "settle: 2027-02-19 -> 2027-02-22" per step whose date moved.
std::vector<std::string> RecountClocks(const DeadlineEngine& engine, const ClockFacts& facts,
                                       Case& c) {
  std::vector<std::string> moved;
  for (auto& clock : *c.mutable_clocks()) {
    if (clock.state() != cases::v1::CLOCK_STATE_RUNNING) continue;
    const std::string before = DueWords(clock);
    engine.Recompute(clock, facts);
    if (const std::string after = DueWords(clock); after != before) {
      moved.push_back(absl::StrCat(StepName(clock.step()), ": ", before, " -> ", after));
    }
  }
  return moved;
}

}  // namespace

absl::StatusOr<int> CaseRegistry::RecomputeClocksForCalendar() {
  if (d_.deadlines == nullptr) return 0;
  // Committed state: which owned cases would change.
  std::vector<std::string> numbers;
  {
    auto it = d_.store->NewIterator(cases_);
    CaseRecord rec;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) continue;
      Case& c = *rec.mutable_case_();
      if (c.owner_unit() != d_.unit_code) continue;
      if (!RecountClocks(*d_.deadlines, Facts(c), c).empty()) numbers.push_back(c.number());
    }
    if (!it->status().ok()) return absl::InternalError("reading cases failed");
  }
  // One write per case, counted again under the writer. The completions
  // share this state with the wait below (they may still hold it when the
  // wait ends).
  const Principal calendar{"working-calendar", Role::kNode, d_.unit_code};
  struct Progress {
    absl::Mutex mu;
    int pending = 0;
    int changed = 0;
    absl::Status first_error;
  };
  auto progress = std::make_shared<Progress>();
  progress->pending = static_cast<int>(numbers.size());
  for (const std::string& number : numbers) {
    auto result = std::make_shared<Case>();
    d_.store->Submit(
        [this, number, result, calendar](WriteTxn& txn) -> absl::Status {
          RECEPTION_ASSIGN_OR_RETURN(CaseRecord rec, LoadOwnedRecord(txn, number));
          Case& c = *rec.mutable_case_();
          const std::vector<std::string> moved = RecountClocks(*d_.deadlines, Facts(c), c);
          if (moved.empty()) return absl::OkStatus();
          if (auto due = DeadlineEngine::EarliestDue(c.clocks())) {
            *c.mutable_due_date() = ToProtoDate(*due);
          } else {
            c.clear_due_date();
          }
          RECEPTION_RETURN_IF_ERROR(AppendEvent(
              txn, rec, calendar, "RecomputeDeadlines",
              Change{absl::StrCat("due dates counted again at start-up on the working calendar \"",
                                  d_.deadlines->calendar().name(),
                                  "\" and the rules now loaded: ", absl::StrJoin(moved, "; ")),
                     {"clocks", "due_date"}}));
          *result = c;
          return absl::OkStatus();
        },
        [this, progress, result](absl::Status s) {
          if (s.ok() && !result->number().empty()) board_->Update(*result);
          absl::MutexLock lock(&progress->mu);
          if (!s.ok() && progress->first_error.ok()) progress->first_error = s;
          if (s.ok() && !result->number().empty()) ++progress->changed;
          --progress->pending;
        });
  }
  absl::MutexLock lock(&progress->mu);
  progress->mu.Await(absl::Condition(
      +[](int* p) { return *p == 0; }, &progress->pending));
  if (!progress->first_error.ok()) return progress->first_error;
  return progress->changed;
}

void CaseRegistry::Decorate(Case& c, absl::CivilDay today) const {
  for (auto& clock : *c.mutable_clocks()) {
    clock.set_overdue(clock.state() == cases::v1::CLOCK_STATE_RUNNING && clock.has_due_date() &&
                      DayOf(clock.due_date()) < today);
    // Whether the due date rests on a year not yet published depends on the
    // calendar loaded now, not on the one the date was counted with.
    if (d_.deadlines != nullptr) d_.deadlines->MarkProvisional(clock);
  }
  c.set_overdue(c.has_due_date() && DayOf(c.due_date()) < today);
}

void CaseRegistry::ExtendCaseDeadline(const Principal& p, const cases::v1::ExtendCaseDeadlineRequest& r,
                                      Callback<Case> done) {
  if (p.role != Role::kInspector && p.role != Role::kHead) {
    return done(absl::PermissionDeniedError(
        "ExtendCaseDeadline needs the head or inspector role (an extension is a written decision)"));
  }
  if (!cases::v1::DeadlineStep_IsValid(r.step()) || r.step() == cases::v1::DEADLINE_STEP_UNSPECIFIED) {
    return done(InvalidField("step", "must name a deadline step (handle_letter, accept, transfer, settle)"));
  }
  if (auto s = ValidateReference(r.decision_reference(), "decision_reference", true); !s.ok()) {
    return done(s);
  }
  if (r.days() < 1) return done(InvalidField("days", "must be at least 1"));
  if (d_.deadlines == nullptr) return done(absl::FailedPreconditionError("no working calendar is loaded"));
  Transition(p, r.name(), r.etag(), CaseTransition::kExtendDeadline,
             [this, r](const WriteTxn&, Case& c, absl::CivilDay today) -> absl::StatusOr<Change> {
               RECEPTION_ASSIGN_OR_RETURN(auto day, ResolveDate(r.date(), "date", c, today));
               cases::v1::DeadlineClock* clock = nullptr;
               for (auto& k : *c.mutable_clocks()) {
                 if (k.step() == r.step() && (k.state() == cases::v1::CLOCK_STATE_RUNNING ||
                                              k.state() == cases::v1::CLOCK_STATE_PAUSED)) {
                   clock = &k;
                 }
               }
               if (clock == nullptr) {
                 return absl::FailedPreconditionError(absl::StrCat(
                     "cases/", c.number(), " has no running ", StepName(r.step()),
                     " time limit to extend"));
               }
               RECEPTION_RETURN_IF_ERROR(d_.deadlines->Extend(
                   *clock, Facts(c), NormalizeNfc(r.decision_reference()), day, r.days()));
               return Change{absl::StrCat(StepName(r.step()), " time limit extended by ", r.days(),
                                          " days by ", r.decision_reference(), " (extension ",
                                          clock->extensions_size(), " of ", clock->max_extensions(),
                                          ")", clock->has_due_date()
                                                   ? absl::StrCat("; due ", FormatDate(clock->due_date()))
                                                   : ""),
                             {"clocks"}};
             },
             std::move(done));
}

void CaseRegistry::AttachCaseMinutes(const Principal& p,
                                     const federation::v1::AttachCaseMinutesRequest& r,
                                     Callback<Case> done) {
  if (p.role != Role::kNode || p.unit_code != d_.unit_code) {
    return done(absl::PermissionDeniedError(
        absl::StrCat("only this node's own media service attaches minutes; the caller is a ",
                     RoleName(p.role), " of unit ", p.unit_code.substr(0, 32))));
  }
  absl::string_view room = r.room();
  if (!absl::ConsumePrefix(&room, "rooms/") || room.empty() || room.size() > 40) {
    return done(InvalidField("room", "must be rooms/{room_id}"));
  }
  if (r.text().empty() || r.text().size() > kMaxMinutesBytes) {
    return done(InvalidField("text", absl::StrCat("must be 1-", kMaxMinutesBytes, " bytes")));
  }
  if (!IsValidUtf8(r.text()) || HasControlCharacters(r.text(), /*allow_newlines=*/true)) {
    return done(InvalidField("text", "must be UTF-8 text without control characters"));
  }
  if (!r.has_lock_time()) return done(InvalidField("lock_time", "must be set"));
  // A real instant: between 2000 and a day after now (clocks may differ a little).
  if (r.lock_time().seconds() < 946684800 || r.lock_time().nanos() < 0 ||
      r.lock_time().nanos() > 999999999 ||
      absl::FromUnixSeconds(r.lock_time().seconds()) > d_.clock->Now() + absl::Hours(24)) {
    return done(InvalidField("lock_time", "must be a time between 2000 and now"));
  }
  auto repeat = std::make_shared<bool>(false);
  Transition(
      p, r.name(), "", CaseTransition::kAttachMinutes,
      [this, r, repeat](const WriteTxn&, Case& c, absl::CivilDay) -> absl::StatusOr<Change> {
        for (const auto& m : c.minutes()) {
          if (m.room() == r.room()) {
            *repeat = true;
            return absl::AlreadyExistsError("attached already");
          }
        }
        auto* m = c.add_minutes();
        m->set_room(r.room());
        m->set_text(r.text());
        *m->mutable_lock_time() = r.lock_time();
        SetTimestamp(d_.clock->Now(), m->mutable_attach_time());
        return Change{absl::StrCat("minutes of ", r.room(), " attached"), {"minutes"}};
      },
      [this, p, r, repeat, done = std::move(done)](absl::StatusOr<Case> c) mutable {
        if (!c.ok() && *repeat) {
          cases::v1::GetCaseRequest get;
          get.set_name(r.name());
          Principal reader = p;
          if (reader.role == Role::kNode) reader.role = Role::kReceptionOfficer;
          return done(GetCase(reader, get));
        }
        done(std::move(c));
      },
      /*check_writer=*/false);
}

absl::StatusOr<cases::v1::PreviewDeadlinesResponse> CaseRegistry::PreviewDeadlines(
    const Principal&, const cases::v1::PreviewDeadlinesRequest& r) const {
  if (d_.deadlines == nullptr) return absl::FailedPreconditionError("no working calendar is loaded");
  if (!cases::v1::CaseKind_IsValid(r.kind()) || r.kind() == cases::v1::CASE_KIND_UNSPECIFIED) {
    return InvalidField("kind", "must be set");
  }
  if (!cases::v1::ComplaintRound_IsValid(r.complaint_round())) {
    return InvalidField("complaint_round", "is not a complaint round");
  }
  if (!cases::v1::Complexity_IsValid(r.complexity())) {
    return InvalidField("complexity", "is not a complexity");
  }
  if (!r.has_received_date()) return InvalidField("received_date", "must be set");
  RECEPTION_ASSIGN_OR_RETURN(absl::CivilDay received, ToCivilDay(r.received_date(), "received_date"));
  std::optional<absl::CivilDay> accepted;
  if (r.has_accepted_date()) {
    RECEPTION_ASSIGN_OR_RETURN(accepted, ToCivilDay(r.accepted_date(), "accepted_date"));
    if (*accepted < received) return InvalidField("accepted_date", "must not be before received_date");
  }
  RECEPTION_RETURN_IF_ERROR(ValidateText(r.unit_code(), "unit_code", 32, false, false));
  const std::string unit_code = r.unit_code().empty() ? d_.unit_code : r.unit_code();
  auto unit = d_.topology->FindOn(unit_code, received, "unit_code");
  if (!unit.ok()) return unit.status();
  ClockFacts facts;
  facts.kind = r.kind();
  facts.round = r.complaint_round();
  facts.remote_area = (*unit)->remote_area();
  facts.complexity = r.complexity() == cases::v1::COMPLEXITY_UNSPECIFIED ? cases::v1::COMPLEXITY_NORMAL
                                                                         : r.complexity();
  return d_.deadlines->Preview(facts, received, accepted);
}

// ---------------------------------------------------------------------------
// Handoffs

void CaseRegistry::TransferCase(const Principal& p, const cases::v1::TransferCaseRequest& r,
                                Callback<cases::v1::Handoff> done) {
  if (r.destination_unit().empty()) return done(InvalidField("destination_unit", "must be set"));
  QueueTransfer(p, r.name(), r.etag(), r.destination_unit(), r.reason(), r.request_id(), false,
                std::move(done));
}

void CaseRegistry::ReturnCase(const Principal& p, const cases::v1::ReturnCaseRequest& r,
                              Callback<cases::v1::Handoff> done) {
  QueueTransfer(p, r.name(), r.etag(), "", r.reason(), r.request_id(), true, std::move(done));
}

void CaseRegistry::QueueTransfer(const Principal& p, const std::string& name,
                                 const std::string& etag, const std::string& destination_in,
                                 const std::string& reason, const std::string& request_id,
                                 bool is_return, Callback<cases::v1::Handoff> done,
                                 TransferHook hook, std::shared_ptr<Case> case_out) {
  if (auto s = CheckWriter(p); !s.ok()) return done(s);
  if (auto s = ValidateRequestId(request_id); !s.ok()) return done(s);
  if (auto s = ValidateNote(reason, "reason", true); !s.ok()) return done(s);
  auto number = ParseCaseName(name, "name");
  if (!number.ok()) return done(number.status());
  if (etag.size() > 64) return done(InvalidField("etag", "is not an etag returned by this service"));
  auto result = std::make_shared<cases::v1::Handoff>();
  auto updated = case_out ? case_out : std::make_shared<Case>();
  const std::string fingerprint =
      d_.vault->Fingerprint(absl::StrCat(*number, "\n", destination_in, "\n", reason, "\n", is_return));
  d_.store->Submit(
      [this, p, number = *number, etag, destination_in, reason = NormalizeNfc(reason), request_id,
       is_return, fingerprint, result, updated,
       hook = std::move(hook)](WriteTxn& txn) -> absl::Status {
        const std::string request_key = absl::StrCat("transfer/", request_id);
        RECEPTION_ASSIGN_OR_RETURN(auto seen, txn.Get(requests_, request_key));
        if (seen) {
          cases::storage::RequestRecord rr;
          rr.ParseFromString(*seen);
          if (rr.fingerprint() != fingerprint) {
            return absl::AlreadyExistsError(
                absl::StrCat("request_id ", request_id, " was already used for ",
                             rr.handoff_id().empty() ? "another change"
                                                     : absl::StrCat("handoffs/", rr.handoff_id()),
                             " with different content; use a new request_id"));
          }
          RECEPTION_ASSIGN_OR_RETURN(auto current, LoadRecord(&txn, number));
          if (current) *updated = current->case_();
          if (rr.handoff_id().empty()) return absl::OkStatus();  // kept here: no handoff
          RECEPTION_ASSIGN_OR_RETURN(auto raw, txn.Get(handoffs_, rr.handoff_id()));
          if (!raw) return absl::DataLossError("idempotency record points to a missing handoff");
          cases::storage::HandoffRecord hr;
          hr.ParseFromString(*raw);
          *result = hr.handoff();
          return absl::OkStatus();
        }
        RECEPTION_ASSIGN_OR_RETURN(CaseRecord rec, LoadOwnedRecord(txn, number));
        Case& c = *rec.mutable_case_();
        if (!etag.empty() && etag != c.etag()) {
          return absl::AbortedError(absl::StrCat("etag ", etag, " is stale: cases/", number,
                                                 " is now at ", c.etag(), "; read it again"));
        }
        const absl::CivilDay today = d_.clock->Today();
        TransferPlan plan{destination_in, is_return ? "ReturnCase" : "TransferCase", ""};
        if (is_return) {
          if (c.previous_owner_unit().empty()) {
            return absl::FailedPreconditionError(absl::StrCat(
                "cases/", number, " was not received by transfer; use TransferCase to send it on"));
          }
          plan.destination = c.previous_owner_unit();
        }
        RECEPTION_RETURN_IF_ERROR(CheckTransition(CaseTransition::kTransfer, c.state()));
        if (hook) {
          RECEPTION_RETURN_IF_ERROR(hook(c, today, plan));
        } else {
          RECEPTION_RETURN_IF_ERROR(CheckNoDisputeHere(c));
          if (is_return) RECEPTION_RETURN_IF_ERROR(RecordReturn(c, today, reason, plan));
        }
        const std::string& destination = plan.destination;
        const bool returning = is_return && destination == c.previous_owner_unit();
        const CaseState before = c.state();
        if (destination.empty()) {
          // Kept on this node (this unit decides the dispute, or was decided
          // competent): no handoff, the state does not change.
          if (auto due = DeadlineEngine::EarliestDue(c.clocks())) {
            *c.mutable_due_date() = ToProtoDate(*due);
          } else {
            c.clear_due_date();
          }
          RECEPTION_RETURN_IF_ERROR(
              AppendEvent(txn, rec, p, plan.action,
                          Change{absl::StrCat(plan.summary, reason), {"dispute", "clocks"}}));
          cases::storage::RequestRecord rr;
          rr.set_case_number(number);
          rr.set_fingerprint(fingerprint);
          txn.Put(requests_, request_key, rr.SerializeAsString());
          *updated = rec.case_();
          return absl::OkStatus();
        }
        if (destination == d_.unit_code) {
          return InvalidField("destination_unit", "must not be this node's own unit");
        }
        if (d_.topology->Find(destination) == nullptr) {
          return InvalidField("destination_unit",
                              absl::StrCat("is not a unit of the topology (", destination.substr(0, 32), ")"));
        }
        if (std::find(d_.peer_units.begin(), d_.peer_units.end(), destination) == d_.peer_units.end()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "unit ", destination, " has no node address in this node's federation.peers; add it "
              "to the configuration to hand cases to it"));
        }
        const int64_t epoch = c.owner_epoch() + 1;
        cases::v1::Handoff h;
        const std::string id = absl::StrCat(number, ".", epoch);
        h.set_name(absl::StrCat("handoffs/", id));
        h.set_case_(absl::StrCat("cases/", number));
        h.set_source_unit(d_.unit_code);
        h.set_destination_unit(destination);
        h.set_reason(reason);
        h.set_state(cases::v1::HANDOFF_STATE_PENDING);
        h.set_outgoing(true);
        h.set_is_return(returning);
        h.set_owner_epoch(epoch);
        SetTimestamp(d_.clock->Now(), h.mutable_create_time());
        c.set_state(NextState(CaseTransition::kTransfer, before));
        RECEPTION_RETURN_IF_ERROR(AdvanceClocks(c, CaseTransition::kTransfer, today));
        Change change{absl::StrCat(plan.summary, StateName(before), " -> ", StateName(c.state()),
                                   ": ", returning ? "returned" : "handed", " to unit ",
                                   destination, " (handoff ", id, "): ", reason),
                      {"state", "clocks"}};
        if (c.has_dispute()) change.fields.push_back("dispute");
        RECEPTION_RETURN_IF_ERROR(AppendEvent(txn, rec, p, plan.action, change));
        cases::storage::HandoffRecord hr;
        *hr.mutable_handoff() = h;
        handoff_outbox_->Put(txn, destination, absl::StrCat("h/", id), id);
        txn.Put(handoffs_, id, hr.SerializeAsString());
        cases::storage::RequestRecord rr;
        rr.set_case_number(number);
        rr.set_handoff_id(id);
        rr.set_fingerprint(fingerprint);
        txn.Put(requests_, request_key, rr.SerializeAsString());
        *result = h;
        *updated = rec.case_();
        return absl::OkStatus();
      },
      [this, result, updated, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        if (!updated->number().empty()) board_->Update(*updated);
        if (!result->name().empty()) handoff_outbox_->Kick();
        done(*result);
      });
}

absl::Status CaseRegistry::CheckNoDisputeHere(const Case& c) const {
  if (c.dispute().state() == cases::v1::DISPUTE_STATE_OPEN &&
      c.dispute().deciding_unit() == d_.unit_code) {
    return absl::FailedPreconditionError(
        absl::StrCat("cases/", c.number(),
                     " waits for this unit's decision on the jurisdiction dispute between units ",
                     c.dispute().claimant_unit(), " and ", c.dispute().disputed_unit(),
                     "; decide it with ResolveJurisdiction"));
  }
  return absl::OkStatus();
}

absl::Status CaseRegistry::OpenDispute(Case& c, const std::string& claimant,
                                       const std::string& disputed, const std::string& reason,
                                       bool automatic, absl::CivilDay today,
                                       TransferPlan& plan) const {
  RECEPTION_ASSIGN_OR_RETURN(std::string deciding,
                             d_.topology->CommonAncestor(claimant, disputed, today));
  auto* d = c.mutable_dispute();
  d->Clear();
  d->set_claimant_unit(claimant);
  d->set_disputed_unit(disputed);
  d->set_deciding_unit(deciding);
  d->set_reason(reason);
  *d->mutable_opened_date() = ToProtoDate(today);
  d->set_automatic(automatic);
  d->set_state(cases::v1::DISPUTE_STATE_OPEN);
  plan.action = "DisputeJurisdiction";
  plan.summary = absl::StrCat(
      "jurisdiction dispute: unit ", claimant, " maintains that unit ", disputed, " is competent",
      automatic ? " (returned a second time)" : "", "; unit ", deciding, " decides; ");
  if (deciding == d_.unit_code) {
    // This unit is the common ancestor: it decides, on its own clock.
    plan.destination.clear();
    if (d_.deadlines != nullptr) {
      RECEPTION_ASSIGN_OR_RETURN(
          auto clocks, d_.deadlines->Start(ClockTrigger::kDisputeReceived, Facts(c), today));
      for (auto& k : clocks) *c.add_clocks() = std::move(k);
    }
  } else {
    plan.destination = deciding;
  }
  return absl::OkStatus();
}

absl::Status CaseRegistry::RecordReturn(Case& c, absl::CivilDay today, const std::string& reason,
                                        TransferPlan& plan) const {
  const std::string back_to = plan.destination;  // a copy: OpenDispute rewrites the plan
  if (c.dispute().state() == cases::v1::DISPUTE_STATE_RESOLVED &&
      c.dispute().decided_unit() == d_.unit_code) {
    return absl::FailedPreconditionError(
        absl::StrCat("unit ", c.dispute().deciding_unit(), " decided on ",
                     FormatDate(c.dispute().decided_date()), " that this unit is competent (",
                     c.dispute().legal_basis(), "); the case cannot be returned"));
  }
  const bool again = std::any_of(c.returns().begin(), c.returns().end(),
                                 [&](const cases::v1::JurisdictionReturn& r) {
                                   return r.from_unit() == d_.unit_code && r.to_unit() == back_to;
                                 });
  auto* r = c.add_returns();
  r->set_from_unit(d_.unit_code);
  r->set_to_unit(back_to);
  *r->mutable_date() = ToProtoDate(today);
  r->set_reason(reason);
  if (!again) return absl::OkStatus();
  // The same matter comes back and is returned again: the sender maintains
  // this unit is competent. Their common ancestor decides.
  return OpenDispute(c, back_to, d_.unit_code, reason, true, today, plan);
}

namespace {
// A JurisdictionResponse from what QueueTransfer wrote.
absl::AnyInvocable<void(absl::StatusOr<cases::v1::Handoff>)> Respond(
    std::shared_ptr<Case> written,
    absl::AnyInvocable<void(absl::StatusOr<cases::v1::JurisdictionResponse>)> done) {
  return [written, done = std::move(done)](absl::StatusOr<cases::v1::Handoff> h) mutable {
    if (!h.ok()) return done(h.status());
    cases::v1::JurisdictionResponse out;
    *out.mutable_case_() = *written;
    if (!h->name().empty()) *out.mutable_handoff() = *std::move(h);
    done(std::move(out));
  };
}
}  // namespace

void CaseRegistry::DisputeJurisdiction(const Principal& p,
                                       const cases::v1::DisputeJurisdictionRequest& r,
                                       Callback<cases::v1::JurisdictionResponse> done) {
  if (r.competent_unit().empty() || r.competent_unit().size() > 32) {
    return done(InvalidField("competent_unit", "must name a unit of the topology"));
  }
  auto written = std::make_shared<Case>();
  QueueTransfer(
      p, r.name(), r.etag(), r.competent_unit(), r.reason(), r.request_id(), false,
      Respond(written, std::move(done)),
      [this, r](Case& c, absl::CivilDay today, TransferPlan& plan) -> absl::Status {
        if (c.dispute().state() == cases::v1::DISPUTE_STATE_OPEN) {
          return absl::FailedPreconditionError(
              absl::StrCat("cases/", c.number(), " is already in a jurisdiction dispute, for unit ",
                           c.dispute().deciding_unit(), " to decide"));
        }
        if (c.dispute().state() == cases::v1::DISPUTE_STATE_RESOLVED &&
            c.dispute().decided_unit() == d_.unit_code) {
          return absl::FailedPreconditionError(absl::StrCat(
              "unit ", c.dispute().deciding_unit(),
              " already decided that this unit is competent (", c.dispute().legal_basis(), ")"));
        }
        auto unit = d_.topology->InForce(r.competent_unit(), today, "competent_unit");
        if (!unit.ok())
          return unit.status().code() == absl::StatusCode::kNotFound
                     ? InvalidField("competent_unit", "is not a unit of the topology")
                     : unit.status();
        if ((*unit)->code() == d_.unit_code) {
          return InvalidField("competent_unit", "must be another unit than this one");
        }
        return OpenDispute(c, d_.unit_code, (*unit)->code(), NormalizeNfc(r.reason()), false, today,
                           plan);
      },
      written);
}

void CaseRegistry::ResolveJurisdiction(const Principal& p,
                                       const cases::v1::ResolveJurisdictionRequest& r,
                                       Callback<cases::v1::JurisdictionResponse> done) {
  if (p.role != Role::kHead) {
    return done(
        absl::PermissionDeniedError("ResolveJurisdiction needs the head role: the deciding unit's "
                                    "head decides which unit is competent"));
  }
  if (r.competent_unit().empty() || r.competent_unit().size() > 32) {
    return done(InvalidField("competent_unit", "must name a unit of the topology"));
  }
  if (auto s = ValidateReference(r.legal_basis(), "legal_basis", true); !s.ok()) return done(s);
  auto written = std::make_shared<Case>();
  QueueTransfer(
      p, r.name(), r.etag(), r.competent_unit(), r.reason(), r.request_id(), false,
      Respond(written, std::move(done)),
      [this, r](Case& c, absl::CivilDay today, TransferPlan& plan) -> absl::Status {
        auto* d = c.mutable_dispute();
        if (d->state() != cases::v1::DISPUTE_STATE_OPEN || d->deciding_unit() != d_.unit_code) {
          return absl::FailedPreconditionError(absl::StrCat(
              "cases/", c.number(), " has no jurisdiction dispute for this unit to decide"));
        }
        auto unit = d_.topology->InForce(r.competent_unit(), today, "competent_unit");
        if (!unit.ok())
          return unit.status().code() == absl::StatusCode::kNotFound
                     ? InvalidField("competent_unit", "is not a unit of the topology")
                     : unit.status();
        const std::string competent = (*unit)->code();
        if (!d_.topology->IsWithin(competent, d_.unit_code)) {
          return InvalidField("competent_unit",
                              absl::StrCat("must be unit ", d_.unit_code, " or a unit below it"));
        }
        d->set_state(cases::v1::DISPUTE_STATE_RESOLVED);
        d->set_decided_unit(competent);
        d->set_decision_reason(NormalizeNfc(r.reason()));
        d->set_legal_basis(NormalizeNfc(r.legal_basis()));
        *d->mutable_decided_date() = ToProtoDate(today);
        for (auto& k : *c.mutable_clocks()) {
          DeadlineEngine::End(k, DeadlineEngine::EndFor(k.step(), "ResolveJurisdiction"), today);
        }
        plan.action = "ResolveJurisdiction";
        plan.summary = absl::StrCat("jurisdiction decided: unit ", competent, " is competent (",
                                    d->legal_basis(), "); ");
        if (competent == d_.unit_code) {
          // This unit handles it: its own time limits run from today.
          plan.destination.clear();
          if (d_.deadlines != nullptr) {
            RECEPTION_ASSIGN_OR_RETURN(
                auto clocks, d_.deadlines->Start(ClockTrigger::kReceived, Facts(c), today));
            for (auto& k : clocks) *c.add_clocks() = std::move(k);
          }
        } else {
          plan.destination = competent;
        }
        return absl::OkStatus();
      },
      written);
}

absl::StatusOr<federation::v1::OfferHandoffRequest> CaseRegistry::BuildOffer(
    const std::string& handoff_id, absl::string_view peer_public_key) const {
  RECEPTION_ASSIGN_OR_RETURN(auto raw, d_.store->Get(handoffs_, handoff_id));
  if (!raw) return absl::NotFoundError(absl::StrCat("handoff ", handoff_id, " does not exist"));
  cases::storage::HandoffRecord hr;
  if (!hr.ParseFromString(*raw)) return absl::DataLossError("handoff record does not parse");
  const std::string number(absl::StripPrefix(hr.handoff().case_(), "cases/"));
  RECEPTION_ASSIGN_OR_RETURN(auto rec, LoadRecord(nullptr, number));
  if (!rec) return absl::DataLossError(absl::StrCat("handoff ", handoff_id, " names a missing case"));
  federation::v1::OfferHandoffRequest offer;
  *offer.mutable_handoff() = hr.handoff();
  *offer.mutable_case_() = rec->case_();
  const std::string prefix = absl::StrCat(number, "/");
  auto it = d_.store->NewIterator(events_);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (!offer.add_events()->ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("case event does not parse");
    }
  }
  if (rec->case_().identity_protected()) {
    RECEPTION_ASSIGN_OR_RETURN(std::string identity, d_.vault->Unseal(rec->sealed_identity(), number));
    auto sealed = NodeKey::SealFor(peer_public_key, identity);
    sodium_memzero(identity.data(), identity.size());
    if (!sealed.ok()) return sealed.status();
    offer.set_sealed_identity(*sealed);
    offer.set_node_key_id(NodeKey::KeyId(peer_public_key));
  }
  return offer;
}

absl::Status CaseRegistry::OpenHandoffOutbox() {
  if (!status_.ok()) return status_;
  Outbox::Options o;
  o.store = d_.store;
  o.family = kOutbox;
  o.clock = d_.clock;
  o.initial_backoff = d_.retry_initial;
  o.max_backoff = d_.retry_max;
  o.name = "handoffs";
  // A delivered handoff changed the copy here (owner, due date): the board
  // learns once that is durable.
  o.settled = [this](const Outbox::Item& item, const Outbox::Answer& answer) {
    if (answer.verdict != Outbox::Verdict::kDelivered) return;
    auto raw = d_.store->Get(handoffs_, item.payload);
    cases::storage::HandoffRecord hr;
    if (!raw.ok() || !raw->has_value() || !hr.ParseFromString(**raw)) return;
    auto rec = LoadRecord(nullptr, std::string(absl::StripPrefix(hr.handoff().case_(), "cases/")));
    if (rec.ok() && rec->has_value()) board_->Update((*rec)->case_());
  };
  auto box = Outbox::Open(
      o,
      [this](const Outbox::Item& item, absl::AnyInvocable<void(Outbox::Answer)> answer) {
        if (!d_.deliver_handoff)
          return answer({Outbox::Verdict::kRetry, "no delivery configured", ""});
        d_.deliver_handoff(item, std::move(answer));
      },
      [this](const Outbox::Item& item, const Outbox::Answer& answer, WriteTxn& txn) {
        return SettleHandoff(item, answer, txn);
      });
  if (!box.ok()) return box.status();
  handoff_outbox_ = *std::move(box);
  // Before the shared outbox: "outbox" held BE64(sequence) -> handoff id.
  std::vector<std::pair<std::string, std::string>> old;
  auto it = d_.store->NewIterator(outbox_);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() == 8) old.emplace_back(it->key().ToString(), it->value().ToString());
  }
  if (old.empty()) return absl::OkStatus();
  return d_.store->CommitAndWait([this, &old](WriteTxn& txn) -> absl::Status {
    for (const auto& [key, id] : old) {
      txn.Delete(outbox_, key);
      RECEPTION_ASSIGN_OR_RETURN(auto raw, txn.Get(handoffs_, id));
      cases::storage::HandoffRecord hr;
      if (!raw || !hr.ParseFromString(*raw)) continue;
      if (hr.handoff().state() != cases::v1::HANDOFF_STATE_PENDING) continue;
      handoff_outbox_->Put(txn, hr.handoff().destination_unit(), absl::StrCat("h/", id), id);
    }
    return absl::OkStatus();
  });
}

void CaseRegistry::DecorateHandoffs(const std::vector<cases::v1::Handoff*>& handoffs) const {
  // Attempts that ended in "try again" are not written to the handoff (the
  // outbox counts them since start); the peer's last error says why. Point
  // lookups only: GetHandoff answers on the reactor thread.
  if (handoff_outbox_ == nullptr) return;
  for (auto* h : handoffs) {
    if (!h->outgoing() || h->state() != cases::v1::HANDOFF_STATE_PENDING) continue;
    auto item =
        handoff_outbox_->Find(absl::StrCat("h/", absl::StripPrefix(h->name(), "handoffs/")));
    if (!item) continue;
    h->set_attempts(h->attempts() + item->attempts);
    if (!item->last_error.empty()) {
      h->set_last_error(item->last_error);
    } else if (h->last_error().empty()) {
      h->set_last_error(TruncateUtf8(handoff_outbox_->LastError(h->destination_unit()), 500));
    }
  }
}

absl::Status CaseRegistry::SettleHandoff(const Outbox::Item& item, const Outbox::Answer& answer,
                                         WriteTxn& txn) {
  const std::string& handoff_id = item.payload;
  if (answer.detail == "cancelled by an operator") {
    // The case is frozen here until a node owns it: dropping the handoff
    // would leave it with nobody.
    return absl::FailedPreconditionError(absl::StrCat(
        "handoff ", handoff_id,
        " cannot be cancelled: its case is frozen until the destination owns it; fix what the "
        "destination refuses and retry it"));
  }
  const bool delivered = answer.verdict == Outbox::Verdict::kDelivered;
  RECEPTION_ASSIGN_OR_RETURN(auto raw, txn.Get(handoffs_, handoff_id));
  if (!raw) return absl::OkStatus();
  cases::storage::HandoffRecord hr;
  if (!hr.ParseFromString(*raw)) return absl::DataLossError("handoff record does not parse");
  cases::v1::Handoff& h = *hr.mutable_handoff();
  if (h.state() != cases::v1::HANDOFF_STATE_PENDING || !h.outgoing()) return absl::OkStatus();
  h.set_attempts(h.attempts() + 1);
  if (!delivered) {
    h.set_last_error(TruncateUtf8(answer.detail, 500));
  } else {
    h.set_state(cases::v1::HANDOFF_STATE_DELIVERED);
    h.clear_last_error();
    SetTimestamp(d_.clock->Now(), h.mutable_deliver_time());
    hr.clear_outbox_key();
    // The source keeps a read-only copy that records where the case went;
    // the protected identity leaves with the case.
    const std::string number(absl::StripPrefix(h.case_(), "cases/"));
    RECEPTION_ASSIGN_OR_RETURN(auto rec, LoadRecord(&txn, number));
    if (rec && rec->case_().owner_epoch() < h.owner_epoch()) {
      Case& c = *rec->mutable_case_();
      c.set_owner_unit(h.destination_unit());
      c.set_owner_epoch(h.owner_epoch());
      *c.mutable_replica_confirm_time() = h.deliver_time();
      rec->clear_sealed_identity();
      if (!rec->due_key().empty()) txn.Delete(due_, rec->due_key());
      rec->clear_due_key();
      c.clear_due_date();
      txn.Put(cases_, number, rec->SerializeAsString());
    }
  }
  txn.Put(handoffs_, handoff_id, hr.SerializeAsString());
  return absl::OkStatus();
}

void CaseRegistry::ImportHandoff(const Principal& p, const federation::v1::OfferHandoffRequest& r,
                                 Callback<federation::v1::OfferHandoffResponse> done) {
  const cases::v1::Handoff& h = r.handoff();
  if (p.role != Role::kNode || p.unit_code != h.source_unit()) {
    return done(absl::PermissionDeniedError(
        "OfferHandoff is for the node of the handoff's source unit"));
  }
  // A peer's message is input, never truth: the caller must be a configured
  // peer, and what it offers must be a case it may hand over, as valid as
  // one registered here.
  if (std::find(d_.peer_units.begin(), d_.peer_units.end(), h.source_unit()) ==
      d_.peer_units.end()) {
    return done(absl::PermissionDeniedError(
        absl::StrCat("unit ", h.source_unit().substr(0, 32),
                     " is not a federation peer of this node; it cannot hand cases here")));
  }
  if (h.destination_unit() != d_.unit_code) {
    return done(absl::FailedPreconditionError(
        absl::StrCat("handoff ", h.name().substr(0, 80), " is for unit ",
                     h.destination_unit().substr(0, 32), "; this node is unit ", d_.unit_code)));
  }
  auto number = ParseCaseName(r.case_().name(), "case.name");
  if (!number.ok()) return done(number.status());
  if (r.case_().number() != *number) {
    return done(InvalidField("case.number", "must equal the number in case.name"));
  }
  if (r.case_().owner_unit() != h.source_unit()) {
    return done(InvalidField("case.owner_unit",
                             "must be the handoff's source unit (the owner handing it over)"));
  }
  const std::string id(absl::StripPrefix(h.name(), "handoffs/"));
  if (id != absl::StrCat(*number, ".", h.owner_epoch()) || h.owner_epoch() < 1) {
    return done(InvalidField("handoff.name", "must be handoffs/{case number}.{owner epoch}"));
  }
  std::vector<cases::v1::CaseEvent> events(r.events().begin(), r.events().end());
  const ChainCheck check = CheckCaseChain(events, r.case_().history_head_hash(), r.case_().history_length());
  if (!check.valid) {
    return done(InvalidField("events", absl::StrCat("do not verify: ", check.problem)));
  }
  const Case& offered = r.case_();
  const bool named_denouncer =
      offered.kind() == cases::v1::CASE_KIND_DENUNCIATION && !offered.anonymous();
  if (named_denouncer != offered.identity_protected()) {
    return done(InvalidField(
        "case.identity_protected",
        named_denouncer ? "must be true: a denunciation with a named denouncer arrives sealed"
                        : "is only for denunciations with a named denouncer"));
  }
  if (offered.identity_protected() &&
      (offered.petitioners_size() > 0 || offered.representative_citizen_ids_size() > 0)) {
    return done(InvalidField(
        "case.petitioners", "must be empty: a protected identity travels only in sealed_identity"));
  }
  std::optional<common::Sealed> sealed;
  cases::storage::ProtectedIdentity opened;
  if (offered.identity_protected()) {
    if (d_.node_key == nullptr) return done(absl::FailedPreconditionError("this node has no node key"));
    if (r.node_key_id() != d_.node_key->key_id()) {
      return done(absl::FailedPreconditionError(absl::StrCat(
          "sealed_identity was sealed for node key ", r.node_key_id().substr(0, 32),
          "; this node's key is ", d_.node_key->key_id(), " (fetch it again with GetNodeKey)")));
    }
    auto identity = d_.node_key->OpenSealed(r.sealed_identity());
    if (!identity.ok()) {
      return done(InvalidField(
          "sealed_identity", "does not open with this node's key (not sealed for it, or altered)"));
    }
    const bool parsed = opened.ParseFromString(*identity);
    sealed = d_.vault->Seal(*identity, *number);
    sodium_memzero(identity->data(), identity->size());
    if (!parsed || opened.petitioners_size() == 0) {
      return done(InvalidField("sealed_identity", "does not hold the denouncer's identity"));
    }
  }
  // A dispute it carries is checked against this node's topology: between
  // the sender and another unit, decided by their lowest common ancestor on
  // the day it was opened.
  if (const auto& d = offered.dispute(); d.state() == cases::v1::DISPUTE_STATE_OPEN) {
    if (h.source_unit() != d.claimant_unit() && h.source_unit() != d.disputed_unit()) {
      return done(InvalidField("case.dispute", "must be a dispute of the sending unit"));
    }
    auto opened_on = ToCivilDay(d.opened_date(), "case.dispute.opened_date");
    if (!opened_on.ok()) return done(opened_on.status());
    auto deciding = d_.topology->CommonAncestor(d.claimant_unit(), d.disputed_unit(), *opened_on);
    if (!deciding.ok() || *deciding != d.deciding_unit()) {
      return done(InvalidField(
          "case.dispute.deciding_unit",
          "must be the lowest common ancestor of the two units on the day the dispute opened"));
    }
  }
  // The same validation as intake, on the case as offered (with the
  // protected identity it carries).
  {
    cases::v1::CreateCaseRequest as_intake;
    as_intake.set_request_id("offer");
    *as_intake.mutable_case_() = offered;
    if (offered.identity_protected()) {
      *as_intake.mutable_case_()->mutable_petitioners() = opened.petitioners();
      *as_intake.mutable_case_()->mutable_representative_citizen_ids() =
          opened.representative_citizen_ids();
    }
    // Intake's rule that a node registers only for its own units does not
    // apply to a case received elsewhere: its reception unit is still
    // checked against the topology on its date.
    const std::string origin =
        offered.reception_unit().code().empty() ? h.source_unit() : offered.reception_unit().code();
    const IntakeEnv env{d_.topology, d_.rules, origin, d_.clock->Today()};
    auto valid = PrepareNewCase(as_intake, env);
    opened.Clear();
    as_intake.Clear();
    if (!valid.ok()) {
      return done(
          absl::Status(valid.status().code(),
                       absl::StrCat("the offered case is not valid: ", valid.status().message())));
    }
  }
  Case searchable = r.case_();
  const std::string search_text = SearchText(searchable);
  auto response = std::make_shared<federation::v1::OfferHandoffResponse>();
  auto imported = std::make_shared<Case>();
  d_.store->Submit(
      [this, p, r, id, number = *number, sealed, search_text, response, imported](WriteTxn& txn) -> absl::Status {
        const cases::v1::Handoff& h = r.handoff();
        RECEPTION_ASSIGN_OR_RETURN(auto seen, txn.Get(handoffs_, id));
        RECEPTION_ASSIGN_OR_RETURN(auto local, LoadRecord(&txn, number));
        cases::storage::HandoffRecord hr;
        *hr.mutable_handoff() = h;
        hr.mutable_handoff()->set_outgoing(false);
        hr.mutable_handoff()->set_state(cases::v1::HANDOFF_STATE_DELIVERED);
        hr.mutable_handoff()->set_attempts(0);
        hr.mutable_handoff()->clear_last_error();
        SetTimestamp(d_.clock->Now(), hr.mutable_handoff()->mutable_deliver_time());
        if (!seen && local) {
          // Only the owner this node knows of may hand the case over, and
          // never a case this node owns.
          const Case& known = local->case_();
          if (known.owner_unit() == d_.unit_code) {
            if (known.state() == cases::v1::CASE_STATE_TRANSFERRED) {
              return absl::AbortedError(absl::StrCat(
                  "cases/", number,
                  ": this node's own handoff of it is not acknowledged yet; offer again later"));
            }
            return absl::FailedPreconditionError(absl::StrCat(
                "cases/", number, " is owned by this node; an offer cannot replace it"));
          }
          if (known.owner_unit() != h.source_unit()) {
            return absl::PermissionDeniedError(absl::StrCat(
                "cases/", number, " is owned by unit ", known.owner_unit(),
                " as this node knows it; unit ", h.source_unit(), " cannot hand it over"));
          }
        }
        if (seen || (local && local->case_().owner_epoch() >= h.owner_epoch())) {
          // A retry (the acknowledgement was lost) or an older offer than
          // what this node has: nothing to do, acknowledge again.
          response->set_already_imported(true);
          if (!seen) txn.Put(handoffs_, id, hr.SerializeAsString());
          return absl::OkStatus();
        }
        for (const auto& e : r.events()) txn.Put(events_, EventKey(number, e.sequence()), e.SerializeAsString());
        CaseRecord rec;
        if (local) rec.set_due_key(local->due_key());  // replaced by AppendEvent
        Case& c = *rec.mutable_case_();
        c = r.case_();
        c.set_owner_unit(d_.unit_code);
        c.set_owner_epoch(h.owner_epoch());
        c.set_previous_owner_unit(h.source_unit());
        c.clear_replica_confirm_time();
        c.set_state(cases::v1::CASE_STATE_RECEIVED);
        if (sealed) *rec.mutable_sealed_identity() = *sealed;
        // The competent body's own time limits run from its receipt, under
        // the rule pack in force that day.
        // A case sent here to decide a jurisdiction dispute runs only the
        // dispute's clock; the competent unit's own limits start there.
        const bool to_decide = c.dispute().state() == cases::v1::DISPUTE_STATE_OPEN &&
                               c.dispute().deciding_unit() == d_.unit_code;
        if (d_.deadlines != nullptr) {
          const absl::CivilDay today = d_.clock->Today();
          RECEPTION_ASSIGN_OR_RETURN(
              auto clocks, d_.deadlines->Start(
                               to_decide ? ClockTrigger::kDisputeReceived : ClockTrigger::kReceived,
                               Facts(c), today));
          for (auto& k : clocks) *c.add_clocks() = std::move(k);
          if (auto due = DeadlineEngine::EarliestDue(c.clocks())) {
            *c.mutable_due_date() = ToProtoDate(*due);
          } else {
            c.clear_due_date();
          }
          // The filing limit is judged here, not taken from the sender.
          if (c.has_filing_limit())
            d_.deadlines->JudgeFiling(*c.mutable_filing_limit(), Facts(c),
                                      DayOf(c.received_date()));
        }
        txn.Put(search_, number, absl::StrCat(absl::AsciiStrToLower(number), " ", search_text));
        if (!c.identity_protected()) {
          for (const auto& key : CitizenKeys(c)) txn.Put(citizens_, key, "");
        }
        Change change{absl::StrCat("TRANSFERRED -> RECEIVED: ",
                                   to_decide ? "received to decide the jurisdiction dispute"
                                             : (h.is_return() ? "returned" : "received"),
                                   " by transfer from unit ", h.source_unit(), " (handoff ", id,
                                   "): ", h.reason()),
                      {"state", "owner_unit", "owner_epoch", "clocks"}};
        RECEPTION_RETURN_IF_ERROR(AppendEvent(txn, rec, p, "ImportCase", change));
        txn.Put(handoffs_, id, hr.SerializeAsString());
        *imported = rec.case_();
        return absl::OkStatus();
      },
      [this, response, imported, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        if (!imported->number().empty()) board_->Update(*imported);
        done(*response);
      });
}

absl::StatusOr<cases::v1::Handoff> CaseRegistry::GetHandoff(const Principal&,
                                                            const cases::v1::GetHandoffRequest& r) const {
  absl::string_view id = r.name();
  if (!absl::ConsumePrefix(&id, "handoffs/") || id.empty() || id.size() > 64) {
    return InvalidField("name", "must be handoffs/{id}");
  }
  RECEPTION_ASSIGN_OR_RETURN(auto raw, d_.store->Get(handoffs_, id));
  if (!raw) return absl::NotFoundError(absl::StrCat("handoff ", r.name(), " does not exist"));
  cases::storage::HandoffRecord hr;
  if (!hr.ParseFromString(*raw)) return absl::DataLossError("handoff record does not parse");
  cases::v1::Handoff h = hr.handoff();
  DecorateHandoffs(std::vector<cases::v1::Handoff*>{&h});
  return h;
}

absl::StatusOr<cases::v1::ListHandoffsResponse> CaseRegistry::ListHandoffs(
    const Principal&, const cases::v1::ListHandoffsRequest& r) const {
  if (r.page_size() < 0) return InvalidField("page_size", "must not be negative");
  const int page_size = r.page_size() == 0 ? 50 : std::min(r.page_size(), 500);
  if (!cases::v1::HandoffState_IsValid(r.state())) return InvalidField("state", "is not a handoff state");
  int offset = 0;
  if (!r.page_token().empty() && (!absl::SimpleAtoi(r.page_token(), &offset) || offset < 0)) {
    return InvalidField("page_token", "is not a token returned by ListHandoffs");
  }
  std::vector<cases::v1::Handoff> all;
  auto it = d_.store->NewIterator(handoffs_);
  cases::storage::HandoffRecord hr;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!hr.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("handoff record does not parse");
    }
    const auto& h = hr.handoff();
    if (r.state() != cases::v1::HANDOFF_STATE_UNSPECIFIED && h.state() != r.state()) continue;
    if (!r.peer_unit().empty() && h.source_unit() != r.peer_unit() && h.destination_unit() != r.peer_unit()) {
      continue;
    }
    all.push_back(h);
  }
  std::sort(all.begin(), all.end(), [](const cases::v1::Handoff& a, const cases::v1::Handoff& b) {
    if (a.create_time().seconds() != b.create_time().seconds()) {
      return a.create_time().seconds() > b.create_time().seconds();
    }
    if (a.create_time().nanos() != b.create_time().nanos()) return a.create_time().nanos() > b.create_time().nanos();
    return a.name() < b.name();
  });
  cases::v1::ListHandoffsResponse out;
  for (int i = offset; i < static_cast<int>(all.size()) && out.handoffs_size() < page_size; ++i) {
    *out.add_handoffs() = all[i];
  }
  std::vector<cases::v1::Handoff*> page;
  for (auto& h : *out.mutable_handoffs()) page.push_back(&h);
  DecorateHandoffs(page);
  // 64-bit: an offset near INT_MAX must not wrap into a negative token.
  if (static_cast<int64_t>(offset) + page_size < static_cast<int64_t>(all.size())) {
    out.set_next_page_token(absl::StrCat(static_cast<int64_t>(offset) + page_size));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Duplicate detection

std::vector<std::string> CaseRegistry::CitizenKeys(const Case& c) const {
  std::vector<std::string> keys;
  for (const auto& p : c.petitioners()) {
    if (p.citizen_id().empty()) continue;
    // A keyed hash: the raw ID is never a key, and the hash cannot be
    // reversed by trying the 10^12 possible IDs without the vault's key.
    const std::string fp = absl::BytesToHexString(d_.vault->Fingerprint(absl::StrCat("citizen:", p.citizen_id())))
                               .substr(0, 32);
    keys.push_back(absl::StrCat(fp, "/", c.number()));
  }
  return keys;
}

absl::StatusOr<std::vector<std::string>> CaseRegistry::FindDuplicates(const Case& c) const {
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
    auto it = d_.store->NewIterator(citizens_);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      const std::string number(it->key().ToStringView().substr(prefix.size()));
      if (!seen.insert(number).second) continue;
      RECEPTION_ASSIGN_OR_RETURN(auto rec, LoadRecord(nullptr, number));
      if (!rec) continue;
      const Case& other = rec->case_();
      const int apart = static_cast<int>(std::abs(DayOf(other.received_date()) - received));
      if (apart > d_.duplicate_window_days) continue;
      const auto theirs = tokens_of(other.content());
      size_t common = 0;
      for (const auto& t : mine) common += theirs.contains(t);
      const size_t all = mine.size() + theirs.size() - common;
      if (all == 0 || common * 100 < static_cast<size_t>(d_.duplicate_min_similarity_percent) * all) continue;
      out.push_back(other.name());
    }
    if (!it->status().ok()) return absl::InternalError(it->status().ToString());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace reception
