#include "services/case/subtree_checks.h"

#include <sodium.h>

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/case/intake.h"
#include "services/common/civil_date.h"
#include "services/common/logging.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace reception {

using cases::v1::Case;
using cases::v1::SubtreeDuplicateCheck;
using federation::v1::FindRelatedCasesRequest;
using federation::v1::FindRelatedCasesResponse;

namespace {

// What one check may carry: a petitioner each, a content's words.
constexpr int kMaxKeys = IntakeLimits::kMaxPetitioners;
constexpr int kMaxTokens = 4096;
// Most cases one answer names (a citizen with hundreds of similar letters
// is one finding, not a page).
constexpr int kMaxAnswer = 200;

constexpr char kKeyPrefix[] = "c/";

// The cases of `found` other than `self` and those already in `local`.
std::vector<std::string> Others(const std::vector<std::string>& found, absl::string_view self,
                                const google::protobuf::RepeatedPtrField<std::string>& local) {
  std::vector<std::string> out;
  for (const auto& name : found) {
    if (name == self) continue;
    if (std::find(local.begin(), local.end(), name) != local.end()) continue;
    out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::string SubtreeChecks::KeyId(absl::string_view matching_key) {
  if (matching_key.empty()) return "";
  unsigned char h[8];
  static constexpr char kText[] = "reception matching key id";
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(kText), sizeof kText - 1,
                     reinterpret_cast<const unsigned char*>(matching_key.data()),
                     matching_key.size());
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(h), sizeof h));
}

SubtreeChecks::SubtreeChecks(const CaseDeps& deps, const CaseRecords& records,
                             const CaseDuplicates& duplicates, const CaseReplicas& replicas)
    : d_(deps), records_(records), duplicates_(duplicates), replicas_(replicas) {
  status_ = OpenOutbox();
}

absl::Status SubtreeChecks::OpenOutbox() {
  // Opened whatever the configuration: checks queued before the key or the
  // ancestor was taken out of it are still listed for operators.
  Outbox::Options o;
  o.store = d_.store;
  o.family = CaseRecords::CheckOutboxFamily();
  o.clock = d_.clock;
  o.initial_backoff = d_.retry_initial;
  o.max_backoff = d_.retry_max;
  o.name = "subtree_checks";
  auto box = Outbox::Open(
      o,
      [this](const Outbox::Item& item, absl::AnyInvocable<void(Outbox::Answer)> answer) {
        if (!d_.deliver_subtree_check) {
          return answer({Outbox::Verdict::kRetry, "no delivery configured", ""});
        }
        d_.deliver_subtree_check(item, std::move(answer));
      },
      [this](const Outbox::Item& item, const Outbox::Answer& answer, WriteTxn& txn) {
        for (const auto& [prefix, settle] : routes_) {
          if (absl::StartsWith(item.key, prefix)) return settle(item, answer, txn);
        }
        return Settle(item, answer, txn);
      });
  if (!box.ok()) return box.status();
  outbox_ = *std::move(box);
  return absl::OkStatus();
}

bool SubtreeChecks::Wanted(const CaseDuplicates::Profile& profile, bool protect) const {
  return !protect && !d_.matching_key.empty() && !profile.citizen_keys.empty();
}

absl::Status SubtreeChecks::CheckHere(Case& c, const CaseDuplicates::Profile& profile) const {
  RECEPTION_ASSIGN_OR_RETURN(auto numbers,
                             duplicates_.FindInSubtree(profile.citizen_keys, profile.content_tokens,
                                                       DayOf(c.received_date()), c.number()));
  std::vector<std::string> names;
  for (const auto& n : numbers) names.push_back(absl::StrCat("cases/", n));
  SubtreeDuplicateCheck* check = c.mutable_subtree_check();
  check->set_state(SubtreeDuplicateCheck::STATE_DONE);
  check->set_checked_unit(d_.unit_code);
  SetTimestamp(d_.clock->Now(), check->mutable_check_time());
  for (auto& name : Others(names, "", c.possible_duplicates())) {
    check->add_possible_duplicates(std::move(name));
  }
  return absl::OkStatus();
}

bool SubtreeChecks::Queue(WriteTxn& txn, Case& c, const CaseDuplicates::Profile& profile) const {
  if (d_.subtree_check_unit.empty() || outbox_ == nullptr) return false;
  FindRelatedCasesRequest r;
  r.set_case_(c.name());
  for (const auto& k : profile.citizen_keys) r.add_citizen_keys(k);
  *r.mutable_content_tokens() = {profile.content_tokens.begin(), profile.content_tokens.end()};
  *r.mutable_received_date() = c.received_date();
  r.set_matching_key_id(KeyId(d_.matching_key));
  outbox_->Put(txn, d_.subtree_check_unit, absl::StrCat(kKeyPrefix, c.number()),
               r.SerializeAsString());
  SubtreeDuplicateCheck* check = c.mutable_subtree_check();
  check->set_state(SubtreeDuplicateCheck::STATE_PENDING);
  check->set_checked_unit(d_.subtree_check_unit);
  txn.OnDurable([box = outbox_.get()] { box->Kick(); });
  return true;
}

absl::StatusOr<FindRelatedCasesResponse> SubtreeChecks::Answer(
    const Principal& p, const FindRelatedCasesRequest& r) const {
  if (p.role != Role::kNode || p.unit_code == d_.unit_code ||
      !d_.topology->IsWithin(p.unit_code, d_.unit_code)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "unit ", d_.unit_code, " checks cases only for the nodes of units below it; the caller is ",
        RoleName(p.role), " of unit ", p.unit_code.substr(0, 32)));
  }
  RECEPTION_ASSIGN_OR_RETURN(std::string number, ParseCaseName(r.case_(), "case"));
  if (r.citizen_keys_size() < 1 || r.citizen_keys_size() > kMaxKeys) {
    return InvalidField("citizen_keys", absl::StrCat("must hold 1 to ", kMaxKeys, " hashes"));
  }
  std::vector<std::string> keys;
  for (int i = 0; i < r.citizen_keys_size(); ++i) {
    if (r.citizen_keys(i).size() != 16) {
      return InvalidField(absl::StrCat("citizen_keys[", i, "]"), "must be 16 bytes");
    }
    keys.push_back(r.citizen_keys(i));
  }
  if (r.content_tokens_size() > kMaxTokens) {
    return InvalidField("content_tokens", absl::StrCat("must hold at most ", kMaxTokens));
  }
  std::vector<uint32_t> tokens(r.content_tokens().begin(), r.content_tokens().end());
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  RECEPTION_ASSIGN_OR_RETURN(absl::CivilDay received,
                             ToCivilDay(r.received_date(), "received_date"));
  if (d_.matching_key.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("unit ", d_.unit_code,
                     " has no matching key (duplicates.matching_key_file): it cannot check cases"));
  }
  if (r.matching_key_id() != KeyId(d_.matching_key)) {
    return absl::FailedPreconditionError(
        absl::StrCat("matching_key_id ", r.matching_key_id().substr(0, 32),
                     " is not the key of unit ", d_.unit_code, " (", KeyId(d_.matching_key),
                     "): every node of the province must share one matching key"));
  }
  RECEPTION_ASSIGN_OR_RETURN(auto numbers,
                             duplicates_.FindInSubtree(keys, tokens, received, number));
  FindRelatedCasesResponse out;
  out.set_checked_unit(d_.unit_code);
  for (const auto& n : numbers) {
    if (out.cases_size() >= kMaxAnswer) break;
    // The current owner as this node knows it.
    RECEPTION_ASSIGN_OR_RETURN(auto c, replicas_.Newest(nullptr, n));
    if (!c) continue;  // an index entry left by a case no longer held
    auto* found = out.add_cases();
    found->set_case_(absl::StrCat("cases/", n));
    found->set_owner_unit(c->owner_unit());
  }
  return out;
}

absl::Status SubtreeChecks::Settle(const Outbox::Item& item, const Outbox::Answer& answer,
                                   WriteTxn& txn) const {
  absl::string_view number = item.key;
  if (!absl::ConsumePrefix(&number, kKeyPrefix)) return absl::OkStatus();
  RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.Load(&txn, std::string(number)));
  if (!rec) return absl::OkStatus();
  Case& c = *rec->mutable_case_();
  SubtreeDuplicateCheck* check = c.mutable_subtree_check();
  check->clear_possible_duplicates();
  check->clear_detail();
  check->set_checked_unit(item.peer);
  SetTimestamp(d_.clock->Now(), check->mutable_check_time());
  auto refuse = [&](const std::string& why) {
    check->set_state(SubtreeDuplicateCheck::STATE_REFUSED);
    check->set_detail(TruncateUtf8(why, 500));
  };
  if (answer.verdict != Outbox::Verdict::kDelivered) {
    refuse(answer.detail);
  } else {
    // The ancestor's answer is input: names must parse, owners must be
    // units of its subtree.
    FindRelatedCasesResponse r;
    std::string bad;
    if (!r.ParseFromString(answer.response)) {
      bad = "the answer does not parse";
    } else if (r.checked_unit() != item.peer) {
      bad = absl::StrCat("the answer names unit ", r.checked_unit().substr(0, 32), ", not ",
                         item.peer);
    } else if (r.cases_size() > kMaxAnswer) {
      bad = absl::StrCat("the answer names more than ", kMaxAnswer, " cases");
    }
    std::vector<std::string> names;
    for (int i = 0; bad.empty() && i < r.cases_size(); ++i) {
      const auto& found = r.cases(i);
      if (!ParseCaseName(found.case_(), "case").ok() ||
          !d_.topology->IsWithin(found.owner_unit(), item.peer)) {
        bad = absl::StrCat("the answer's case ", i, " is not a case of the subtree of ", item.peer);
        break;
      }
      names.push_back(found.case_());
    }
    if (!bad.empty()) {
      Log()->warn("event=subtree_check_bad_answer case={} peer={} error={}", std::string(number),
                  item.peer, LogValue(bad));
      refuse(bad);
    } else {
      check->set_state(SubtreeDuplicateCheck::STATE_DONE);
      for (auto& name : Others(names, c.name(), c.possible_duplicates())) {
        check->add_possible_duplicates(std::move(name));
      }
    }
  }
  // Output only and outside the audited content: the record is rewritten
  // without a new version (as a handoff's delivery marks the source's copy).
  txn.Put(records_.families().cases, c.number(), rec->SerializeAsString());
  return absl::OkStatus();
}

}  // namespace reception
